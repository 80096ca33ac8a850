"""One fusion run as the GUI and the demo see it: inputs, bicubic + each model, scores, pictures.

:func:`iter_fusion_run` is a generator (progress messages, then the :class:`FusionRun` as
its return value) so a napari ``thread_worker`` can drive it and cancel between steps;
:func:`fusion_run` runs it to the end. No Qt here.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data.cube import CubeError
from .types import PairInput, RealPair, SimulatedPair


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
            _, err, sam = _truth(self).evaluate_with_maps(self.fused[name], ssim=False)
            self._maps[name] = (err, sam)
        return self._maps[name]

    def _need_gt(self, what: str) -> None:
        if self.gt is None:
            raise CubeError(f"{what} need a ground truth; this run fused a real LR-HSI/HR-MSI pair")


Progress = tuple[int, int, str]


def named_models(models) -> dict[str, Any]:
    """``models`` as display name → spec: a mapping stays as it is; a list of specs (pretrained
    names such as ``'cosine'`` / ``'paper:net'`` / ``'projection'``, checkpoint paths, models) is
    named by each name, each file's stem, or each model's ``source``."""
    if isinstance(models, Mapping):
        return dict(models)
    if isinstance(models, (str, Path)) or not isinstance(models, Iterable):
        models = [models]
    from ..models.load import model_name

    out: dict[str, Any] = {}
    for spec in models:
        name = base = model_name(spec, spec)
        k = 2
        while name in out:  # two models of one name: keep both
            name, k = f"{base} ({k})", k + 1
        out[name] = spec
    return out


def iter_fusion_run(
    models: Mapping[str, Any] | Iterable,
    pair: PairInput,
    *,
    device=None,
    clip: bool = True,
    weights: bool = False,
    ssim: bool = True,
    scores: bool = True,
) -> Generator[Progress, None, FusionRun]:
    """Fuse ``pair`` with bicubic and every model; yields ``(done, total, message)``, returns the :class:`FusionRun`.

    ``pair``: a :class:`~napari_inf3.fusion.types.SimulatedPair` (simulated from its GT, keeping LR pixel
    ``offset`` of each block, default r // 2) or a :class:`~napari_inf3.fusion.types.RealPair` (its camera or
    response estimated, loaded or given; scored on the pair itself in ``run.pair_scores`` and checked in
    ``run.findings``). ``models``: display name → INFN, checkpoint path or pretrained name (``'projection'``:
    the SRF projection of bicubic), or a list of those (:func:`named_models` names them). ``clip``: results
    clipped at 0; ``weights``: keep each network's neighbour weights in ``run.weights`` (not the projection's);
    ``ssim=False``: scores without SSIM, which takes most of the scoring time (:func:`score_ssim` adds it);
    ``scores=False``: no scores, maps or (real pair) findings yet: :func:`score_run` makes them (the Fusion dock
    shows the composites first).
    """
    models = named_models(models)
    total = len(models) + 2
    run = yield from start_run(pair, total=total)
    for k, (name, spec) in enumerate(models.items(), start=2):
        yield (k, total, f"fusing with {name}")
        fuse_into(run, name, spec, device=device, clip=clip, weights=weights)
    if scores:
        yield (total, total, "scoring")
        score_run(run, ssim=ssim)
    return run


def start_run(pair: PairInput, *, total: int) -> Generator[Progress, None, FusionRun]:
    """A run's inputs (simulated from a :class:`SimulatedPair`'s GT, or a :class:`RealPair` read, its camera or
    response estimated) and bicubic, its first result; yields ``(done, total, message)`` before the slow steps.
    :func:`iter_fusion_run` goes on with :func:`fuse_into` for each model and :func:`score_run`."""
    import time

    from .inference import bicubic

    if isinstance(pair, SimulatedPair):
        run = _simulated_run(pair)
    elif isinstance(pair, RealPair):
        run = FusionRun(pair.lr_hsi, pair.hr_msi, pair.scale, None, pair.wavelengths)
        if pair.estimates:  # seconds of work before the first fusion: say so (a worker can be cancelled here)
            yield (0, total, _estimate_message(pair))
        run.valid = None if pair.valid is None else np.asarray(pair.valid, bool)  # before any fit: it leaves out
        _read_real_pair(run, pair)
        run.camera_pair = pair.camera is not None
    else:
        raise CubeError(f"a fusion run takes a SimulatedPair or a RealPair, got {type(pair).__name__}")
    yield (1, total, "bicubic")
    t = time.perf_counter()
    run.fused["bicubic"] = bicubic(run.lr_hsi, run.hr_msi.shape[1:])
    run.seconds["bicubic"] = time.perf_counter() - t
    return run


def _simulated_run(pair: SimulatedPair) -> FusionRun:
    """The run's inputs simulated from ``pair.gt`` as the paper does (GT cropped to the HR-MSI)."""
    from ..data.simulation import check_offset, load_srf, simulate

    bands = np.shape(getattr(pair.gt, "data", pair.gt))[-3]
    srf = pair.srf
    if isinstance(srf, (str, Path)):  # a packaged name or CSV: on the scene's band centres when they are known
        srf = load_srf(srf, bands=bands, wavelengths=pair.wavelengths)
    lr, msi = simulate(pair.gt, pair.scale, srf, crop=pair.crop, offset=pair.offset)
    g = np.asarray(getattr(pair.gt, "data", pair.gt), np.float32)[:, : msi.shape[1], : msi.shape[2]]
    run = FusionRun(lr, msi, pair.scale, g, pair.wavelengths, offset=check_offset(pair.offset, pair.scale))
    run.source = pair.source
    run.sim_srf = srf
    return run


def _estimate_message(pair: RealPair) -> str:
    if pair.camera is not None:
        what = "tone curve, response, shift" if pair.align else "tone curve, response"
        return f"estimating the HR-MSI's camera ({what})"
    return "aligning the HR-MSI / estimating its response" if pair.align else "estimating the HR-MSI response"


def _read_real_pair(run: FusionRun, pair: RealPair) -> None:
    """Set the run's camera (fitted, loaded, or the linear one of the response in use) and response."""
    if pair.camera is not None:
        run.camera = _real_pair_camera(run, pair.camera, pair.align, pair.msi_storage)
        run.srf = run.camera.srf
        return
    pair_srf = pair.pair_srf
    if pair_srf is None and (run.lr_hsi.shape[0], run.hr_msi.shape[0]) != (31, 3):
        # the default (the Nikon D700 the shipped networks know) cannot describe another sensor's HR-MSI
        pair_srf = "estimate"
        run.notes.append(f"no HR-MSI response was given for a {run.lr_hsi.shape[0]}-band LR-HSI with a "
                         f"{run.hr_msi.shape[0]}-channel HR-MSI (the Nikon D700 default is 31 bands × 3 channels): "
                         "it was estimated from the pair; give the sensor's (a packaged name or a CSV) if you know it")
    if pair.align or pair_srf is not None:
        _real_pair_response(run, pair_srf, pair.align)
    run.camera = _linear_camera(run)


def fuse_into(run: FusionRun, name: str, spec, *, device, clip: bool = True, weights: bool = False) -> None:
    """Fuse the run's pair with one model (display ``name``, ``spec`` as :func:`iter_fusion_run` takes it)
    into ``run.fused[name]`` (and its weights, time, device, size, notes); an ensemble adds its members."""
    import warnings

    from ..camera.gate import poor_fit_message
    from ..models.ensemble import Ensemble
    from ..models.load import PAIR, is_pair_model, is_projection, load_model
    from .inference import check_pair, fuse

    if isinstance(spec, (str, Path)) and str(spec) in run.specs.values():
        return  # fused already (as an ensemble's member)
    model = (fit_to_run(run, name, device) if isinstance(spec, str) and spec == PAIR
             else _projection(run, device) if isinstance(spec, str) and spec == "projection"
             else load_model(spec, device))
    check_pair(run.lr_hsi, run.hr_msi, model)
    run.specs[name] = str(spec) if isinstance(spec, (str, Path)) else name
    if isinstance(model, Ensemble):
        _ensemble_into(run, name, model, device=device, clip=clip)
        return
    # the projection's decoder is zero (weights unused); Table 5's upsampler variants have none
    keep = weights and not is_projection(model) and getattr(model, "has_weights", True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # kept in the result's notes, said in the run's
        # a fitted or loaded camera: its curve, gain, black level and shift apply; else the response in use
        res = fuse(model, run.lr_hsi, run.hr_msi, clip=clip, weights=keep,
                   **({} if is_pair_model(model) else {"camera": run.camera} if run.camera_pair else {"srf": run.srf}))
    # a poor camera fit is reported once, as the gate's findings (run.findings), not per model
    poor_fit = poor_fit_message(run.camera) if run.camera_pair else None
    run.notes += [f"{name}: {n}" for n in res.notes if n != poor_fit]
    run.fused[name] = res.cube
    if keep and res.weights is not None:
        run.weights[name] = res.weights
    run.seconds[name] = res.seconds
    run.devices[name] = res.device
    if not is_projection(model):
        run.params[name] = model.num_parameters()


def _projection(run: FusionRun, device):
    """The SRF projection of bicubic with the run's response (the simulation's, a given or fitted one; the Nikon
    D700 when it has none), for any band count."""
    from ..models.device import select_device
    from ..models.load import projection_model

    srf = run.srf if run.srf is not None else run.sim_srf
    return projection_model("nikon_d700" if srf is None else srf, bands=run.lr_hsi.shape[0]).to(
        select_device(device)).eval()


def fit_to_run(run: FusionRun, name: str, device, *, progress=None, should_stop=None):
    """A :func:`napari_inf3.fit_pair` model for the run's pair, kept in ``run.fitted[name]``: through the run's
    camera when its HR-MSI is a photo, with its response when it has one (a simulated pair's, a given or fitted
    one), else fitted from the pair."""
    import warnings

    from ..pair import fit_pair

    if name in run.fitted:  # fitted already (the Fusion dock fits in its own thread, with progress)
        return run.fitted[name]
    srf = run.srf if run.srf is not None else run.sim_srf
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        model = fit_pair(run.lr_hsi, run.hr_msi, camera=run.camera if run.camera_pair else None,
                         srf=None if run.camera_pair else srf, wavelengths=run.wavelengths, device=device,
                         progress=progress, should_stop=should_stop, valid=run.valid)
    run.notes += [f"{name}: {w.message}" for w in caught if issubclass(w.category, UserWarning)]
    run.fitted[name] = model
    return model


def _ensemble_into(run: FusionRun, name: str, ens, *, device, clip: bool) -> None:
    """An ensemble in a run: each member fused once (reused when the run has it, else added under its name),
    then the one ensemble fusion of those cubes (:func:`napari_inf3.fusion.inference.ensemble_of`)."""
    import time

    from .inference import ensemble_of

    keys = []
    seconds = 0.0
    for member_name, member in ens.members.items():
        spec = getattr(member, "spec", None) or f"{name}·{member_name}"
        key = next((k for k, v in run.specs.items() if v == spec), None)
        if key is None:  # not in the run yet: add it under its spec, unless another model has that name
            key = spec if spec not in run.fused else f"{name}·{member_name}"
            fuse_into(run, key, member, device=device, clip=clip)
            run.specs[key] = spec
            seconds += run.seconds[key]
        keys.append(key)
    t = time.perf_counter()
    camera = run.camera_pair
    done = ensemble_of(ens, {k: run.fused[k] for k in keys}, run.lr_hsi, run.hr_msi,
                       srf=None if camera else run.srf, camera=run.camera if camera else None,
                       uncertainty=ens.calibration is not None)
    cube, spread, expected = done["cube"], done["spread"], done["expected_error"]
    run.fused[name], run.members[name], run.spread[name] = cube, keys, spread
    if expected is not None:
        run.expected_error[name] = expected
    run.seconds[name] = seconds + time.perf_counter() - t
    run.devices[name] = run.devices[keys[-1]]
    run.params[name] = ens.num_parameters()


def score_run(run: FusionRun, *, ssim: bool = True) -> None:
    """Scores against the GT (simulated; with the error and SAM maps, SSIM left for :func:`score_ssim` unless
    ``ssim``) or on the pair itself and the quality gate's findings (real pair)."""
    if run.gt is not None:
        truth = _truth(run)
        names = list(run.fused)
        results = _in_threads(lambda n: truth.evaluate_with_maps(run.fused[n], ssim=ssim), names)
        for n, (scores, err, sam) in zip(names, results, strict=True):
            run.scores[n], run._maps[n] = scores, (err, sam)
    elif run.camera is not None:
        from ..camera import pair_report

        run.pair_scores, run.findings = pair_report(run.lr_hsi, run.hr_msi, run.camera, run.fused,  # bicubic first
                                                    valid=run.valid)


def score_ssim(run: FusionRun) -> None:
    """Add SSIM to every score of a run fused with ``ssim=False`` (the Fusion dock shows the layers first)."""
    if run.gt is None:
        return
    truth = _truth(run)
    names = [n for n in run.fused if "ssim" not in run.scores.get(n, {})]
    for n, value in zip(names, _in_threads(lambda n: truth.ssim(run.fused[n]), names), strict=True):
        run.scores[n]["ssim"] = value


def _truth(run: FusionRun):
    """The run's :class:`~napari_inf3.evaluation.metrics.GroundTruth` (its GT-only sums kept for the run's later
    scores)."""
    from ..evaluation.metrics import GroundTruth

    if getattr(run, "_truth", None) is None:
        run._truth = GroundTruth(run.gt, run.scale)
    return run._truth


def _in_threads(fn, names: list[str]) -> list:
    """``[fn(n) for n in names]``: the first alone (it fills the GT's own sums), the rest in threads
    (numpy and scipy.ndimage release the GIL)."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    if not names:
        return []
    first = [fn(names[0])]
    with ThreadPoolExecutor(max(1, min(len(names) - 1, os.cpu_count() or 1))) as pool:
        return first + list(pool.map(fn, names[1:]))


def _real_pair_camera(run: FusionRun, camera, align: bool, storage=None):
    """The :class:`~napari_inf3.camera.CameraFit` for ``camera`` (``'estimate'``, a fit, or a saved file);
    an estimated one carries the photo's JPEG ``storage`` when it has one."""
    from ..camera import CameraFit, estimate_camera

    if isinstance(camera, CameraFit):
        return camera
    if isinstance(camera, str) and camera == "estimate":
        fit = estimate_camera(run.lr_hsi, run.hr_msi, int(round(run.scale)), shift=align,
                              wavelengths=run.wavelengths, jpeg=storage)
        run.shift = fit.shift
        return fit
    return CameraFit.load(camera)


def _linear_camera(run: FusionRun):
    """A real pair fused with a response but no camera model: the linear camera that response describes,
    so the pair-only check and the gate see the same (``None`` when the scale is not an integer)."""
    from ..camera import CameraFit
    from ..data.simulation import load_srf

    r = run.scale
    if not float(r).is_integer():
        return None
    try:
        srf = run.srf if run.srf is not None else load_srf("nikon_d700", bands=run.lr_hsi.shape[0])
    except CubeError:
        return None  # not 31 bands: no response to judge the pair by
    if srf.shape[0] != run.hr_msi.shape[0]:
        return None
    fit = run.srf_fit
    return CameraFit.linear(srf, scale=int(r), sigma=fit.sigma if fit is not None else 0.5,
                            residual=fit.residual if fit is not None else None)


def _real_pair_response(run: FusionRun, pair_srf, align: bool) -> None:
    """Align the HR-MSI (``align``) and set ``run.srf`` (and ``run.srf_fit``) from ``pair_srf``."""
    from ..camera.srf_fit import prepare_pair
    from ..data.simulation import load_srf

    estimate = isinstance(pair_srf, str) and pair_srf == "estimate"
    run.hr_msi, run.shift, run.srf_fit = prepare_pair(run.lr_hsi, run.hr_msi, int(round(run.scale)), align=align,
                                                      estimate=estimate, valid=run.valid)
    if estimate:
        run.srf = run.srf_fit.srf
    elif pair_srf is not None:
        run.srf = load_srf(pair_srf, bands=run.lr_hsi.shape[0], wavelengths=run.wavelengths)


def fusion_run(models: Mapping[str, Any] | Iterable, pair: PairInput, *,
               progress: Callable[[int, int, str], None] | None = None, device=None, clip: bool = True,
               weights: bool = False) -> FusionRun:
    """Run :func:`iter_fusion_run` to the end; ``progress(done, total, message)`` sees each step."""
    gen = iter_fusion_run(models, pair, device=device, clip=clip, weights=weights)
    while True:
        try:
            step = next(gen)
        except StopIteration as stop:
            return stop.value
        if progress:
            progress(*step)
