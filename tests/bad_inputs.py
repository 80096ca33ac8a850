"""A corpus of broken inputs, each made in a folder, with the error (or warning) it must give.

Used by tests/test_bad_input.py (API and CLI) and tests/gui/test_bad_input_gui.py (napari).
Each case: ``make(dir) -> path`` and the expected ``(kind, regex)`` where kind is ``'error'``
(a CubeError whose message names the file) or ``'warning'`` (the cube still reads).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PIL import Image

RNG = np.random.default_rng(7)


def _cave(d: Path, n=31, size=(16, 16), dtype=np.uint16, skip=(), extra=(), odd=None) -> Path:
    f = d / "scene_ms"
    f.mkdir()
    for i in range(1, n + 1):
        if i in skip:
            continue
        shape = odd[1] if odd and odd[0] == i else size
        hi = 65535 if dtype == np.uint16 else 255
        arr = (RNG.random(shape) * hi).astype(dtype)
        Image.fromarray(arr).save(f / f"scene_ms_{i:02d}.png")
    for name in extra:
        shutil.copy(f / "scene_ms_01.png", f / name)
    return f


def _mixed_depth(d):
    f = _cave(d)
    Image.fromarray((RNG.random((16, 16)) * 255).astype(np.uint8)).save(f / "scene_ms_05.png")
    return f


def _truncated_png(d):
    f = _cave(d)
    data = (f / "scene_ms_07.png").read_bytes()
    (f / "scene_ms_07.png").write_bytes(data[: len(data) // 2])
    return f


def _not_png(d):
    f = _cave(d)
    (f / "scene_ms_03.png").write_text("this is not an image")
    return f


def _rgba(d):
    f = _cave(d, dtype=np.uint8)
    for i in range(1, 32):
        grey = np.array(Image.open(f / f"scene_ms_{i:02d}.png"))
        Image.fromarray(np.dstack([grey, grey, grey, np.full_like(grey, 255)])).save(f / f"scene_ms_{i:02d}.png")
    return f


def _empty(d):
    (d / "empty").mkdir()
    return d / "empty"


def _envi(d, header: str, data: bytes | None, name="c") -> Path:
    (d / f"{name}.hdr").write_text(header)
    if data is not None:
        (d / f"{name}.img").write_bytes(data)
    return d / f"{name}.hdr"


HDR = "ENVI\nsamples = 8\nlines = 6\nbands = 4\nheader offset = 0\nfile type = ENVI Standard\n" \
      "data type = {dt}\ninterleave = {il}\nbyte order = {bo}\n{extra}"


def _envi_ok_data(dt=4, big=False):
    a = RNG.random((4, 6, 8)).astype(">f4" if big else "<f4") if dt == 4 else (RNG.random((4, 6, 8)) * 60000).astype("<u2")
    return a.tobytes()


def _write(d: Path, name: str, data: bytes | str) -> Path:
    p = d / name
    p.write_bytes(data.encode() if isinstance(data, str) else data)
    return p


def _npy(d, arr, name="c.npy"):
    np.save(d / name, arr)
    return d / name


def _npz(d, **arrays):
    np.savez(d / "c.npz", **arrays)
    return d / "c.npz"


def _mat(d, **arrays):
    import scipy.io

    scipy.io.savemat(d / "c.mat", arrays)
    return d / "c.mat"


def _cube(*shape):
    return RNG.random(shape).astype(np.float32)


def _with(value, where=(3, 2, 2)):
    a = _cube(31, 16, 16)
    a[where] = value
    return a


CASES = {
    "cave_missing_band": (lambda d: _cave(d, skip=(12,)), "error", r"missing band file\(s\) \[12\]"),
    "cave_duplicate_band": (lambda d: _cave(d, extra=("scene_ms_001.png",)), "error", r"several files for band\(s\) \[1\]"),
    "cave_band_sizes_differ": (lambda d: _cave(d, odd=(9, (16, 12))), "error", r"scene_ms_09.png is 12×16 pixels"),
    "cave_truncated_png": (_truncated_png, "error", r"scene_ms_07.png: band file is not a readable PNG"),
    "cave_not_a_png": (_not_png, "error", r"scene_ms_03.png: band file is not a readable PNG"),
    "cave_mixed_bit_depth": (_mixed_depth, "error", r"mix bit depths"),
    "cave_rgba_bands": (_rgba, "warning", r"4-channel band PNG with equal channels"),
    "cave_empty_folder": (_empty, "error", r"holds no CAVE band files"),
    "envi_without_data": (lambda d: _envi(d, HDR.format(dt=4, il="bsq", bo=0, extra=""), None), "error",
                          r"ENVI data file not found"),
    "envi_missing_field": (lambda d: _envi(d, "ENVI\nsamples = 8\nlines = 6\ndata type = 4\ninterleave = bsq\n",
                                           _envi_ok_data()), "error", r"missing a required field|not a valid ENVI"),
    "envi_not_a_header": (lambda d: _envi(d, "hello world\n", _envi_ok_data()), "error", r"not a valid ENVI header"),
    "envi_wrong_data_type": (lambda d: _envi(d, HDR.format(dt=5, il="bsq", bo=0, extra=""), _envi_ok_data()), "error",
                             r"is 768 bytes but the header describes .* = 1536"),
    "envi_wrong_byte_order": (lambda d: _envi(d, HDR.format(dt=4, il="bsq", bo=0, extra=""),
                                              (RNG.random((4, 6, 8)) * 0.5 + 0.4).astype(">f4").tobytes()), "error",
                              r"implausible|NaN"),
    "envi_micrometres": (lambda d: _envi(d, HDR.format(dt=4, il="bil", bo=0,
                                                      extra="wavelength = {0.45, 0.55, 0.65, 0.75}\n"),
                                         _envi_ok_data()), "warning", r"no units and are < 10; taking them as µm"),
    "envi_wavelength_count": (lambda d: _envi(d, HDR.format(dt=4, il="bsq", bo=0, extra="wavelength = {450, 550}\n"),
                                              _envi_ok_data()), "error", r"2 wavelengths for 4 bands"),
    "mat_no_3d_array": (lambda d: _mat(d, P=_cube(3, 31)), "error", r"holds no 3-D numeric array"),
    "mat_several_arrays": (lambda d: _mat(d, a=_cube(16, 16, 31), b=_cube(8, 8, 31)), "warning",
                           r"several 3-D arrays \['a', 'b'\]; using 'a'"),
    "mat_corrupt": (lambda d: _write(d, "c.mat", b"MATLAB 5.0 MAT-file" + b"\0" * 200),
                    "error", r"not a readable MATLAB file|holds no 3-D"),
    "nan_values": (lambda d: _npy(d, _with(np.nan)), "error", r"contains 1 NaN or infinite value"),
    "inf_values": (lambda d: _npy(d, _with(np.inf)), "error", r"contains 1 NaN or infinite value"),
    "negative_values": (lambda d: _npy(d, _with(-0.2)), "warning", r"contains negative values"),
    "all_zero_band": (lambda d: _npy(d, _with(0.0, (5, slice(None), slice(None)))), "warning",
                      r"band\(s\) \[6\] are all zero"),
    "all_zero_cube": (lambda d: _npy(d, np.zeros((31, 8, 9), np.float32)), "error", r"every band is all zero"),
    "array_2d": (lambda d: _npy(d, _cube(16, 16)), "error", r"2-D array .* not a hyperspectral cube"),
    "array_4d": (lambda d: _npy(d, _cube(2, 31, 16, 16)), "error", r"4-D array .* select one cube"),
    "npz_without_cube": (lambda d: _npz(d, x=np.arange(3)), "error",
                         r"holds no 3-D numeric array"),
    "npy_truncated": (lambda d: _write(d, "c.npy", b"\x93NUMPY\x01\x00" + b"v" * 30), "error",
                      r"not a readable \.npy file"),
    "tiff_corrupt": (lambda d: _write(d, "c.tif", b"II*\x00garbage"), "error",
                     r"not a readable TIFF file"),
    "unknown_suffix": (lambda d: _write(d, "c.xyz", "x"), "error", r"unknown cube format"),
    "object_array": (lambda d: _npy(d, np.array([[["a"]]], dtype=object)), "error", r"not a readable \.npy|not numeric"),
}
