"""Plain arrays: ``.npy``, ``.npz`` and multi-page ``.tif``/``.tiff``.

The band axis is the shortest one unless ``band_axis=`` says otherwise (see
:func:`napari_inf3.io._common.detect_band_axis`). The ``.npz`` files this package writes
hold ``data`` as ``(B, H, W)``, ``wavelengths`` in nm and ``layout='BHW'``, so they read
back exactly even when a crop has more bands than rows.
"""

from __future__ import annotations

import json
import struct
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from ..data.cube import Cube, CubeError
from ._common import DEFLATE_MAX_RATIO, check_declared_size, finalize, pick_3d_variable, raised_within, to_bhw
from .atomic import atomic_path
from .georef import band_wavelengths, nodata_mask, read_tiff_georef, tiff_is_georeferenced

NPY, NPZ, TIFF = "npy", "npz", "tiff"
PREFERRED = ("data", "cube", "gt", "hsi", "arr_0")


#: what numpy's .npy/.npz parsing and tifffile raise on a damaged file (header text that does not
#: parse, deflate streams that do not inflate, zip members in methods zipfile lacks, short structs)
PARSER_ERRORS = (ValueError, OSError, EOFError, IndexError, KeyError, zipfile.BadZipFile, zlib.error,
                 tokenize.TokenError, SyntaxError, struct.error, NotImplementedError)


def _load(loader, path: Path, what: str, errors=PARSER_ERRORS):
    try:
        return loader()
    except CubeError:
        raise  # our own checks inside the loader already say what is wrong
    except errors as exc:
        raise CubeError(f"is not a readable {what} file ({type(exc).__name__}: {exc})", path) from None


def _npy_header(fh) -> tuple[tuple, np.dtype]:
    """``(shape, dtype)`` from an open .npy stream, read through numpy's own header parser."""
    fmt = np.lib.format
    version = fmt.read_magic(fh)
    read = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
    shape, _, dtype = read(fh)
    return shape, dtype


def _check_npy(path: Path, fh, stored: int, what: str, kind: str, max_ratio: float = 1.0) -> None:
    """Refuse a .npy header that declares more data than ``stored`` bytes (after the header) can hold.

    ``what`` names the array in the message, ``kind`` the file ("not a readable {kind} file")."""
    start = fh.tell()
    shape, dtype = _load(lambda: _npy_header(fh), path, kind)
    check_declared_size(path, what, shape, dtype.itemsize, stored - (fh.tell() - start), max_ratio)


def read_npy(path: str | Path, *, band_axis: int | None = None) -> Cube:
    path = Path(path)
    with open(path, "rb") as fh:
        _check_npy(path, fh, path.stat().st_size, "the .npy header", ".npy")
    arr = _load(lambda: np.load(path, allow_pickle=False), path, ".npy")
    data, axis = to_bhw(arr, band_axis, path)
    return finalize(data, path, NPY, meta={"band_axis_in_file": axis})


def read_npz(path: str | Path, *, variable: str | None = None, band_axis: int | None = None) -> Cube:
    path = Path(path)

    def check():  # every member's header against its size, before np.load reads any (and a zip at all)
        with zipfile.ZipFile(path) as z:
            for info in z.infolist():
                if info.filename.endswith(".npy"):
                    ratio = 1.0 if info.compress_type == zipfile.ZIP_STORED else DEFLATE_MAX_RATIO
                    stored = min(info.file_size, int(ratio * info.compress_size))
                    with z.open(info) as fh:
                        _check_npy(path, fh, stored, f"member {info.filename!r}", f".npz (member {info.filename!r})")

    def load():
        with np.load(path, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}

    _load(check, path, ".npz")
    arrays = _load(load, path, ".npz")
    name = pick_3d_variable(arrays, path, variable, PREFERRED)
    own = name == "data" and str(arrays.get("layout", "")) == "BHW"
    data, axis = to_bhw(arrays[name], 0 if own and band_axis is None else band_axis, path)
    wl = arrays.get("wavelengths") if name == "data" else None
    meta = {"variable": name, "band_axis_in_file": axis}
    if own and "meta" in arrays:  # ours: what produced the cube (model, decimation offset, ...), as JSON
        try:
            stored = json.loads(str(arrays["meta"]))
        except ValueError:
            raise CubeError("its 'meta' entry is not valid JSON", path) from None
        if not isinstance(stored, dict):
            raise CubeError("its 'meta' entry is not a JSON object", path)
        meta = stored | meta
    return finalize(data, path, NPZ, wavelengths=wl, meta=meta)


def write_npz(cube: Cube, path: str | Path) -> Path:
    path = Path(path)
    extra: dict[str, Any] = {}
    if cube.wavelengths is not None:
        extra["wavelengths"] = np.asarray(cube.wavelengths, np.float64)
    facts = {k: v for k, v in cube.meta.items() if isinstance(v, (str, int, float, bool)) or v is None}
    if facts:  # plain facts only (model name, decimation offset, ...): the file stays data, never code
        extra["meta"] = np.str_(json.dumps(facts))
    data = np.asarray(cube.data, np.float32)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:  # a file object: numpy adds no ".npz" to it
        np.savez_compressed(fh, data=data, layout=np.str_("BHW"), **extra)
    return path


#: more pages (IFDs) than this in one TIFF is not a cube of bands (a few hundred at most): refused
MAX_TIFF_PAGES = 1 << 20


def check_ifd_chain(path: Path) -> int:
    """Follow the TIFF's chain of pages (IFDs) before tifffile does, and refuse one that loops back.

    tifffile, walking the pages one at a time (as its generic series does), detects a loop only at the
    100th page and only when that call asks for more than one page: a damaged file whose IFD points to
    itself made it read "pages" for ever (found by napari_inf3.testing.fuzz). Classic TIFF and BigTIFF, either byte
    order; a chain that runs off the file ends there (tifffile reports what it can read). Returns the
    number of pages found."""
    with open(path, "rb") as fh:
        head = fh.read(16)
        if len(head) < 8 or head[:2] not in (b"II", b"MM"):
            return 0  # not a TIFF at all: tifffile says so
        end = "<" if head[:2] == b"II" else ">"
        version = struct.unpack(end + "H", head[2:4])[0]
        if version == 42:
            offset, count_fmt, entry, next_fmt = struct.unpack(end + "I", head[4:8])[0], "H", 12, "I"
        elif version == 43 and len(head) >= 16:
            offset, count_fmt, entry, next_fmt = struct.unpack(end + "Q", head[8:16])[0], "Q", 20, "Q"
        else:
            return 0
        size = path.stat().st_size
        count_size, next_size = struct.calcsize(count_fmt), struct.calcsize(next_fmt)
        seen: dict[int, int] = {}  # page offset -> page number (from 1)
        while 0 < offset < size:
            if offset in seen:
                raise CubeError(f"is not a readable TIFF file: its list of pages loops (page {len(seen)} points "
                                f"back to page {seen[offset]}, at byte {offset})", path)
            if len(seen) >= MAX_TIFF_PAGES:
                raise CubeError(f"is not a readable TIFF file: more than {MAX_TIFF_PAGES} pages", path)
            seen[offset] = len(seen) + 1
            fh.seek(offset)
            raw = fh.read(count_size)
            if len(raw) < count_size:
                break
            n = struct.unpack(end + count_fmt, raw)[0]
            fh.seek(offset + count_size + n * entry)
            raw = fh.read(next_size)
            if len(raw) < next_size:
                break
            offset = struct.unpack(end + next_fmt, raw)[0]
    return len(seen)


def read_tiff(path: str | Path, *, band_axis: int | None = None) -> Cube:
    """Read a multi-page TIFF.

    Files this package writes record the layout and the wavelengths in tifffile's JSON
    description. Otherwise the TIFF's own axes decide: one page per band (``IYX``/``CYX``)
    or bands as samples (``YXS``); only when they say neither is the band axis guessed.
    """
    import tifffile

    path = Path(path)

    def load():
        check_ifd_chain(path)
        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            comp = tif.pages[0].compression
            # a damaged tag holding several values (found by napari_inf3.testing.fuzz)
            if not isinstance(comp, (int, np.integer)):
                raise CubeError(f"is not a readable TIFF file: its compression tag holds {str(comp)[:40]}", path)
            compressed = int(comp) != 1
            check_declared_size(path, "the TIFF", series.shape, np.dtype(series.dtype).itemsize,
                                path.stat().st_size, DEFLATE_MAX_RATIO if compressed else 1.0)
            meta = (tif.shaped_metadata or [{}])[0] if tif.is_shaped else {}
            return series.asarray(), series.axes, meta

    try:
        # tifffile, on a damaged file, raises RuntimeError ("incompatible keyframe"), TypeError and
        # ZeroDivisionError from the values it decodes
        arr, axes, meta = _load(load, path, "TIFF", PARSER_ERRORS + (RuntimeError, TypeError, ZeroDivisionError))
    except CubeError:
        raise
    except Exception as exc:
        # and anything else raised inside tifffile (or numpy under it): AssertionError, AttributeError, ...
        # The same exception raised by our own code, outside tifffile, stays the bug it is.
        if not raised_within(exc, "tifffile"):
            raise
        raise CubeError(f"is not a readable TIFF file ({type(exc).__name__}: {exc})", path) from None
    if not isinstance(meta, dict):  # a description that is JSON but not an object: not ours
        meta = {}
    wl = _tiff_wavelengths(meta.get("wavelengths"), path)
    if arr.ndim > 3:
        arr = np.squeeze(arr)
    if band_axis is None and arr.ndim == 3:
        if meta.get("layout") == "BHW":
            band_axis = 0
        elif len(axes) == 3 and axes[-2:] == "YX" and axes[0] in "CIQZS":
            band_axis = 0  # one page (or plane) per band
        elif len(axes) == 3 and axes[:2] == "YX" and axes[2] in "CS":
            band_axis = 2  # bands as samples of each pixel
    data, axis = to_bhw(arr, band_axis, path)
    data, wl, geo, mask = _geotiff(path, data, wl)
    if wl is not None and wl.size != data.shape[0]:
        raise CubeError(f"its description lists {wl.size} wavelengths for {data.shape[0]} bands", path)
    cube = finalize(data, path, TIFF, wavelengths=wl, meta={"band_axis_in_file": axis, "tiff_axes": axes})
    if mask is not None:
        cube.meta["nodata_mask"] = mask
    cube.geo = geo
    return cube


def _geotiff(path: Path, data: np.ndarray, wl):
    """``(data, wavelengths, GeoRef or None, nodata mask or None)``: a GeoTIFF's position (rasterio), its band
    descriptions' wavelengths when the description had none, and its nodata pixels set to 0."""
    if not tiff_is_georeferenced(path):
        return data, wl, None, None
    geo, descriptions = read_tiff_georef(path)
    if geo is None:
        return data, wl, None, None
    wl = wl if wl is not None else band_wavelengths(descriptions)
    mask = nodata_mask(data, geo.nodata)
    if mask is not None:
        data = np.array(data, copy=True)
        data[:, mask] = 0
    return data, wl, geo, mask


def _tiff_wavelengths(raw, path) -> np.ndarray | None:
    """The ``wavelengths`` of a description this package wrote: a flat list of finite numbers."""
    if raw is None:
        return None
    try:
        wl = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError):
        raise CubeError(f"its description's 'wavelengths' is not a list of numbers: {str(raw)[:80]!r}", path) from None
    if wl.ndim != 1 or not np.all(np.isfinite(wl)):
        raise CubeError(f"its description's 'wavelengths' is not a list of finite numbers: {str(raw)[:80]!r}", path)
    return wl


def write_tiff(cube: Cube, path: str | Path) -> Path:
    """Write one float32 image of ``B`` bands, band-sequential (planar configuration *separate*, as rasterio
    writes it), so GDAL, rasterio and QGIS open it with all its bands; the layout and wavelengths go in the
    description. A cube with ``geo`` becomes a GeoTIFF (CRS, transform, nodata, band descriptions in nm;
    rasterio, the ``geo`` extra)."""
    import tifffile

    path = Path(path)
    if getattr(cube, "geo", None) is not None:
        from .georef import write_geotiff

        with atomic_path(path) as tmp:
            write_geotiff(cube, tmp)
        return path
    meta: dict[str, Any] = {"layout": "BHW"}
    if cube.wavelengths is not None:
        meta["wavelengths"] = [float(w) for w in cube.wavelengths]
    data = np.asarray(cube.data, np.float32)
    with atomic_path(path) as tmp:
        if data.shape[0] == 1:
            tifffile.imwrite(tmp, data, photometric="minisblack", metadata=meta)
        else:
            tifffile.imwrite(tmp, data, photometric="minisblack", planarconfig="separate", metadata=meta)
    return path
