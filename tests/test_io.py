"""Readers and writers: real CAVE scenes and files the tests write in every supported format."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from napari_inf3 import Cube, CubeError, read_cube, write_cube
from napari_inf3.io import READ_PATTERNS, find_format
from napari_inf3.io._common import detect_band_axis
from napari_inf3.sample import load_sample, sample_path


def test_cave_scene_real(superballs):
    cube = read_cube(superballs)
    assert cube.shape == (31, 512, 512)
    assert cube.data.dtype == np.float32
    assert np.allclose(cube.wavelengths, np.arange(400, 701, 10))
    assert 0.0 <= cube.data.min() and cube.data.max() <= 1.0
    assert cube.meta["format"] == "cave" and cube.meta["scale_divisor"] == 65535.0
    # band 1 is the file _01.png, divided by 65535
    from PIL import Image

    raw = np.array(Image.open(superballs / "superballs_ms_01.png"))
    np.testing.assert_array_equal(cube.data[0], raw.astype(np.float32) / 65535)


def test_cave_nested_folder(tmp_path, superballs):
    """The official zip nests <scene>/<scene>/*.png: reading the outer folder works."""
    outer = tmp_path / "scene"
    (outer / "scene").mkdir(parents=True)
    import shutil

    for p in sorted(superballs.glob("*.png"))[:31]:
        shutil.copy(p, outer / "scene" / p.name)
    assert read_cube(outer).shape == (31, 512, 512)


def test_sample_data():
    cube = load_sample()
    assert cube.shape == (31, 192, 192)
    assert sample_path().name == "superballs_crop_ms"
    assert "Yasuma" in cube.meta["citation"]


def _cube(rng, shape=(31, 20, 24)) -> Cube:
    return Cube(rng.random(shape, dtype=np.float32), np.arange(400.0, 400 + 10 * shape[0], 10), None, {})


@pytest.mark.parametrize("suffix", [".npz", ".hdr", ".tif"])
def test_write_read_roundtrip(tmp_path, rng, suffix):
    cube = _cube(rng)
    path = write_cube(cube, tmp_path / f"c{suffix}")
    back = read_cube(path)
    np.testing.assert_allclose(back.data, cube.data, rtol=0, atol=1e-7)
    np.testing.assert_allclose(back.wavelengths, cube.wavelengths)


def test_npz_roundtrip_more_bands_than_rows(tmp_path, rng):
    """Our own .npz records its layout, so a (31, 8, 8) crop is not mistaken for bands-last."""
    cube = _cube(rng, (31, 8, 8))
    back = read_cube(write_cube(cube, tmp_path / "small.npz"))
    np.testing.assert_array_equal(back.data, cube.data)


def test_write_refuses_overwrite(tmp_path, rng):
    cube = _cube(rng)
    p = write_cube(cube, tmp_path / "c.npz")
    with pytest.raises(CubeError, match="already exists"):
        write_cube(cube, p)
    write_cube(cube, p, overwrite=True)


def test_npy_bands_last_and_uint16_scaling(tmp_path, rng):
    raw = (rng.random((40, 36, 31)) * 65535).astype(np.uint16)
    np.save(tmp_path / "c.npy", raw)
    cube = read_cube(tmp_path / "c.npy")
    assert cube.shape == (31, 40, 36)
    np.testing.assert_allclose(cube.data, np.moveaxis(raw, -1, 0) / 65535.0, atol=1e-7)
    assert cube.meta["band_axis_in_file"] == 2


def test_band_axis_override(tmp_path, rng):
    raw = rng.random((10, 31, 12)).astype(np.float32)
    np.save(tmp_path / "c.npy", raw)
    assert read_cube(tmp_path / "c.npy", band_axis=1).shape == (31, 10, 12)


def test_detect_band_axis_rule():
    assert detect_band_axis((31, 512, 512)) == 0
    assert detect_band_axis((512, 512, 31)) == 2
    assert detect_band_axis((512, 31, 512)) == 1
    assert detect_band_axis((8, 8, 8)) == 0


def test_matlab_v5(tmp_path, rng):
    import scipy.io

    hwb = rng.random((40, 36, 31)).astype(np.float32)
    scipy.io.savemat(tmp_path / "c.mat", {"gt": hwb})
    cube = read_cube(tmp_path / "c.mat")
    np.testing.assert_allclose(cube.data, np.moveaxis(hwb, -1, 0))
    assert cube.meta["variable"] == "gt" and cube.meta["mat_version"] == "5"


def test_matlab_v73_axis_order(tmp_path, rng):
    """A MATLAB (H, W, B) array is stored transposed in HDF5; the reader restores it."""
    import h5py

    hwb = rng.random((40, 36, 31)).astype(np.float32)
    with h5py.File(tmp_path / "c73.mat", "w", userblock_size=512) as f:
        f.create_dataset("rad", data=hwb.T)  # what MATLAB's column-major save produces
    with open(tmp_path / "c73.mat", "r+b") as fh:
        fh.write(b"MATLAB 7.3 MAT-file, written by a test".ljust(116))
    cube = read_cube(tmp_path / "c73.mat")
    assert cube.meta["mat_version"] == "7.3"
    np.testing.assert_allclose(cube.data, np.moveaxis(hwb, -1, 0))


def test_matlab_several_arrays_warns_and_variable_selects(tmp_path, rng):
    import scipy.io

    a = rng.random((16, 16, 31)).astype(np.float32)
    b = rng.random((8, 8, 31)).astype(np.float32)
    scipy.io.savemat(tmp_path / "two.mat", {"first": a, "second": b})
    with pytest.warns(UserWarning, match="several 3-D arrays"):
        cube = read_cube(tmp_path / "two.mat")
    assert cube.meta["variable"] == "first"  # the largest
    assert read_cube(tmp_path / "two.mat", variable="second").shape == (31, 8, 8)
    with pytest.raises(CubeError, match="no variable 'third'"):
        read_cube(tmp_path / "two.mat", variable="third")


def test_matlab_real_srf_file_has_no_cube():
    from tests.conftest import SRF_DIR

    path = SRF_DIR / "nikon_d700_P_N_V2.mat"
    if not path.exists():
        pytest.skip("shared SRF data not present")
    with pytest.raises(CubeError, match="no 3-D numeric array"):
        read_cube(path)


def test_envi_micrometres_converted(tmp_path, rng):
    from spectral.io import envi

    data = rng.random((12, 10, 5)).astype(np.float32)  # rows, cols, bands
    envi.save_image(str(tmp_path / "um.hdr"), data, metadata={"wavelength": ["0.4", "0.5", "0.6", "0.7", "0.8"],
                                                              "wavelength units": "Micrometers"}, ext=".img")
    cube = read_cube(tmp_path / "um.hdr")
    assert cube.shape == (5, 12, 10)
    np.testing.assert_allclose(cube.wavelengths, [400, 500, 600, 700, 800])
    np.testing.assert_allclose(cube.data, np.moveaxis(data, -1, 0))


def test_envi_integer_reflectance_scale(tmp_path, rng):
    from spectral.io import envi

    data = (rng.random((6, 7, 4)) * 10000).astype(np.int16)
    envi.save_image(str(tmp_path / "i.hdr"), data, metadata={"reflectance scale factor": "10000"}, ext=".img")
    cube = read_cube(tmp_path / "i.hdr")
    np.testing.assert_allclose(cube.data, np.moveaxis(data, -1, 0) / 10000.0, rtol=1e-6)


def test_tiff_multipage(tmp_path, rng):
    import tifffile

    raw = (rng.random((31, 16, 18)) * 255).astype(np.uint8)
    tifffile.imwrite(tmp_path / "c.tiff", raw)
    cube = read_cube(tmp_path / "c.tiff")
    np.testing.assert_allclose(cube.data, raw / 255.0, atol=1e-7)


def test_unknown_and_missing(tmp_path):
    with pytest.raises(CubeError, match="no such file"):
        read_cube(tmp_path / "nope.npz")
    (tmp_path / "x.xyz").write_text("hi")
    with pytest.raises(CubeError, match="unknown cube format"):
        read_cube(tmp_path / "x.xyz")
    with pytest.raises(CubeError, match="holds no CAVE band files"):
        read_cube(tmp_path)


def test_nan_refused(tmp_path, rng):
    a = rng.random((31, 8, 9)).astype(np.float32)
    a[3, 2, 2] = np.nan
    np.save(tmp_path / "n.npy", a)
    with pytest.raises(CubeError, match="NaN"):
        read_cube(tmp_path / "n.npy")


def test_registry_patterns_and_find_format(tmp_path):
    assert set(READ_PATTERNS) >= {"*.hdr", "*.mat", "*.npy", "*.npz", "*.tif", "*.tiff"}
    assert find_format(tmp_path / "a.TIF").name == "tiff"
    assert find_format(tmp_path) is None  # an empty folder is not a CAVE scene
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert find_format(tmp_path / "a.png") is None
