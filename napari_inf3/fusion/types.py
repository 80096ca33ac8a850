"""What crosses into and out of the fusion engine: frozen dataclasses, no torch, no Qt.

- :class:`SimulatedPair` and :class:`RealPair`: the two kinds of input a fusion run takes
  (:func:`napari_inf3.fusion.pipeline.iter_fusion_run`): an LR-HSI / HR-MSI pair simulated from a ground
  truth as the paper does, or a measured pair. The CLI, the Fusion dock and the notebook each build one.
- :class:`FusionResult`: what :func:`napari_inf3.fuse` returns, whatever was asked of it.

Arrays are ``(bands, rows, cols)`` float32 unless said otherwise; wavelengths in nm.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data.cube import Cube, CubeError

__all__ = ["SimulatedPair", "RealPair", "FusionResult", "PairInput"]


def asks_estimate(choice) -> bool:
    """Whether a camera or response choice (a name, a path, an array, a fit) is ``'estimate'`` (fit it from
    the pair)."""
    return isinstance(choice, str) and choice == "estimate"


def _wavelengths(wl) -> np.ndarray | None:
    return None if wl is None else np.asarray(wl, dtype=float)


@dataclass(frozen=True)
class SimulatedPair:
    """Simulate the pair from ``gt`` (a Cube or an ``(S, H, W)`` array, values in [0, 1]) as the paper does:
    Gaussian blur, keep LR pixel ``offset`` of each ``scale`` × ``scale`` block (default ``scale // 2``), and
    the HR-MSI through the response ``srf`` (a packaged name, a CSV path or an ``(s, S)`` array).
    ``crop`` trims the GT to a multiple of ``scale``. ``wavelengths`` (nm) default to the Cube's."""

    gt: Cube | np.ndarray
    scale: int = 4
    srf: Any = "nikon_d700"
    crop: bool = True
    offset: int | None = None
    wavelengths: np.ndarray | None = None

    def __post_init__(self) -> None:
        if int(self.scale) != self.scale or self.scale < 1:
            raise CubeError(f"the scale must be a whole number ≥ 1, got {self.scale!r}")
        wl = self.wavelengths if self.wavelengths is not None else getattr(self.gt, "wavelengths", None)
        object.__setattr__(self, "wavelengths", _wavelengths(wl))

    @property
    def source(self) -> str | None:
        """The file the ground truth was read from, when known."""
        return getattr(self.gt, "source", None)


@dataclass(frozen=True)
class RealPair:
    """A measured LR-HSI ``(S, h, w)`` and HR-MSI ``(s, H, W)`` with ``H / h = W / w``.

    How the HR-MSI is read (at most one of ``camera`` and ``pair_srf``):

    - ``camera``: the HR-MSI is a photograph's stored values. ``'estimate'`` fits its camera from the pair
      (:func:`napari_inf3.estimate_camera`; with ``align`` its shift too), or give a
      :class:`~napari_inf3.camera.CameraFit` or the path of a saved one.
    - ``pair_srf``: the HR-MSI is linear; its response for the projection: ``'estimate'`` (fitted from the
      pair), a packaged name (resampled to ``wavelengths``), a CSV path or an ``(s, S)`` array. ``None``
      with no camera: each model's own for a 31-band, 3-channel pair (the Nikon D700's), else estimated
      from the pair (the run's notes say so).
    - ``align``: estimate the HR-MSI's shift against the LR-HSI and move it back.
    - ``valid``: ``(H, W)`` bool, the HR pixels with data in both images (a georeferenced pair's
      :attr:`~napari_inf3.data.geo.AlignedPair.valid`); the rest is left out of the pair-only scores.
    - ``msi_storage``: how a photo HR-MSI was stored, when it was a JPEG
      (:class:`~napari_inf3.camera.jpeg.JpegStorage`; by default what the photo reader put in the HR-MSI
      Cube's ``meta['jpeg']``): an estimated camera carries it, and fusion knows it.
    - How an estimate is made: ``curve``, the tone curve an estimated camera fits (``'auto'``: chosen on
      held-out pixels; :data:`~napari_inf3.camera.curves.CURVE_KINDS`); ``estimate_blur``: also search the blur σ
      relating the two grids; ``offset``: which pixel of each r × r block the LR pixel sits over (default r // 2).
    """

    lr_hsi: np.ndarray
    hr_msi: np.ndarray
    wavelengths: np.ndarray | None = None
    camera: Any = None
    pair_srf: Any = None
    align: bool = False
    msi_storage: Any = None
    valid: Any = None
    curve: str = "auto"
    estimate_blur: bool = False
    offset: int | None = None

    def __post_init__(self) -> None:
        lr = np.asarray(getattr(self.lr_hsi, "data", self.lr_hsi), np.float32)
        msi = np.asarray(getattr(self.hr_msi, "data", self.hr_msi), np.float32)
        if lr.ndim != 3 or msi.ndim != 3:
            raise CubeError(f"LR-HSI and HR-MSI must be (bands, rows, cols); got {lr.shape} and {msi.shape}")
        if self.camera is not None and self.pair_srf is not None:
            raise CubeError("a camera carries its own response: give camera or pair_srf, not both")
        from ..camera.curves import check_curve_choice

        check_curve_choice(self.curve)
        if self.valid is not None and np.shape(self.valid) != msi.shape[1:]:
            raise CubeError(f"valid is {np.shape(self.valid)}; it marks the HR-MSI's {msi.shape[1:]} pixels")
        if isinstance(self.camera, str) and self.camera != "estimate" and not Path(self.camera).exists():
            raise CubeError("no such file (a camera is 'estimate', a CameraFit or a saved camera's JSON file)",
                            self.camera)
        wl = self.wavelengths if self.wavelengths is not None else getattr(self.lr_hsi, "wavelengths", None)
        meta = getattr(self.hr_msi, "meta", None)
        if self.msi_storage is None and isinstance(meta, dict) and meta.get("jpeg"):
            from ..camera.jpeg import JpegStorage

            object.__setattr__(self, "msi_storage", JpegStorage.from_dict(meta["jpeg"]))
        object.__setattr__(self, "lr_hsi", lr)
        object.__setattr__(self, "hr_msi", msi)
        object.__setattr__(self, "wavelengths", _wavelengths(wl))

    @property
    def scale(self) -> float:
        """HR-MSI rows per LR-HSI row."""
        return self.hr_msi.shape[1] / self.lr_hsi.shape[1]

    @property
    def estimates(self) -> bool:
        """Whether the run fits something from the pair (camera, response or shift) before fusing."""
        return self.align or asks_estimate(self.camera) or asks_estimate(self.pair_srf)


#: Either input a fusion run takes.
PairInput = SimulatedPair | RealPair


@dataclass(frozen=True)
class FusionResult:
    """What :func:`napari_inf3.fuse` returns.

    ``cube``: the fused HR-HSI ``(S, H, W)`` float32 (the ``out=`` array when one was given).
    ``weights``: INF³'s neighbour weights ``(4, H, W)`` (NW, NE, SW, SE, summing to 1) when asked for
    (``weights=True``), else ``None``. ``expected_error``: an ``(H, W)`` map of the expected mean |error|
    over bands (same units as the cube) where the model can say (an ensemble with ``uncertainty=True``),
    else ``None``; ``spread``: the ensemble members' per-pixel disagreement it comes from (std over members,
    mean over bands); ``members``: each member's cube by name, when kept. ``seconds``: wall time of the
    fusion; ``device``: where it ran; ``notes``: warnings raised on the way (also issued as warnings);
    ``model``: what fused it (a pretrained name, a checkpoint's stem, or the model's ``source``).
    ``wavelengths``: the cube's band centres in nm, the LR-HSI's when it was a Cube that knew them, else ``None``;
    :meth:`as_cube` gives the fused cube as a :class:`~napari_inf3.Cube` with them (``write_cube`` keeps them).

    ``np.asarray(result)`` is the cube, so array code written for the fused cube keeps working.
    """

    cube: np.ndarray
    weights: np.ndarray | None = None
    expected_error: np.ndarray | None = None
    spread: np.ndarray | None = None
    members: Mapping[str, np.ndarray] = field(default_factory=dict)
    seconds: float = 0.0
    device: str = "cpu"
    notes: tuple[str, ...] = ()
    model: str = ""
    wavelengths: np.ndarray | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "wavelengths", _wavelengths(self.wavelengths))

    def __repr__(self) -> str:  # shapes, not the arrays
        arrays = {"weights": self.weights, "expected_error": self.expected_error, "spread": self.spread}
        extra = "".join(f", {k} {tuple(v.shape)}" for k, v in arrays.items() if v is not None)
        members = f", members {', '.join(self.members)}" if self.members else ""
        notes = f", {len(self.notes)} note{'s' * (len(self.notes) != 1)}" if self.notes else ""
        return (f"FusionResult(cube {tuple(self.cube.shape)} {self.cube.dtype}, model {self.model!r}, "
                f"{self.seconds:.2f} s on {self.device}{extra}{members}{notes})")

    def as_cube(self) -> Cube:
        """The fused cube as a :class:`~napari_inf3.Cube` with its wavelengths (nm) and the model in its meta."""
        return Cube(self.cube, self.wavelengths, None, {"model": self.model} if self.model else {})

    def __array__(self, dtype=None, copy=None):
        return self.cube if dtype is None else self.cube.astype(dtype)
