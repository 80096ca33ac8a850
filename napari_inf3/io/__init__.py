"""One reader registry for every cube format napari-inf3 understands.

``read_cube(path)`` picks the format from the path (a folder → CAVE band PNGs, else the
suffix) and returns a :class:`~napari_inf3.data.cube.Cube` with ``data`` ``(B, H, W)`` float32.
``write_cube(cube, path)`` writes ``.npz``, ``.hdr`` (ENVI) or ``.tif``.
The napari reader, the CLI and the API all go through :data:`FORMATS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..data.cube import Cube, CubeError
from . import arrays, cave, envi, matlab, photo, raw
from .atomic import WriteError

__all__ = ["FORMATS", "Format", "find_format", "read_cube", "write_cube", "check_writable", "WriteError",
           "READ_PATTERNS", "scene_paths"]


@dataclass(frozen=True)
class Format:
    """A file format: how to recognise it, read it and (optionally) write it."""

    name: str
    extensions: tuple[str, ...]  # lower-case suffixes; empty for folder formats
    read: Callable[..., Cube]
    write: Callable[[Cube, Path], Path] | None = None
    is_folder: bool = False

    def matches(self, path: Path) -> bool:
        if self.is_folder:
            return path.is_dir()
        return "".join(path.suffixes[-1:]).lower() in self.extensions


FORMATS: tuple[Format, ...] = (
    Format("cave", (), cave.read, is_folder=True),
    Format("envi", (".hdr",), envi.read, envi.write),
    Format("matlab", (".mat",), matlab.read),
    Format("npy", (".npy",), arrays.read_npy),
    Format("npz", (".npz",), arrays.read_npz, arrays.write_npz),
    Format("tiff", (".tif", ".tiff"), arrays.read_tiff, arrays.write_tiff),
    Format("photo", photo.EXTENSIONS, photo.read),  # an HR-MSI photograph (estimate_camera linearises it)
    Format("raw", raw.EXTENSIONS, raw.read),  # a camera RAW file, read linearly (rawpy: the extra 'raw')
)

#: Glob patterns for napari's manifest and file dialogs.
READ_PATTERNS = tuple(f"*{ext}" for f in FORMATS for ext in f.extensions)


def find_format(path: str | Path) -> Format | None:
    """The registered format for ``path`` or ``None`` (never raises)."""
    path = Path(path)
    for fmt in FORMATS:
        if fmt.matches(path):
            if fmt.is_folder and not cave.can_read(path):
                return None
            return fmt
    return None



def scene_paths(paths, exclude=None) -> list[Path]:
    """The cubes named by ``paths``, folders of scenes expanded: a path that is not itself a
    readable cube contributes its readable children (sorted); ``exclude`` drops names.

    Raises :class:`CubeError` for a path that does not exist or a folder holding nothing readable.
    A file no reader claims is kept: :func:`read_cube` then says what is wrong with it.
    """
    out: list[Path] = []
    for p in map(Path, paths):
        if not p.exists():
            raise CubeError("no such file or folder", p)
        if find_format(p) is not None:
            out.append(p)
        elif p.is_dir():
            kids = [k for k in sorted(p.iterdir()) if find_format(k) is not None]
            if not kids:
                raise CubeError("holds no readable cube and no folders of cubes", p)
            out += kids
        else:
            out.append(p)
    excl = set(exclude or [])
    return [p for p in out if p.name not in excl]

def read_cube(path: str | Path, **options) -> Cube:
    """Read a hyperspectral cube from ``path``.

    Parameters
    ----------
    path : str or Path
        A CAVE scene folder, or a ``.hdr``, ``.mat``, ``.npy``, ``.npz``, ``.tif``/``.tiff`` file.
    **options
        Passed to the format's reader: ``variable=`` (``.mat``/``.npz``), ``band_axis=``
        (arrays, ``.mat``, TIFF), ``lazy=`` (ENVI).

    Returns
    -------
    Cube
        ``data`` ``(B, H, W)`` float32, integers scaled to [0, 1]; ``wavelengths`` in nm or None.

    Raises
    ------
    CubeError
        The message names the file and what is wrong.
    """
    p = Path(path)
    if not p.exists():
        raise CubeError("no such file or folder", p)
    fmt = find_format(p)
    if fmt is None:
        if p.is_dir():
            return cave.read(p)  # raises a CubeError that says what the folder lacks
        known = ", ".join(ext for f in FORMATS for ext in f.extensions)
        raise CubeError(f"unknown cube format {p.suffix or '(no suffix)'!r}; readable: CAVE folders, {known}", p)
    try:
        return fmt.read(p, **options)
    except TypeError as exc:
        if "unexpected keyword" in str(exc):
            raise CubeError(f"the {fmt.name} reader does not take these options: {exc}", p) from None
        raise


def check_writable(cube: Cube, path: str | Path | None = None, *, allow_negative: bool = False) -> None:
    """Refuse, before anything is written, a cube whose file would be wrong: not a :class:`Cube`, data
    that is not 3-D ``(B, H, W)``, empty, not numeric, NaN or infinite values, negative values (unless
    ``allow_negative``: e.g. fused output with ``clip=False``), wavelengths that are not one finite
    number per band. Non-contiguous arrays are fine. Reads the data one band at a time. A georeferenced
    cube's nodata pixels (``meta['nodata_mask']``) hold its nodata value and are not checked."""
    import numpy as np

    if not isinstance(cube, Cube):
        raise CubeError(f"write_cube needs a Cube, got {type(cube).__name__} (wrap an array: Cube(data, wavelengths))",
                        path)
    data = cube.data
    shape = tuple(getattr(data, "shape", ()))
    if len(shape) != 3:
        what = "a single image" if len(shape) == 2 else f"{len(shape)}-D"
        raise CubeError(f"cannot write data of shape {shape} ({what}): a cube is 3-D (bands, rows, cols)", path)
    if 0 in shape:
        raise CubeError(f"cannot write an empty cube of shape {shape}", path)
    try:
        kind = np.dtype(data.dtype).kind
    except (AttributeError, TypeError):
        kind = "O"
    if kind not in "uifb":
        raise CubeError(f"cannot write data of type {getattr(data, 'dtype', type(data).__name__)}: "
                        "a cube holds numbers (integers or floats)", path)
    if cube.wavelengths is not None:
        try:
            wl = np.asarray(cube.wavelengths, dtype=np.float64).reshape(-1)
        except (TypeError, ValueError):
            raise CubeError(f"the wavelengths are not numbers: {str(cube.wavelengths)[:80]}", path) from None
        if wl.size != shape[0]:
            raise CubeError(f"{wl.size} wavelengths for {shape[0]} bands", path)
        if not np.all(np.isfinite(wl)):
            raise CubeError("the wavelengths hold NaN or infinite values", path)
    bad, lowest = 0, 0.0
    # pixels a georeferenced cube marks as nodata hold its nodata value (any number, NaN too): not checked
    mask = cube.meta.get("nodata_mask") if getattr(cube, "geo", None) is not None else None
    keep = None if mask is None or np.shape(mask) != shape[1:] else ~np.asarray(mask, bool)
    for b in range(shape[0]):
        band = np.asarray(data[b]) if keep is None else np.asarray(data[b])[keep]
        if kind == "f":
            finite = np.isfinite(band)
            if not finite.all():
                bad += int(band.size - np.count_nonzero(finite))
                continue
        if kind in "if" and band.size:
            lowest = min(lowest, float(band.min()))
    if bad:
        raise CubeError(f"holds {bad} NaN or infinite value(s); nothing was written (fill or mask them first)", path)
    if lowest < 0 and not allow_negative:
        raise CubeError(f"holds negative values (min {lowest:.4g}); nothing was written. Clip them (fusion's "
                        "clip=True), or pass allow_negative=True to write them as they are", path)


def write_cube(cube: Cube, path: str | Path, *, overwrite: bool = False, allow_negative: bool = False) -> Path:
    """Write ``cube`` to ``path`` (``.npz``, ``.hdr`` or ``.tif``); refuses to overwrite unless asked.

    The data is checked first (:func:`check_writable`: 3-D, numeric, finite, not negative unless
    ``allow_negative``, one wavelength per band) and nothing is written when it fails. The file is written
    under a temporary name and moved into place (ENVI: data file first, header last), so a failure (disk
    full, file too large, permission denied) raises :class:`~napari_inf3.io.atomic.WriteError` naming the
    path and the reason, leaves an existing file byte-identical and no temporary file behind.
    """
    p = Path(path)
    fmt = find_format(p) if not p.is_dir() else None
    if fmt is None or fmt.write is None:
        writable = ", ".join(ext for f in FORMATS if f.write for ext in f.extensions)
        raise CubeError(f"cannot write this format; writable: {writable}", p)
    if p.exists() and not overwrite:
        raise CubeError("already exists; pass overwrite=True (CLI: --overwrite) to replace it", p)
    check_writable(cube, p, allow_negative=allow_negative)
    return fmt.write(cube, p)
