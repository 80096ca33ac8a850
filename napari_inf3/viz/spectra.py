"""Spectra at a pixel: box averaging and CSV export, used by the spectrum inspector and the demo."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence

import numpy as np


def pixel_spectrum(cube: np.ndarray, row: int, col: int, box: int = 1) -> np.ndarray:
    """``(B,)`` spectrum at ``(row, col)`` of a ``(B, H, W)`` cube, averaged over a ``box × box``
    window centred there (clipped at the image border). Raises IndexError outside the image."""
    b, h, w = cube.shape
    if not (0 <= row < h and 0 <= col < w):
        raise IndexError(f"pixel (row {row}, col {col}) is outside the {h}×{w} image")
    half = max(int(box), 1) // 2
    r0, r1 = max(0, row - half), min(h, row + half + 1)
    c0, c1 = max(0, col - half), min(w, col + half + 1)
    return np.asarray(cube[:, r0:r1, c0:c1], np.float64).mean(axis=(1, 2))


def spectra_csv(wavelengths: Sequence[float] | np.ndarray | None, curves: Mapping[str, np.ndarray]) -> str:
    """CSV text: one row per band, a column per curve (first column nm, or band number)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    names = list(curves)
    w.writerow(["wavelength_nm" if wavelengths is not None else "band", *names])
    n = len(next(iter(curves.values()))) if curves else 0
    for i in range(n):
        x = f"{wavelengths[i]:g}" if wavelengths is not None else str(i + 1)
        w.writerow([x, *(f"{float(curves[k][i]):.6g}" for k in names)])
    return buf.getvalue()


def default_pixel(gt: np.ndarray) -> tuple[int, int]:
    """A pixel worth plotting: on an object (brightness in the top quarter after a 7×7 mean),
    where the surface is most uniform (lowest 7×7 standard deviation) — so not a specular
    highlight and not an edge."""
    from scipy.ndimage import uniform_filter

    img = np.asarray(gt, np.float64).mean(axis=0)
    mean = uniform_filter(img, 7)
    std = np.sqrt(np.maximum(uniform_filter(img * img, 7) - mean * mean, 0))
    bright = mean >= np.percentile(mean, 75)
    bright[:3, :] = bright[-3:, :] = False
    bright[:, :3] = bright[:, -3:] = False
    score = np.where(bright, std / np.maximum(mean, 1e-6), np.inf)
    r, c = np.unravel_index(int(np.argmin(score)), score.shape)
    return int(r), int(c)
