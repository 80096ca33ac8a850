"""The paper's simulation: blur kernel, decimation, SRF, shapes and refusals."""

from __future__ import annotations

import numpy as np
import pytest

from napari_inf3 import CubeError, simulate
from napari_inf3.data.simulation import blur, gaussian_kernel, load_srf, srf_wavelengths


def test_kernel_sums_to_one_and_matches_formula():
    k = gaussian_kernel(3, 0.5)
    assert k.shape == (3, 3)
    assert k.sum() == pytest.approx(1.0, abs=1e-12)
    # independent formula: exp(-(x²+y²)/(2σ²)) normalised
    y, x = np.mgrid[-1:2, -1:2]
    ref = np.exp(-(x**2 + y**2) / (2 * 0.25))
    np.testing.assert_allclose(k, ref / ref.sum())
    assert k[1, 1] == pytest.approx(0.6193470305571772)


def test_blur_matches_scipy_reflect(smooth_cube):
    from scipy.ndimage import correlate

    k = gaussian_kernel()
    ref = np.stack([correlate(b.astype(np.float64), k, mode="mirror") for b in smooth_cube])
    np.testing.assert_allclose(blur(smooth_cube, k), ref, atol=1e-6)


def test_srf_packaged_equals_shared_data():
    from tests.conftest import SRF_DIR

    p = load_srf("nikon_d700")
    assert p.shape == (3, 31)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(srf_wavelengths(), np.arange(400, 701, 10))
    mat = SRF_DIR / "nikon_d700_P_N_V2.mat"
    if mat.exists():
        import scipy.io

        np.testing.assert_allclose(p, scipy.io.loadmat(mat)["P"], atol=1e-6)


def test_simulate_shapes_and_values(smooth_cube):
    lr, msi = simulate(smooth_cube, scale=4)
    assert lr.shape == (31, 8, 10) and msi.shape == (3, 32, 40)
    assert lr.dtype == np.float32 and msi.dtype == np.float32
    blurred = blur(smooth_cube, gaussian_kernel())
    np.testing.assert_array_equal(lr, blurred[:, 2::4, 2::4])  # the paper's r // 2
    p = load_srf()
    np.testing.assert_allclose(msi[:, 5, 7], p @ smooth_cube[:, 5, 7], rtol=1e-5)


def test_simulate_batch_equals_single(smooth_cube):
    batch = np.stack([smooth_cube, smooth_cube[:, ::-1]])
    lr, msi = simulate(batch, 4)
    lr0, msi0 = simulate(np.ascontiguousarray(smooth_cube[:, ::-1]), 4)
    np.testing.assert_allclose(lr[1], lr0, atol=1e-7)
    np.testing.assert_allclose(msi[1], msi0, atol=1e-6)


def test_custom_srf_array(smooth_cube):
    p = np.full((4, 31), 1 / 31, np.float32)
    _, msi = simulate(smooth_cube, 2, srf=p)
    assert msi.shape == (4, 32, 40)
    np.testing.assert_allclose(msi[0], smooth_cube.mean(axis=0), rtol=1e-5)


def test_not_divisible_refused_or_cropped(smooth_cube):
    with pytest.raises(CubeError, match="not divisible by the scale 3"):
        simulate(smooth_cube, 3)
    lr, msi = simulate(smooth_cube, 3, crop=True)
    assert msi.shape == (3, 30, 39) and lr.shape == (31, 10, 13)


def test_srf_band_mismatch(smooth_cube):
    with pytest.raises(CubeError, match="31 columns .* 20 bands"):
        simulate(smooth_cube[:20], 4)


@pytest.mark.parametrize("scale", [2, 3, 4, 8])
def test_kept_indices_default_and_every_offset(scale):
    """Each LR pixel is the blurred HR pixel at index offset + k·r (default r // 2), rows and columns."""
    h, w = 4 * scale, 3 * scale
    # every HR pixel's value encodes its own position, and a kernel that is a delta keeps it exact
    rows, cols = np.mgrid[0:h, 0:w]
    cube = np.stack([rows * 1000.0 + cols] * 31).astype(np.float32)
    delta = np.zeros((3, 3))
    delta[1, 1] = 1.0
    from napari_inf3.data.simulation import blur_decimate, decimate

    for offset in [None, *range(scale)]:
        lr = blur_decimate(cube, delta, scale, offset)
        kept = scale // 2 if offset is None else offset
        expect_rows = np.arange(kept, h, scale)
        expect_cols = np.arange(kept, w, scale)
        np.testing.assert_array_equal(lr[0] // 1000, np.repeat(expect_rows[:, None], len(expect_cols), 1))
        np.testing.assert_array_equal(lr[0] % 1000, np.repeat(expect_cols[None], len(expect_rows), 0))
        np.testing.assert_array_equal(decimate(cube, scale, offset), lr)
    lr, _ = simulate(cube / cube.max(), scale)
    assert lr.shape == (31, 4, 3)


@pytest.mark.parametrize("offset", [0, 1, 2, 3])
def test_blur_only_kept_pixels_is_bit_identical(smooth_cube, offset):
    lr, _ = simulate(smooth_cube, 4, offset=offset)
    np.testing.assert_array_equal(lr, blur(smooth_cube, gaussian_kernel())[:, offset::4, offset::4])


def test_offset_zero_reproduces_the_old_simulation(smooth_cube):
    """offset=0 is this project's simulation before 2026-11-26: blur everything, keep [::r, ::r]."""
    lr, _ = simulate(smooth_cube, 4, offset=0)
    np.testing.assert_array_equal(lr, blur(smooth_cube, gaussian_kernel())[:, ::4, ::4])


@pytest.mark.parametrize("offset", [-1, 4, 1.5, True])
def test_bad_offset_refused(smooth_cube, offset):
    with pytest.raises(CubeError, match="offset must be an integer 0 ≤ offset < 4"):
        simulate(smooth_cube, 4, offset=offset)
