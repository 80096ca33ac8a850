"""A minimal camera RAW file for tests and the fuzzer: a DNG (TIFF with the DNG tags LibRaw needs) holding a
Bayer mosaic, with a black and a white level, written with tifffile. Made here, so no camera's file is shipped.
LibRaw refuses mosaics under about 22 × 22 pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["write_dng"]

#: CFAPattern codes (0 R, 1 G, 2 B) per 2 × 2 layout name.
PATTERNS = {"RGGB": (0, 1, 1, 2), "BGGR": (2, 1, 1, 0), "GRBG": (1, 0, 2, 1), "GBRG": (1, 2, 0, 1)}


def write_dng(path: str | Path, linear: np.ndarray, *, black: int = 512, white: int = 15000,
              pattern: str = "RGGB") -> Path:
    """``linear`` ``(3, H, W)`` light in [0, 1] (H, W even) sampled on a ``pattern`` Bayer mosaic and stored as
    uint16 ``black + linear · (white − black)``, the way a sensor's ADC stores it; returns the path."""
    import tifffile

    lin = np.clip(np.asarray(linear, np.float64), 0.0, 1.0)
    _, h, w = lin.shape
    codes = PATTERNS[pattern]
    mosaic = np.empty((h, w), np.float64)
    for k, (dy, dx) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):
        mosaic[dy::2, dx::2] = lin[codes[k], dy::2, dx::2]
    raw = np.round(black + mosaic * (white - black)).astype(np.uint16)
    identity = (1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1, 0, 1, 1, 1)
    tags = [
        (50706, "B", 4, (1, 4, 0, 0), True),  # DNGVersion
        (50707, "B", 4, (1, 1, 0, 0), True),  # DNGBackwardVersion
        (50708, "s", 0, "napari-inf3 test camera", True),  # UniqueCameraModel
        (33421, "H", 2, (2, 2), True),  # CFARepeatPatternDim
        (33422, "B", 4, codes, True),  # CFAPattern
        (50710, "B", 3, (0, 1, 2), True),  # CFAPlaneColor
        (50711, "H", 1, 1, True),  # CFALayout: rectangular
        (50714, "H", 1, int(black), True),  # BlackLevel
        (50717, "H", 1, int(white), True),  # WhiteLevel
        (50721, "2i", 9, identity, True),  # ColorMatrix1
        (50778, "H", 1, 21, True),  # CalibrationIlluminant1: D65
        (50728, "2I", 3, (1, 1, 1, 1, 1, 1), True),  # AsShotNeutral
    ]
    path = Path(path)
    tifffile.imwrite(path, raw, photometric=32803, extratags=tags, subfiletype=0)
    return path
