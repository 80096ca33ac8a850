"""CAVE scene folders: one 16-bit grey PNG per band, ``<scene>_01.png`` ... ``<scene>_31.png``.

The folder may hold the PNGs directly or one level down (the official zip nests
``<scene>/<scene>/*.png``). Band ``NN`` is 400 + 10·(NN − 1) nm when there are 31 bands.
Multi-channel band PNGs (CAVE's *watercolors* scene ships RGBA) are reduced to one channel
with a warning.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np

from ..data.cube import Cube, CubeError
from ._common import CAVE_WAVELENGTHS, finalize

NAME = "cave"
BAND_RE = re.compile(r"^(?P<stem>.+?)_(?P<num>\d{2,3})\.png$", re.IGNORECASE)


def _band_files(folder: Path) -> list[tuple[int, Path]]:
    found = []
    for p in folder.iterdir():
        m = BAND_RE.match(p.name)
        if m and p.is_file():
            found.append((int(m.group("num")), p))
    return sorted(found)


def find_band_folder(path: str | Path) -> Path | None:
    """The folder (``path`` itself or one level below) that holds ``*_NN.png`` band files."""
    path = Path(path)
    if not path.is_dir():
        return None
    if _band_files(path):
        return path
    subdirs = [d for d in sorted(path.iterdir()) if d.is_dir()]
    hits = [d for d in subdirs if _band_files(d)]
    return hits[0] if len(hits) == 1 else None


def can_read(path: str | Path) -> bool:
    return find_band_folder(path) is not None


def _read_png(p: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(p) as im:
            im.load()
            arr = np.array(im)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        # pillow on a damaged PNG: OSError/SyntaxError, and ValueError for a cut IHDR chunk (napari_inf3.testing.fuzz)
        raise CubeError(f"band file is not a readable PNG ({exc})", p) from None
    if arr.ndim == 3:
        channels = arr[..., :3] if arr.shape[-1] >= 3 else arr[..., :1]
        if np.all(channels == channels[..., :1]):
            warnings.warn(f"{p}: {arr.shape[-1]}-channel band PNG with equal channels; using the first", stacklevel=4)
            arr = channels[..., 0]
        else:
            warnings.warn(f"{p}: {arr.shape[-1]}-channel band PNG; using the mean of its colour channels", stacklevel=4)
            arr = channels.astype(np.float64).mean(axis=-1).astype(arr.dtype)
    return arr


def read(path: str | Path) -> Cube:
    path = Path(path)
    if not path.is_dir():
        raise CubeError("is not a folder of CAVE band PNGs", path)
    folder = find_band_folder(path)
    if folder is None:
        raise CubeError(
            "holds no CAVE band files named <scene>_01.png ... <scene>_31.png "
            "(directly or one folder down)",
            path,
        )
    files = _band_files(folder)
    numbers = [n for n, _ in files]
    expected = list(range(1, len(files) + 1))
    if numbers != expected:
        missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
        dupes = sorted({n for n in numbers if numbers.count(n) > 1})
        what = []
        if missing:
            what.append(f"missing band file(s) {missing}")
        if dupes:
            what.append(f"several files for band(s) {dupes}")
        if numbers and numbers[0] != 1:
            what.append(f"numbering starts at {numbers[0]}, not 01")
        raise CubeError("; ".join(what) or "band numbering is not 01..N", folder)
    bands: list[np.ndarray] = []
    dtypes = set()
    for _, p in files:
        arr = _read_png(p)
        if bands and arr.shape != bands[0].shape:
            raise CubeError(
                f"band file {p.name} is {arr.shape[1]}×{arr.shape[0]} pixels but {files[0][1].name} "
                f"is {bands[0].shape[1]}×{bands[0].shape[0]}; all bands must have one size",
                folder,
            )
        dtypes.add(arr.dtype.str)
        bands.append(arr)
    if len(dtypes) > 1:
        raise CubeError(
            f"band files mix bit depths ({sorted(np.dtype(d).name for d in dtypes)}); "
            "their scaling to [0, 1] would disagree",
            folder,
        )
    raw = np.stack(bands)
    wl = CAVE_WAVELENGTHS.copy() if len(bands) == 31 else None
    return finalize(raw, folder, NAME, wavelengths=wl, meta={"band_files": [p.name for _, p in files]})
