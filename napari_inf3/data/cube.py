"""The in-memory hyperspectral cube every part of napari-inf3 passes around.

A :class:`Cube` holds ``data`` as a float32 array of shape ``(B, H, W)`` (bands, rows,
columns), usually scaled to [0, 1], the band centre ``wavelengths`` in nanometres (or
``None`` when the file does not say), the ``source`` path it came from and a free
``meta`` dict (file format, scaling applied, chosen variable, ...).

Every reader raises :class:`CubeError` (a :class:`ValueError`) with a message that names
the file and what is wrong with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Cube", "CubeError"]


class CubeError(ValueError):
    """A cube could not be read, written or used; the message names the file and the problem."""

    def __init__(self, message: str, path: str | Path | None = None):
        self.path = None if path is None else str(path)
        super().__init__(f"{self.path}: {message}" if self.path else message)


@dataclass
class Cube:
    """A hyperspectral cube.

    Attributes
    ----------
    data : np.ndarray
        ``(B, H, W)`` array (bands, rows, columns); float32 for everything a reader returns,
        though a memory-mapped ENVI cube may keep its file dtype until it is sliced.
    wavelengths : np.ndarray or None
        ``(B,)`` band centres in nm, or ``None`` when unknown.
    source : str or None
        Path the cube was read from.
    meta : dict
        Free-form facts about the origin (format, scaling, variable name, ...); ``meta['nodata_mask']``, when
        set, is an ``(H, W)`` bool array of pixels without data (their values are 0).
    geo : napari_inf3.data.geo.GeoRef or None
        Where the cube is on Earth (CRS, affine transform, nodata), when its file says.
    """

    data: np.ndarray
    wavelengths: np.ndarray | None = None
    source: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    geo: Any = None

    def __post_init__(self) -> None:
        if self.data.ndim != 3:
            raise CubeError(
                f"a cube needs 3 axes (bands, rows, cols); got shape {tuple(self.data.shape)}",
                self.source,
            )
        if self.wavelengths is not None:
            wl = np.asarray(self.wavelengths, dtype=np.float64).reshape(-1)
            if wl.size != self.data.shape[0]:
                raise CubeError(
                    f"{wl.size} wavelengths given for {self.data.shape[0]} bands", self.source
                )
            self.wavelengths = wl

    @property
    def bands(self) -> int:
        return int(self.data.shape[0])

    @property
    def shape(self) -> tuple[int, int, int]:
        b, h, w = self.data.shape  # three axes: __post_init__ checks
        return int(b), int(h), int(w)

    def band_labels(self) -> list[str]:
        """Human labels per band: ``'550 nm'`` when wavelengths are known, else ``'band 7'``."""
        if self.wavelengths is None:
            return [f"band {i + 1}" for i in range(self.bands)]
        return [f"{w:g} nm" for w in self.wavelengths]

    def __repr__(self) -> str:  # keep the array out of the repr
        wl = (
            "None"
            if self.wavelengths is None
            else f"{self.wavelengths[0]:g}..{self.wavelengths[-1]:g} nm"
        )
        return f"Cube(shape={self.shape}, dtype={self.data.dtype}, wavelengths={wl}, source={self.source!r})"
