import numpy as np
import pytest

from napari_inf3.evaluation.metrics import psnr, psnr_per_band


def test_psnr_against_loop_reference(rng):
    gt = rng.random((5, 16, 17))
    pred = np.clip(gt + 0.01 * rng.standard_normal(gt.shape), 0, 1)
    ref = np.mean([20 * np.log10(1.0 / np.sqrt(np.mean((pred[b] - gt[b]) ** 2))) for b in range(5)])
    assert psnr(pred, gt) == pytest.approx(ref, rel=1e-12)


def test_psnr_known_value():
    gt = np.zeros((2, 4, 4))
    assert psnr(gt + 0.1, gt) == pytest.approx(20.0)


def test_psnr_perfect_band_capped():
    gt = np.ones((2, 3, 3)) * 0.5
    pred = gt.copy()
    pred[1] += 0.01
    per = psnr_per_band(pred, gt)
    assert per[0] == 100.0 and np.isfinite(per).all()


def test_psnr_shape_mismatch():
    with pytest.raises(ValueError, match="differ in shape"):
        psnr(np.zeros((2, 3, 3)), np.zeros((2, 3, 4)))
