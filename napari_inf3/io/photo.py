"""Photographs as an HR-MSI: 8- or 16-bit PNG, JPEG and HEIC/HEIF files (RGB, RGBA or grey) via pillow
(HEIC through pillow-heif, the optional extra ``heic``; camera RAW files: :mod:`napari_inf3.io.raw`).

A JPEG's storage (quantisation tables, chroma subsampling; :mod:`napari_inf3.camera.jpeg`) is kept in
``meta['jpeg']``: :func:`napari_inf3.estimate_camera` carries it into the camera, and fusion knows it.

A photograph is one ``(channels, H, W)`` "cube" of stored values scaled to [0, 1] (÷ 255 or ÷ 65535),
*not* linear light: pass it to :func:`napari_inf3.estimate_camera`, which finds its tone curve. An alpha
channel is dropped. No wavelengths (a photo's channels are not bands).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data.cube import Cube, CubeError

NAME = "photo"
EXTENSIONS = (".png", ".jpg", ".jpeg", ".heic", ".heif")
HEIF = (".heic", ".heif")


def _open_heif(path: Path) -> None:
    """Teach Pillow HEIC/HEIF (phones store their photos so) through pillow-heif, the optional extra."""
    try:
        import pillow_heif
    except ImportError:
        raise CubeError("reading HEIC/HEIF photos needs pillow-heif: pip install 'napari-inf3[heic]'", path) from None
    pillow_heif.register_heif_opener()


def read(path: str | Path) -> Cube:
    """``(3, H, W)`` (or ``(1, H, W)`` for grey) float32 in [0, 1] from a PNG / JPEG / HEIC file."""
    from PIL import Image, UnidentifiedImageError

    from ..camera.jpeg import read_storage

    path = Path(path)
    if path.suffix.lower() in HEIF:
        _open_heif(path)
    try:
        with Image.open(path) as im:
            storage = read_storage(im)
            mode = im.mode
            if mode in ("I;16", "I;16B", "I;16L", "I"):
                arr, full = np.asarray(im, dtype=np.uint16 if mode != "I" else np.int32)[None], 65535.0
            elif mode in ("L", "LA"):
                arr, full = np.asarray(im.convert("L"))[None], 255.0
            else:
                arr, full = np.moveaxis(np.asarray(im.convert("RGB")), -1, 0), 255.0
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, RuntimeError) as exc:  # RuntimeError: libheif
        raise CubeError(f"not a readable PNG/JPEG/HEIC image: {exc}", path) from None
    data = np.ascontiguousarray(arr, dtype=np.float32) / np.float32(full)
    if data.size == 0:
        raise CubeError("the image has no pixels", path)
    meta = {"format": NAME, "mode": mode, "scale_divisor": full, "photo": True}
    if storage is not None and storage.component_tables and len(storage.component_tables) == data.shape[0]:
        meta["jpeg"] = storage.to_dict()
    return Cube(np.clip(data, 0.0, 1.0), None, str(path), meta)
