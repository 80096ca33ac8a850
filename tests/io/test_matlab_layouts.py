"""MATLAB files as MATLAB writes them (compressed variables back to back, unpadded; whole numbers in narrow
integer types), and the layouts other sensors' public files use: an unmixing dataset's ``(bands, pixels)``
matrix with ``nRow`` / ``nCol``, and a cube beside a wavelength vector in nm or µm."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from napari_inf3 import CubeError, read_cube
from napari_inf3.testing.matlab_v5 import matlab_bytes, write_matlab


def _flatten_matlab(cube: np.ndarray) -> np.ndarray:
    """``(B, rows, cols)`` → ``(B, rows·cols)`` in MATLAB's column-major pixel order (``reshape(img, [], B)'``)."""
    b = cube.shape[0]
    return cube.transpose(0, 2, 1).reshape(b, -1)


def test_the_writer_lays_variables_out_as_matlab_does():
    """The layout the issue saw in MATLAB's own files: an 85-odd-byte compressed first variable and the next
    one right after it, at an offset that is not a multiple of 8; scipy reads it."""
    import io

    import scipy.io

    raw = matlab_bytes({"SlectBands": np.arange(4.0, 202.0)[:, None], "nRow": 100.0, "Y": np.ones((3, 4))})
    assert raw[:19] == b"MATLAB 5.0 MAT-file" and raw[126:128] == b"IM"
    typ, n = struct.unpack("<II", raw[128:136])
    nxt = 136 + n
    assert typ == 15 and nxt % 8 != 0  # not padded
    assert struct.unpack("<I", raw[nxt : nxt + 4])[0] == 15
    got = scipy.io.loadmat(io.BytesIO(raw))
    assert got["nRow"].item() == 100 and got["SlectBands"].shape == (198, 1)


@pytest.mark.parametrize("compress", [True, False])
def test_unmixing_layout_opens_as_a_cube_laid_out_right(tmp_path, rng, compress):
    """jasperRidge2_R198.mat's layout: SlectBands, nRow, nCol, nBand, Y (bands × pixels, integers), maxValue.
    Rows and columns of different sizes, so a transposed or row-major reading cannot pass."""
    cube = np.round(rng.random((12, 7, 5)) * 4000)  # (B, rows, cols)
    path = write_matlab(tmp_path / "jasper_like.mat", {
        "SlectBands": np.arange(4.0, 16.0)[:, None], "nRow": 7.0, "nCol": 5.0, "nBand": 12.0,
        "Y": _flatten_matlab(cube), "maxValue": 4000.0}, compress=compress)
    with pytest.warns(UserWarning, match="float values up to"):  # stored as counts, not in [0, 1]: said
        got = read_cube(path)
    assert got.shape == (12, 7, 5)
    np.testing.assert_array_equal(got.data, cube.astype(np.float32))
    assert got.meta["variable"] == "Y" and "nRow" in got.meta["layout"]
    # a row-major file reads right when told
    c_path = write_matlab(tmp_path / "c.mat", {"nRow": 7.0, "nCol": 5.0, "V": (cube / 4000).reshape(12, -1)})
    np.testing.assert_allclose(read_cube(c_path, pixel_order="C").data, cube / 4000, rtol=1e-6)


def test_pixels_by_bands_matrix_is_transposed(tmp_path, rng):
    """samson_1.mat's kind: V with nRow / nCol / nBand; stored (pixels, bands) it reads the same."""
    cube = rng.random((9, 6, 4))
    path = write_matlab(tmp_path / "samson_like.mat", {"V": _flatten_matlab(cube).T, "nRow": 6.0, "nCol": 4.0,
                                                        "nBand": 9.0})
    np.testing.assert_allclose(read_cube(path).data, cube.astype(np.float32), rtol=1e-6)


def test_image_size_that_does_not_fit_the_matrix_is_refused(tmp_path, rng):
    path = write_matlab(tmp_path / "bad.mat", {"nRow": 7.0, "nCol": 6.0, "Y": rng.random((12, 35))})
    with pytest.raises(CubeError, match=r"bad\.mat.*no \(bands, 42\) matrix"):
        read_cube(path)


@pytest.mark.parametrize(("name", "values", "nm"), [
    ("wavelength", np.linspace(0.4, 2.5, 15), np.linspace(400, 2500, 15)),  # µm, AVIRIS-style
    ("wavelengths", np.linspace(430, 860, 15), np.linspace(430, 860, 15)),  # nm
    ("bands", np.linspace(0.45, 0.9, 15), np.linspace(450, 900, 15)),
])
def test_cube_beside_a_wavelength_vector(tmp_path, rng, name, values, nm):
    """(rows, cols, bands) beside a wavelength vector: the wavelengths come along in nm, and the vector says
    which axis holds the bands (here not the shortest one)."""
    cube = rng.random((15, 9, 8))  # 15 bands, more than either side
    path = write_matlab(tmp_path / "hsi.mat", {name: values[:, None], "HSI": cube.transpose(1, 2, 0)})
    got = read_cube(path)
    assert got.shape == (15, 9, 8)
    np.testing.assert_allclose(got.data, cube.astype(np.float32), rtol=1e-6)
    np.testing.assert_allclose(got.wavelengths, nm)
    assert got.meta["wavelength_variable"] == name


def test_band_numbers_are_not_wavelengths(tmp_path, rng):
    cube = rng.random((6, 10, 10))
    path = write_matlab(tmp_path / "n.mat", {"bands": np.arange(1.0, 7.0)[:, None], "img": cube.transpose(1, 2, 0)})
    got = read_cube(path)
    assert got.shape == (6, 10, 10) and got.wavelengths is None


def test_real_matlab_files_with_a_compressed_variable_first():
    """Files MATLAB saved (shared/data): a compressed variable of odd length, then more."""
    from tests.conftest import SRF_DIR

    path = SRF_DIR.parent / "other_sensors" / "indian_pines_Ori_H.mat"
    if not path.exists():
        pytest.skip("shared data not present")
    cube = read_cube(path)
    assert cube.shape == (224, 145, 145) and cube.meta["variable"] == "Ori_H"
