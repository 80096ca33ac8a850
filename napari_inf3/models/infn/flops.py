"""FLOPs of INFN computed the straightforward way: the paper's formulas as written.

Counted analytically per HR pixel (multiply-add = 2 FLOPs; bias adds, ReLU, bicubic and the
weighting are left out, as they are ≪ 1 %): the spectral trunk on the LR grid, the spatial
trunk on the HR grid, the MLP on the full ``D1 + 2·D2 + 2``-wide input for each of the 4
neighbours (eq. 13–15), and the decoder. The ablation switches (:class:`~.infn.INFN`) change the MLP's input
width; Table 5's upsampler variants run the MLP once per HR pixel. The benchmarks divide this by wall time and by the
machine's matmul FLOP/s, so algorithmic savings (split first layer, last layer after the
weighting) raise the ratio; a test checks the count against torch's FLOP counter.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any


def _trunk_macs(cin: int, nf: int, nb: int) -> int:
    """Multiply-adds per pixel of an EDSR trunk: head conv, 2 convs per block, body tail conv (3×3)."""
    return 9 * nf * (cin + (2 * nb + 1) * nf)


def straightforward_flops(config: dict[str, Any], scale: float) -> dict[str, float]:
    """FLOPs per HR pixel of one INFN forward pass, by part, and their ``'total'``.

    ``config`` is :attr:`INFN.config`; ``scale`` is r = H / h (the spectral trunk runs on
    1 / r² as many pixels).
    """
    nf, nb, c = config["n_feats"], config["n_resblocks"], config["out_dim"]
    s, m = config["bands"], config["msi_bands"]
    upsampler = config.get("upsampler", "inf3")
    d12 = nf + (nf if config.get("lr_injection", True) else 0)  # F¹
    in_dim = d12 + (nf if config.get("hr_injection", True) else 0)
    extra = 0
    if upsampler == "inf3":
        in_dim += 2 if config.get("rel_coord", True) else 0
        extra = 1 if config["weighting"] == "net" else 0
    widths = [in_dim, *config["mlp_hidden"], c + extra]
    mlp = sum(a * b for a, b in pairwise(widths))
    parts = {
        "spectral_trunk": 2.0 * _trunk_macs(s, nf, nb) / scale**2,
        "spatial_trunk": 2.0 * _trunk_macs(s + m, nf, nb),
    }
    if upsampler == "inf3":
        parts["mlp_4_neighbours"] = 2.0 * 4 * mlp
    else:  # Table 5's variants: the MLP once per HR pixel; pixel shuffle's conv makes r² maps per LR pixel
        parts["mlp"] = 2.0 * mlp
        if upsampler == "pixelshuffle":
            parts["pixel_shuffle_conv"] = 2.0 * 9 * d12 * d12
    parts["decoder"] = 2.0 * 9 * c * (c + s)
    parts["total"] = sum(parts.values())
    return parts
