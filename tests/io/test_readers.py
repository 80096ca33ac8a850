"""Readers and writers: real CAVE scenes and files the tests write in every supported format."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from napari_inf3 import Cube, CubeError, read_cube, write_cube
from napari_inf3.data.sample import load_sample, sample_path
from napari_inf3.io import READ_PATTERNS, find_format
from napari_inf3.io._common import detect_band_axis


def test_cave_scene_real(superballs):
    cube = read_cube(superballs)
    assert cube.shape == (31, 512, 512)
    assert cube.data.dtype == np.float32
    assert np.allclose(cube.wavelengths, np.arange(400, 701, 10))
    assert cube.data.min() >= 0.0 and cube.data.max() <= 1.0
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
        assert find_format(tmp_path / "a.png").name == "photo"  # an HR-MSI photograph (issue 21)
        assert find_format(tmp_path / "a.gif") is None


# ---- ENVI headers as real writers emit them (issue 24) -----------------------------------------
def _um(b):
    return ", ".join(f"{0.4 + 0.01 * i:.6f}" for i in range(b))


#: name -> (header file, data file, data type code, numpy dtype, byte order, interleave, full scale, header
#: body after 'ENVI' with {samples} {lines} {bands} filled in, expected wavelengths in nm or None).
#: Built from the writers' documented layouts: ENVI 5 (µm, 'sensor type', a .dat file), SPy's envi.save_image,
#: GDAL's ENVI driver (a value per line, 'lines   =' padding), hsicube's MATLAB enviwrite (lists ending in a comma).
ENVI_CORPUS = {
    "envi5_micrometers_dat": ("scene.hdr", "scene.dat", 4, "<f4", 0, "bsq", 1.0,
                              "description = {{\n  Created by ENVI 5.6 [Mon Jan 01 00:00:00 2024]}}\n"
                              "samples = {samples}\nlines   = {lines}\nbands   = {bands}\nheader offset = 0\n"
                              "file type = ENVI Standard\ndata type = 4\ninterleave = bsq\nsensor type = Unknown\n"
                              "byte order = 0\nwavelength units = Micrometers\nwavelength = {{\n {um}}}\n", "um"),
    "int16_big_endian_reflectance_scale": ("refl.hdr", "refl.img", 2, ">i2", 1, "bsq", 10000.0,
                                           "samples = {samples}\nlines = {lines}\nbands = {bands}\n"
                                           "header offset = 0\nfile type = ENVI Standard\ndata type = 2\n"
                                           "interleave = bsq\nbyte order = 1\n"
                                           "reflectance scale factor = 10000.000000\nwavelength units = nm\n"
                                           "wavelength = {{{nm}}}\n", "nm"),
    "BIL_capitals_uint16": ("bil.hdr", "bil.bil", 12, "<u2", 0, "bil", 65535.0,
                            "samples = {samples}\nlines = {lines}\nbands = {bands}\nheader offset = 0\n"
                            "file type = ENVI Standard\ndata type = 12\ninterleave = BIL\nbyte order = 0\n"
                            "wavelength units = Nanometers\nwavelength = {{{nm}}}\n", "nm"),
    "BIP_ignore_value_bbl_map_info": ("geo.hdr", "geo.img", 4, "<f4", 0, "bip", 1.0,
                                      "samples = {samples}\nlines = {lines}\nbands = {bands}\nheader offset = 0\n"
                                      "file type = ENVI Standard\ndata type = 4\ninterleave = bip\nbyte order = 0\n"
                                      "data ignore value = -9999\nbbl = {{{bbl}}}\n"
                                      "map info = {{UTM, 1.000, 1.000, 500000.000, 4000000.000, 3.0000000000e+001, "
                                      "3.0000000000e+001, 13, North, WGS-84, units=Meters}}\n"
                                      "coordinate system string = "
                                      "{{PROJCS[\"WGS_1984_UTM_Zone_13N\",GEOGCS[\"GCS\"]]}}\n"
                                      "wavelength units = nm\nwavelength = {{{nm}}}\n", "nm"),
    "extensionless_data_file": ("cube.hdr", "cube", 4, "<f4", 0, "bsq", 1.0,
                                "samples = {samples}\nlines = {lines}\nbands = {bands}\nheader offset = 0\n"
                                "data type = 4\ninterleave = bsq\nbyte order = 0\nwavelength = {{{nm}}}\n"
                                "wavelength units = nm\n", "nm"),
    "name_img_hdr": ("scene.img.hdr", "scene.img", 4, "<f4", 0, "bsq", 1.0,
                     "samples = {samples}\nlines = {lines}\nbands = {bands}\nheader offset = 0\ndata type = 4\n"
                     "interleave = bsq\nbyte order = 0\nwavelength units = nm\nwavelength = {{{nm}}}\n", "nm"),
    "band_names_no_wavelengths": ("names.hdr", "names.img", 4, "<f4", 0, "bsq", 1.0,
                                  "samples = {samples}\nlines = {lines}\nbands = {bands}\nheader offset = 0\n"
                                  "data type = 4\ninterleave = bsq\nbyte order = 0\nband names = {{{names}}}\n", None),
    "gdal_one_value_per_line": ("gdal.hdr", "gdal.dat", 4, "<f4", 0, "bsq", 1.0,
                                "description = {{\n/data/gdal.dat}}\nsamples = {samples}\nlines   = {lines}\n"
                                "bands   = {bands}\nheader offset = 0\nfile type = ENVI Standard\ndata type = 4\n"
                                "interleave = bsq\nbyte order = 0\nband names = {{\n{names_lines}}}\n"
                                "wavelength units = Nanometers\nwavelength = {{\n{nm_lines}}}\n", "nm"),
    "matlab_trailing_comma": ("house_uint16_rad.hdr", "house_uint16_rad.img", 12, "<u2", 0, "bsq", 65535.0,
                              "description = {{house_uint16_rad}}\nsamples = {samples}\nlines = {lines}\n"
                              "bands = {bands}\nheader offset = 0\nfile type = ENVI Standard\ndata type = 12\n"
                              "interleave = bsq\nbyte order = 0\nwavelength units = nm\n"
                              "wavelength = {{{nm},}}\nfwhm = {{{fwhm},}}\n", "nm"),
    "blank_entries_and_closing_line": ("blank.hdr", "blank.img", 4, "<f4", 0, "bsq", 1.0,
                                       "samples = {samples}\nlines = {lines}\nbands = {bands}\nheader offset = 0\n"
                                       "data type = 4\ninterleave = bsq\nbyte order = 0\nwavelength units = nm\n"
                                       "wavelength = {{\n {nm_blank},\n}}\n", "nm"),
    "windows_line_endings": ("crlf.hdr", "crlf.img", 4, "<f4", 0, "bsq", 1.0,
                             "samples = {samples}\r\nlines = {lines}\r\nbands = {bands}\r\nheader offset = 0\r\n"
                             "data type = 4\r\ninterleave = bsq\r\nbyte order = 0\r\nwavelength units = nm\r\n"
                             "wavelength = {{{nm}}}\r\n", "nm"),
}


@pytest.mark.parametrize("variant", sorted(ENVI_CORPUS))
def test_envi_header_corpus(tmp_path, rng, variant):
    hdr, data_name, _, dtype, _, interleave, full, body, units = ENVI_CORPUS[variant]
    b, h, w = 6, 5, 7
    nm = 456.0 + 73.778 * np.arange(b)  # 456 ... 824.89 nm, as hsicube's house cube
    cube = rng.random((b, h, w))
    raw = (cube * full).round().astype(dtype) if full != 1.0 else cube.astype(dtype)
    axes = {"bsq": (0, 1, 2), "bil": (1, 0, 2), "bip": (1, 2, 0)}[interleave]
    (tmp_path / data_name).write_bytes(np.ascontiguousarray(raw.transpose(axes)).tobytes())
    fills = {"samples": w, "lines": h, "bands": b, "um": ", ".join(f"{x / 1000:.6f}" for x in nm),
             "nm": ", ".join(f"{x:.6f}" for x in nm), "fwhm": ", ".join("4.0" for _ in nm),
             "nm_lines": ",\n".join(f"{x:.6f}" for x in nm), "bbl": ", ".join(["1"] * (b - 1) + ["0"]),
             "names": ", ".join(f"Band {i + 1}" for i in range(b)),
             "names_lines": ",\n".join(f"Band {i + 1}" for i in range(b)),
             "nm_blank": ", ,".join(f"{x:.6f}" for x in nm)}
    with open(tmp_path / hdr, "w", newline="") as fh:
        fh.write(("ENVI\r\n" if "\r\n" in body else "ENVI\n") + body.format(**fills))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a header as its writer wrote it reads without complaint
        out = read_cube(tmp_path / hdr)
    assert out.shape == (b, h, w)
    expected = raw.astype(np.float64) / full if full != 1.0 else raw
    np.testing.assert_allclose(out.data, expected, rtol=1e-6, atol=1e-7)
    if units is None:
        assert out.wavelengths is None
    else:
        np.testing.assert_allclose(out.wavelengths, nm, rtol=1e-9)


def test_envi_written_by_spectral_reads_back(tmp_path, rng):
    """SPy's own writer (``{ 400.0 , 410.0 }`` lists, native byte order, an .img file)."""
    from spectral.io import envi

    data = rng.random((5, 6, 4)).astype(np.float32)  # rows, cols, bands
    envi.save_image(str(tmp_path / "spy.hdr"), data, interleave="bil", ext=".img",
                    metadata={"wavelength": [450.0, 550.0, 650.0, 750.0], "wavelength units": "nm"})
    out = read_cube(tmp_path / "spy.hdr")
    np.testing.assert_allclose(out.data, np.moveaxis(data, -1, 0))
    np.testing.assert_allclose(out.wavelengths, [450, 550, 650, 750])


def test_envi_wavelength_list_strict_where_data_would_be_wrong(tmp_path, rng):
    """Blank entries are skipped, but the count must still be one per band, and a value must be a number."""
    from spectral.io import envi

    data = rng.random((4, 5, 3)).astype(np.float32)
    for text, pattern in (("{400, 500,, ,}", "header lists 2 wavelengths for 3 bands"),
                          ("{400, 500, red}", "'wavelength' is not a list of numbers")):
        envi.save_image(str(tmp_path / "w.hdr"), data, ext=".img", force=True)
        hdr = (tmp_path / "w.hdr").read_text() + f"wavelength = {text}\nwavelength units = nm\n"
        (tmp_path / "w.hdr").write_text(hdr)
        with pytest.raises(CubeError, match=pattern):
            read_cube(tmp_path / "w.hdr")
    # one value without braces is one wavelength, not its digits
    envi.save_image(str(tmp_path / "one.hdr"), data[:, :, :1], ext=".img")
    (tmp_path / "one.hdr").write_text((tmp_path / "one.hdr").read_text() + "wavelength = 550\nwavelength units = nm\n")
    np.testing.assert_allclose(read_cube(tmp_path / "one.hdr").wavelengths, [550.0])


def test_any_exception_inside_tifffile_becomes_a_cube_error(tmp_path, rng, monkeypatch):
    """A damaged TIFF may make tifffile (or numpy under it) raise anything (an AssertionError was seen): it
    is named as an unreadable file. The same exception raised by our own code is not hidden."""
    import types

    import tifffile

    from napari_inf3.io import arrays

    write_cube(Cube(rng.random((5, 4, 6)).astype(np.float32)), tmp_path / "c.tif")
    code = compile("def asarray(*args, **kwargs):\n    raise AssertionError('damaged strip')\n", "tifffile.py", "exec")
    scope = {}
    exec(code, scope)  # a function whose frame belongs to tifffile's module, as its own code does
    inside = types.FunctionType(scope["asarray"].__code__, vars(tifffile.tifffile), "asarray")
    monkeypatch.setattr(tifffile.TiffPageSeries, "asarray", inside)
    with pytest.raises(CubeError, match=r"c.tif: is not a readable TIFF file \(AssertionError: damaged strip\)"):
        read_cube(tmp_path / "c.tif")
    monkeypatch.undo()

    def ours(*args, **kwargs):
        raise AssertionError("our bug")

    monkeypatch.setattr(arrays, "check_declared_size", ours)
    with pytest.raises(AssertionError, match="our bug"):
        read_cube(tmp_path / "c.tif")


def test_tiff_description_wavelengths_are_checked(tmp_path, rng):
    import tifffile

    data = rng.random((4, 5, 6)).astype(np.float32)
    for wl, pattern in (([400, 500], "lists 2 wavelengths for 4 bands"),
                        (["a", "b", "c", "d"], "not a list of numbers")):
        tifffile.imwrite(tmp_path / "w.tif", data, photometric="minisblack",
                         metadata={"layout": "BHW", "wavelengths": wl})
        with pytest.raises(CubeError, match=pattern):
            read_cube(tmp_path / "w.tif")


def test_tiff_whose_pages_loop_is_refused_not_read_for_ever(tmp_path, rng):
    """A damaged IFD chain that points back to itself: tifffile's generic series walked it for ever
    (napari_inf3.testing.fuzz found it); the reader follows the chain first and refuses the loop."""
    import signal
    import struct

    import tifffile

    path = tmp_path / "loop.tif"
    with tifffile.TiffWriter(path) as tw:  # pages of two shapes, no description: tifffile's generic series
        tw.write((rng.random((3, 4, 5)) * 255).astype(np.uint8), photometric="minisblack", metadata=None)
        tw.write((rng.random((3, 3)) * 255).astype(np.uint8), photometric="minisblack", metadata=None)
    with tifffile.TiffFile(path) as tif:
        page = tif.pages[3]
        at = page.offset + 2 + 12 * len(page.tags)  # its "next page" field (classic little-endian TIFF)
    raw = bytearray(path.read_bytes())
    raw[at : at + 4] = struct.pack("<I", page.offset)  # page 4 -> page 4
    path.write_bytes(bytes(raw))

    def too_long(*_):
        raise TimeoutError("the reader walked the loop")

    old = signal.signal(signal.SIGALRM, too_long)
    signal.alarm(30)
    try:
        with pytest.raises(CubeError, match=r"loop.tif: is not a readable TIFF file: its list of pages loops "
                                            r"\(page 4 points back to page 4"):
            read_cube(path)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
