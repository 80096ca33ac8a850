"""A corpus of broken inputs, each made in a folder, with the error (or warning) it must give.

Used by tests/io/test_bad_input.py (API and CLI) and tests/gui/test_bad_input_gui.py (napari).
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
    if dt == 4:
        a = RNG.random((4, 6, 8)).astype(">f4" if big else "<f4")
    else:
        a = (RNG.random((4, 6, 8)) * 60000).astype("<u2")
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


def _png_cut_in_ihdr(d):
    f = _cave(d)
    raw = bytearray((f / "scene_ms_04.png").read_bytes())
    raw[8:12] = bytes(4)  # the IHDR chunk's length: 0 (pillow raises ValueError, found by napari_inf3.testing.fuzz)
    (f / "scene_ms_04.png").write_bytes(bytes(raw))
    return f


def _mat_seed(d) -> tuple[Path, bytearray]:
    p = _mat(d, cube=_cube(8, 10, 31))
    return p, bytearray(p.read_bytes())


def _mat_retyped(d):
    """The real part's data type code set to 0 (no such type): scipy's compiled reader crashed on it."""
    p, raw = _mat_seed(d)
    i = raw.index(b"cube") + 4  # the name is padded to 8 bytes; the real part's tag follows
    i += (-i) % 8
    raw[i : i + 4] = (0).to_bytes(4, "little")
    p.write_bytes(bytes(raw))
    return p


def _mat_bad_class(d):
    p, raw = _mat_seed(d)
    raw[128 + 16] = 0xFC  # the array flags' low byte is the class (1..17): 252 is none
    p.write_bytes(bytes(raw))
    return p


def _mat73_damaged(d):
    import h5py

    p = d / "c.mat"
    with h5py.File(p, "w", userblock_size=512) as f:
        f.create_dataset("cube", data=_cube(31, 10, 8))
    raw = bytearray(p.read_bytes())
    i = raw.index(b"HEAP")
    raw[i : i + 4] = b"HEAQ"  # the local heap's signature
    p.write_bytes(bytes(raw))
    return p


def _npy_raw_header(d, header: str, body: bytes = b"") -> Path:
    header = header.ljust(118) + "\n"
    return _write(d, "c.npy", b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + body)


def _npy_declaring(d, shape):
    return _npy_raw_header(d, f"{{'descr': '<f4', 'fortran_order': False, 'shape': {tuple(shape)}, }}", b"\0" * 64)


def _npz_bomb(d):
    import zipfile

    src = _npy_declaring(d, (100000, 100000, 1000))
    with zipfile.ZipFile(d / "c.npz", "w", zipfile.ZIP_DEFLATED) as z:
        z.write(src, "data.npy")
    src.unlink()
    return d / "c.npz"


def _tiff_bomb(d):
    """A tiled TIFF of 2 pages whose tags declare 100000 × 100000 pixels each, in a few kB."""
    import tifffile

    p = d / "c.tif"
    tifffile.imwrite(p, np.zeros((2, 16, 16), np.float32), tile=(16, 16))
    raw = bytearray(p.read_bytes())
    with tifffile.TiffFile(p) as tif:
        for page in tif.pages:
            for tag in ("ImageWidth", "ImageLength"):
                t = page.tags[tag]
                raw[t.valueoffset : t.valueoffset + 4] = (100000).to_bytes(4, "little")
    p.write_bytes(bytes(raw))
    return p


def _tiff_bad_deflate(d):
    import tifffile

    p = d / "c.tif"
    tifffile.imwrite(p, (RNG.random((4, 16, 16)) * 65535).astype(np.uint16), compression="zlib")
    with tifffile.TiffFile(p) as tif:
        off = tif.pages[0].dataoffsets[0]
    raw = bytearray(p.read_bytes())
    raw[off + 2 : off + 10] = b"\xff" * 8
    p.write_bytes(bytes(raw))
    return p


CASES = {
    "cave_missing_band": (lambda d: _cave(d, skip=(12,)), "error", r"missing band file\(s\) \[12\]"),
    "cave_duplicate_band": (lambda d: _cave(d, extra=("scene_ms_001.png",)), "error",
                            r"several files for band\(s\) \[1\]"),
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
    "object_array": (lambda d: _npy(d, np.array([[["a"]]], dtype=object)), "error",
                     r"not a readable \.npy|not numeric"),
    # found by the reviewer and by napari_inf3.testing.fuzz (issue 14)
    "mat_header_then_junk": (lambda d: _write(d, "c.mat", b"MATLAB 5.0 MAT-file garbage"), "error",
                             r"not a readable MATLAB file"),
    "mat_unknown_data_type": (_mat_retyped, "error", r"stores its data as unknown type 0"),
    "mat_bad_array_class": (_mat_bad_class, "error", r"unknown array class 252"),
    "mat73_damaged_heap": (_mat73_damaged, "error", r"not a readable MATLAB v7\.3"),
    "npy_memory_bomb": (lambda d: _npy_declaring(d, (100000, 100000, 1000)), "error",
                        r"declares shape \(100000, 100000, 1000\) × 4 bytes = 40,000,000,000,000 bytes"),
    "npz_memory_bomb": (_npz_bomb, "error", r"declares shape \(100000, 100000, 1000\)"),
    "tiff_memory_bomb": (_tiff_bomb, "error", r"the TIFF declares shape .*100000"),
    "envi_memory_bomb": (lambda d: _envi(d, HDR.replace("samples = 8\nlines = 6\nbands = 4", "samples = 100000\n"
                                                        "lines = 100000\nbands = 1000").format(dt=4, il="bsq", bo=0,
                                                                                               extra=""),
                                         _envi_ok_data()), "error", r"is 768 bytes but the header describes"),
    "tiff_bad_deflate": (_tiff_bad_deflate, "error", r"not a readable TIFF file \(error: Error -3"),
    "cave_png_cut_in_ihdr": (_png_cut_in_ihdr, "error", r"scene_ms_04.png: band file is not a readable PNG"),
    "npy_header_not_python": (lambda d: _npy_raw_header(d, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,"),
                              "error", r"not a readable \.npy file"),
}
