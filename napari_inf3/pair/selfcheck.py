"""An honest check of a pair fit without ground truth: fit the same recipe on half the LR pixels (every other one,
in both directions: a quarter of them), fuse, and see how well the result, degraded back, reproduces the LR pixels
it never saw — beside what interpolating the same quarter gives.

The check's samples are twice as far apart as the real fit's, so it is pessimistic: a fit that beats
interpolation here beats it at least as clearly on the full pair. The score is a PSNR in dB relative to the LR-HSI's
peak value (the pair's own units), averaged over bands as :func:`napari_inf3.evaluation.metrics.psnr` does.
"""

from __future__ import annotations

import copy

import numpy as np

__all__ = ["self_check", "MAX_SIDE"]

#: The check runs on a central crop of at most this many LR pixels a side (its cost stays flat on a flight line).
MAX_SIDE = 96


def _crop(lr: np.ndarray, msi: np.ndarray, r: int, side: int) -> tuple[np.ndarray, np.ndarray]:
    h, w = lr.shape[1:]
    ch, cw = min(h, side), min(w, side)
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    return lr[:, y0 : y0 + ch, x0 : x0 + cw], msi[:, y0 * r : (y0 + ch) * r, x0 * r : (x0 + cw) * r]


def _psnr(pred: np.ndarray, truth: np.ndarray, peak: float) -> float:
    from ..evaluation.metrics import psnr

    return psnr(pred[..., None] / peak, truth[..., None] / peak)


def self_check(model, lr: np.ndarray, msi: np.ndarray, *, seed: int = 0, mlp_steps: int = 800,
               keep: np.ndarray | None = None) -> dict:
    """``{'held_out_db', 'interpolation_db', 'gain_db', 'pixels'}`` of ``model``'s recipe on ``(lr, msi)``.

    The spectral map is fitted again on the check's quarter of the pixels (the model's own has seen them all);
    the PSF, residual subspace and local settings are the model's. ``keep`` ``(h, w)``: the LR pixels with data
    (only those are fitted on and scored).
    """
    import torch

    from .local_fit import grid_interpolate
    from .spectral_map import fit_spectral_map

    r = model.scale
    lr_c, msi_c = _crop(lr, msi, r, MAX_SIDE)
    h, w = lr_c.shape[1:]
    keep_c = None if keep is None else _crop(keep[None], keep[None], 1, MAX_SIDE)[0][0]
    if min(h, w) < 6:
        return {"held_out_db": float("nan"), "interpolation_db": float("nan"), "gain_db": float("nan"), "pixels": 0}
    d = model.degradation
    sub = lr_c[:, ::2, ::2]
    check = copy.deepcopy(model)
    y_sub = d.degrade(msi_c)[:, ::2, ::2]
    dev = model.srf.device
    smap = fit_spectral_map(y_sub, sub, mlp_steps=mlp_steps, seed=seed, device=dev,
                            keep=None if keep_c is None else keep_c[::2, ::2])
    check.spectral_map.load_state_dict(smap.state_dict())
    with torch.no_grad():
        fused = check.fuse_crop(sub, msi_c, stride=2)
    back = d.degrade(fused)
    # interpolating the quarter onto the LR grid (sample i at LR position 2i)
    interp = grid_interpolate(sub, (h, w), 0.0, 2)
    held = np.ones((h, w), bool)
    held[::2, ::2] = False
    if keep_c is not None:  # scored only where the quarter around a pixel has data too (it is interpolated)
        from scipy.ndimage import binary_erosion

        held &= binary_erosion(keep_c, np.ones((5, 5), bool), border_value=1)
        if held.sum() < 16:
            return {"held_out_db": float("nan"), "interpolation_db": float("nan"), "gain_db": float("nan"),
                    "pixels": int(held.sum())}
    peak = max(float(np.max(lr_c)), 1e-30)
    ours = _psnr(back[:, held], lr_c[:, held], peak)
    base = _psnr(interp[:, held], lr_c[:, held], peak)
    return {"held_out_db": round(ours, 3), "interpolation_db": round(base, 3), "gain_db": round(ours - base, 3),
            "pixels": int(held.sum())}
