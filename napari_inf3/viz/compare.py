"""Where and why the weighting schemes differ: weight maps and disagreement between fused cubes.

Pure numpy, no torch, no Qt: the CLI, the demo and the napari docks share it.

* Weight maps, from INF³'s neighbour weights ``(4, H, W)`` (``fuse(..., weights=True).weights``;
  neighbours in the order :data:`NEIGHBOURS`): :func:`weight_entropy` (nats: 0 when one neighbour
  takes all, ln 4 ≈ 1.386 when all four are equal) and :func:`winning_neighbour` (0–3).
* Disagreement between two fused cubes ``(B, H, W)``: :func:`sam_between` (degrees) and
  :func:`mean_abs_difference`; :func:`top_disagreements` ranks pixels where the schemes differ most,
  excluding dark pixels and the border (where an angle between near-zero spectra is noise) and
  keeping the picks apart, and says its criterion in words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from ..evaluation.metrics import sam_map

__all__ = ["NEIGHBOURS", "LN4", "neighbour_positions", "weight_entropy", "winning_neighbour", "sam_between",
           "mean_abs_difference", "pairwise_maps", "Disagreement", "top_disagreements"]

#: Neighbour order of the weights' first axis: (row, column) step to the LR neighbour.
NEIGHBOURS = ("NW", "NE", "SW", "SE")
#: Entropy of four equal weights (nats), the largest possible.
LN4 = math.log(4.0)


def _weights(w) -> np.ndarray:
    w = np.asarray(w, dtype=np.float32)
    if w.ndim != 3 or w.shape[0] != 4:
        raise ValueError(f"neighbour weights must be (4, H, W), got shape {w.shape}")
    return w


def weight_entropy(weights) -> np.ndarray:
    """``(H, W)`` float32 entropy ``−Σ_i w_i ln w_i`` of each pixel's four weights, in nats (0 … ln 4)."""
    w = _weights(weights)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(w > 0, -w * np.log(np.where(w > 0, w, 1.0)), 0.0)
    return np.clip(terms.sum(axis=0), 0.0, LN4).astype(np.float32)


def winning_neighbour(weights) -> np.ndarray:
    """``(H, W)`` uint8 index (into :data:`NEIGHBOURS`) of each pixel's largest weight."""
    return np.argmax(_weights(weights), axis=0).astype(np.uint8)


def sam_between(a, b) -> np.ndarray:
    """``(H, W)`` float32 spectral angle (degrees) between two cubes ``(B, H, W)``."""
    return sam_map(a, b).astype(np.float32)


def mean_abs_difference(a, b) -> np.ndarray:
    """``(H, W)`` float32 mean over bands of ``|a − b|``."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    if a.shape != b.shape:
        raise ValueError(f"cubes of different shapes: {a.shape} and {b.shape}")
    return np.abs(a - b).mean(axis=0).astype(np.float32)


def pairwise_maps(cubes: Mapping[str, np.ndarray]) -> dict[tuple[str, str], dict[str, np.ndarray]]:
    """``{(name_a, name_b): {'sam': (H, W) degrees, 'mad': (H, W) mean |a − b|}}`` for every pair."""
    return {(p, q): {"sam": sam_between(cubes[p], cubes[q]), "mad": mean_abs_difference(cubes[p], cubes[q])}
            for p, q in combinations(cubes, 2)}


@dataclass
class Disagreement:
    """One pixel where the schemes disagree: its place, the score that ranked it and each pair's SAM."""

    row: int
    col: int
    score: float  # the largest pairwise SAM there (degrees)
    pair_sam: dict[tuple[str, str], float]


def top_disagreements(cubes: Mapping[str, np.ndarray], k: int = 10, *, min_distance: int = 8, border: int = 4,
                      brightness_quantile: float = 0.25) -> tuple[list[Disagreement], str]:
    """The ``k`` pixels where two or more fused cubes disagree most; returns ``(picks, criterion)``.

    Score: the largest spectral angle between any two of the cubes at a pixel. Only pixels whose
    mean brightness (over bands and cubes) is at least the ``brightness_quantile`` of the image's
    brightness, and that lie ``border`` pixels or more inside the image, compete: an angle between
    near-zero spectra is noise, and the image border is where every scheme extrapolates. Picks are
    at least ``min_distance`` pixels apart (Chebyshev), greedily from the highest score, so they
    are not all one edge. ``criterion`` says this in one sentence for the user.
    """
    names = list(cubes)
    if len(names) < 2:
        raise ValueError("comparing schemes needs two or more fused cubes")
    pairs = pairwise_maps(cubes)
    stack = np.stack([np.asarray(cubes[n], np.float32).mean(axis=0) for n in names])
    bright = stack.mean(axis=0)
    h, w = bright.shape
    floor = float(np.quantile(bright, brightness_quantile))
    score = np.max(np.stack([m["sam"] for m in pairs.values()]), axis=0).astype(np.float64)
    ok = bright >= floor
    if border > 0:
        ok[:border] = ok[-border:] = False
        ok[:, :border] = ok[:, -border:] = False
    score = np.where(ok, score, -np.inf)
    picks: list[Disagreement] = []
    order = np.argsort(score, axis=None)[::-1]
    taken = np.zeros((h, w), dtype=bool)
    for flat in order:
        if len(picks) >= k or not np.isfinite(score.flat[flat]):
            break
        r, c = divmod(int(flat), w)
        if taken[r, c]:
            continue
        picks.append(Disagreement(r, c, float(score[r, c]), {p: float(m["sam"][r, c]) for p, m in pairs.items()}))
        taken[max(0, r - min_distance + 1) : r + min_distance, max(0, c - min_distance + 1) : c + min_distance] = True
    criterion = (f"largest spectral angle between any two of {', '.join(names)}; only pixels at least as bright as "
                 f"the {brightness_quantile:.0%} quantile ({floor:.4g}) and {border} px inside the border; picks "
                 f"{min_distance} px apart")
    return picks, criterion


def neighbour_positions(row: int, col: int, scale: int, lr_shape: tuple[int, int]) -> np.ndarray:
    """``(4, 2)`` float64: the four LR neighbours of HR pixel ``(row, col)`` as INF³ takes them (LIIF's
    shifted-nearest rule, clamped at the image's edge), in :data:`NEIGHBOURS` order, each as its LR
    pixel's centre in HR pixel coordinates (eq. 2: LR pixel ``i`` is centred at ``(i + ½)·r − ½``).
    """
    h, w = lr_shape

    def axis(i_hr: int, n_lr: int, shift: int) -> int:
        n_hr = n_lr * scale
        c = -1.0 + (2.0 * i_hr + 1.0) / n_hr + shift / n_lr + (1e-6 if shift else 0.0)
        c = min(max(c, -1 + 1e-6), 1 - 1e-6)
        return int(min(max(math.floor((c + 1.0) / 2.0 * n_lr), 0), n_lr - 1))

    out = []
    for dy, dx in ((-1, -1), (-1, 1), (1, -1), (1, 1)):  # NW, NE, SW, SE (model.fusion.SHIFTS)
        iy, ix = axis(row, h, dy), axis(col, w, dx)
        out.append(((iy + 0.5) * scale - 0.5, (ix + 0.5) * scale - 0.5))
    return np.asarray(out, dtype=np.float64)
