"""What the Spectrum inspector shows of an ensemble (:mod:`napari_inf3.models.ensemble`): its members' spread at a
click, a band around the ensemble's curve, and the pixels of highest expected |error| to step through.

An ensemble's fused layer lists its members' layer names in ``metadata["ensemble_members"]``
(:func:`.layers.run_layer_data`); its expected-|error| map is the layer of role ``expected_error`` with the
same run and method. No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..viz.plots import PAPER_PREFIXES
from .layers import inf3_tag

#: The shaded band of an ensemble's members' spread: its curve's colour, this opaque.
BAND_ALPHA = 0.3


@dataclass(frozen=True)
class SpreadBand:
    """The members' spectra at a pixel: ``mean`` ± ``std`` over members, per band (``(B,)`` each)."""

    mean: np.ndarray
    std: np.ndarray
    legend: str

    @property
    def low(self) -> np.ndarray:
        return self.mean - self.std

    @property
    def high(self) -> np.ndarray:
        return self.mean + self.std


def member_layers(layer, layers) -> list:
    """The layers of ``layer``'s ensemble members (by name, among ``layers``, on its pixel grid); empty when
    ``layer`` is no ensemble or fewer than two of its members are there."""
    names = layer.metadata.get("ensemble_members") if hasattr(layer, "metadata") else None
    if not names:
        return []
    by_name = {lyr.name: lyr for lyr in layers}
    shape = tuple(layer.data.shape)
    found = [by_name[n] for n in names if n in by_name and tuple(by_name[n].data.shape) == shape]
    return found if len(found) >= 2 else []


def band_legend(ensemble: str, members: list[str]) -> str:
    """``'ensemble ± std of area/net/cosine'`` (a paper-preset prefix all members share is left out)."""
    for prefix in PAPER_PREFIXES:
        if all(m.startswith(prefix) for m in members):
            members = [m.removeprefix(prefix) for m in members]
    return f"{ensemble} ± std of {'/'.join(members)}"


def spread_band(layer, layers, row: int, col: int, box: int = 1) -> SpreadBand | None:
    """The members' spread at ``(row, col)`` (each member's spectrum the ``box × box`` mean there, as the
    curves are), or None when ``layer`` is no ensemble with its members open."""
    from ..viz.spectra import pixel_spectrum

    members = member_layers(layer, layers)
    if not members:
        return None
    spectra = np.stack([pixel_spectrum(m.data, row, col, box) for m in members])
    names = [str(inf3_tag(m).get("method") or m.name) for m in members]
    method = str(inf3_tag(layer).get("method") or layer.name)
    return SpreadBand(spectra.mean(axis=0), spectra.std(axis=0), band_legend(method, names))


def draw_spread_bands(ax, spreads: dict[str, SpreadBand], part: slice = slice(None), legend: bool = True) -> dict:
    """A shaded band (mean ± std over the members, per band) around each ensemble's curve on ``ax``, in the
    curve's colour, over the spectral bands ``part`` (a zoom window's), labelled for the legend when
    ``legend``; ``{curve label: its PolyCollection}``. ``spreads`` is keyed by the curves' labels (a curve's
    legend label may add its SAM: ``'<label> (SAM …)'``)."""
    polys = {}
    for label, b in spreads.items():
        line = next((ln for ln in ax.get_lines() if ln.get_label() == label
                     or str(ln.get_label()).startswith(f"{label} (SAM")), None)
        if line is not None:
            polys[label] = ax.fill_between(line.get_xdata(), b.low[part], b.high[part], color=line.get_color(),
                                           alpha=BAND_ALPHA, linewidth=0, label=b.legend if legend else "_nolegend_")
    return polys


def move_spread_bands(polys: dict, spreads: dict[str, SpreadBand], x, part: slice = slice(None)) -> None:
    """Move :func:`draw_spread_bands`' bands to new spreads (same ensembles) in place, for a blitted click."""
    for label, poly in polys.items():
        poly.set_verts([band_vertices(x, spreads[label].low[part], spreads[label].high[part])])


def band_vertices(x: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """``(2B, 2)``: the closed outline of the area between ``low`` and ``high`` over ``x`` (along the low
    edge, back along the high one), as a PolyCollection's path; moved per click without a new artist."""
    x = np.asarray(x, float)
    return np.column_stack([np.concatenate([x, x[::-1]]), np.concatenate([low, np.asarray(high)[::-1]])])


def top_pixels(score: np.ndarray, k: int = 20, min_distance: int = 8) -> list[tuple[int, int, float]]:
    """``[(row, col, value)]``: the ``k`` highest pixels of an ``(H, W)`` map, the highest first, greedily
    at least ``min_distance`` pixels apart (Chebyshev) so they are not all one spot; NaNs never picked."""
    s = np.asarray(score, np.float64)
    h, w = s.shape
    s = np.where(np.isfinite(s), s, -np.inf)
    taken = np.zeros((h, w), dtype=bool)
    picks: list[tuple[int, int, float]] = []
    for flat in np.argsort(s, axis=None, kind="stable")[::-1]:
        if len(picks) >= k or not np.isfinite(s.flat[flat]):
            break
        r, c = divmod(int(flat), w)
        if taken[r, c]:
            continue
        picks.append((r, c, float(s[r, c])))
        taken[max(0, r - min_distance + 1) : r + min_distance, max(0, c - min_distance + 1) : c + min_distance] = True
    return picks


def expected_error_layer(layers, prefer=None):
    """The expected-|error| map to step through: that of ``prefer`` (the selected layer: the map itself, or
    its ensemble's cube or true |error| map), else the newest run's first; None when there is none."""
    maps = [lyr for lyr in layers if inf3_tag(lyr).get("role") == "expected_error"]
    if prefer is not None:
        t = inf3_tag(prefer)
        mine = run_layer(maps, "expected_error", t.get("method"), t.get("run"))
        if mine is not None and t.get("role") in ("expected_error", "fused", "error"):
            return mine
    if not maps:
        return None
    run = inf3_tag(maps[-1]).get("run")
    return next(lyr for lyr in maps if inf3_tag(lyr).get("run") == run)


def run_layer(layers, role: str, method, run):
    """The layer of ``role`` for ``method`` in ``run`` (the ensemble's cube, its true |error| map ...), or None."""
    return next((lyr for lyr in layers if inf3_tag(lyr).get("role") == role and inf3_tag(lyr).get("method") == method
                 and inf3_tag(lyr).get("run") == run), None)
