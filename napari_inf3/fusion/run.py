"""A fusion run's record: its inputs, and per method one immutable :class:`MethodResult` (cube, time, device,
weights, scores and maps), from which pictures are made (:class:`FusionRun`). Made and filled by
:mod:`.pipeline`; read by the CLI, the docks, the demo and notebooks. Arrays are ``(bands, rows, cols)`` float32."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np

from ..data.cube import CubeError

__all__ = ["FusionRun", "MethodResult", "ground_truth"]


@dataclass(frozen=True)
class MethodResult:
    """One method's result in a :class:`FusionRun`, made once and never changed (a later score is a new one,
    :func:`dataclasses.replace`).

    ``cube``: ``(S, H, W)`` float32. ``seconds``: wall time; ``device``: where a model ran (``None`` for bicubic,
    computed with numpy); ``params``: the network's parameter count (``None`` for bicubic and the projection);
    ``spec``: what it was asked for as (a pretrained name or path; a run fuses each spec once). ``weights``:
    INF³'s neighbour weights ``(4, H, W)`` (NW, NE, SW, SE) when the run kept them. ``scores``: against the GT
    (PSNR dB, SAM degrees, ERGAS, SSIM…), empty without one; ``maps``: the GT's ``(mean |error|, SAM degrees)``
    maps ``(H, W)`` from the scoring; ``pair_scores``: a real pair's pair-only scores
    (:func:`~napari_inf3.camera.pair_consistency`). An ensemble: ``members`` (their names in the run),
    ``spread`` ``(H, W)`` (std over members, mean over bands) and ``expected_error`` ``(H, W)``. ``fitted``: the
    model fitted to this pair (``'pair'``, :func:`napari_inf3.fit_pair`)."""

    cube: np.ndarray = field(repr=False)
    seconds: float = 0.0
    device: str | None = None
    params: int | None = None
    spec: str | None = None
    weights: np.ndarray | None = field(default=None, repr=False)
    scores: Mapping[str, float] = field(default_factory=dict)
    maps: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False)
    pair_scores: Mapping[str, float] = field(default_factory=dict)
    members: tuple[str, ...] = ()
    spread: np.ndarray | None = field(default=None, repr=False)
    expected_error: np.ndarray | None = field(default=None, repr=False)
    fitted: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:  # the scores read-only too: a rescoring makes a new result
        object.__setattr__(self, "scores", MappingProxyType(dict(self.scores)))
        object.__setattr__(self, "pair_scores", MappingProxyType(dict(self.pair_scores)))


def _view(results: Mapping[str, MethodResult], what: str, keep=lambda v: v is not None) -> Mapping[str, Any]:
    """``{name: getattr(result, what)}`` over the results that have it, read-only."""
    return MappingProxyType({n: v for n, r in results.items() if keep(v := getattr(r, what))})


@dataclass
class FusionRun:
    """Inputs and outputs of one run: the pair as prepared (arrays ``(bands, rows, cols)`` float32) and one
    immutable :class:`MethodResult` per method in :attr:`results` (``'bicubic'`` first). The per-method views
    (:attr:`fused`, :attr:`scores`, :attr:`weights` …) are read-only mappings made from those results."""

    lr_hsi: np.ndarray
    hr_msi: np.ndarray
    scale: float
    gt: np.ndarray | None = None
    wavelengths: np.ndarray | None = None
    #: name → :class:`MethodResult`, in the order they were fused (``'bicubic'`` first)
    results: dict[str, MethodResult] = field(default_factory=dict)
    #: which pixel of each r × r block the simulated LR-HSI kept (None for a real pair)
    offset: int | None = None
    #: a real pair: the ``(s, S)`` response the projection used, the fit it came from
    #: (:class:`~napari_inf3.camera.srf_fit.SrfFit`, with ``pair_srf='estimate'``) and the HR-MSI shift corrected
    srf: np.ndarray | None = None
    srf_fit: Any = None
    shift: tuple[float, float] | None = None
    #: the response was the user's (given, or estimated because asked), not the default estimate for a sensor
    #: the shipped networks do not know (:attr:`~napari_inf3.fusion.prepare.PreparedPair.srf_asked`)
    srf_asked: bool = False
    #: warnings raised while fusing (e.g. a checkpoint trained with another spectral response)
    notes: list[str] = field(default_factory=list)
    #: a real pair: the HR-MSI's camera (:class:`~napari_inf3.camera.CameraFit`; a linear one from the
    #: response in use when none was estimated) and the quality gate's findings on the pair-only scores
    camera: Any = None
    findings: list[Any] = field(default_factory=list)
    #: the file the scene was read from, when the run knows it (demo.compute sets it; its tables name the scene)
    source: str | None = None
    #: a real pair whose HR-MSI is a camera's stored values (fused through ``camera``, :func:`fuse_into`)
    camera_pair: bool = False
    #: a georeferenced real pair: ``(H, W)`` bool, the pixels with data (:attr:`RealPair.valid`)
    valid: np.ndarray | None = None
    #: the response a simulated pair's HR-MSI was made with (a fit to the pair may use it, as a user would)
    sim_srf: Any = None
    _truth: Any = field(default=None, repr=False)
    #: models fitted to the pair before their fusion (the Fusion dock fits in its own thread, with progress)
    _fits: dict[str, Any] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        """A summary, not the arrays (a notebook cell ending in ``run`` shows this, or :meth:`_repr_html_`): the
        pair, each method's PSNR (or LR-HSI reproduced, for a real pair) and time, the gate's findings, the notes."""
        shape = " × ".join(str(n) for n in self.lr_hsi.shape), " × ".join(str(n) for n in self.hr_msi.shape)
        pair = (f"simulated ×{self.scale:g} (LR pixel at index {self.offset} of each block)" if self.offset is not None
                else f"real pair ×{self.scale:g}" + (" through its camera" if self.camera_pair else ""))
        lines = [f"FusionRun: {pair}; LR-HSI {shape[0]}, HR-MSI {shape[1]}"
                 + ("; ground truth" if self.gt is not None else "")]
        for name, r in self.results.items():
            score = (f"PSNR {r.scores['psnr']:.2f} dB" if "psnr" in r.scores
                     else f"LR-HSI reproduced {r.pair_scores['lr_psnr']:.2f} dB" if "lr_psnr" in r.pair_scores
                     else "not scored")
            where = "" if r.device is None else f", {r.seconds:.2f} s on {r.device}"
            lines.append(f"  {name}: {score}{where}")
        lines += [f"  {f}" for f in self.findings] + [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """Jupyter's view of a run: the metrics table (:func:`napari_inf3.viz.figures.metrics_table`, with the
        gate's findings for a real pair) and the notes; the text summary before any scores."""
        import html

        if not (self.scores or self.pair_scores):
            return f"<pre>{html.escape(repr(self))}</pre>"
        from ..viz.figures import metrics_table

        notes = "".join(f"<p>note: {html.escape(n)}</p>" for n in self.notes)
        return metrics_table(self)._repr_html_() + notes

    def add(self, name: str, result: MethodResult) -> None:
        """Record ``name``'s result (a new one, or a rescored copy of the one there)."""
        self.results[name] = result

    @property
    def fused(self) -> Mapping[str, np.ndarray]:
        """``{name: (S, H, W) cube}``, bicubic first."""
        return _view(self.results, "cube")

    @property
    def scores(self) -> Mapping[str, Mapping[str, float]]:
        """``{name: scores against the GT}``; empty for a real pair or before scoring."""
        return _view(self.results, "scores", bool)

    @property
    def pair_scores(self) -> Mapping[str, Mapping[str, float]]:
        """A real pair's ``{name: pair-only scores}`` (bicubic included); empty otherwise."""
        return _view(self.results, "pair_scores", bool)

    @property
    def seconds(self) -> Mapping[str, float]:
        return _view(self.results, "seconds")

    @property
    def devices(self) -> Mapping[str, str]:
        """Where each model ran (bicubic, numpy, has none)."""
        return _view(self.results, "device")

    @property
    def params(self) -> Mapping[str, int]:
        """Parameters of each network (bicubic and the projection have none)."""
        return _view(self.results, "params")

    @property
    def weights(self) -> Mapping[str, np.ndarray]:
        """INF³'s neighbour weights ``(4, H, W)`` of each network whose weights the run kept."""
        return _view(self.results, "weights")

    @property
    def members(self) -> Mapping[str, list[str]]:
        """Per ensemble: its members' names in :attr:`fused`."""
        return MappingProxyType({n: list(r.members) for n, r in self.results.items() if r.members})

    @property
    def spread(self) -> Mapping[str, np.ndarray]:
        return _view(self.results, "spread")

    @property
    def expected_error(self) -> Mapping[str, np.ndarray]:
        return _view(self.results, "expected_error")

    @property
    def specs(self) -> Mapping[str, str]:
        return _view(self.results, "spec")

    @property
    def fitted(self) -> Mapping[str, Any]:
        """The models fitted to this run's pair (``'pair'``), by name: to save or inspect."""
        return _view(self.results, "fitted")

    def weight_maps(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """``({name: (H, W) weight entropy, nats}, {name: (H, W) winning neighbour 0–3})``; one scale, 0 … ln 4."""
        from ..viz.compare import weight_entropy, winning_neighbour

        weights = self.weights
        if not weights:
            raise CubeError("this run kept no neighbour weights; fuse with weights=True (the 'weight maps' option)")
        return ({n: weight_entropy(w) for n, w in weights.items()},
                {n: winning_neighbour(w) for n, w in weights.items()})

    def scheme_differences(self) -> tuple[dict[str, np.ndarray], float, dict[str, np.ndarray], float]:
        """Pairwise maps between the networks' cubes: ``(SAM maps, shared limit, |a − b| maps, shared limit)``,
        keyed ``'a vs b'``; SAM in degrees. Needs two or more networks."""
        from ..viz.compare import pairwise_maps
        from ..viz.composites import shared_error_limit

        nets = self._networks()
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

        return top_disagreements(self._networks(), k, **kw)

    def _networks(self) -> dict[str, np.ndarray]:
        """The cubes of the networks whose neighbour weights the run kept, by name."""
        return {n: r.cube for n, r in self.results.items() if r.weights is not None}

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
        cubes = {**({"GT": self.gt} if self.gt is not None else {}), **self.fused}
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
        result = self.results[name]
        if result.maps is None:  # not scored yet: one pass of the scoring's sums gives both, kept
            _, err, sam = ground_truth(self).evaluate_with_maps(result.cube, ssim=False)
            result = replace(result, maps=(err, sam))
            self.results[name] = result
        assert result.maps is not None
        return result.maps

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
