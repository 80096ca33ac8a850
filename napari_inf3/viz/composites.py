"""Pictures of cubes: pseudo-colour composites and colour-mapped error maps (no Qt, no torch).

Used by the demo, the CLI and the napari docks, so every picture of a cube is made one way.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..data.cube import CubeError

#: The paper's Fig. 5 pseudo-colour: bands 31, 20, 10 (1-based) as R, G, B.
PAPER_BANDS = (31, 20, 10)
#: Blue (low) to red (high), as the paper's residual maps.
ERROR_CMAP = "jet"
#: Weight entropy (0 … ln 4 nats) is drawn with this colormap on one scale for every scheme.
ENTROPY_CMAP = "viridis"
#: Fixed colours of the winning neighbour, in the weights' order NW, NE, SW, SE (RGB, 0–255).
NEIGHBOUR_COLORS = ((228, 26, 28), (55, 126, 184), (77, 175, 74), (255, 200, 0))
#: Their names, for legends written in words (layer names).
NEIGHBOUR_COLOR_NAMES = ("red", "blue", "green", "yellow")


def colorize_winner(winner: np.ndarray) -> np.ndarray:
    """``(H, W)`` neighbour indices 0–3 → ``(H, W, 3)`` uint8 in :data:`NEIGHBOUR_COLORS`."""
    return np.asarray(NEIGHBOUR_COLORS, np.uint8)[np.asarray(winner, np.intp)]


def band_indices(
    n_bands: int, bands: Sequence[int] | None = None, wavelengths_nm: Sequence[float] | None = None,
    cube_wavelengths: Sequence[float] | None = None,
) -> tuple[int, int, int]:
    """0-based R, G, B band indices from 1-based ``bands`` or from wavelengths in nm."""
    if wavelengths_nm is not None:
        if cube_wavelengths is None:
            raise CubeError("the cube has no wavelengths; choose bands by number instead")
        wl = np.asarray(cube_wavelengths, float)
        # ignored: one index per wavelength given, and callers give three (R, G, B)
        return tuple(int(np.argmin(np.abs(wl - w))) for w in wavelengths_nm)  # type: ignore[return-value]
    bands = PAPER_BANDS if bands is None else tuple(bands)
    if len(bands) != 3:
        raise CubeError(f"a composite needs 3 bands, got {len(bands)}")
    if n_bands < max(bands):
        # fewer bands than the paper's choice: spread R, G, B over the range instead
        if bands == PAPER_BANDS:
            return (n_bands - 1, (n_bands - 1) * 2 // 3, (n_bands - 1) // 3)
        raise CubeError(f"band {max(bands)} asked for, but the cube has {n_bands} bands")
    return tuple(b - 1 for b in bands)  # type: ignore[return-value]  # three: checked above


def stretch_limits(img: np.ndarray, low: float = 0.5, high: float = 99.5) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel percentile limits of an ``(H, W, 3)`` image."""
    lo = np.percentile(img, low, axis=(0, 1))
    hi = np.percentile(img, high, axis=(0, 1))
    return lo, np.maximum(hi, lo + 1e-6)


def composite(
    cube: np.ndarray,
    bands: Sequence[int] | None = None,
    *,
    wavelengths_nm: Sequence[float] | None = None,
    cube_wavelengths: Sequence[float] | None = None,
    srf: np.ndarray | str | None = None,
    limits: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """``(H, W, 3)`` float32 RGB in [0, 1] from a ``(B, H, W)`` cube.

    Choose R, G, B by 1-based ``bands`` (default 31-20-10 like the paper), by
    ``wavelengths_nm``, or true colour through an SRF (``srf='nikon_d700'`` or a matrix).
    ``limits`` (from :func:`stretch_limits` of a reference, e.g. the GT) makes several
    composites share one contrast so they can be compared; default: this image's own.
    """
    cube = np.asarray(cube, np.float32)
    if srf is not None:
        from ..data.simulation import apply_srf, load_srf

        rgb = np.moveaxis(apply_srf(cube, load_srf(srf, cube.shape[0])), 0, -1)
    else:
        idx = band_indices(cube.shape[0], bands, wavelengths_nm, cube_wavelengths)
        rgb = np.stack([cube[i] for i in idx], axis=-1)
    lo, hi = stretch_limits(rgb) if limits is None else limits
    return np.clip((rgb - lo) / (hi - lo), 0, 1).astype(np.float32)


def composite_limits(cube: np.ndarray, bands=None, *, wavelengths_nm=None, cube_wavelengths=None, srf=None):
    """The stretch limits :func:`composite` would use for ``cube`` (share them across schemes)."""
    raw = composite(cube, bands, wavelengths_nm=wavelengths_nm, cube_wavelengths=cube_wavelengths, srf=srf,
                    limits=(np.zeros(3, np.float32), np.ones(3, np.float32)))
    return stretch_limits(raw)


def colorize(values: np.ndarray, vmax: float, cmap: str = ERROR_CMAP, vmin: float = 0.0) -> np.ndarray:
    """``(H, W)`` values → ``(H, W, 3)`` uint8 through a matplotlib colormap, fixed limits."""
    from matplotlib import colormaps

    norm = np.clip((np.asarray(values, np.float64) - vmin) / max(vmax - vmin, 1e-12), 0, 1)
    return (colormaps[cmap](norm)[..., :3] * 255).round().astype(np.uint8)


def shared_error_limit(maps: Sequence[np.ndarray], percentile: float = 99.0) -> float:
    """One upper limit for several error maps so their colours compare (99th percentile of all)."""
    return float(max(np.percentile(m, percentile) for m in maps)) or 1e-6
