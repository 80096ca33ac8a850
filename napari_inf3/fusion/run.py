"""A fusion run's record: its inputs, each method's fused cube, time, device, notes, and the scores and pictures
made from them (:class:`FusionRun`). Made and filled by :mod:`.pipeline`; read by the CLI, the docks, the demo
and notebooks. Arrays are ``(bands, rows, cols)`` float32."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..data.cube import CubeError

__all__ = ["FusionRun", "ground_truth"]


@dataclass
class FusionRun:
    """Inputs and outputs of one run. Arrays are ``(bands, rows, cols)`` float32."""

    lr_hsi: np.ndarray
    hr_msi: np.ndarray
    scale: float
    gt: np.ndarray | None = None
    wavelengths: np.ndarray | None = None
    fused: dict[str, np.ndarray] = field(default_factory=dict)  # 'bicubic' first
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # only with gt
    seconds: dict[str, float] = field(default_factory=dict)
    devices: dict[str, str] = field(default_factory=dict)
    #: parameters of each network (the projection baseline and bicubic have none)
    params: dict[str, int] = field(default_factory=dict)
    #: which pixel of each r × r block the simulated LR-HSI kept (None for a real pair)
    offset: int | None = None
    #: INF³'s neighbour weights ``(4, H, W)`` (NW, NE, SW, SE) per network, when the run asked for them
    weights: dict[str, np.ndarray] = field(default_factory=dict)
    #: a real pair: the ``(s, S)`` response the projection used, the fit it came from
    #: (:class:`~napari_inf3.camera.srf_fit.SrfFit`, with ``pair_srf='estimate'``) and the HR-MSI shift corrected
    srf: np.ndarray | None = None
    srf_fit: Any = None
    shift: tuple[float, float] | None = None
    #: warnings raised while fusing (e.g. a checkpoint trained with another spectral response)
    notes: list[str] = field(default_factory=list)
    #: a real pair: the HR-MSI's camera (:class:`~napari_inf3.camera.CameraFit`; a linear one from the
    #: response in use when none was estimated), the pair-only scores of every result (bicubic included;
    #: :func:`~napari_inf3.camera.pair_consistency`) and the quality gate's findings
    camera: Any = None
    pair_scores: dict[str, dict[str, float]] = field(default_factory=dict)
    findings: list[Any] = field(default_factory=list)
    #: the file the scene was read from, when the run knows it (demo.compute sets it; its tables name the scene)
    source: str | None = None
    #: a real pair whose HR-MSI is a camera's stored values (fused through ``camera``, :func:`fuse_into`)
    camera_pair: bool = False
    #: a georeferenced real pair: ``(H, W)`` bool, the pixels with data (:attr:`RealPair.valid`)
    valid: np.ndarray | None = None
    #: per ensemble (:mod:`napari_inf3.models.ensemble`): its members' names in ``fused``, their disagreement
    #: ``(H, W)`` (std over members, mean over bands) and the expected mean |error| over bands ``(H, W)``
    members: dict[str, list[str]] = field(default_factory=dict)
    spread: dict[str, np.ndarray] = field(default_factory=dict)
    expected_error: dict[str, np.ndarray] = field(default_factory=dict)
    #: what each entry of ``fused`` was asked for as (a pretrained name or path), so a run fuses a model once
    specs: dict[str, str] = field(default_factory=dict)
    #: models fitted to this run's pair (``'pair'``, :func:`napari_inf3.fit_pair`), by name: to save or inspect
    fitted: dict[str, Any] = field(default_factory=dict)
    #: the response a simulated pair's HR-MSI was made with (a fit to the pair may use it, as a user would)
    sim_srf: Any = None
    #: with a GT: each result's error and SAM maps, kept from the scoring (:meth:`error_maps`, :meth:`sam_maps`)
    _maps: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict, repr=False)
    _truth: Any = field(default=None, repr=False)

    def weight_maps(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """``({name: (H, W) weight entropy, nats}, {name: (H, W) winning neighbour 0–3})``; one scale, 0 … ln 4."""
        from ..viz.compare import weight_entropy, winning_neighbour

        if not self.weights:
            raise CubeError("this run kept no neighbour weights; fuse with weights=True (the 'weight maps' option)")
        return ({n: weight_entropy(w) for n, w in self.weights.items()},
                {n: winning_neighbour(w) for n, w in self.weights.items()})

    def scheme_differences(self) -> tuple[dict[str, np.ndarray], float, dict[str, np.ndarray], float]:
        """Pairwise maps between the networks' cubes: ``(SAM maps, shared limit, |a − b| maps, shared limit)``,
        keyed ``'a vs b'``; SAM in degrees. Needs two or more networks."""
        from ..viz.compare import pairwise_maps
        from ..viz.composites import shared_error_limit

        nets = {n: c for n, c in self.fused.items() if n in self.weights}
        if len(nets) < 2:
            raise CubeError("comparing schemes needs two or more networks in the run")
        maps = pairwise_maps(nets)
        sam = {f"{a} vs {b}": m["sam"] for (a, b), m in maps.items()}
        mad = {f"{a} vs {b}": m["mad"] for (a, b), m in maps.items()}
        return sam, shared_error_limit(list(sam.values())), mad, shared_error_limit(list(mad.values()))

    def disagreements(self, k: int = 10, **kw):
        """Top-``k`` pixels where the networks disagree, and the criterion
        (:func:`napari_inf3.viz.compare.top_disagreements`)."""
        from ..viz.compare import top_disagreements

        return top_disagreements({n: c for n, c in self.fused.items() if n in self.weights}, k, **kw)

    @property
    def reference(self) -> np.ndarray:
        """What composites are stretched by: the GT when known, else bicubic."""
        return self.gt if self.gt is not None else self.fused["bicubic"]

    def composites(self, bands: Sequence[int] | None = None, wavelengths_nm: Sequence[float] | None = None,
                   srf=None, *, names: Sequence[str] | None = None, limits=None) -> dict[str, np.ndarray]:
        """``{name: (H, W, 3)}`` for GT (if any) and every fused cube (or those in ``names``: the Fusion dock
        shows each as its model finishes), one shared contrast: ``limits`` as :meth:`composite_limits` gives
        them for the same options (made here when not given)."""
        from ..viz.composites import composite

        opts: dict[str, Any] = {"wavelengths_nm": wavelengths_nm, "cube_wavelengths": self.wavelengths, "srf": srf}
        if limits is None:
            limits = self.composite_limits(bands, wavelengths_nm, srf)
        cubes = ({"GT": self.gt} if self.gt is not None else {}) | self.fused
        return {name: composite(c, bands, limits=limits, **opts) for name, c in cubes.items()
                if names is None or name in names}

    def composite_limits(self, bands: Sequence[int] | None = None, wavelengths_nm: Sequence[float] | None = None,
                         srf=None):
        """The composites' shared stretch (from the reference: GT, else bicubic), for :meth:`composites`."""
        from ..viz.composites import composite_limits

        return composite_limits(self.reference, bands, wavelengths_nm=wavelengths_nm,
                                cube_wavelengths=self.wavelengths, srf=srf)

    def error_maps(self) -> tuple[dict[str, np.ndarray], float]:
        """``({name: (H, W) mean |GT − fused|}, shared upper limit)``; needs the GT."""
        from ..viz.composites import shared_error_limit

        self._need_gt("error maps")
        maps = {n: self._error_and_sam(n)[0] for n in self.fused}
        return maps, shared_error_limit(list(maps.values()))

    def sam_maps(self) -> tuple[dict[str, np.ndarray], float]:
        """``({name: (H, W) spectral angle in degrees}, shared upper limit)``; needs the GT."""
        from ..viz.composites import shared_error_limit

        self._need_gt("SAM maps")
        maps = {n: self._error_and_sam(n)[1] for n in self.fused}
        return maps, shared_error_limit(list(maps.values()))

    def _error_and_sam(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``name``'s error and SAM maps, from the scoring when it ran (else computed and kept)."""
        if name not in self._maps:  # one pass of the scoring's sums gives both
            _, err, sam = ground_truth(self).evaluate_with_maps(self.fused[name], ssim=False)
            self._maps[name] = (err, sam)
        return self._maps[name]

    def _need_gt(self, what: str) -> None:
        if self.gt is None:
            raise CubeError(f"{what} need a ground truth; this run fused a real LR-HSI/HR-MSI pair")


def ground_truth(run: FusionRun):
    """The run's :class:`~napari_inf3.evaluation.metrics.GroundTruth` (its GT-only sums kept for the run's later
    scores)."""
    from ..evaluation.metrics import GroundTruth

    if getattr(run, "_truth", None) is None:
        run._truth = GroundTruth(run.gt, run.scale)
    return run._truth
