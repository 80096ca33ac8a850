"""Cubes too big to load: a ``(B, H, W)`` float32 view of a file's memory map, scaled on access.

:class:`ScaledArray` reads nothing until it is sliced; each slice comes back as a float32
numpy array divided by the file's scale (65535 for uint16, the ENVI reflectance scale factor,
...). :func:`napari_inf3.fuse` fuses such cubes tile by tile and can write its output into a
memory-mapped file (``out=``), and the napari reader shows them as lazy dask layers, so a cube
larger than RAM can be viewed and fused.
"""

from __future__ import annotations

import numpy as np


class ScaledArray:
    """Lazy ``(B, H, W)`` float32 array over ``raw`` (a memory map of any numeric dtype).

    Parameters
    ----------
    raw : array-like ``(B, H, W)`` (``numpy.memmap``, an ENVI memmap view, ...).
    scale : divisor applied to every value read (``None`` or 1: none).
    source : the file, for messages.
    """

    dtype = np.dtype(np.float32)
    ndim = 3

    def __init__(self, raw, scale: float | None = None, source: str | None = None):
        if raw.ndim != 3:
            raise ValueError(f"ScaledArray needs (B, H, W) data, got shape {raw.shape}")
        self.raw = raw
        self.scale = None if scale in (None, 1, 1.0) else float(scale)
        self.source = source

    @property
    def shape(self) -> tuple[int, int, int]:
        b, h, w = self.raw.shape  # three axes: __init__ checks
        return int(b), int(h), int(w)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def nbytes(self) -> int:
        return 4 * self.size

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        out = np.array(self.raw[key], dtype=np.float32)
        if self.scale is not None:
            out /= np.float32(self.scale)
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        out = self[:]
        return out if dtype is None else out.astype(dtype, copy=False)

    def band_means(self) -> np.ndarray:
        """``(B,)`` mean of each band, read one band at a time (float64)."""
        return np.array([self[b].mean(dtype=np.float64) for b in range(self.shape[0])])

    def __repr__(self) -> str:
        return (f"ScaledArray(shape={self.shape}, raw dtype={self.raw.dtype}, scale={self.scale}, "
                f"source={self.source!r})")


def is_lazy(data) -> bool:
    """True for array-likes that are not in memory (read on slicing)."""
    return not isinstance(data, np.ndarray) or isinstance(data, np.memmap)
