"""The three weighting schemes as one model: fuse with each (area as in LIIF, net as in JIIF, cosine as in
INF³), average, and say from their disagreement where the result is likely wrong.

:class:`Ensemble` is what ``pretrained("ensemble")`` (``preset="paper"`` too) and the names ``'ensemble'`` /
``'paper:ensemble'`` give; :func:`napari_inf3.fuse` averages its members' cubes and, with
``uncertainty=True``, maps their disagreement to an expected-|error| map through the shipped calibration
(:mod:`napari_inf3.models.uncertainty`). :func:`combine` does the averaging and mapping for cubes already fused, so
a run that has the members' results does not fuse them again.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from ..data.cube import CubeError
from .uncertainty import ErrorCalibration, cues_from, mean_and_spread

__all__ = ["Ensemble", "combine", "ENSEMBLE"]

#: The pretrained name of the ensemble (``'paper:ensemble'`` for the paper preset).
ENSEMBLE = "ensemble"


class Ensemble(torch.nn.Module):
    """Member INFNs fused alike and averaged. ``members``: name → INFN (same bands, HR-MSI channels and
    response); ``calibration``: the :class:`~napari_inf3.models.uncertainty.ErrorCalibration` for the expected-|error|
    map (``None``: the ensemble averages but cannot say how wrong it is)."""

    def __init__(self, members: Mapping[str, torch.nn.Module], calibration: ErrorCalibration | None = None,
                 source: str = ENSEMBLE):
        super().__init__()
        if len(members) < 2:
            raise CubeError(f"an ensemble needs two or more members, got {len(members)}")
        shapes = {(m.bands, m.msi_bands) for m in members.values()}
        if len(shapes) != 1:
            raise CubeError(f"the ensemble's members take different inputs (bands, HR-MSI channels): {sorted(shapes)}")
        self.members = torch.nn.ModuleDict(dict(members))
        self.calibration = calibration
        self.source = source

    @property
    def bands(self) -> int:
        """Bands of the LR-HSI (and the fused cube) the members take."""
        return int(getattr(self.first, "bands"))  # noqa: B009 - a Module attribute, not a Tensor

    @property
    def msi_bands(self) -> int:
        """Channels of the HR-MSI the members take."""
        return int(getattr(self.first, "msi_bands"))  # noqa: B009

    @property
    def first(self) -> torch.nn.Module:
        """The first member (the ensemble's inputs and response are its)."""
        return next(iter(self.members.values()))

    def num_parameters(self) -> int:
        """All members' parameters together."""
        return sum(int(p.numel()) for p in self.parameters())

    def forward(self, *args, **kwargs):  # pragma: no cover - fused through napari_inf3.fuse, member by member
        raise TypeError("an Ensemble is fused through napari_inf3.fuse (each member, then averaged)")


def combine(members: Mapping[str, np.ndarray], calibration: ErrorCalibration | None = None, *,
            uncertainty: bool = False, projection: np.ndarray | None = None, msi: np.ndarray | None = None,
            out: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """``(mean cube (S, H, W), spread (H, W), expected |error| (H, W) or None)`` from the members' cubes.

    ``uncertainty``: map the cues through ``calibration`` (an error without one); it needs ``projection``, the
    SRF projection of bicubic ``(S, H, W)``, and ``msi``, the linear HR-MSI ``(s, H, W)``. ``out``: an
    ``(S, H, W)`` array to hold the mean.
    """
    mean, spread = mean_and_spread(members.values())
    if out is not None:
        if tuple(out.shape) != mean.shape:
            raise CubeError(f"the output array is {tuple(out.shape)}, the fusion is {mean.shape}")
        out[:] = mean
        mean = out
    if not uncertainty:
        return mean, spread, None
    if calibration is None:
        raise CubeError("this ensemble has no error calibration, so it cannot give an expected-|error| map; "
                        "use pretrained('ensemble'), which ships one")
    if projection is None or msi is None:
        raise ValueError("an expected-|error| map needs the pair's SRF projection and linear HR-MSI (its cues)")
    return mean, spread, calibration.predict(cues_from(mean, spread, projection, msi))
