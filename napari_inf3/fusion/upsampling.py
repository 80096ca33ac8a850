"""Bicubic upsampling of an LR-HSI: the no-fusion baseline and INFN's skip connection X^U.

Its own module so that everything that needs only the upsampling (the response and camera fits, the
quality gate) does not import the fusion engine (:mod:`napari_inf3.fusion.inference`, which re-exports it).
"""

from __future__ import annotations

import numpy as np

from ..data.cube import Cube, CubeError

__all__ = ["bicubic"]


def bicubic(lr_hsi, size: tuple[int, int]) -> np.ndarray:
    """The baseline (and INFN's skip X^U): bicubic upsampling ``(S, h, w)`` → ``(S, H, W)`` float32.

    Same call as inside :class:`~napari_inf3.models.infn.INFN` (``align_corners=False``, no clamp).
    """
    import torch
    import torch.nn.functional as F

    source = lr_hsi.source if isinstance(lr_hsi, Cube) else getattr(lr_hsi, "source", None)
    lr = np.ascontiguousarray(lr_hsi.data if isinstance(lr_hsi, Cube) else lr_hsi, dtype=np.float32)
    if lr.ndim != 3:
        raise CubeError(f"LR-HSI must be (bands, rows, cols), got shape {lr.shape}", source)
    if not np.all(np.isfinite(lr)):
        raise CubeError("LR-HSI contains NaN or infinite values", source)
    with torch.inference_mode():
        up = F.interpolate(torch.from_numpy(lr)[None], size=tuple(size), mode="bicubic", align_corners=False)
        return up[0].numpy()
