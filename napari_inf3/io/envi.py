"""ENVI cubes (``.hdr`` + binary data file) through the ``spectral`` package.

The data is memory-mapped by ``spectral`` and read band-sequential ``(B, H, W)``.
Wavelengths come from the header's ``wavelength`` field; ``wavelength units`` of
micrometres (``um``, ``Micrometers``, ``µm``) are converted to nm, and unit-less values
below 10 are taken as µm (with a warning). Integer data is divided by the header's
``reflectance scale factor`` when present, else by the dtype's full range.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..cube import Cube, CubeError
from ._common import finalize, integer_scale
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
    try:
        wl = np.asarray([float(v) for v in raw], dtype=np.float64)
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
    import spectral
    from spectral.io import envi

    path = Path(path)
    if not path.is_file():
        raise CubeError("ENVI header not found", path)
    try:
        img = envi.open(str(path))
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
    meta = dict(img.metadata)
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
    try:
        mm = img.open_memmap(interleave="bsq")
    except ValueError as exc:  # data file too short for the header's size
        raise CubeError(
            f"ENVI data file does not match the header (lines × samples × bands × bytes): {exc}",
            path,
        ) from None
    wl = wavelengths_nm(meta, path)
    if wl is not None and wl.size != mm.shape[0]:
        raise CubeError(f"header lists {wl.size} wavelengths for {mm.shape[0]} bands", path)
    info = {
        "interleave": meta.get("interleave"),
        "byte_order": meta.get("byte order"),
        "data_file": getattr(img, "filename", None),
    }
    scale = None
    rsf = meta.get("reflectance scale factor")
    if rsf is not None:
        try:
            scale = float(rsf)
        except ValueError:
            raise CubeError(f"header field 'reflectance scale factor' is not a number: {rsf!r}", path) from None
    if lazy is None:
        lazy = mm.size * itemsize > LAZY_BYTES
    if lazy:
        if scale is None:
            scale = integer_scale(mm.dtype)
        data = ScaledArray(mm, scale, str(path))
        return Cube(data, wl, str(path), {"format": NAME, **info, "lazy": True, "file_dtype": str(mm.dtype),
                                          "scale_divisor": scale})
    return finalize(np.asarray(mm), path, NAME, wavelengths=wl, scale=scale, meta=info)


def write(cube: Cube, path: str | Path) -> Path:
    """Write ``cube`` as float32 band-sequential ENVI (``path`` ends in ``.hdr``)."""
    from spectral.io import envi

    path = Path(path)
    if path.suffix.lower() != ".hdr":
        path = path.with_suffix(".hdr")
    meta = {"description": f"written by napari-inf3 from {cube.source or 'memory'}"}
    if cube.wavelengths is not None:
        meta["wavelength"] = [f"{w:g}" for w in cube.wavelengths]
        meta["wavelength units"] = "Nanometers"
    data = np.ascontiguousarray(np.moveaxis(np.asarray(cube.data, dtype=np.float32), 0, -1))
    envi.save_image(str(path), data, interleave="bsq", metadata=meta, force=True, ext=".img")
    return path


def create(path: str | Path, shape: tuple[int, int, int], wavelengths=None, description: str = "") -> np.ndarray:
    """A new float32 band-sequential ENVI cube ``(B, H, W)`` on disk, as a writable memory map.

    For output written tile by tile (``napari_inf3.fuse(..., out=...)``); nothing is held in RAM.
    ``path`` ends in ``.hdr``; the data goes to the ``.img`` beside it.
    """
    from spectral.io import envi

    path = Path(path)
    b, h, w = shape
    meta = {"description": description or "written by napari-inf3", "lines": h, "samples": w, "bands": b,
            "interleave": "bsq", "data type": 4, "byte order": 0}
    if wavelengths is not None:
        meta["wavelength"] = [f"{x:g}" for x in wavelengths]
        meta["wavelength units"] = "Nanometers"
    img = envi.create_image(str(path), meta, ext=".img", force=True)
    return img.open_memmap(interleave="bsq", writable=True)  # (bands, lines, samples)
