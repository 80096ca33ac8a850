"""Helpers shared by the format modules: scaling to [0, 1], band-axis detection, checks."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ..data.cube import Cube, CubeError

#: CAVE-style default: 31 bands from 400 to 700 nm in 10 nm steps.
CAVE_WAVELENGTHS = np.arange(400.0, 701.0, 10.0)


#: deflate (zlib, zip, PNG) cannot expand data by more than ≈ 1032 : 1
DEFLATE_MAX_RATIO = 1032


def available_memory() -> int:
    """Bytes of RAM available now (``MemAvailable`` on Linux; free pages elsewhere)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import os

        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 1 << 40


def check_declared_size(path, what: str, shape, itemsize: int, stored: int, max_ratio: float = 1.0) -> int:
    """Refuse, before anything is allocated, an array whose header declares more than the file can hold.

    ``shape``/``itemsize``: what the header declares; ``stored``: the bytes the file holds for it;
    ``max_ratio``: how far its compression can expand them (1 = stored raw). Also refuses an array
    larger than the RAM available now. Returns the declared size in bytes. Python integers: a
    declared 10⁵ × 10⁵ × 10³ cube does not overflow the check.
    """
    try:
        dims = [int(d) for d in shape]
    except (TypeError, ValueError):
        raise CubeError(f"{what} declares a shape that is not a list of sizes: {shape!r}", path) from None
    if any(d < 0 for d in dims):
        raise CubeError(f"{what} declares a negative size: {tuple(dims)}", path)
    n = int(itemsize)
    for d in dims:
        n *= d
    stored = max(int(stored), 0)
    cap = int(max_ratio * stored)
    if n > cap:
        held = "holds" if max_ratio == 1 else f"could expand its {stored} stored bytes to at most"
        raise CubeError(f"{what} declares shape {tuple(dims)} × {itemsize} bytes = {n:,} bytes, but the file {held} "
                        f"{cap:,} bytes (truncated, or a corrupted header)", path)
    free = available_memory()
    if n > free:
        raise CubeError(f"{what} declares {n / 2**30:.1f} GiB ({tuple(dims)}), more than the "
                        f"{free / 2**30:.1f} GiB of memory available; convert it to ENVI to read it lazily", path)
    return n


def raised_in(exc: BaseException, package: str) -> bool:
    """Whether ``exc`` was raised inside ``package``'s own code (its innermost traceback frame):
    for a parser's internal errors on damaged data, which a reader names, while the same exception
    type raised by our code still surfaces as the bug it is."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    name = tb.tb_frame.f_globals.get("__name__", "") if tb is not None else ""
    return name == package or name.startswith(package + ".")


def raised_within(exc: BaseException, package: str) -> bool:
    """Whether ``exc`` was raised while ``package``'s code was running (any frame of its traceback,
    e.g. numpy called by tifffile on a damaged file), not only in its innermost frame (:func:`raised_in`)."""
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_globals.get("__name__", "")
        if name == package or name.startswith(package + "."):
            return True
        tb = tb.tb_next
    return False


def integer_scale(dtype: np.dtype) -> float | None:
    """Full-scale value of an integer dtype (65535 for uint16), ``None`` for floats."""
    dtype = np.dtype(dtype)
    if dtype.kind in "ui":
        return float(np.iinfo(dtype).max)
    if dtype.kind == "b":
        return 1.0
    return None


def detect_band_axis(shape: tuple[int, ...], path: str | Path | None = None) -> int:
    """Guess which axis of a 3-D array holds the bands.

    Rules, in order: when exactly two axes have the same length, they are the rows and
    columns of a square image and the third axis holds the bands (``(8, 8, 31)`` → 2);
    otherwise the bands are the shortest axis (hyperspectral cubes have far fewer bands than
    pixels on a side), the first axis winning a tie (the ``(B, H, W)`` layout this package
    writes), then the last (MATLAB's ``(H, W, B)``). Pass ``band_axis=`` to a reader to override.
    """
    if len(shape) != 3:
        raise CubeError(f"expected a 3-D array, got shape {tuple(shape)}", path)
    a, b, c = shape
    if a == b != c:
        return 2
    if b == c != a:
        return 0
    if a == c != b:
        return 1
    smallest = min(shape)
    if shape[0] == smallest:
        return 0
    if shape[2] == smallest:
        return 2
    return 1


def to_bhw(array: np.ndarray, band_axis: int | None, path: str | Path | None) -> tuple[np.ndarray, int]:
    """Move the band axis first; returns the ``(B, H, W)`` view and the axis used."""
    if array.ndim == 2:
        raise CubeError(
            f"holds a 2-D array of shape {array.shape}: a single image, not a hyperspectral cube "
            "(a cube needs bands, rows and columns)",
            path,
        )
    if array.ndim != 3:
        raise CubeError(
            f"holds a {array.ndim}-D array of shape {array.shape}; a cube needs exactly 3 axes "
            "(bands, rows, cols) — select one cube first (for example array[0])",
            path,
        )
    axis = detect_band_axis(array.shape, path) if band_axis is None else int(band_axis) % 3
    return np.moveaxis(array, axis, 0), axis


def finalize(
    raw: np.ndarray,
    path: str | Path,
    fmt: str,
    *,
    wavelengths: np.ndarray | None = None,
    scale: float | None = None,
    meta: dict | None = None,
) -> Cube:
    """Turn a ``(B, H, W)`` array from a file into a checked float32 :class:`Cube`.

    Integer data is divided by ``scale`` (default: the dtype's full range, e.g. 65535 for
    uint16, so CAVE PNGs land in [0, 1]); float data is kept as stored. Non-finite values
    are refused, because every metric and the network would silently turn them into NaN.
    """
    meta = dict(meta or {})
    meta["format"] = fmt
    meta["file_dtype"] = str(raw.dtype)
    if raw.dtype.kind not in "uifb":
        raise CubeError(f"data type {raw.dtype} is not numeric", path)
    if scale is None:
        scale = integer_scale(raw.dtype)
    data = np.asarray(raw, dtype=np.float32)
    if scale is not None and scale != 1.0:
        data = data / np.float32(scale)
    meta["scale_divisor"] = scale
    if not np.all(np.isfinite(data)):
        bad = int(np.size(data) - np.count_nonzero(np.isfinite(data)))
        raise CubeError(
            f"contains {bad} NaN or infinite value(s); fill or mask them before fusion", path
        )
    if data.size == 0:
        raise CubeError(f"holds an empty array of shape {data.shape}", path)
    peak = float(np.abs(data).max())
    if raw.dtype.kind == "f" and peak > 1e6:
        raise CubeError(
            f"values up to {peak:.3g} are implausible for an image: wrong byte order or data type in the "
            "file's description? (fix the header, or rescale the data)",
            path,
        )
    if float(data.min()) < 0:
        warnings.warn(f"{path}: contains negative values (min {float(data.min()):.4g}); kept as they are", stacklevel=3)
    zero = [i + 1 for i in range(data.shape[0]) if not data[i].any()]
    if zero and len(zero) < data.shape[0]:
        warnings.warn(f"{path}: band(s) {zero} are all zero", stacklevel=3)
    elif zero:
        raise CubeError("every band is all zero", path)
    if raw.dtype.kind == "f" and peak > 1.5:
        meta["note"] = f"float values up to {peak:.4g}: not reflectance in [0, 1]; metrics assume data range 1"
        warnings.warn(f"{path}: float values up to {peak:.4g}; napari-inf3 expects data in [0, 1]", stacklevel=3)
    return Cube(np.ascontiguousarray(data), wavelengths, str(path), meta)


def pick_3d_variable(arrays: dict[str, np.ndarray], path, variable: str | None, preferred=()) -> str:
    """Choose which named array of a .mat/.npz file is the cube.

    ``variable`` wins when given; otherwise the only 3-D numeric array, or among several the
    first name in ``preferred``, or else the largest — with a warning that says which.
    """
    if variable is not None:
        if variable not in arrays:
            raise CubeError(
                f"has no variable {variable!r}; it holds {sorted(arrays)}", path
            )
        return variable
    cubes = {k: v for k, v in arrays.items() if getattr(v, "ndim", 0) == 3 and v.dtype.kind in "uifb"}
    if not cubes:
        shapes = {k: tuple(getattr(v, "shape", ())) for k, v in arrays.items()}
        raise CubeError(
            f"holds no 3-D numeric array (variables and shapes: {shapes}); a cube needs bands, rows and cols",
            path,
        )
    if len(cubes) == 1:
        return next(iter(cubes))
    for name in preferred:
        if name in cubes:
            chosen = name
            break
    else:
        chosen = max(cubes, key=lambda k: cubes[k].size)
    warnings.warn(
        f"{path}: holds several 3-D arrays {sorted(cubes)}; using {chosen!r} "
        "(pass variable= to choose another)",
        stacklevel=3,
    )
    return chosen


#: Names of a wavelength vector stored beside a cube (.mat, .npz), compared case-insensitively.
WAVELENGTH_NAMES = ("wavelengths", "wavelength", "wavelength_nm", "wavelengths_nm", "wl", "wave", "lambda", "bands")
#: Names of the image size stored beside a ``(bands, pixels)`` matrix (unmixing datasets: ``nRow``, ``nCol``).
ROW_NAMES, COL_NAMES = ("nrow", "nrows", "n_row", "n_rows"), ("ncol", "ncols", "n_col", "n_cols")


def _named(arrays: dict[str, np.ndarray], names) -> tuple[str, np.ndarray] | None:
    """The first array whose name (case-insensitively) is one of ``names``."""
    lower = {k.lower(): k for k in arrays}
    for n in names:
        if n in lower:
            return lower[n], arrays[lower[n]]
    return None


def wavelength_vector(arrays: dict[str, np.ndarray], bands: int) -> tuple[np.ndarray, str] | tuple[None, None]:
    """``(wavelengths in nm (bands,), variable name)`` from a vector stored beside the cube, or ``(None, None)``.

    Looked for under :data:`WAVELENGTH_NAMES`; it must hold one finite number per band. Values up to 30 are
    read as µm (AVIRIS-style files store 0.4 … 2.5), larger ones as nm; a vector that is only the band
    numbers (1 … B or 0 … B − 1, as a ``bands`` variable often is) is not a wavelength vector.
    """
    lower = {k.lower(): k for k in arrays}
    for n in WAVELENGTH_NAMES:
        if n not in lower:
            continue
        v = np.asarray(arrays[lower[n]])
        if v.dtype.kind not in "uif" or v.size != bands or bands < 2:
            continue
        wl = v.reshape(-1).astype(np.float64)
        if not np.all(np.isfinite(wl)):
            continue
        if np.array_equal(wl, np.arange(1, bands + 1)) or np.array_equal(wl, np.arange(bands)):
            continue  # band numbers, not wavelengths
        top = float(np.max(wl))
        nm = wl * 1000.0 if top <= 30 else wl
        if not (float(np.min(nm)) >= 100.0 and float(np.max(nm)) <= 20000.0):
            continue
        return nm, lower[n]
    return None, None


def unflatten_pixels(arrays: dict[str, np.ndarray], path, pixel_order: str = "F") -> tuple[np.ndarray, str] | None:
    """A cube ``(B, nRow, nCol)`` from a ``(bands, pixels)`` (or ``(pixels, bands)``) matrix stored with the
    image size as scalars ``nRow`` / ``nCol`` (the layout of the hyperspectral unmixing datasets), and the
    matrix's name; ``None`` when the file is not laid out so.

    ``pixel_order``: how the pixels were flattened. ``'F'`` (default): MATLAB's column-major order, pixel
    ``k`` at row ``k mod nRow``, column ``k div nRow`` (``reshape(Y', nRow, nCol, nBand)`` in MATLAB);
    ``'C'``: row-major (numpy's ``reshape``).
    """
    rows, cols = _named(arrays, ROW_NAMES), _named(arrays, COL_NAMES)
    if rows is None or cols is None:
        return None
    try:
        n_row, n_col = int(np.asarray(rows[1]).reshape(-1)[0]), int(np.asarray(cols[1]).reshape(-1)[0])
    except (ValueError, IndexError, TypeError):
        raise CubeError(f"its image size {rows[0]!r} / {cols[0]!r} is not a pair of whole numbers", path) from None
    if n_row < 1 or n_col < 1:
        raise CubeError(f"its image size {rows[0]} = {n_row}, {cols[0]} = {n_col} is not positive", path)
    n = n_row * n_col
    mats = {k: v for k, v in arrays.items()
            if getattr(v, "ndim", 0) == 2 and v.dtype.kind in "uif" and n in v.shape and min(v.shape) > 1}
    if not mats:
        shapes = {k: tuple(np.shape(v)) for k, v in arrays.items()}
        raise CubeError(f"says the image is {rows[0]} = {n_row} × {cols[0]} = {n_col} pixels, but holds no "
                        f"(bands, {n}) matrix (variables and shapes: {shapes})", path)
    name = max(mats, key=lambda k: mats[k].size)
    m = mats[name]
    bp = m if m.shape[1] == n else m.T  # (bands, pixels)
    if pixel_order not in ("F", "C"):
        raise CubeError(f"pixel_order must be 'F' (MATLAB, column-major) or 'C' (row-major), got {pixel_order!r}",
                        path)
    if pixel_order == "F":
        return bp.reshape(bp.shape[0], n_col, n_row).transpose(0, 2, 1), name
    return bp.reshape(bp.shape[0], n_row, n_col), name
