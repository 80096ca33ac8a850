"""ENVI cubes (``.hdr`` + binary data file) through the ``spectral`` package.

The data is memory-mapped by ``spectral`` and read band-sequential ``(B, H, W)``.
Wavelengths come from the header's ``wavelength`` field; ``wavelength units`` of
micrometres (``um``, ``Micrometers``, ``µm``) are converted to nm, and unit-less values
below 10 are taken as µm (with a warning). Integer data is divided by the header's
``reflectance scale factor`` when present, else by the dtype's full range. Header lists may end with
a comma or hold blank entries (``{456.0, 460.0, 824.89,}``, as some MATLAB writers emit): blanks are
skipped, and the count must still match the bands.

Writing (:func:`write`, :func:`create`) goes through :mod:`napari_inf3.io.atomic`: the data file is
moved into place first, the header last.
"""

from __future__ import annotations

import errno
import os
import warnings
from pathlib import Path
from typing import cast

import numpy as np

from ..data.cube import Cube, CubeError
from ._common import finalize, integer_scale
from .atomic import WriteError, atomic_group, describe_os_error
from .lazy import ScaledArray

NAME = "envi"
#: Data files larger than this open lazily unless ``lazy=`` says otherwise.
LAZY_BYTES = 1 << 30
EXTENSIONS = (".hdr",)

_MICRO = {"um", "µm", "micrometers", "micrometer", "microns", "micron", "micrometres", "micrometre"}
_NANO = {"nm", "nanometers", "nanometer", "nanometres", "nanometre"}


def can_read(path: str | Path) -> bool:
    return Path(path).suffix.lower() == ".hdr"


def wavelengths_nm(meta: dict, path) -> np.ndarray | None:
    """Band centres in nm from an ENVI header dict (``None`` when absent)."""
    raw = meta.get("wavelength")
    if raw is None:
        return None
    if isinstance(raw, str):  # 'wavelength = 550' without braces: one value, not its characters
        raw = [raw]
    try:
        wl = np.asarray([float(v) for v in raw if str(v).strip()], dtype=np.float64)
    except (TypeError, ValueError):
        raise CubeError(f"header field 'wavelength' is not a list of numbers: {raw!r}", path) from None
    units = str(meta.get("wavelength units", "")).strip().lower()
    if units in _MICRO:
        return wl * 1000.0
    if units in _NANO:
        return wl
    if wl.size and np.nanmax(wl) < 10:
        warnings.warn(f"{path}: wavelengths have no units and are < 10; taking them as µm", stacklevel=3)
        return wl * 1000.0
    return wl


def read(path: str | Path, *, lazy: bool | None = None) -> Cube:
    """Read an ENVI cube.

    ``lazy=True`` returns a :class:`~napari_inf3.io.lazy.ScaledArray` over the memory map
    (nothing is read until sliced; no whole-cube checks); ``None`` (default) does so for data
    files over :data:`LAZY_BYTES`, and loads smaller ones.
    """
    path = Path(path)
    if not path.is_file():
        raise CubeError("ENVI header not found", path)
    img = _open_header(path)
    meta = dict(img.metadata)
    itemsize = np.dtype(img.dtype).itemsize
    _check_data_file_size(img, path)
    mm = _band_sequential_map(img, path)
    wl = wavelengths_nm(meta, path)
    if wl is not None and wl.size != mm.shape[0]:
        raise CubeError(f"header lists {wl.size} wavelengths for {mm.shape[0]} bands", path)
    info = {
        "interleave": meta.get("interleave"),
        "byte_order": meta.get("byte order"),
        "data_file": getattr(img, "filename", None),
    }
    scale = _reflectance_scale(meta, path)
    from .georef import envi_georef

    geo = envi_georef(meta, path)
    if lazy is None:
        lazy = mm.size * itemsize > LAZY_BYTES
    if lazy:
        if scale is None:
            scale = integer_scale(mm.dtype)
        # a lazy array standing in for the ndarray: shape, ndim, dtype, slicing and np.asarray, as Cube says
        data = cast(np.ndarray, ScaledArray(mm, scale, str(path)))
        return Cube(data, wl, str(path), {"format": NAME, **info, "lazy": True, "file_dtype": str(mm.dtype),
                                          "scale_divisor": scale}, geo=geo)
    raw = np.asarray(mm)
    mask = None
    if geo is not None:
        from .georef import nodata_mask

        mask = nodata_mask(raw, geo.nodata)
        if mask is not None:
            raw = np.array(raw, copy=True)
            raw[:, mask] = 0
    cube = finalize(raw, path, NAME, wavelengths=wl, scale=scale, meta=info)
    if mask is not None:
        cube.meta["nodata_mask"] = mask
    cube.geo = geo
    return cube


def _open_header(path: Path):
    """``spectral``'s image for the header at ``path``; every way the header or its data file can be
    unusable becomes a :class:`CubeError` that says which."""
    import spectral
    from spectral.io import envi

    try:
        return envi.open(str(path))
    except envi.MissingEnviHeaderParameter as exc:
        raise CubeError(f"ENVI header is missing a required field ({exc})", path) from None
    except (envi.FileNotAnEnviHeader, envi.EnviHeaderParsingError) as exc:
        raise CubeError(f"is not a valid ENVI header ({exc})", path) from None
    except (envi.EnviDataFileNotFoundError, FileNotFoundError) as exc:
        raise CubeError(
            f"ENVI data file not found next to the header ({exc}); it must share the header's "
            "name without .hdr, or with .img/.dat/.raw/.bsq/.bil/.bip",
            path,
        ) from None
    except (spectral.SpyException, ValueError, TypeError, KeyError) as exc:
        raise CubeError(f"ENVI header could not be used ({type(exc).__name__}: {exc})", path) from None


def _check_data_file_size(img, path: Path) -> None:
    """A :class:`CubeError` unless the data file holds exactly header offset + lines × samples × bands ×
    bytes per value (in bytes)."""
    data_file = Path(getattr(img, "filename", "") or "")
    itemsize = np.dtype(img.dtype).itemsize
    expected = int(getattr(img, "offset", 0)) + img.nrows * img.ncols * img.nbands * itemsize
    if data_file.is_file() and data_file.stat().st_size != expected:
        raise CubeError(
            f"data file {data_file.name} is {data_file.stat().st_size} bytes but the header describes "
            f"{img.nrows} lines × {img.ncols} samples × {img.nbands} bands × {itemsize} bytes "
            f"(+ {getattr(img, 'offset', 0)} offset) = {expected}; check 'data type', the sizes and 'header offset'",
            path,
        )


def _band_sequential_map(img, path: Path) -> np.ndarray:
    """The data file memory-mapped band-sequential, ``(B, H, W)`` in the file's dtype."""
    try:
        return img.open_memmap(interleave="bsq")
    except ValueError as exc:  # data file too short for the header's size
        raise CubeError(
            f"ENVI data file does not match the header (lines × samples × bands × bytes): {exc}",
            path,
        ) from None


def _reflectance_scale(meta: dict, path: Path) -> float | None:
    """The header's ``reflectance scale factor`` (integer data is divided by it), ``None`` when absent."""
    rsf = meta.get("reflectance scale factor")
    if rsf is None:
        return None
    try:
        return float(rsf)
    except ValueError:
        raise CubeError(f"header field 'reflectance scale factor' is not a number: {rsf!r}", path) from None


def _header(shape: tuple[int, int, int], wavelengths, description: str, geo=None) -> dict:
    """The header of a float32 little-endian band-sequential cube ``(B, H, W)`` (with ``map info`` and the
    CRS's WKT for a :class:`~napari_inf3.data.geo.GeoRef` ``geo``)."""
    b, h, w = (int(x) for x in shape)
    text = " ".join(str(description).replace("{", "(").replace("}", ")").split())  # one line, no braces
    meta = {"description": text, "samples": w, "lines": h, "bands": b, "header offset": 0,
            "file type": "ENVI Standard", "data type": 4, "interleave": "bsq", "byte order": 0}
    if wavelengths is not None:
        meta["wavelength"] = [f"{float(x):g}" for x in wavelengths]
        meta["wavelength units"] = "Nanometers"
    if geo is not None:
        from .georef import envi_fields

        meta.update(envi_fields(geo))
    return meta


def _paths(path: str | Path) -> tuple[Path, Path]:
    """``(header, data file)``: ``x.hdr`` and ``x.img`` (a path without ``.hdr`` gets it)."""
    path = Path(path)
    if path.suffix.lower() != ".hdr":
        path = path.with_suffix(".hdr")
    return path, path.with_suffix(".img")


def write(cube: Cube, path: str | Path) -> Path:
    """Write ``cube`` as float32 band-sequential ENVI (``path`` ends in ``.hdr``; the data goes to the
    ``.img`` beside it). Both files are written under temporary names and moved into place data first,
    header last: a failure leaves the old pair (or nothing) and no temporary file."""
    from spectral.io import envi

    path, data_path = _paths(path)
    data = cube.data
    meta = _header(data.shape, cube.wavelengths, f"written by napari-inf3 from {cube.source or 'memory'}",
                   getattr(cube, "geo", None))
    with atomic_group([data_path, path]) as (tmp_data, tmp_hdr):
        with open(tmp_data, "wb") as fh:
            for b in range(data.shape[0]):  # one band at a time: a lazy cube is never loaded whole
                np.ascontiguousarray(data[b], dtype="<f4").tofile(fh)
        envi.write_envi_header(str(tmp_hdr), meta)
    return path


class OutputMap(np.memmap):
    """The memory map :func:`create` returns; :meth:`flush` raises :class:`WriteError` naming the file."""

    def flush(self):
        try:
            super().flush()
        except OSError as exc:
            raise WriteError(f"could not be written: {describe_os_error(exc)}", getattr(self, "filename", None),
                             exc.errno) from exc


def _preallocate(path: Path, nbytes: int) -> None:
    """Reserve ``nbytes`` on disk for ``path`` now, so a full disk is an error here and not a crash
    (SIGBUS) when the memory map is written later. Where the file system cannot reserve space, the
    file is only extended (sparse)."""
    with open(path, "r+b") as fh:
        if hasattr(os, "posix_fallocate"):
            try:
                os.posix_fallocate(fh.fileno(), 0, nbytes)
                return
            except OSError as exc:
                if exc.errno not in (errno.EINVAL, errno.EOPNOTSUPP):  # not supported by this file system
                    raise
        fh.truncate(nbytes)


def create(path: str | Path, shape: tuple[int, int, int], wavelengths=None, description: str = "",
           geo=None) -> OutputMap:
    """A new float32 band-sequential ENVI cube ``(B, H, W)`` on disk, as a writable memory map.

    For output written tile by tile (``napari_inf3.fuse(..., out=...)``); nothing is held in RAM.
    ``path`` ends in ``.hdr``; the data goes to the ``.img`` beside it. The data file's space is reserved
    on disk first (``posix_fallocate``), so a disk without room for the cube raises :class:`WriteError`
    here, before any work, and leaves nothing behind (an old pair of that name unchanged). The pair
    appears complete (zeros) at once; the map's ``flush()`` raises :class:`WriteError` on a failed write.
    """
    from spectral.io import envi

    path, data_path = _paths(path)
    try:
        b, h, w = (int(x) for x in shape)
    except (TypeError, ValueError):
        raise CubeError(f"an ENVI cube needs a shape (bands, rows, cols), got {shape!r}", path) from None
    if min(b, h, w) < 1:
        raise CubeError(f"an ENVI cube needs a shape of positive sizes, got {(b, h, w)}", path)
    if wavelengths is not None and len(wavelengths) != b:
        raise CubeError(f"{len(wavelengths)} wavelengths given for {b} bands", path)
    meta = _header((b, h, w), wavelengths, description or "written by napari-inf3", geo)
    with atomic_group([data_path, path]) as (tmp_data, tmp_hdr):
        _preallocate(tmp_data, b * h * w * 4)
        envi.write_envi_header(str(tmp_hdr), meta)
    return OutputMap(data_path, dtype="<f4", mode="r+", shape=(b, h, w))  # (bands, lines, samples)
