"""Which cube layers the Spectrum inspector reads for a clicked pixel, and where (no Qt).

A click lands on the reference layer's pixel grid. The cubes on that grid (same ``(rows, cols)``) are read at the
same pixel. Layers from georeferenced files (``metadata['geo']``, :func:`.layers.geo_placement`) sit on other grids
of the same map: an LR-HSI at 30 m beside a fused cube at 10 m; they are read at the pixel that holds the clicked
pixel's centre on the map, when it lies inside them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .ensemble_view import SpreadBand, spread_band
from .layers import inf3_tag, is_cube_layer, layer_wavelengths, pixel_of, spatial_shape

ROLE_ORDER = {"gt": 0, "cube": 1, "bicubic": 2, "fused": 3}


@dataclass(frozen=True)
class Sample:
    """One cube read at one pinned pixel: the layer, its own ``(row, col)``, and whether it is on the clicked grid."""

    layer: Any
    row: int
    col: int
    same_grid: bool


def _georeferenced(layer) -> bool:
    return isinstance(getattr(layer, "metadata", {}).get("geo"), dict)


def grid_cubes(layers, shape) -> list:
    """The cube layers on a grid of ``shape`` ``(rows, cols)`` (an LR layer of a simulation run left out)."""
    return [lyr for lyr in layers if is_cube_layer(lyr) and spatial_shape(lyr) == tuple(shape)
            and inf3_tag(lyr).get("role") != "lr"]


def map_cubes(layers, ref) -> list:
    """Georeferenced cube layers on other grids than ``ref``'s (nothing when ``ref`` has no map position)."""
    if not _georeferenced(ref):
        return []
    shape = spatial_shape(ref)
    return [lyr for lyr in layers if is_cube_layer(lyr) and _georeferenced(lyr) and spatial_shape(lyr) != shape
            and inf3_tag(lyr).get("role") != "lr"]


def most_bands(layers: list, *, same_centres: bool = True) -> list:
    """Those of ``layers`` with the most bands, GT first: an HR-MSI (3–16 channels) is not drawn beside 30–300-band
    cubes; with ``same_centres`` (cubes on several grids), only those with the same band centres as the first."""
    bands = max((lyr.data.shape[0] for lyr in layers), default=0)
    kept = [lyr for lyr in layers if lyr.data.shape[0] == bands]
    first = next((layer_wavelengths(lyr) for lyr in kept if layer_wavelengths(lyr) is not None), None)
    if same_centres and first is not None:
        kept = [lyr for lyr in kept if (centres := layer_wavelengths(lyr)) is None
                or np.allclose(centres, first, atol=0.5)]
    return sorted(kept, key=lambda lyr: ROLE_ORDER.get(inf3_tag(lyr).get("role", "cube"), 1))


def samples(layers, ref, pins: list[tuple[int, int]]) -> list[tuple[tuple[int, int], list[Sample]]]:
    """For each pin ``(row, col)`` on ``ref``'s grid: the cubes read there (:class:`Sample`), in plot order."""
    shape = spatial_shape(ref)
    same = grid_cubes(layers, shape)
    chosen = most_bands(same + map_cubes(layers, ref))
    out = []
    lead = (0,) * (ref.ndim - 2)
    for row, col in [(r, c) for r, c in pins if 0 <= r < shape[0] and 0 <= c < shape[1]]:
        world = np.asarray(ref.data_to_world((*lead, row, col)))[-2:]
        found = []
        for layer in chosen:
            if any(layer is lyr for lyr in same):
                found.append(Sample(layer, row, col, True))
            elif (at := pixel_of(layer, world)) is not None:
                found.append(Sample(layer, at[0], at[1], False))
        out.append(((row, col), found))
    return out


@dataclass(frozen=True)
class Plan:
    """What one redraw shows: the curves and their reference, the zoom bands, the current band, the title, the
    neighbour weights and ensemble spreads; ``layout`` is what the cached axes must match to be reused; ``low``
    and ``peak`` the values the y range must hold."""

    wl: np.ndarray | None
    curves: dict[str, np.ndarray]
    ref: str | None
    zoom_bands: tuple[int, int] | None
    band: int | None
    title: str
    weights: dict[str, np.ndarray]
    spreads: dict[str, SpreadBand]
    layout: tuple
    low: float
    peak: float


def newest_schemes(layers) -> tuple[str | None, dict[str, Any]]:
    """``(run id, {method: fused layer})`` of the newest run's weighting schemes: the SRF projection and an
    ensemble (the schemes' mean) left out, what the scheme-disagreement ranking compares."""
    fused = [lyr for lyr in layers if inf3_tag(lyr).get("role") == "fused"]
    runs = [inf3_tag(lyr).get("run") for lyr in fused]
    run = runs[-1] if runs else None
    return run, {str(inf3_tag(lyr).get("method")): lyr for lyr in fused if inf3_tag(lyr).get("run") == run
                 and inf3_tag(lyr).get("method") != "projection" and not lyr.metadata.get("ensemble_members")}


class Picks:
    """The ranked pixels ◀ / ▶ step through: ranked once per key (run id, ranking, map), then cycled; moving to
    another key starts from its first pick."""

    def __init__(self) -> None:
        self._ranked: dict[tuple, tuple[list, str]] = {}
        self._key: tuple | None = None
        self._index = -1

    def next(self, key: tuple, rank, step: int) -> tuple[int, list, str] | None:
        """The pick ``step`` on from the current one among ``key``'s (``rank()`` → ``(picks, criterion)``), as
        ``(index, picks, criterion)``; None when nothing passed the ranking."""
        if key not in self._ranked:
            self._ranked[key] = rank()
        picks, criterion = self._ranked[key]
        if key != self._key:
            self._key, self._index = key, -1
        if not picks:
            return None
        self._index = (self._index + step) % len(picks)
        return self._index, picks, criterion


def curve_label(layer) -> str:
    t = inf3_tag(layer)
    role = t.get("role", "cube")
    if role == "gt":
        return "GT"
    if role in ("bicubic", "fused"):
        return f"{t.get('method')} [{t.get('run')}]" if t.get("run") else str(t.get("method"))
    return layer.name


def plotted(layers, shape) -> list:
    """The cubes plotted for a click on a grid of ``shape`` ``(rows, cols)``: those with the most bands on it (an
    HR-MSI on the fusions' grid, 3–16 channels against their 30–300 bands, is not drawn as a spectrum), GT first."""
    return most_bands(grid_cubes(layers, shape), same_centres=False)


def click_weights(layers, ref, pins: list[tuple[int, int]]) -> dict[str, np.ndarray]:
    """``{curve label: (4,) neighbour weights}`` at the single pinned pixel, for fused layers that kept them."""
    if ref is None or len(pins) != 1:
        return {}
    row, col = pins[0]
    out = {}
    for layer in plotted(layers, ref.data.shape[-2:]):
        w = layer.metadata.get("neighbour_weights")
        if w is not None and w.shape[-2:] == tuple(ref.data.shape[-2:]):
            out[curve_label(layer)] = np.asarray(w[:, row, col], np.float64)
    return out


def ensemble_spreads(layers, ref, pins: list[tuple[int, int]], box: int) -> dict[str, SpreadBand]:
    """``{curve label: members' spread}`` at the single pinned pixel, for each ensemble whose members are open
    (:func:`.ensemble_view.spread_band`); empty with pins (the plot would be a tangle of bands)."""
    if ref is None or len(pins) != 1:
        return {}
    row, col = pins[0]
    cubes = plotted(layers, ref.data.shape[-2:])
    out = {}
    for layer in cubes:
        band = spread_band(layer, cubes, row, col, box)
        if band is not None:
            out[curve_label(layer)] = band
    return out
