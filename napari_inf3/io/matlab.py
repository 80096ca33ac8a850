"""MATLAB ``.mat`` cubes: v4–v7 through ``scipy.io.loadmat``, v7.3 (HDF5) through ``h5py``.

MATLAB stores arrays column-major, so ``h5py`` sees a MATLAB ``(H, W, B)`` array as
``(B, W, H)``; v7.3 arrays are transposed back to MATLAB's axis order before the band
axis is detected (see :func:`napari_inf3.io._common.detect_band_axis`). When a file holds
several 3-D arrays the reader takes ``variable=``, else a common name (``gt``, ``hsi``,
``data``, ...), else the largest, and warns which one it chose.

Two more layouts public hyperspectral files use:

- a ``(bands, pixels)`` matrix with the image size as scalars ``nRow`` / ``nCol`` (the unmixing datasets,
  flattened in MATLAB's column-major order; ``pixel_order='C'`` reads a row-major one);
- a wavelength vector beside the cube (``wavelength``, ``wavelengths``, ``bands``, ...; in nm or µm):
  it becomes the cube's wavelengths (:func:`napari_inf3.io._common.wavelength_vector`).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from ..data.cube import Cube, CubeError
from ._common import (
    DEFLATE_MAX_RATIO,
    check_declared_size,
    finalize,
    pick_3d_variable,
    raised_in,
    to_bhw,
    unflatten_pixels,
    wavelength_vector,
)

NAME = "matlab"
EXTENSIONS = (".mat",)
PREFERRED = ("gt", "GT", "hsi", "HSI", "data", "cube", "img", "ref", "rad", "X", "Z", "msi", "truth")
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def can_read(path: str | Path) -> bool:
    return Path(path).suffix.lower() == ".mat"


def _is_hdf5(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(1024)
    return HDF5_MAGIC in head[:8] or head[512:520] == HDF5_MAGIC


def _load_v73(path: Path) -> dict[str, np.ndarray]:
    """All numeric datasets of a v7.3 file, transposed back to MATLAB's axis order."""
    import h5py

    out: dict[str, np.ndarray] = {}
    size = path.stat().st_size
    try:
        with h5py.File(path, "r") as f:
            def visit(name, obj):
                if isinstance(obj, h5py.Dataset) and not name.startswith("#") and obj.dtype.kind in "uifb":
                    # chunks never written read as the fill value, so a tiny file can declare a huge array
                    check_declared_size(path, f"variable {name!r}", obj.shape, obj.dtype.itemsize, size,
                                        DEFLATE_MAX_RATIO)
                    out[name] = np.asarray(obj).T
            f.visititems(visit)
    except CubeError:
        raise
    except (OSError, RuntimeError, KeyError, IndexError, ValueError, TypeError) as exc:
        # what h5py raises on a damaged file: OSError on open, RuntimeError ("Object visitation failed")
        # and KeyError ("Unable to open object") while walking it, IndexError/ValueError on bad dataspaces
        raise CubeError(f"is not a readable MATLAB v7.3 (HDF5) file ({type(exc).__name__}: {exc})", path) from None
    return out


def read(path: str | Path, *, variable: str | None = None, band_axis: int | None = None,
         pixel_order: str = "F") -> Cube:
    """The cube in a ``.mat`` file (see the module docstring for the layouts); ``variable`` names the array,
    ``band_axis`` its band axis, ``pixel_order`` how a ``(bands, pixels)`` matrix was flattened."""
    path = Path(path)
    if not path.is_file():
        raise CubeError("file not found", path)
    version = "7.3" if _is_hdf5(path) else "5"
    if version == "7.3":
        arrays = _load_v73(path)
    else:
        import scipy.io
        from scipy.io.matlab import MatReadError

        check_v5_structure(path)  # scipy's compiled reader crashes on some impossible tags
        try:
            # mat_dtype: the MATLAB class (a double MATLAB stored as uint16 because its values are whole stays a
            # double, not an integer image to scale by 65535)
            arrays = {k: v for k, v in scipy.io.loadmat(str(path), mat_dtype=True).items() if not k.startswith("__")}
        except (ValueError, OSError, TypeError, NotImplementedError, MatReadError, IndexError, KeyError,
                EOFError, struct.error, zlib.error, OverflowError) as exc:
            # scipy's parser on a damaged file: a header followed by junk gives IndexError, a short
            # one MatReadError, a damaged compressed element zlib.error
            raise CubeError(f"is not a readable MATLAB file ({type(exc).__name__}: {exc})", path) from None
        except (UnboundLocalError, AssertionError) as exc:
            if not raised_in(exc, "scipy"):
                raise
            # scipy's v5 reader on some damaged element headers (seen by napari_inf3.testing.fuzz)
            raise CubeError(f"is not a readable MATLAB file (scipy: {type(exc).__name__}: {exc})", path) from None
    arrays = {k: np.asarray(v) for k, v in arrays.items() if isinstance(v, np.ndarray)}
    meta: dict = {"mat_version": version}
    flat = unflatten_pixels(arrays, path, pixel_order) if variable is None and not _has_cube(arrays) else None
    if flat is not None:
        data, name = flat
        meta |= {"variable": name, "layout": f"(bands, pixels) with nRow/nCol, order {pixel_order}"}
    else:
        name = pick_3d_variable(arrays, path, variable, PREFERRED)
        if band_axis is None:  # a wavelength vector says which axis holds the bands, when one axis fits it
            fits = [a for a, n in enumerate(arrays[name].shape) if wavelength_vector(arrays, n)[1] is not None]
            band_axis = fits[0] if len(fits) == 1 else None
        data, meta["band_axis_in_file"] = to_bhw(arrays[name], band_axis, path)
        meta["variable"] = name
    wl, wl_name = wavelength_vector(arrays, data.shape[0])
    if wl_name is not None:
        meta["wavelength_variable"] = wl_name
    return finalize(data, path, NAME, wavelengths=wl, meta=meta)


def _has_cube(arrays: dict[str, np.ndarray]) -> bool:
    return any(v.ndim == 3 and v.dtype.kind in "uifb" for v in arrays.values())


# ---- MAT v5 structure check (before scipy) ---------------------------------------------------
#: MAT v5 data types and their sizes in bytes (miINT8 ... miUINT64; 14 = miMATRIX, 15 = miCOMPRESSED,
#: 16-18 = miUTF8/16/32)
_MI_SIZES = {1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8, 16: 1, 17: 2, 18: 4}
_NUMERIC_CLASSES = set(range(6, 16))  # mxDOUBLE ... mxUINT64
_CHAR_CLASS = 4


def check_v5_structure(path: Path) -> None:
    """Walk a MAT v5 file's top-level variables and refuse one whose element tags are impossible.

    scipy's compiled v5 reader trusts them: an unknown data type code, an array class out of
    range or a data element whose size disagrees with the declared dimensions crashed the
    interpreter (SIGSEGV, found by napari_inf3.testing.fuzz). Numeric and char arrays are checked in full
    (flags, dimensions, name, real and imaginary parts); cells, structs, sparse and objects only
    by their top-level tag, and are left to scipy. Compressed variables are inflated (bounded).
    """
    raw = path.read_bytes()
    if len(raw) < 128 or raw[124:126] not in (b"\x00\x01", b"\x01\x00"):
        return  # not v5 (v4, or not MATLAB at all): scipy says so, without the compiled v5 reader
    end = "<" if raw[126:128] == b"IM" else ">" if raw[126:128] == b"MI" else None
    if end is None:
        raise CubeError("MAT v5 header has no endian indicator ('IM' or 'MI' at byte 126)", path)
    _check_elements(path, raw, 128, len(raw), end)


def _tag(path, raw, pos, stop, end) -> tuple[int, int, int]:
    """``(type, nbytes, data start)`` of the element tag at ``pos`` (small or regular format)."""
    if pos + 8 > stop:
        raise CubeError(f"MAT v5 element at byte {pos} is cut off", path)
    word, nbytes = struct.unpack(end + "II", raw[pos : pos + 8])
    if word >> 16:  # small data element: the size in the upper half, data in the next 4 bytes
        typ, nbytes = word & 0xFFFF, word >> 16
        if nbytes > 4:
            raise CubeError(f"MAT v5 small element at byte {pos} declares {nbytes} > 4 bytes", path)
        return typ, nbytes, pos + 4
    if pos + 8 + nbytes > stop:
        raise CubeError(f"MAT v5 element at byte {pos} declares {nbytes} bytes past the end of its parent", path)
    return word, nbytes, pos + 8


def _next(pos: int, start: int, nbytes: int) -> int:
    """Where the sub-element after the one tagged at ``pos`` (data from ``start``) begins, inside a variable:
    8-byte aligned."""
    return pos + 8 if start == pos + 4 else start + ((nbytes + 7) // 8) * 8


def _check_elements(path, raw, pos, stop, end) -> None:
    """The top-level elements of ``raw[pos:stop]`` (a file, or an inflated compressed variable)."""
    while pos < stop:
        if stop - pos < 8:
            return  # trailing padding
        typ, nbytes, start = _tag(path, raw, pos, stop, end)
        if typ == 15:
            try:
                inner = zlib.decompressobj().decompress(raw[start : start + nbytes], DEFLATE_MAX_RATIO * nbytes + 64)
            except zlib.error as exc:
                raise CubeError(f"MAT v5 compressed variable at byte {pos} does not inflate ({exc})", path) from None
            _check_elements(path, inner, 0, len(inner), end)
        elif typ == 14:
            _check_matrix(path, raw, start, start + nbytes, end, pos)
        elif typ not in _MI_SIZES:
            raise CubeError(f"MAT v5 element at byte {pos} has unknown data type {typ}", path)
        # a variable follows the one before it directly: MATLAB does not pad a compressed variable (its
        # deflate stream has any length) to 8 bytes, and scipy reads the next one at start + nbytes too
        pos = start + nbytes


def _check_matrix(path, raw, pos, stop, end, at) -> None:
    if pos == stop:
        return  # an empty miMATRIX: MATLAB writes these for empty cells
    subs: list[tuple[int, int, int]] = []
    while pos < stop and len(subs) < 6:
        typ, nbytes, start = _tag(path, raw, pos, stop, end)
        subs.append((typ, nbytes, start))
        pos = _next(pos, start, nbytes)
    if len(subs) < 3 or subs[0][:2] != (6, 8) or subs[1][0] != 5 or subs[1][1] % 4 or subs[1][1] < 8:
        raise CubeError(f"MAT v5 variable at byte {at}: array flags or dimensions are malformed", path)
    flags = struct.unpack(end + "I", raw[subs[0][2] : subs[0][2] + 4])[0]
    cls = flags & 0xFF
    if not 1 <= cls <= 17:
        raise CubeError(f"MAT v5 variable at byte {at} has unknown array class {cls}", path)
    dims = struct.unpack(end + f"{subs[1][1] // 4}i", raw[subs[1][2] : subs[1][2] + subs[1][1]])
    if any(d < 0 for d in dims):
        raise CubeError(f"MAT v5 variable at byte {at} has negative dimensions {dims}", path)
    if subs[2][0] not in (1, 2):
        raise CubeError(f"MAT v5 variable at byte {at}: its name has data type {subs[2][0]}", path)
    if cls not in _NUMERIC_CLASSES and cls != _CHAR_CLASS:
        return  # cells, structs, objects, sparse: scipy's to check
    count = int(np.prod(dims, dtype=object))
    parts = subs[3:5] if flags & 0x800 else subs[3:4]  # 0x800: complex, a real and an imaginary part
    if len(parts) < (2 if flags & 0x800 else 1):
        raise CubeError(f"MAT v5 variable at byte {at} has no data", path)
    for typ, nbytes, _ in parts:
        if typ not in _MI_SIZES:
            raise CubeError(f"MAT v5 variable at byte {at} stores its data as unknown type {typ}", path)
        if cls != _CHAR_CLASS and nbytes != count * _MI_SIZES[typ]:
            raise CubeError(f"MAT v5 variable at byte {at}: {nbytes} data bytes for dimensions {dims} "
                            f"of {_MI_SIZES[typ]}-byte elements", path)
