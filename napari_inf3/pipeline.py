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

from .cube import Cube, CubeError


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
    #: (:class:`~napari_inf3.srf_fit.SrfFit`, with ``pair_srf='estimate'``) and the HR-MSI shift corrected
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

    def weight_maps(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        """``({name: (H, W) weight entropy, nats}, {name: (H, W) winning neighbour 0–3})``; one scale, 0 … ln 4."""
        from .compare import weight_entropy, winning_neighbour

        if not self.weights:
            raise CubeError("this run kept no neighbour weights; fuse with weights=True (the 'weight maps' option)")
        return ({n: weight_entropy(w) for n, w in self.weights.items()},
                {n: winning_neighbour(w) for n, w in self.weights.items()})

    def scheme_differences(self) -> tuple[dict[str, np.ndarray], float, dict[str, np.ndarray], float]:
        """Pairwise maps between the networks' cubes: ``(SAM maps, shared limit, |a − b| maps, shared limit)``,
        keyed ``'a vs b'``; SAM in degrees. Needs two or more networks."""
        from .compare import pairwise_maps
        from .render import shared_error_limit

        nets = {n: c for n, c in self.fused.items() if n in self.weights}
        if len(nets) < 2:
            raise CubeError("comparing schemes needs two or more networks in the run")
        maps = pairwise_maps(nets)
        sam = {f"{a} vs {b}": m["sam"] for (a, b), m in maps.items()}
        mad = {f"{a} vs {b}": m["mad"] for (a, b), m in maps.items()}
        return sam, shared_error_limit(list(sam.values())), mad, shared_error_limit(list(mad.values()))

    def disagreements(self, k: int = 10, **kw):
        """Top-``k`` pixels where the networks disagree, and the criterion
        (:func:`napari_inf3.compare.top_disagreements`)."""
        from .compare import top_disagreements

        return top_disagreements({n: c for n, c in self.fused.items() if n in self.weights}, k, **kw)

    @property
    def reference(self) -> np.ndarray:
        """What composites are stretched by: the GT when known, else bicubic."""
        return self.gt if self.gt is not None else self.fused["bicubic"]

    def composites(self, bands: Sequence[int] | None = None, wavelengths_nm: Sequence[float] | None = None,
                   srf=None) -> dict[str, np.ndarray]:
        """``{name: (H, W, 3)}`` for GT (if any) and every fused cube, one shared contrast."""
        from .render import composite, composite_limits

        opts: dict[str, Any] = {"wavelengths_nm": wavelengths_nm, "cube_wavelengths": self.wavelengths, "srf": srf}
        limits = composite_limits(self.reference, bands, **opts)
        cubes = ({"GT": self.gt} if self.gt is not None else {}) | self.fused
        return {name: composite(c, bands, limits=limits, **opts) for name, c in cubes.items()}

    def error_maps(self) -> tuple[dict[str, np.ndarray], float]:
        """``({name: (H, W) mean |GT − fused|}, shared upper limit)``; needs the GT."""
        from .metrics import error_map
        from .render import shared_error_limit

        self._need_gt("error maps")
        maps = {n: error_map(c, self.gt) for n, c in self.fused.items()}
        return maps, shared_error_limit(list(maps.values()))

    def sam_maps(self) -> tuple[dict[str, np.ndarray], float]:
        """``({name: (H, W) spectral angle in degrees}, shared upper limit)``; needs the GT."""
        from .metrics import sam_map
        from .render import shared_error_limit

        self._need_gt("SAM maps")
        maps = {n: sam_map(c, self.gt).astype(np.float32) for n, c in self.fused.items()}
        return maps, shared_error_limit(list(maps.values()))

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
    out: dict[str, Any] = {}
    for spec in models:
        if isinstance(spec, Path) or (isinstance(spec, str) and Path(spec).suffix == ".pt"):
            name = Path(spec).stem
        elif isinstance(spec, str):
            name = spec
        else:
            name = str(getattr(spec, "source", None) or type(spec).__name__)
        base, k = name, 2
        while name in out:  # two models of one name: keep both
            name, k = f"{base} ({k})", k + 1
        out[name] = spec
    return out


def iter_fusion_run(
    models: Mapping[str, Any] | Iterable,
    *,
    gt: Cube | np.ndarray | None = None,
    lr_hsi: np.ndarray | None = None,
    hr_msi: np.ndarray | None = None,
    wavelengths=None,
    scale: int = 4,
    srf="nikon_d700",
    device=None,
    crop: bool = True,
    offset: int | None = None,
    clip: bool = True,
    weights: bool = False,
    pair_srf=None,
    align: bool = False,
    camera=None,
) -> Generator[Progress, None, FusionRun]:
    """Simulate (from ``gt``, keeping LR pixel ``offset`` of each block, default r // 2) or take a
    real pair, then fuse with bicubic and every model (``clip``: results clipped at 0; ``weights``:
    keep each network's neighbour weights in ``run.weights``, not the projection baseline's).

    ``models``: display name → INFN, checkpoint path or pretrained name (``'projection'``: the
    SRF projection of bicubic), or a list of those (:func:`named_models` names them). Yields
    ``(done, total, message)``; returns the :class:`FusionRun`.

    A real pair only: ``align`` estimates the HR-MSI's shift against the LR-HSI and moves it back;
    ``pair_srf`` is the HR-MSI camera's response for the projection: ``'estimate'`` (fitted from
    the pair, :func:`~napari_inf3.srf_fit.estimate_srf`), a packaged name, a CSV path or an array;
    ``None`` keeps each model's own. ``camera``: the HR-MSI is a photograph — ``'estimate'`` fits its
    camera from the pair (:func:`~napari_inf3.estimate_camera`, with ``align`` its shift), or a
    :class:`~napari_inf3.camera.CameraFit` / the path of a saved one; excludes ``pair_srf``. Every real
    pair is scored on the pair itself (``run.pair_scores``) and checked (``run.findings``).
    """
    import time
    import warnings

    from .camera.gate import CameraFitWarning
    from .inference import bicubic, check_pair, fuse, is_projection, resolve_model
    from .metrics import evaluate
    from .simulation import check_offset, simulate

    models = named_models(models)
    total = len(models) + 2
    if gt is not None:
        wl = gt.wavelengths if isinstance(gt, Cube) else wavelengths
        lr, msi = simulate(gt, scale, srf, crop=crop, offset=offset)
        g = np.asarray(gt.data if isinstance(gt, Cube) else gt, np.float32)[:, : msi.shape[1], : msi.shape[2]]
        run = FusionRun(lr, msi, scale, g, None if wl is None else np.asarray(wl, float),
                        offset=check_offset(offset, scale))
    elif lr_hsi is not None and hr_msi is not None:
        lr, msi = np.asarray(lr_hsi, np.float32), np.asarray(hr_msi, np.float32)
        if lr.ndim != 3 or msi.ndim != 3:
            raise CubeError(f"LR-HSI and HR-MSI must be (bands, rows, cols); got {lr.shape} and {msi.shape}")
        run = FusionRun(lr, msi, msi.shape[1] / lr.shape[1], None,
                        None if wavelengths is None else np.asarray(wavelengths, float))
        if camera is not None:
            if pair_srf is not None:
                raise CubeError("a camera carries its own response: give camera or pair_srf, not both")
            if isinstance(camera, str) and camera == "estimate":
                what = "tone curve, response, shift" if align else "tone curve, response"
                yield (0, total, f"estimating the HR-MSI's camera ({what})")
            run.camera = _real_pair_camera(run, camera, align)
            run.srf = run.camera.srf
        else:
            if align or (isinstance(pair_srf, str) and pair_srf == "estimate"):
                # seconds of work before the first fusion: say so (a worker can also be cancelled here)
                yield (0, total, "aligning the HR-MSI / estimating its response" if align
                       else "estimating the HR-MSI response")
            if align or pair_srf is not None:
                _real_pair_response(run, pair_srf, align)
            run.camera = _linear_camera(run)
    else:
        raise CubeError("give a ground truth to simulate from, or an LR-HSI and an HR-MSI")
    yield (1, total, "bicubic")
    t = time.perf_counter()
    run.fused["bicubic"] = bicubic(run.lr_hsi, run.hr_msi.shape[1:])
    run.seconds["bicubic"] = time.perf_counter() - t
    for k, (name, spec) in enumerate(models.items(), start=2):
        yield (k, total, f"fusing with {name}")
        model = resolve_model(spec, device)
        check_pair(run.lr_hsi, run.hr_msi, model)
        t = time.perf_counter()
        keep = weights and not is_projection(model)  # its decoder is zero: weights unused
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UserWarning)
            if camera is not None:  # a fitted or loaded camera: its curve, gain, black level and shift apply
                res = fuse(model, run.lr_hsi, run.hr_msi, clip=clip, return_weights=keep, camera=run.camera)
            else:
                res = fuse(model, run.lr_hsi, run.hr_msi, clip=clip, return_weights=keep, srf=run.srf)
        # a poor camera fit is reported once, as the gate's findings (run.findings), not per model
        run.notes += [f"{name}: {w.message}" for w in caught
                      if issubclass(w.category, UserWarning) and not issubclass(w.category, CameraFitWarning)]
        if keep:
            run.fused[name], run.weights[name] = res
        else:
            run.fused[name] = res
        run.seconds[name] = time.perf_counter() - t
        run.devices[name] = str(next(model.parameters()).device)
        if not is_projection(model):
            run.params[name] = model.num_parameters()
    yield (total, total, "scoring")
    if run.gt is not None:
        r = run.scale
        run.scores = {n: evaluate(c, run.gt, r) for n, c in run.fused.items()}
    elif run.camera is not None:
        from .camera import pair_report

        run.pair_scores, run.findings = pair_report(run.lr_hsi, run.hr_msi, run.camera, run.fused)  # bicubic first
    return run


def _real_pair_camera(run: FusionRun, camera, align: bool):
    """The :class:`~napari_inf3.camera.CameraFit` for ``camera`` (``'estimate'``, a fit, or a saved file)."""
    from .camera import CameraFit, estimate_camera

    if isinstance(camera, CameraFit):
        return camera
    if isinstance(camera, str) and camera == "estimate":
        fit = estimate_camera(run.lr_hsi, run.hr_msi, int(round(run.scale)), shift=align,
                              wavelengths=run.wavelengths)
        run.shift = fit.shift
        return fit
    return CameraFit.load(camera)


def _linear_camera(run: FusionRun):
    """A real pair fused with a response but no camera model: the linear camera that response describes,
    so the pair-only check and the gate see the same (``None`` when the scale is not an integer)."""
    from .camera import CameraFit
    from .simulation import load_srf

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
    from .simulation import load_srf
    from .srf_fit import prepare_pair

    estimate = isinstance(pair_srf, str) and pair_srf == "estimate"
    run.hr_msi, run.shift, run.srf_fit = prepare_pair(run.lr_hsi, run.hr_msi, int(round(run.scale)), align=align,
                                                      estimate=estimate)
    if estimate:
        run.srf = run.srf_fit.srf
    elif pair_srf is not None:
        run.srf = load_srf(pair_srf, bands=run.lr_hsi.shape[0])


def fusion_run(models: Mapping[str, Any], progress: Callable[[int, int, str], None] | None = None, **kw) -> FusionRun:
    """Run :func:`iter_fusion_run` to the end; ``progress(done, total, message)`` sees each step."""
    gen = iter_fusion_run(models, **kw)
    while True:
        try:
            step = next(gen)
        except StopIteration as stop:
            return stop.value
        if progress:
            progress(*step)
