"""How INF3 weights the four LR neighbours of an HR query (eq. 10): one interface, three schemes.

Every scheme returns weights of shape ``(N, 4, H, W)`` that sum to 1 over the neighbour
axis. Neighbours are ordered ``(dy, dx) = (-1,-1), (-1,+1), (+1,-1), (+1,+1)``.

* ``area`` — LIIF's: the area of the rectangle spanned by the query and the *diagonally
  opposite* neighbour, normalised (eq. 8). In the interior this equals bilinear weights.
* ``net`` — JIIF-style: the MLP emits one extra logit per neighbour; softmax over the four.
* ``cosine`` — INF3's INR-CS (eq. 16–17), parameter-free: logit_i =
  ‖F¹_q̂‖‖F¹_i‖·cos(F¹_q̂, F¹_i) = ⟨F¹_q̂, F¹_i⟩ with q̂ the LR pixel nearest the query, and
  softmax over the four, exactly as the paper writes it.
* ``cosine_norm`` — the same with the plain cosine (no norms) as logit: an option for when
  the literal form saturates the softmax; not the paper's.
"""

from __future__ import annotations

import torch

WEIGHTINGS = ("area", "net", "cosine", "cosine_norm")

#: Extra MLP output channels each scheme needs.
EXTRA_CHANNELS = {"area": 0, "net": 1, "cosine": 0, "cosine_norm": 0}


def area_weights(rel: list[torch.Tensor]) -> torch.Tensor:
    """LIIF area weights from the 4 relative coordinates ``(N|1, 2, H, W)`` (LR pixel units)."""
    areas = [torch.abs(r[:, 0] * r[:, 1]) + 1e-9 for r in rel]
    areas = [areas[3], areas[2], areas[1], areas[0]]  # weight of i = area opposite to i
    a = torch.stack(areas, dim=1)
    return a / a.sum(dim=1, keepdim=True)


def net_weights(logits: list[torch.Tensor]) -> torch.Tensor:
    """Softmax over the 4 neighbours of the MLP's extra logit ``(N, H, W)`` each."""
    return torch.softmax(torch.stack(logits, dim=1), dim=1)


def cosine_weights(f1: list[torch.Tensor], f1_hat: torch.Tensor, normalized: bool = False) -> torch.Tensor:
    """INR-CS weights from the DHFF LR features ``F¹`` ``(N, D1+D2, H, W)`` of each neighbour.

    ``f1_hat`` is ``F¹`` at the LR pixel nearest the query. ``normalized=False`` is the
    paper's literal logit (the dot product); ``True`` uses the cosine alone.
    """
    if normalized:
        logits = [torch.nn.functional.cosine_similarity(f, f1_hat, dim=1, eps=1e-8) for f in f1]
    else:
        logits = [(f * f1_hat).sum(dim=1) for f in f1]
    return torch.softmax(torch.stack(logits, dim=1), dim=1)


def cosine_logits_lr(f1_lr: torch.Tensor, normalized: bool = False) -> torch.Tensor:
    """INR-CS logits between every LR pixel and its 3 × 3 neighbourhood, on the LR grid.

    ``f1_lr`` ``(N, D, h, w)`` → ``(N, 9, h, w)``: channel ``(dy + 1)·3 + (dx + 1)`` holds
    ``⟨F¹(p), F¹(p + (dy, dx))⟩`` (the cosine with ``normalized``), dy, dx ∈ {−1, 0, 1}. Every
    logit eq. (17) needs pairs the query's nearest LR pixel q̂ with a neighbour at most one LR
    pixel away, so these nine maps hold them all, at 1/r² of the cost of forming them per HR
    query; :func:`gather_cosine_logits` picks each query's four. Off-image partners (never
    used: neighbours are clamped inside the image) read zeros.
    """
    n, d, h, w = f1_lr.shape
    padded = torch.nn.functional.pad(f1_lr, (1, 1, 1, 1))
    maps = []
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            partner = padded[:, :, 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]
            maps.append((f1_lr * partner).sum(dim=1))
    logits = torch.stack(maps, dim=1)
    if normalized:
        norm = logits[:, 4].clamp_min(0).sqrt().clamp_min(1e-8)  # ‖F¹(p)‖
        norm_pad = torch.nn.functional.pad(norm[:, None], (1, 1, 1, 1), value=1.0)[:, 0]
        partners = torch.stack([norm_pad[:, 1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]
                                for dy in (-1, 0, 1) for dx in (-1, 0, 1)], dim=1)
        logits = logits / (norm[:, None] * partners)
    return logits


def gather_cosine_logits(lr_logits: torch.Tensor, hat_rows: torch.Tensor, hat_cols: torch.Tensor,
                         rows: list[torch.Tensor], cols: list[torch.Tensor]) -> torch.Tensor:
    """The four neighbours' logits ``(N, 4, H', W')`` from :func:`cosine_logits_lr`'s ``(N, 9, h, w)``.

    ``hat_rows`` ``(H',)`` / ``hat_cols`` ``(W',)``: the LR index of q̂ per HR row / column;
    ``rows[k]`` / ``cols[k]``: neighbour k's LR index per HR row / column (each within one of q̂'s).
    """
    n, _, h, w = lr_logits.shape
    hh, ww = len(hat_rows), len(hat_cols)
    flat = (hat_rows[:, None] * w + hat_cols[None, :]).reshape(-1)
    picked = lr_logits.reshape(n, 9, h * w).index_select(2, flat)  # (N, 9, H'·W')
    codes = torch.stack([((r - hat_rows + 1)[:, None] * 3 + (c - hat_cols + 1)[None, :]).reshape(-1)
                         for r, c in zip(rows, cols, strict=True)])  # (4, H'·W')
    out = picked.gather(1, codes[None].expand(n, -1, -1))
    return out.view(n, 4, hh, ww)
