import numpy as np
import pytest

from napari_inf3.evaluation.metrics import sam, sam_map


def test_sam_against_pixel_loop(rng):
    gt = rng.random((6, 5, 4)) + 0.1
    pred = gt + 0.05 * rng.standard_normal(gt.shape)
    angles = []
    for i in range(5):
        for j in range(4):
            a, b = pred[:, i, j], gt[:, i, j]
            angles.append(np.degrees(np.arccos(a @ b / np.linalg.norm(a) / np.linalg.norm(b))))
    assert sam(pred, gt) == pytest.approx(np.mean(angles), rel=1e-10)


def test_sam_in_degrees_orthogonal():
    gt = np.zeros((2, 1, 1))
    gt[0] = 1
    pred = np.zeros((2, 1, 1))
    pred[1] = 1
    assert sam(pred, gt) == pytest.approx(90.0)
    assert sam(gt * 3, gt) == pytest.approx(0.0, abs=1e-6)


def test_sam_zero_pixels_never_nan():
    gt = np.zeros((3, 2, 2))
    pred = np.zeros((3, 2, 2))
    gt[:, 0, 0] = 1
    pred[:, 0, 1] = 1
    m = sam_map(pred, gt)
    assert np.isfinite(m).all()
    assert m[1, 1] == 0.0  # both zero
    assert m[0, 0] == 90.0 and m[0, 1] == 90.0  # one zero
