"""Training batches simulated with torch on the device equal numpy's simulate() and epoch order."""

from __future__ import annotations

import numpy as np
import pytest

from napari_inf3.data.simulation import load_srf, simulate
from napari_inf3.training.sampling import epoch_order, patch_grid


def _augment_np(p: np.ndarray, code: int) -> np.ndarray:
    """The reference augmentation: code 4 flips the columns, code & 3 quarter turns."""
    if code & 4:
        p = p[..., ::-1]
    return np.rot90(p, k=code & 3, axes=(-2, -1))


@pytest.mark.parametrize("offset", [None, 0, 3])
def test_simulate_torch_equals_simulate(smooth_cube, offset):
    import torch

    from napari_inf3.training.data import simulate_torch

    batch = np.stack([smooth_cube, smooth_cube[:, ::-1] * 0.5])
    lr, msi = simulate(batch, 4, offset=offset)
    lr_t, msi_t = simulate_torch(torch.from_numpy(np.ascontiguousarray(batch)), 4, load_srf(), offset)
    np.testing.assert_allclose(lr_t.numpy(), lr, atol=1e-6, rtol=0)
    np.testing.assert_allclose(msi_t.numpy(), msi, atol=1e-6, rtol=0)


@pytest.mark.parametrize("same_shape", [True, False])
def test_sampler_batches_equal_numpy_cut_augment_simulate(rng, same_shape):
    from napari_inf3.training.data import PatchSampler

    scenes = [rng.random((31, 40, 48), dtype=np.float32), rng.random((31, 40, 48 if same_shape else 56),
                                                                       dtype=np.float32)]
    patch, scale = 16, 4
    grid = patch_grid([s.shape for s in scenes], patch, 10)
    idx, aug = epoch_order(len(grid), 64, seed=0, epoch=1)
    assert set(aug.tolist()) == set(range(8))  # every code is exercised
    sampler = PatchSampler(scenes, grid, patch, scale, None, load_srf(), "cpu")
    gt_t, lr_t, msi_t = sampler.batch(idx, aug)
    ref = np.stack([_augment_np(scenes[s][:, y : y + patch, x : x + patch], int(a))
                    for (s, y, x), a in zip(grid[idx], aug, strict=True)])
    np.testing.assert_array_equal(gt_t.numpy(), ref)
    lr, msi = simulate(np.ascontiguousarray(ref), scale)
    np.testing.assert_allclose(lr_t.numpy(), lr, atol=1e-6, rtol=0)
    np.testing.assert_allclose(msi_t.numpy(), msi, atol=1e-6, rtol=0)
