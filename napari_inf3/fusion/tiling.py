"""A fusion's inputs read and cut into tiles: the pair as checked arrays (lazy cubes left lazy), near-equal tile
runs, and each tile's crop read (and checked) on its own.

Shared by every model's tiled fusion (:mod:`napari_inf3.fusion.inference` for INFN, :mod:`napari_inf3.pair.model` for a
model fitted to a pair), so a lazy cube (an ENVI memory map) is read one crop at a time whatever fuses it.
"""

from __future__ import annotations

import math

import numpy as np

from ..data.cube import Cube, CubeError

__all__ = ["as_array", "tile_edges", "read_crop"]


def as_array(x, name: str):
    """``(array, source)``: in-memory data as checked float32; lazy data (:mod:`.io.lazy`) as is.

    Lazy cubes are not read here: each tile is checked for NaN / Inf as :func:`fuse` reads it.
    """
    from ..io.lazy import is_lazy

    source = x.source if isinstance(x, Cube) else getattr(x, "source", None)
    data = x.data if isinstance(x, Cube) else x
    if is_lazy(data):
        if len(data.shape) != 3:
            raise CubeError(f"{name} must be (bands, rows, cols), got shape {tuple(data.shape)}", source)
        return data, source
    arr = np.asarray(data, dtype=np.float32)
    if arr.ndim != 3:
        raise CubeError(f"{name} must be (bands, rows, cols), got shape {arr.shape}", source)
    if not np.all(np.isfinite(arr)):
        raise CubeError(f"{name} contains NaN or infinite values", source)
    return arr, source


def tile_edges(n: int, tile: int) -> list[int]:
    """Cut ``n`` pixels into ``⌈n / tile⌉`` near-equal runs; returns the edges ``[0, ..., n]``."""
    k = max(1, math.ceil(n / max(1, tile)))
    return [round(i * n / k) for i in range(k + 1)]


def read_crop(arr, name: str, source, sl: tuple) -> np.ndarray:
    """``arr[sl]`` as contiguous float32, refused if it holds NaN / Inf (lazy data is checked here)."""
    from ..io.lazy import is_lazy

    crop = np.ascontiguousarray(arr[sl], dtype=np.float32)
    if is_lazy(arr) and not np.all(np.isfinite(crop)):  # in-memory data was checked whole by as_array
        raise CubeError(f"{name} contains NaN or infinite values (rows {sl[1].start}–{sl[1].stop})", source)
    return crop
