import numpy as np
import pytest

from napari_inf3 import Cube
from napari_inf3.evaluation.metrics import error_map, evaluate, psnr, sam


def test_error_map_mean_abs_over_bands(rng):
    gt = rng.random((4, 5, 6))
    pred = rng.random((4, 5, 6))
    np.testing.assert_allclose(error_map(pred, gt), np.abs(gt - pred).mean(axis=0), rtol=1e-6)
    assert error_map(pred, gt).shape == (5, 6)


def test_evaluate_keys_and_cube_input(rng):
    gt = rng.random((3, 20, 20)).astype(np.float32)
    pred = gt + 0.01
    out = evaluate(Cube(pred), Cube(gt), scale=4)
    assert set(out) == {"psnr", "sam", "ergas", "ssim"}
    assert out["psnr"] == pytest.approx(psnr(pred, gt))
    assert out["sam"] == pytest.approx(sam(pred, gt))
