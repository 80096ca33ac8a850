"""Quality indices for fused cubes, the field's conventions, one module for CLI, API and GUI.

All functions take ``(B, H, W)`` arrays (numpy or anything ``np.asarray`` accepts; a
:class:`~napari_inf3.cube.Cube` works too) with values on a [0, 1] scale, compute in
float64, and never return NaN for finite input. No border is cropped.

* :func:`psnr` — per band ``10·log10(1 / MSE_b)`` (data range 1), mean over bands, dB.
  A band with MSE 0 contributes 100 dB (a cap, so a perfect band cannot make the mean ∞).
* :func:`sam` — spectral angle between GT and fused spectra per pixel, **degrees**, mean
  over pixels; a pixel with both spectra zero counts 0°, with one of them zero 90°.
* :func:`ergas` — ``100 / r · sqrt(mean_b (RMSE_b / mean(GT_b))²)``, r the scale factor
  (4 for ×4); a band whose GT mean is 0 uses a mean of 1e-12 (the term then dominates —
  a fused cube that is non-zero where GT is all zero is badly wrong).
* :func:`ssim` — per band, Gaussian window 11×11, σ = 1.5, K1 = 0.01, K2 = 0.03, L = 1,
  statistics over the 'valid' window positions (Wang et al.'s reference code), mean over bands.
* :func:`error_map` — mean over bands of ``|GT − fused|``, ``(H, W)``.
* :func:`sam_map` — the per-pixel spectral angle in degrees, ``(H, W)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["psnr", "psnr_per_band", "sam", "sam_map", "ergas", "ssim", "error_map", "evaluate", "METRICS"]

#: Metric names in table order, with "higher is better".
METRICS = {"psnr": True, "sam": False, "ergas": False, "ssim": True}
PSNR_CAP_DB = 100.0


def _pair(pred: Any, gt: Any) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(getattr(pred, "data", pred), dtype=np.float64)
    g = np.asarray(getattr(gt, "data", gt), dtype=np.float64)
    if p.shape != g.shape:
        raise ValueError(f"fused cube {p.shape} and ground truth {g.shape} differ in shape")
    if p.ndim != 3:
        raise ValueError(f"metrics take (B, H, W) cubes, got shape {p.shape}")
    return p, g


def psnr_per_band(pred, gt, data_range: float = 1.0) -> np.ndarray:
    """``(B,)`` PSNR of each band in dB, capped at 100 dB."""
    p, g = _pair(pred, gt)
    mse = ((p - g) ** 2).mean(axis=(1, 2))
    with np.errstate(divide="ignore"):
        out = 10.0 * np.log10(data_range**2 / mse)
    return np.minimum(out, PSNR_CAP_DB)


def psnr(pred, gt, data_range: float = 1.0) -> float:
    """Mean over bands of the per-band PSNR (dB)."""
    return float(psnr_per_band(pred, gt, data_range).mean())


def sam_map(pred, gt) -> np.ndarray:
    """``(H, W)`` spectral angle in degrees between GT and fused spectra."""
    p, g = _pair(pred, gt)
    dot = (p * g).sum(axis=0)
    npn = np.sqrt((p * p).sum(axis=0))
    ngn = np.sqrt((g * g).sum(axis=0))
    denom = npn * ngn
    with np.errstate(invalid="ignore", divide="ignore"):
        cos = np.where(denom > 0, dot / np.where(denom > 0, denom, 1.0), 1.0)
    ang = np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
    one_zero = (npn == 0) ^ (ngn == 0)
    ang[one_zero] = 90.0
    return ang


def sam(pred, gt) -> float:
    """Mean spectral angle over pixels (degrees)."""
    return float(sam_map(pred, gt).mean())


def ergas(pred, gt, scale: float = 4) -> float:
    """ERGAS with the ``100 / scale`` factor (scale = HR/LR size ratio)."""
    p, g = _pair(pred, gt)
    rmse = np.sqrt(((p - g) ** 2).mean(axis=(1, 2)))
    mean = np.maximum(np.abs(g.mean(axis=(1, 2))), 1e-12)
    return float(100.0 / scale * np.sqrt(np.mean((rmse / mean) ** 2)))


def _gauss_1d(size: int = 11, sigma: float = 1.5) -> np.ndarray:
    ax = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(ax**2) / (2 * sigma**2))
    return g / g.sum()


def _filter_valid(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Separable Gaussian filter over the last two axes, 'valid' positions only."""
    from scipy.ndimage import correlate1d

    r = len(g) // 2
    y = correlate1d(x, g, axis=-1, mode="constant")
    y = correlate1d(y, g, axis=-2, mode="constant")
    return y[..., r:-r, r:-r]


def ssim(pred, gt, data_range: float = 1.0, win: int = 11, sigma: float = 1.5, k1=0.01, k2=0.03) -> float:
    """Mean over bands of the per-band SSIM (Gaussian 11×11, σ 1.5, valid windows)."""
    p, g = _pair(pred, gt)
    if min(p.shape[-2:]) < win:
        raise ValueError(f"SSIM needs images of at least {win}×{win} pixels, got {p.shape[-2]}×{p.shape[-1]}")
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    w = _gauss_1d(win, sigma)
    mu_p, mu_g = _filter_valid(p, w), _filter_valid(g, w)
    s_pp = _filter_valid(p * p, w) - mu_p**2
    s_gg = _filter_valid(g * g, w) - mu_g**2
    s_pg = _filter_valid(p * g, w) - mu_p * mu_g
    num = (2 * mu_p * mu_g + c1) * (2 * s_pg + c2)
    den = (mu_p**2 + mu_g**2 + c1) * (s_pp + s_gg + c2)
    return float((num / den).mean(axis=(1, 2)).mean())


def error_map(pred, gt) -> np.ndarray:
    """``(H, W)`` mean absolute error over bands (the paper's residual maps)."""
    p, g = _pair(pred, gt)
    return np.abs(g - p).mean(axis=0).astype(np.float32)


def evaluate(pred, gt, scale: float = 4) -> dict[str, float]:
    """All four indices: ``{'psnr': dB, 'sam': degrees, 'ergas': -, 'ssim': -}``."""
    return {"psnr": psnr(pred, gt), "sam": sam(pred, gt), "ergas": ergas(pred, gt, scale), "ssim": ssim(pred, gt)}
