"""Photographs as an HR-MSI: 8- or 16-bit PNG and JPEG files (RGB, RGBA or grey) via pillow.

A photograph is one ``(channels, H, W)`` "cube" of stored values scaled to [0, 1] (÷ 255 or ÷ 65535),
*not* linear light: pass it to :func:`napari_inf3.estimate_camera`, which finds its tone curve. An alpha
channel is dropped. No wavelengths (a photo's channels are not bands).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..cube import Cube, CubeError

NAME = "photo"
EXTENSIONS = (".png", ".jpg", ".jpeg")


def read(path: str | Path) -> Cube:
    """``(3, H, W)`` (or ``(1, H, W)`` for grey) float32 in [0, 1] from a PNG / JPEG file."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as im:
            mode = im.mode
            if mode in ("I;16", "I;16B", "I;16L", "I"):
                arr, full = np.asarray(im, dtype=np.uint16 if mode != "I" else np.int32)[None], 65535.0
            elif mode in ("L", "LA"):
                arr, full = np.asarray(im.convert("L"))[None], 255.0
            else:
                arr, full = np.moveaxis(np.asarray(im.convert("RGB")), -1, 0), 255.0
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise CubeError(f"not a readable PNG/JPEG image: {exc}", path) from None
    data = np.ascontiguousarray(arr, dtype=np.float32) / np.float32(full)
    if data.size == 0:
        raise CubeError("the image has no pixels", path)
    return Cube(np.clip(data, 0.0, 1.0), None, str(path), {"format": NAME, "mode": mode, "scale_divisor": full,
                                                           "photo": True})
