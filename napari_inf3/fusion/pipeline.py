"""One fusion run as the GUI and the demo see it: inputs, bicubic + each model, scores, pictures.

:func:`iter_fusion_run` is a generator (progress messages, then the :class:`FusionRun` as
its return value) so a napari ``thread_worker`` can drive it and cancel between steps;
:func:`fusion_run` runs it to the end. No Qt here.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ..data.cube import CubeError
from .prepare import estimate_message, read_real_pair, simulated_run
from .run import FusionRun, MethodResult, ground_truth
from .types import PairInput, RealPair, SimulatedPair

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
        run = simulated_run(pair)
    elif isinstance(pair, RealPair):
        run = FusionRun(pair.lr_hsi, pair.hr_msi, pair.scale, None, pair.wavelengths)
        if pair.estimates:  # seconds of work before the first fusion: say so (a worker can be cancelled here)
            yield (0, total, estimate_message(pair))
        run.valid = None if pair.valid is None else np.asarray(pair.valid, bool)  # before any fit: it leaves out
        read_real_pair(run, pair)
        run.camera_pair = pair.camera is not None
    else:
        raise CubeError(f"a fusion run takes a SimulatedPair or a RealPair, got {type(pair).__name__}")
    yield (1, total, "bicubic")
    t = time.perf_counter()
    cube = bicubic(run.lr_hsi, run.hr_msi.shape[1:])
    run.add("bicubic", MethodResult(cube, seconds=time.perf_counter() - t))
    return run


def fuse_into(run: FusionRun, name: str, spec, *, device, clip: bool = True, weights: bool = False) -> None:
    """Fuse the run's pair with one model (display ``name``, ``spec`` as :func:`iter_fusion_run` takes it)
    as ``run.results[name]`` (its cube, weights, time, device, size; notes into the run's); an ensemble adds its
    members."""
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
    asked = str(spec) if isinstance(spec, (str, Path)) else name
    if isinstance(model, Ensemble):
        _ensemble_into(run, name, asked, model, device=device, clip=clip)
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
    run.add(name, MethodResult(res.cube, seconds=res.seconds, device=res.device, spec=asked,
                               params=None if is_projection(model) else model.num_parameters(),
                               weights=res.weights if keep else None, fitted=run._fits.get(name)))


def _projection(run: FusionRun, device):
    """The SRF projection of bicubic with the run's response (the simulation's, a given or fitted one; the Nikon
    D700 when it has none), for any band count."""
    from ..models.device import select_device
    from ..models.load import projection_model

    srf = run.srf if run.srf is not None else run.sim_srf
    return projection_model("nikon_d700" if srf is None else srf, bands=run.lr_hsi.shape[0]).to(
        select_device(device)).eval()


def fit_to_run(run: FusionRun, name: str, device, *, progress=None, should_stop=None):
    """A :func:`napari_inf3.fit_pair` model for the run's pair (its result's ``fitted`` once fused): through the
    run's camera when its HR-MSI is a photo, with the user's response when there is one (a simulated pair's, a
    given one, or one estimated on request), else fitted from the pair."""
    import warnings

    from ..pair import fit_pair

    if name in run._fits:  # fitted already (the Fusion dock fits in its own thread, with progress)
        return run._fits[name]
    # the user's response (given, estimated on request, or the simulation's); a default estimate is not passed:
    # fit_pair fits its own, under the blur it finds
    srf = run.srf if run.srf is not None and run.srf_asked else run.sim_srf
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        model = fit_pair(run.lr_hsi, run.hr_msi, camera=run.camera if run.camera_pair else None,
                         srf=None if run.camera_pair else srf, wavelengths=run.wavelengths, device=device,
                         progress=progress, should_stop=should_stop, valid=run.valid)
    run.notes += [f"{name}: {w.message}" for w in caught if issubclass(w.category, UserWarning)]
    run._fits[name] = model
    return model


def _ensemble_into(run: FusionRun, name: str, asked: str, ens, *, device, clip: bool) -> None:
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
            run.add(key, replace(run.results[key], spec=spec))
            seconds += run.results[key].seconds
        keys.append(key)
    t = time.perf_counter()
    camera = run.camera_pair
    done = ensemble_of(ens, {k: run.results[k].cube for k in keys}, run.lr_hsi, run.hr_msi,
                       srf=None if camera else run.srf, camera=run.camera if camera else None,
                       uncertainty=ens.calibration is not None)
    run.add(name, MethodResult(done["cube"], seconds=seconds + time.perf_counter() - t,
                               device=run.results[keys[-1]].device, params=ens.num_parameters(), spec=asked,
                               members=tuple(keys), spread=done["spread"], expected_error=done["expected_error"]))


def score_run(run: FusionRun, *, ssim: bool = True) -> None:
    """Scores against the GT (simulated; with the error and SAM maps, SSIM left for :func:`score_ssim` unless
    ``ssim``) or on the pair itself and the quality gate's findings (real pair)."""
    if run.gt is not None:
        truth = ground_truth(run)
        names = list(run.fused)
        results = _in_threads(lambda n: truth.evaluate_with_maps(run.results[n].cube, ssim=ssim), names)
        for n, (scores, err, sam) in zip(names, results, strict=True):
            run.add(n, replace(run.results[n], scores=scores, maps=(err, sam)))
    elif run.camera is not None:
        from ..camera import pair_report

        pair_scores, run.findings = pair_report(run.lr_hsi, run.hr_msi, run.camera, dict(run.fused),  # bicubic first
                                                valid=run.valid)
        for n, scores in pair_scores.items():
            run.add(n, replace(run.results[n], pair_scores=scores))


def score_ssim(run: FusionRun) -> None:
    """Add SSIM to every score of a run fused with ``ssim=False`` (the Fusion dock shows the layers first)."""
    if run.gt is None:
        return
    truth = ground_truth(run)
    names = [n for n in run.fused if "ssim" not in run.scores.get(n, {})]
    for n, value in zip(names, _in_threads(lambda n: truth.ssim(run.results[n].cube), names), strict=True):
        run.add(n, replace(run.results[n], scores={**run.results[n].scores, "ssim": value}))


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
