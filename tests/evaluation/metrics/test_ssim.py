"""SSIM against an independent reference: direct 2-D 'valid' convolution with an 11×11 Gaussian."""

import numpy as np
import pytest
from scipy.signal import convolve2d

from napari_inf3.evaluation.metrics import ssim


def _ssim_ref(x, y):
    ax = np.arange(11) - 5
    g = np.exp(-(ax[:, None] ** 2 + ax[None, :] ** 2) / (2 * 1.5**2))
    g /= g.sum()
    c1, c2 = 0.01**2, 0.03**2
    vals = []
    for a, b in zip(x, y, strict=True):
        f = lambda z: convolve2d(z, g, mode="valid")  # noqa: E731
        mu_a, mu_b = f(a), f(b)
        va, vb, cov = f(a * a) - mu_a**2, f(b * b) - mu_b**2, f(a * b) - mu_a * mu_b
        m = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (va + vb + c2))
        vals.append(m.mean())
    return float(np.mean(vals))


def test_ssim_against_reference(rng):
    gt = rng.random((3, 24, 30))
    pred = np.clip(gt + 0.05 * rng.standard_normal(gt.shape), 0, 1)
    # the window statistics are filtered in float32 (half the time): within 1e-7 of float64 even on this
    # uniform-noise cube, whose variances are far larger than a fused cube's; tables print 4 decimals
    assert ssim(pred, gt) == pytest.approx(_ssim_ref(pred, gt), abs=1e-7)


def test_ssim_identical_is_one(rng):
    gt = rng.random((2, 16, 16))
    assert ssim(gt, gt) == pytest.approx(1.0)


def test_ssim_too_small():
    with pytest.raises(ValueError, match="11×11"):
        ssim(np.zeros((1, 8, 8)), np.zeros((1, 8, 8)))
