import numpy as np
import pytest

from napari_inf3.evaluation.metrics import ergas


def test_ergas_against_formula(rng):
    gt = rng.random((4, 8, 8)) + 0.2
    pred = gt + 0.02 * rng.standard_normal(gt.shape)
    terms = [(np.sqrt(np.mean((pred[b] - gt[b]) ** 2)) / gt[b].mean()) ** 2 for b in range(4)]
    assert ergas(pred, gt, scale=4) == pytest.approx(100 / 4 * np.sqrt(np.mean(terms)), rel=1e-12)
    assert ergas(pred, gt, scale=8) == pytest.approx(ergas(pred, gt, scale=4) / 2)


def test_ergas_zero_mean_band_finite():
    gt = np.zeros((2, 3, 3))
    gt[0] = 0.5
    assert np.isfinite(ergas(gt, gt))
    assert ergas(gt, gt) == 0.0
