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
