"""A fusion's inputs read and cut into tiles: the pair as checked arrays (lazy cubes left lazy), near-equal tile
runs, each tile's crop read (and checked) on its own, and the tile size an INFN fits in memory (:func:`auto_tile`).

Shared by every model's tiled fusion (:mod:`napari_inf3.fusion.inference` for INFN, :mod:`napari_inf3.pair.model` for a
model fitted to a pair), so a lazy cube (an ENVI memory map) is read one crop at a time whatever fuses it.
"""

from __future__ import annotations

import math
import os

import numpy as np

from ..data.cube import Cube, CubeError

__all__ = ["as_array", "tile_edges", "read_crop", "auto_tile", "bytes_per_hr_pixel", "encoder_bytes_per_hr_pixel"]


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


def encoder_bytes_per_hr_pixel(config: dict) -> int:
    """Rough peak bytes per HR pixel while the spatial trunk runs (inputs, X^U, trunk activations)."""
    nf, s, m = config["n_feats"], config["bands"], config["msi_bands"]
    return 4 * ((s + m) + s + 4 * nf)


def bytes_per_hr_pixel(config: dict) -> int:
    """Rough peak bytes per HR pixel while INF³ and the decoder run.

    INF³'s MLP works in chunks of a few thousand pixels (a fixed few MB), so what scales with
    the tile is S_pa, X^U, E, the decoder's hidden map and the output.
    """
    nf, c, s = config["n_feats"], config["out_dim"], config["bands"]
    # Table 5's upsampler variants hold the upsampled F¹ (2·nf) and the MLP's input ([F¹↑, S_pa], 3·nf) whole
    extra = 5 * nf if config.get("upsampler", "inf3") != "inf3" else 0
    return 4 * (nf + 3 * s + 2 * c + extra)


def _free_bytes(device) -> int:
    import torch

    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return 4 << 30


def auto_tile(model, scale: int, device, budget_bytes: int | None = None) -> int:
    """Largest LR tile side whose activations fit ``budget_bytes``.

    Two stages share the budget: the spatial trunk on the tile plus its halo
    (:meth:`INFN.spatial_halo`), then INF³ + decoder on the tile plus :meth:`INFN.fusion_halo`;
    INF³'s MLP chunk (:meth:`INF3.chunk_bytes`, a fixed size per device) comes off the top.
    Default budget: on the CPU a quarter of the free memory, at most 1 GiB (a fusion then stays
    inside 2 GB peak); on a GPU half its free memory, uncapped (tiles there cost a halo and a
    blocking copy each, so fewer and larger is faster). Returns at least 8.
    """
    if budget_bytes is None:
        free = _free_bytes(device)
        budget_bytes = free // 2 if device.type == "cuda" else min(1 << 30, free // 4)
        budget_bytes = max(budget_bytes - model.inf3.chunk_bytes(device), budget_bytes // 4)
    enc_side = (math.sqrt(budget_bytes / encoder_bytes_per_hr_pixel(model.config)) / scale
                - 2 * model.spatial_halo(scale))
    fus_side = math.sqrt(budget_bytes / bytes_per_hr_pixel(model.config)) / scale - 2 * model.fusion_halo(scale)
    return max(8, int(min(enc_side, fus_side)))
