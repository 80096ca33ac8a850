"""INF³, the implicit neural feature fusion function (section 3.3, eq. 10–17).

Given spectral features ``S_pe`` ``(N, D1, h, w)``, their LR-domain spatial twin
``S_pa^D`` ``(N, D2, h, w)`` and the HR spatial features ``S_pa`` ``(N, D2, H, W)``, every HR
query q gets four LR neighbours i (LIIF's local ensemble) and

    F¹ = [S_pe(C_i), S_pa^D(C_i)]            (eq. 11)
    F³ = [F¹, S_pa(C_q), (C_q − C_i)·(h, w)]  (eq. 13–14; coordinates in LR-pixel units)
    F  = MLP(F³)                               (eq. 15)
    E_q = Σ_i w_{q,i} F_{q,i}                  (eq. 10)

Coordinates follow eq. (2): pixel centres ``c_i = −1 + (2i + 1)/n`` on [−1, 1] in both
grids, so any ratio H/h works. Neighbour lookups are separable per axis and done as exact
integer gathers (no grid_sample).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .weighting import EXTRA_CHANNELS, area_weights, cosine_logits_lr, cosine_weights, gather_cosine_logits, net_weights

#: Neighbour order shared with :mod:`.weighting`: (dy, dx).
SHIFTS = ((-1, -1), (-1, 1), (1, -1), (1, 1))
_EPS_SHIFT = 1e-6


def make_coord(n: int, device=None, dtype=torch.float64) -> torch.Tensor:
    """Pixel-centre coordinates of eq. (2) for ``n`` pixels: ``(n,)`` in (−1, 1)."""
    return -1.0 + (2.0 * torch.arange(n, device=device, dtype=dtype) + 1.0) / n


@dataclass
class AxisNeighbours:
    """Per-axis lookup for one shift: LR index ``(n_hr,)`` and relative coordinate ``(n_hr,)``."""

    index: torch.Tensor
    rel: torch.Tensor


def axis_neighbours(n_lr: int, n_hr: int, shift: int, device=None) -> AxisNeighbours:
    """LR neighbour along one axis for every HR position (LIIF's shifted-nearest rule).

    ``shift`` is −1, 0 or +1: the query centre moves by ``shift / n_lr`` (half an LR pixel
    width, since an LR pixel is ``2 / n_lr`` wide on [−1, 1]), is clamped inside the square
    and mapped to the LR pixel that contains it. ``shift = 0`` gives the nearest LR pixel q̂.
    ``rel = (C_q − C_i)·n_lr`` is in LR-pixel units.
    """
    c_hr = make_coord(n_hr, device)
    c = c_hr + shift / n_lr + (_EPS_SHIFT if shift else 0.0)
    c = c.clamp(-1 + 1e-6, 1 - 1e-6)
    idx = torch.floor((c + 1.0) / 2.0 * n_lr).long().clamp_(0, n_lr - 1)
    c_lr = -1.0 + (2.0 * idx.to(torch.float64) + 1.0) / n_lr
    return AxisNeighbours(idx, (c_hr - c_lr) * n_lr)


def _wide(t: torch.Tensor) -> torch.Tensor:
    """``t`` in at least float32 (bf16/fp16 under autocast are widened; float64 stays)."""
    return t if t.dtype in (torch.float32, torch.float64) else t.float()


def gather(feat: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor) -> torch.Tensor:
    """``feat[:, :, rows][:, :, :, cols]``: ``(N, C, h, w)`` → ``(N, C, len(rows), len(cols))``."""
    return feat.index_select(2, rows).index_select(3, cols)


class MLP(nn.Module):
    """Per-pixel MLP on the channel axis: ``(..., in_dim)`` → ``(..., out_dim)``, ReLU between."""

    def __init__(self, in_dim: int, hidden: list[int], out_dim: int):
        super().__init__()
        layers: list[nn.Module] = []
        last = in_dim
        for h in hidden:
            layers += [nn.Linear(last, h), nn.ReLU(inplace=True)]
            last = h
        layers.append(nn.Linear(last, out_dim))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class INF3(nn.Module):
    """The fusion function: ``(S_pe, S_pa^D, S_pa)`` → ``E`` ``(N, C, H, W)``.

    Parameters
    ----------
    d1, d2 : channels of the spectral and spatial features.
    hidden : MLP hidden widths (the paper preset: 4 × 256).
    out_dim : C, channels of the fused feature map E.
    weighting : ``'area'``, ``'net'``, ``'cosine'`` or ``'cosine_norm'``.
    hr_injection : feed ``S_pa(C_q)`` to the MLP (eq. 13; the paper's Table 2 "HR" column).
    lr_injection : put ``S_pa^D(C_i)`` into ``F¹`` (eq. 11; Table 2's "LR"). Without it ``F¹ = S_pe(C_i)``,
        also for the cosine weights.
    rel_coord : feed ``δc = (C_q − C_i)·(h, w)`` to the MLP (eq. 14; Table 3).

    The three switches are the paper's ablations; each one off removes its columns from the MLP's
    first layer (``D2``, ``D2`` and 2 inputs), nothing else.
    """

    def __init__(self, d1: int, d2: int, hidden: list[int], out_dim: int, weighting: str = "cosine", *,
                 hr_injection: bool = True, lr_injection: bool = True, rel_coord: bool = True):
        super().__init__()
        if weighting not in EXTRA_CHANNELS:
            raise ValueError(f"unknown weighting {weighting!r}; choose from {sorted(EXTRA_CHANNELS)}")
        self.weighting = weighting
        self.out_dim = out_dim
        self.hr_injection, self.lr_injection, self.rel_coord = bool(hr_injection), bool(lr_injection), bool(rel_coord)
        self.d12 = d1 + (d2 if lr_injection else 0)  # F¹'s channels
        self.in_dim = self.d12 + (d2 if hr_injection else 0) + (2 if rel_coord else 0)
        self.mlp = MLP(self.in_dim, list(hidden), out_dim + EXTRA_CHANNELS[weighting])

    def forward(
        self, s_pe: torch.Tensor, s_pa_d: torch.Tensor, s_pa: torch.Tensor, return_weights: bool = False,
        straightforward: bool = False,
    ):
        """``E`` ``(N, C, H, W)`` (and the weights ``(N, 4, H, W)`` when asked).

        By default the MLP's first layer is split, ``W·[F¹; S_pa; rel] = W_a F¹ + W_b S_pa + W_c rel``:
        ``W_a F¹`` is computed once per LR pixel and gathered, ``W_b S_pa`` once per HR pixel for
        all four neighbours, so the (4·H·W × (D1 + 2·D2 + 2)) input is never built.
        ``straightforward=True`` runs the formulas as written (tests compare the two).
        """
        n, _, h, w = s_pe.shape
        H, W = s_pa.shape[-2:]
        dev = s_pe.device
        f1_lr = torch.cat([s_pe, s_pa_d], dim=1) if self.lr_injection else s_pe  # (N, D1[+D2], h, w)  eq. 11
        rows = {s: axis_neighbours(h, H, s, dev) for s in (-1, 0, 1)}
        cols = {s: axis_neighbours(w, W, s, dev) for s in (-1, 0, 1)}
        if not straightforward and not torch.is_grad_enabled():
            return self._forward_chunked(f1_lr, s_pa, rows, cols, return_weights)
        if not straightforward:
            return self._forward_train(f1_lr, s_pa, rows, cols, return_weights)
        need_f1 = self.weighting in ("cosine", "cosine_norm")
        feats, f1s, rels, logits = [], [], [], []
        for dy, dx in SHIFTS:
            ry, rx = rows[dy], cols[dx]
            rel = torch.stack(
                [ry.rel[:, None].expand(H, W), rx.rel[None, :].expand(H, W)]
            ).to(s_pa.dtype)[None]  # (1, 2, H, W)
            f1 = gather(f1_lr, ry.index, rx.index)  # (N, D1+D2, H, W)
            parts = [f1] + ([s_pa] if self.hr_injection else [])
            parts += [rel.expand(n, -1, -1, -1)] if self.rel_coord else []
            f3 = torch.cat(parts, dim=1)  # eq. 13-14
            out = self.mlp(f3.permute(0, 2, 3, 1))  # (N, H, W, C[+1])  eq. 15
            if self.weighting == "net":
                logits.append(out[..., -1])
                out = out[..., :-1]
            feats.append(out)
            f1s.append(f1 if need_f1 else None)
            rels.append(rel)
        weights = self._weights(rels, logits, f1s, f1_lr, rows, cols).expand(n, -1, -1, -1)
        e = sum(weights[:, i, :, :, None] * feats[i] for i in range(4))  # (N, H, W, C)  eq. 10
        e = e.permute(0, 3, 1, 2).contiguous()
        return (e, weights) if return_weights else e

    def _weights(self, rels, logits, f1s, f1_lr, rows, cols) -> torch.Tensor:
        """The scheme's ``(N|1, 4, H, W)`` weights from the per-neighbour pieces it needs."""
        if self.weighting == "area":
            return area_weights(rels)
        if self.weighting == "net":
            return net_weights(logits)
        f1_hat = gather(f1_lr, rows[0].index, cols[0].index)
        return cosine_weights([_wide(f) for f in f1s], _wide(f1_hat), normalized=self.weighting == "cosine_norm")

    def _forward_train(self, f1_lr, s_pa, rows, cols, return_weights):
        """The autograd path: the same E as the formulas, with the work the first layer can save.

        * The MLP's first layer is split (``W_a F¹`` once per LR pixel, gathered; ``W_b S_pa`` once
          per HR pixel for all four neighbours; the coordinate term separable per axis), so the
          4·H·W × (D1 + 2·D2 + 2) input is never built.
        * ``cosine``: the logits are dot products of LR features, formed once per pair of LR pixels
          on the LR grid (:func:`cosine_logits_lr`) and gathered, not per HR query.
        * Each neighbour goes through the MLP as its own ``(N·H·W, hidden)`` matrix, ReLUs in place
          on each matmul's own output (on a reshaped view autograd copied the whole activation
          back in the backward pass). One ``(4·N·H·W, hidden)`` matrix for all four measured
          14 % slower a ``paper`` step on the CPU (activations four times larger than the cache
          blocks), and so did moving the last layer after the weighting as the inference path
          does (it mixes four hidden-width tensors instead of four C-wide ones).
        ``E`` comes back as an NHWC-strided ``(N, C, H, W)`` view (channels-last for the decoder).
        """
        n, d12, h, w = f1_lr.shape
        H, W = s_pa.shape[-2:]
        (first, middle, last), (w_a, w_b, w_c) = self._split_first_layer(d12, s_pa.shape[1])
        hid = first.out_features
        c = self.out_dim
        a_lr = torch.einsum("nchw,oc->nhwo", f1_lr, w_a)  # (N, h, w, hidden), once per LR pixel
        # (N, H, W, hidden), once per HR pixel (just the bias, broadcast, without the HR injection)
        b_hr = first.bias if w_b is None else torch.einsum("nchw,oc->nhwo", s_pa, w_b) + first.bias
        dt = a_lr.dtype
        outs, rels = [], []
        for dy, dx in SHIFTS:
            ry, rx = rows[dy], cols[dx]
            shared = b_hr
            if w_c is not None:
                cy = ry.rel.to(dt)[:, None] * w_c[:, 0].to(dt)  # (H, hidden)
                cx = rx.rel.to(dt)[:, None] * w_c[:, 1].to(dt)  # (W, hidden)
                shared = b_hr + (cy[:, None] + cx[None])  # (H, W, hidden) coordinate term, broadcast over N
            z = a_lr.index_select(1, ry.index).index_select(2, rx.index) + shared
            x = z.relu_().view(-1, hid)  # in place on z itself, then the view
            for lin in middle:
                x = torch.addmm(lin.bias, x, lin.weight.t()).relu_()
            outs.append(torch.addmm(last.bias, x, last.weight.t()).view(n, H, W, -1))  # (N, H, W, C[+1])
            if self.weighting == "area":
                rels.append(torch.stack([ry.rel[:, None].expand(H, W), rx.rel[None, :].expand(H, W)])[None].to(dt))
        if self.weighting == "area":
            weights = area_weights(rels).expand(n, -1, -1, -1)
        elif self.weighting == "net":  # the logit row needs each neighbour's full last layer anyway
            weights = net_weights([_wide(o[..., c]) for o in outs])
            outs = [o[..., :c] for o in outs]
        else:
            logits = gather_cosine_logits(cosine_logits_lr(_wide(f1_lr), self.weighting == "cosine_norm"),
                                          rows[0].index, cols[0].index,
                                          [rows[dy].index for dy, _ in SHIFTS], [cols[dx].index for _, dx in SHIFTS])
            weights = torch.softmax(logits, dim=1)
        e = sum(weights[:, k, :, :, None].to(outs[k].dtype) * outs[k] for k in range(4))  # (N, H, W, C)  eq. 10
        e = e.permute(0, 3, 1, 2)
        return (e, weights) if return_weights else e

    #: HR pixels per chunk of the inference path: 4 × 2048 MLP rows keep each layer's
    #: activations in the CPU's cache, where a 256-wide matmul runs ≈ 1.6× faster than on
    #: a whole tile (measured: 177 against 107 GFLOP/s on this project's 2-core machine).
    chunk_pixels = 2048
    #: The same on CUDA: there each chunk costs ≈ 55 kernel launches, so chunks must be large
    #: enough to keep the GPU busy (2¹⁷ pixels: ≈ 0.5 GB of MLP activations at the paper preset).
    cuda_chunk_pixels = 1 << 17

    def chunk_for(self, device) -> int:
        """HR pixels per MLP chunk on ``device`` (a torch.device or its name)."""
        return self.cuda_chunk_pixels if torch.device(device).type == "cuda" else self.chunk_pixels

    def chunk_bytes(self, device) -> int:
        """Peak bytes of one chunk's MLP work on ``device`` (four neighbours × the widest layer, twice)."""
        linears = [m for m in self.mlp.layers if isinstance(m, nn.Linear)]
        widest = max(m.out_features for m in linears)
        return 2 * 4 * self.chunk_for(device) * widest * 4

    def _forward_chunked(self, f1_lr, s_pa, rows, cols, return_weights):
        """Inference path (no autograd): the same E as :meth:`forward`, in chunks of HR rows.

        Besides the split first layer it uses linearity once more: the weights sum to 1 and do
        not depend on the last MLP layer's feature outputs, so ``Σ_i w_i (W_L h_i + b) =
        W_L (Σ_i w_i h_i) + b`` and the last layer runs once per HR pixel, not four times
        (``net`` still computes its logit row for each neighbour). Tests compare it with
        ``straightforward=True`` within 1e-4.
        """
        n, d12, h, w = f1_lr.shape
        H, W = s_pa.shape[-2:]
        (first, middle, last), (w_a, w_b, w_c) = self._split_first_layer(d12, s_pa.shape[1])
        c = self.out_dim
        w_last, b_last = last.weight[:c], last.bias[:c]
        a_lr = torch.einsum("nchw,oc->nhwo", f1_lr, w_a).contiguous()  # (N, h, w, hidden), once per LR pixel
        # coordinate term, separable: (C_q − C_i)·(h, w) = (rel_y, rel_x) → W_c rel = rel_y w_y + rel_x w_x
        dt = s_pa.dtype
        cy = cx = None
        if w_c is not None:
            cy = {s: ry.rel.to(dt)[:, None] * w_c[:, 0] for s, ry in rows.items()}  # (H, hidden)
            cx = {s: rx.rel.to(dt)[:, None] * w_c[:, 1] for s, rx in cols.items()}  # (W, hidden)
        lr_logits = None
        if self.weighting in ("cosine", "cosine_norm"):
            # every logit pairs LR pixels at most one apart: form the nine maps once on the LR grid
            # (float32: the literal dot products are large, bf16 would round them coarsely)
            lr_logits = cosine_logits_lr(f1_lr.float(), self.weighting == "cosine_norm")
        e = s_pa.new_empty(n, H, W, c)
        # float32 even under autocast: bf16 would break "the four weights sum to 1" by ~3e-3
        weights_out = s_pa.new_empty(n, 4, H, W, dtype=torch.float32) if return_weights else None
        step = max(1, self.chunk_for(s_pa.device) // max(W, 1))
        for b in range(n):
            for y0 in range(0, H, step):
                y1 = min(H, y0 + step)
                p = (y1 - y0) * W
                # eq. 13–15's first layer for the four neighbours: (4, y1 - y0, W, hidden)
                z = _chunk_first_layer(a_lr[b], s_pa[b, :, y0:y1], first.bias, w_b, cy, cx, rows, cols, y0, y1)
                x = z.view(4 * p, -1).relu_()
                for lin in middle:
                    x = torch.addmm(lin.bias, x, lin.weight.t()).relu_()
                x = x.view(4, p, -1)  # each neighbour's last hidden layer h_i
                wts = self._chunk_weights(x, last, None if lr_logits is None else lr_logits[b : b + 1],
                                          rows, cols, y0, y1, dt)  # (1, 4, y1 - y0, W)
                wts4 = wts.reshape(4, p, 1).to(x.dtype)
                mixed = x[0] * wts4[0]  # Σ_i w_i h_i
                for k in range(1, 4):
                    mixed.addcmul_(x[k], wts4[k])
                # eq. 10 with eq. 15's last layer after the sum: E = W_L (Σ_i w_i h_i) + b
                e[b, y0:y1] = torch.addmm(b_last, mixed, w_last.t()).view(y1 - y0, W, c)
                if return_weights:
                    weights_out[b, :, y0:y1] = wts[0]
        e = e.permute(0, 3, 1, 2)
        return (e, weights_out) if return_weights else e

    def _split_first_layer(self, d12: int, d2: int):
        """``((first, middle, last), (W_a, W_b, W_c))``: the MLP's linear layers, and its first layer's
        weight split by input, ``W·[F¹; S_pa; rel] = W_a F¹ + W_b S_pa + W_c rel`` (eq. 13–15): ``W_a``
        ``(hidden, D1+D2)``, ``W_b`` ``(hidden, D2)``, ``W_c`` ``(hidden, 2)``; ``d12`` = F¹'s channels, ``d2`` = D2.
        ``W_b`` is ``None`` without the HR injection, ``W_c`` without the relative coordinate."""
        linears = [m for m in self.mlp.layers if isinstance(m, nn.Linear)]
        first = linears[0]
        w_a = first.weight[:, :d12]
        w_b = first.weight[:, d12 : d12 + d2] if self.hr_injection else None
        w_c = first.weight[:, -2:] if self.rel_coord else None
        return (first, linears[1:-1], linears[-1]), (w_a, w_b, w_c)

    def _chunk_weights(self, x, last, lr_logits, rows, cols, y0: int, y1: int, dt: torch.dtype) -> torch.Tensor:
        """The four neighbours' weights ``(1, 4, y1 - y0, W)`` for HR rows ``y0:y1`` of one image.

        ``x`` ``(4, (y1 - y0)·W, hidden)``: each neighbour's last hidden layer (``net`` takes its logit
        from it through ``last``'s extra row); ``lr_logits``: that image's LR-grid cosine logits
        (:func:`cosine_logits_lr`, ``(1, 9, h, w)``), ``None`` for ``area`` and ``net``; ``dt``: the dtype
        of ``area``'s relative coordinates (S_pa's: float32 even where autocast made ``x`` bf16).
        """
        W = len(cols[0].index)
        if self.weighting == "area":
            rels = [torch.stack([rows[dy].rel[y0:y1, None].expand(-1, W),
                                 cols[dx].rel[None, :].expand(y1 - y0, -1)])[None].to(dt) for dy, dx in SHIFTS]
            return area_weights(rels)
        if self.weighting == "net":
            c = self.out_dim
            logit = torch.addmm(last.bias[c:], x.view(4 * x.shape[1], -1), last.weight[c:].t())
            return net_weights(list(logit.float().view(4, 1, y1 - y0, W)))
        logits = gather_cosine_logits(lr_logits, rows[0].index[y0:y1], cols[0].index,
                                      [rows[dy].index[y0:y1] for dy, _ in SHIFTS], [cols[dx].index for _, dx in SHIFTS])
        return torch.softmax(logits, dim=1)


def _chunk_first_layer(a_lr, s_pa, bias, w_b, cy, cx, rows, cols, y0: int, y1: int) -> torch.Tensor:
    """The MLP's first layer (before its ReLU) for HR rows ``y0:y1`` of one image and its four neighbours,
    ``(4, y1 - y0, W, hidden)``: ``W_a F¹(C_i) + W_b S_pa(C_q) + b + W_c (C_q − C_i)·(h, w)`` (eq. 13–15).

    ``a_lr`` ``(h, w, hidden)``: ``W_a F¹`` per LR pixel, gathered per neighbour; ``s_pa`` ``(D2, y1 - y0, W)``:
    the rows' spatial features (``W_b S_pa + b`` is shared by the four); ``cy`` / ``cx``: per shift, the
    coordinate term's row ``(H, hidden)`` and column ``(W, hidden)`` parts.
    """
    d2, hr_rows, W = s_pa.shape
    hid = a_lr.shape[-1]
    if w_b is None:  # no HR injection: the bias alone is shared
        zb = bias.expand(hr_rows, W, hid)
    else:
        spa = s_pa.permute(1, 2, 0).reshape(hr_rows * W, d2)
        zb = torch.addmm(bias, spa, w_b.t()).view(hr_rows, W, hid)  # W_b S_pa(C_q) + bias, shared
    z = s_pa.new_empty(4, hr_rows, W, hid)
    for k, (dy, dx) in enumerate(SHIFTS):
        ri, ci = rows[dy].index[y0:y1], cols[dx].index
        torch.add(a_lr.index_select(0, ri).index_select(1, ci), zb, out=z[k])
        if cy is not None:  # without the relative coordinate there is no coordinate term
            z[k].add_(cy[dy][y0:y1, None]).add_(cx[dx][None])
    return z
