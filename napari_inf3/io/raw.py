"""Camera RAW files (DNG, NEF, CR2, CR3, ARW, ORF, RW2, RAF, PEF, SRW, …) read linearly through rawpy (LibRaw).

What the sensor measured, and nothing a camera's rendering adds: the mosaic as stored, the black level and
the white (saturation) level from the file, ``(raw − black) / (white − black)`` clipped to [0, 1]; no white
balance, no colour matrix, no tone curve, no JPEG. The mosaic is filled in linearly: each channel by
normalised convolution of its own sites with a 3 × 3 (5 × 5 where a pattern leaves gaps, e.g. X-Trans)
tent, so a measured value is kept where it was measured and the result stays linear in the light. The
image is turned as the file's orientation says. ``estimate_camera`` then finds a linear tone curve by
itself (tests/io/test_raw_heic.py).

``rawpy`` is an optional extra: ``pip install 'napari-inf3[raw]'``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data.cube import Cube, CubeError

NAME = "raw"
EXTENSIONS = (".dng", ".nef", ".nrw", ".cr2", ".cr3", ".crw", ".arw", ".srf", ".sr2", ".orf", ".rw2", ".raf", ".pef",
              ".srw", ".x3f", ".3fr", ".iiq", ".erf", ".mef", ".mos", ".kdc", ".dcr", ".rwl")


def _rawpy(path: Path):
    try:
        import rawpy
    except ImportError:
        raise CubeError("reading camera RAW files needs rawpy (LibRaw): pip install 'napari-inf3[raw]'",
                        path) from None
    return rawpy


def _fill(values: np.ndarray, sites: np.ndarray) -> np.ndarray:
    """One channel's measured ``values`` at ``sites`` (bool) filled in by normalised convolution with a tent;
    a wider one where a pattern leaves the first without a site (X-Trans), zero where none reaches."""
    from scipy.ndimage import convolve

    out = np.where(sites, values, 0.0)
    todo = ~sites
    for size in (3, 5, 7):
        tent = 1.0 - np.abs(np.linspace(-1, 1, size + 2)[1:-1])
        k = np.outer(tent, tent)
        num = convolve(np.where(sites, values, 0.0), k, mode="mirror")
        den = convolve(sites.astype(np.float64), k, mode="mirror")
        reach = todo & (den > 1e-9)
        out[reach] = num[reach] / den[reach]
        todo &= ~reach
        if not todo.any():
            break
    return out


def read(path: str | Path) -> Cube:
    """``(3, H, W)`` float32 in [0, 1], linear in the light (``(1, H, W)`` for a monochrome sensor)."""
    path = Path(path)
    rawpy = _rawpy(path)
    try:
        with rawpy.imread(str(path)) as raw:
            mosaic = np.asarray(raw.raw_image_visible, np.float64)
            colours = np.asarray(raw.raw_colors_visible)
            desc = raw.color_desc.decode("ascii", "replace")
            black = np.asarray(raw.black_level_per_channel, np.float64)
            white = float(raw.white_level)
            flip = int(raw.sizes.flip)
            ncolors = int(raw.num_colors)
    except NotImplementedError as exc:  # rawpy: a mosaic layout it cannot describe per pixel
        raise CubeError(f"an unsupported RAW mosaic layout ({exc})", path) from None
    except (rawpy.LibRawError, OSError, ValueError, RuntimeError) as exc:
        raise CubeError(f"not a readable camera RAW file: {exc}", path) from None
    if mosaic.ndim != 2 or mosaic.size == 0:
        raise CubeError(f"the RAW image is {mosaic.shape}, not one mosaic of pixels (a linear DNG?)", path)
    level = black[np.clip(colours, 0, len(black) - 1)] if black.size else np.zeros_like(mosaic)
    span = np.maximum(white - level, 1.0)
    lin = np.clip((mosaic - level) / span, 0.0, 1.0)
    names = [desc[c] if c < len(desc) else "?" for c in range(max(ncolors, int(colours.max()) + 1))]
    channels = [ch for ch in "RGB" if ch in names] if set("RGB") <= set(names) else sorted(set(names))
    planes = []
    for ch in channels:
        sites = np.isin(colours, [i for i, n in enumerate(names) if n == ch])
        planes.append(_fill(lin, sites) if not sites.all() else lin)
    data = np.stack(planes).astype(np.float32)
    turns = {3: 2, 5: 1, 6: 3}.get(flip, 0)  # LibRaw's flip: 3 = 180°, 5 = 90° counter-clockwise, 6 = clockwise
    if turns:
        data = np.ascontiguousarray(np.rot90(data, turns, axes=(1, 2)))
    return Cube(data, None, str(path), {"format": NAME, "photo": True, "linear": True, "channels": channels,
                                        "black_level": black.tolist(), "white_level": white})
