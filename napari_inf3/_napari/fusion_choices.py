"""What the Fusion dock's choices mean to the engine (Qt-free): input modes, composites, a real pair's
HR-MSI response, an HR-MSI layer as an array, and the status line after a run."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..fusion.types import PairInput, RealPair

SIMULATE, REAL_PAIR = MODES = ("simulate from ground truth", "real LR-HSI + HR-MSI")
PAPER_BANDS, TRUE_COLOUR, THREE_WAVELENGTHS = COMPOSITES = (
    "bands 31-20-10 (paper)", "true colour (SRF)", "three wavelengths (nm)")
#: The HR-MSI response choices of a real pair: label → what the pipeline's ``pair_srf`` gets.
PAIR_SRF = {"Nikon D700 (as trained)": None, "from file…": "file", "estimate from the pair": "estimate",
            "estimate the camera (a photo)": "camera", "camera from file…": "camera_file",
            # packaged sensors (napari_inf3/srf/PROVENANCE.md), resampled to the LR-HSI's wavelengths
            "IKONOS (4 bands)": "ikonos", "QuickBird (4 bands)": "quickbird", "WorldView-2 (8 bands)": "worldview2",
            "Sentinel-2A 10 m (4 bands)": "sentinel2a_10m", "Sentinel-2A 20 m (6 bands)": "sentinel2a_20m",
            "Sentinel-2A (13 bands)": "sentinel2a_msi", "Sentinel-2B 10 m (4 bands)": "sentinel2b_10m",
            "Landsat 8 OLI (7 bands)": "landsat8_oli", "Landsat 9 OLI-2 (7 bands)": "landsat9_oli2"}
#: The response choice for a photograph.
PHOTO_CHOICE = "estimate the camera (a photo)"
#: The response choices read from a file (the dock shows its file picker for these).
FROM_FILE = ("file", "camera_file")
#: The dock's tooltips, by control.
TIPS = {
    "offset": "decimation offset: the LR-HSI keeps pixel (offset, offset) of each r×r block; the paper's protocol "
              "keeps r // 2",
    "pair_srf": "the response the SRF projection uses for a real pair: the Nikon D700 the checkpoints were trained "
                "with (another sensor's pair without a response given: estimated), a CSV (header channel,<nm>,...; "
                "a row per band), one fitted from the pair itself, a packaged satellite sensor's (resampled to the "
                "LR-HSI's wavelengths), or, for a photograph (PNG / JPEG / HEIC / RAW), its whole camera: tone "
                "curve, gain, response (saved as JSON)",
    "wavelengths": "R, G, B wavelengths in nm for the 'three wavelengths' composite",
    "weight_maps": "per network: the entropy of its four neighbour weights (0 = one neighbour takes all, ln 4 = all "
                   "equal) and the winning neighbour; per pair of networks: SAM and mean |a − b| between their cubes",
}


def composite_options(choice: str, srf: str, wavelengths: str) -> dict:
    """:meth:`~napari_inf3.fusion.pipeline.FusionRun.composites` keywords for a composite ``choice``; ``srf`` is
    the simulation's response name, ``wavelengths`` the "R, G, B (nm)" text. Raises ValueError."""
    if choice == TRUE_COLOUR:
        return {"srf": srf}
    if choice == THREE_WAVELENGTHS:
        try:
            wl = [float(v) for v in wavelengths.replace(";", ",").split(",")]
        except ValueError:
            raise ValueError(f"R, G, B wavelengths must be three numbers in nm, got {wavelengths!r}") from None
        if len(wl) != 3:
            raise ValueError(f"give three wavelengths (R, G, B) in nm, got {len(wl)}")
        return {"wavelengths_nm": wl}
    return {}


def pair_response_kwargs(label: str, file: str | Path | tuple[Path, ...] | None) -> dict:
    """The pipeline's ``pair_srf`` / ``camera`` keyword for a real pair's response choice ``label``
    (a key of :data:`PAIR_SRF`); ``file`` is the CSV / camera JSON picked for the file choices."""
    choice = PAIR_SRF[label]
    if choice in FROM_FILE:
        path = Path(file) if isinstance(file, (str, Path)) else Path("")
        if not path.is_file():
            what = "response CSV (header channel,<nm>,...)" if choice == "file" else "camera JSON"
            raise ValueError(f"choose the {what}, got {str(path)!r}")
        return {"pair_srf" if choice == "file" else "camera": str(path)}
    if choice == "camera":
        return {"camera": "estimate"}
    return {"pair_srf": choice}


def photo_layer(layer) -> bool:
    """Whether ``layer`` looks like a photograph: an RGB(A) layer of 8-bit values (napari's reading of a PNG,
    JPEG or HEIC)."""
    return bool(getattr(layer, "rgb", False)) and np.asarray(layer.data[:1, :1]).dtype == np.uint8


def msi_array(layer) -> np.ndarray:
    """An HR-MSI layer's data as ``(bands, y, x)`` float32 (RGB layers are ``(y, x, 3)``)."""
    data = np.asarray(layer.data)
    if getattr(layer, "rgb", False):
        data = np.moveaxis(data[..., :3], -1, 0)
        if data.dtype == np.uint8:
            return data.astype(np.float32) / 255.0
    return data.astype(np.float32)


def msi_storage(layer):
    """How an HR-MSI layer's photo was stored when it was opened from a JPEG file (napari keeps the file's path
    in ``layer.source.path``; a layer made by napari-inf3 may carry it in ``metadata['jpeg']``):
    a :class:`~napari_inf3.camera.jpeg.JpegStorage`, else ``None`` (never raises)."""
    from ..camera.jpeg import JpegStorage, read_storage

    meta = getattr(layer, "metadata", None) or {}
    if isinstance(meta.get("jpeg"), dict):
        try:
            return JpegStorage.from_dict(meta["jpeg"])
        except (KeyError, TypeError, ValueError):
            return None
    path = getattr(getattr(layer, "source", None), "path", None)
    if not path or Path(str(path)).suffix.lower() not in (".jpg", ".jpeg"):
        return None
    try:
        from PIL import Image

        with Image.open(str(path)) as im:
            return read_storage(im)
    except (OSError, ValueError, SyntaxError):
        return None


@dataclass(frozen=True)
class FusionJob:
    """One run as the Fusion dock's controls describe it: the pair, where to run, whether to keep the
    neighbour weights, and the layer the pair came from (the result layers are named after it)."""

    pair: PairInput
    device: str | None = None
    weights: bool = False
    source_layer: str = ""
    #: set by the dock's Cancel: a fit to the pair running in its own thread stops at its next check (the worker
    #: itself stops at its next yield, without closing this generator)
    cancel: threading.Event = field(default_factory=threading.Event, compare=False)
    #: two georeferenced layers: their grids over the common footprint (HR-MSI's, LR-HSI's), so the run's
    #: layers land where the inputs are (:func:`.layers.place_on_map`)
    grids: tuple = ()

    def steps(self, n_models: int, n_fits: int = 0) -> int:
        """The worker's yields for a run (:func:`run_job`), which napari's activity bar counts: bicubic and
        its composite, two per model (its start, its composite), :data:`FIT_YIELDS` more per model fitted to the
        pair (its progress), one before a real pair's alignment / response fit, the scoring, the layers and SSIM."""
        return 2 * n_models + FIT_YIELDS * n_fits + 5 + int(isinstance(self.pair, RealPair) and self.pair.estimates)


@dataclass(frozen=True)
class LayersReady:
    """Yielded by :func:`run_job` once a run's layers can be shown (SSIM still to come): the run, its id and
    its layers' data (:func:`.layers.run_layer_data`). The GUI thread sets ``shown`` once it has added them:
    SSIM waits for it, so it does not take the CPU from the layers being added."""

    run: Any
    run_id: str
    layer_data: list
    final: bool = True  # False: the first few layers (the composites), before the scores; the rest follows
    shown: threading.Event = field(default_factory=threading.Event)


#: Progress reports while a model is fitted to the pair (one per 5 %): a fit takes seconds to minutes.
FIT_YIELDS = 20


def fits(models: dict) -> int:
    """How many of ``models`` (display name → spec) are fitted to the pair (``'pair'``)."""
    return sum(isinstance(spec, str) and spec == "pair" for spec in models.values())


def fit_progress(run, name: str, device, done: int, steps: int, cancel: threading.Event | None = None):
    """Fit ``'pair'`` to the run's pair (:func:`napari_inf3.fusion.pipeline.fit_to_run`) in a thread, yielding
    ``(done, steps, message)`` once per 5 % of the fit (:data:`FIT_YIELDS` yields, whatever its length); closing
    the generator, or setting ``cancel`` (the dock's Cancel), stops the fit at its next check."""
    from ..fusion.pipeline import fit_to_run

    state: dict[str, Any] = {"percent": 0, "error": None}
    stop = threading.Event()

    def work() -> None:
        try:
            fit_to_run(run, name, device, progress=lambda d, t: state.update(percent=d),
                       should_stop=lambda: stop.is_set() or (cancel is not None and cancel.is_set()))
        except BaseException as exc:  # noqa: BLE001 - raised again in the worker, below
            state["error"] = exc

    thread = threading.Thread(target=work, name="napari-inf3 fit_pair", daemon=True)
    thread.start()
    sent = 0
    try:
        while sent < FIT_YIELDS:
            thread.join(0.2)
            due = FIT_YIELDS if not thread.is_alive() else min(FIT_YIELDS - 1, state["percent"] * FIT_YIELDS // 100)
            while sent < due:
                sent += 1
                yield (done + sent, steps, f"fitting {name} to the pair: {state['percent']} %")
    finally:
        stop.set()
        thread.join()
    if state["error"] is not None:
        raise state["error"]


def run_job(job: FusionJob, models: dict, pictures: dict):
    """The Fusion dock's worker (Qt-free), in the order a user looks: each result's composite as soon as it
    is fused (GT and bicubic first), as :class:`LayersReady` s with ``final=False`` for the GUI thread to show
    while the next model runs; then the scores, error and SAM maps; every layer's data as the final
    :class:`LayersReady`; then SSIM for the table. Yields ``(done, total, message)`` between, returns the run.
    No score is computed twice."""
    from ..fusion.pipeline import fuse_into, score_run, score_ssim, start_run
    from .layers import next_run_id, run_layer_data

    steps = job.steps(len(models), fits(models))
    run = yield from start_run(job.pair, total=steps)
    run_id = next_run_id()
    composites: dict = {}
    limits = run.composite_limits(**pictures)  # one stretch for all of them, made once
    yield _place(job, _new_composites(run, run_id, pictures, limits, composites))
    last = None
    k = 2
    for name, spec in models.items():
        if isinstance(spec, str) and spec == "pair":
            yield from fit_progress(run, name, job.device, k, steps, job.cancel)
            k += FIT_YIELDS
        yield (k, steps, f"fusing with {name}")
        k += 1
        fuse_into(run, name, spec, device=job.device, weights=job.weights)
        last = _place(job, _new_composites(run, run_id, pictures, limits, composites))
        yield last
    if last is not None:  # the scores' threads wait until the last picture is up, so they do not slow it down
        last.shown.wait(timeout=10)
    yield (steps - 3, steps, "scoring, error and SAM maps")
    score_run(run, ssim=False)
    ready = LayersReady(run, run_id, run_layer_data(run, run_id, job.source_layer, pictures, composites=composites))
    _place(job, ready)
    yield ready
    ready.shown.wait(timeout=60)  # the layers first (a GUI that never answers does not hold SSIM back for long)
    if run.gt is not None:
        yield (steps - 1, steps, "computing SSIM")
        score_ssim(run)
    return run


def _place(job: FusionJob, ready: LayersReady) -> LayersReady:
    """``ready``'s layers put on the map grids of a georeferenced pair (nothing for any other)."""
    if job.grids:
        from .layers import place_on_map

        hr_geo, hr_shape, lr_geo, lr_shape = job.grids
        place_on_map(ready.layer_data, {tuple(hr_shape): hr_geo, tuple(lr_shape): lr_geo})
    return ready


def georeferenced_pair(lr_layer, msi_layer, lr_data: np.ndarray, msi_data: np.ndarray):
    """Two layers that came from georeferenced files (``metadata['geo']``, set by the reader): their
    :class:`~napari_inf3.data.geo.AlignedPair` (the common footprint); ``None`` when either has no position."""
    from ..data.cube import Cube
    from ..data.geo import GeoRef, align_pair

    geos = [getattr(layer, "metadata", {}).get("geo") for layer in (lr_layer, msi_layer)]
    lr_geo, msi_geo = geos
    if not (isinstance(lr_geo, dict) and isinstance(msi_geo, dict)):
        return None
    cubes = []
    for layer, data, g in ((lr_layer, lr_data, lr_geo), (msi_layer, msi_data, msi_geo)):
        mask = layer.metadata.get("nodata_mask")
        cubes.append(Cube(data, None, layer.name, {} if mask is None else {"nodata_mask": mask},
                          geo=GeoRef.from_dict(g)))
    return align_pair(*cubes)


def real_pair_job(lr_layer, msi_layer, *, align: bool, response: str, response_file, device,
                  weights: bool) -> FusionJob:
    """The run a real pair's controls describe: the two layers (an RGB layer as the HR-MSI; two georeferenced
    layers cut to their common footprint, the run's grids kept to place its layers), the HR-MSI ``response``
    choice (a key of :data:`PAIR_SRF`, with its ``response_file``) and alignment. A ValueError says what is
    missing."""
    if lr_layer is None or msi_layer is None:
        raise ValueError("choose an LR-HSI layer and an HR-MSI layer")
    lr_data, msi_data = np.asarray(lr_layer.data, np.float32), msi_array(msi_layer)
    aligned = georeferenced_pair(lr_layer, msi_layer, lr_data, msi_data)  # two files' common footprint
    grids: tuple = ()
    if aligned is not None:
        lr_data, msi_data = aligned.lr_hsi, aligned.hr_msi
        grids = (aligned.geo, msi_data.shape[1:], aligned.lr_geo, lr_data.shape[1:])
    pair = RealPair(lr_data, msi_data, wavelengths=lr_layer.metadata.get("wavelengths"), align=align,
                    msi_storage=msi_storage(msi_layer), valid=None if aligned is None else aligned.valid,
                    **pair_response_kwargs(response, response_file))
    return FusionJob(pair, device=device, weights=weights, source_layer=lr_layer.name, grids=grids)


def _new_composites(run, run_id: str, pictures: dict, limits, made: dict) -> LayersReady:
    """The composites (stretched by ``limits``) of the results not composited yet (added to ``made``), the shown
    ones as layers."""
    from .layers import composite_layer_data

    new = run.composites(**pictures, names=[n for n in ["GT", *run.fused] if n not in made], limits=limits)
    made.update(new)
    return LayersReady(run, run_id, [item for item in composite_layer_data(run_id, new) if item[1]["visible"]],
                       final=False)


def done_text(run) -> tuple[str, str, list[str]]:
    """After a run: ``(status text, its tooltip, warnings to show)``: the timings and device, a real pair's
    shift and the quality gate's findings (two lines at most, all of them in the tooltip), and the run's
    notes with every finding that is not ok."""
    from .real_pair import findings_text

    times = ", ".join(f"{k} {v:.1f} s" for k, v in run.seconds.items() if k != "bicubic")
    text = f"done ({times})" + (f" on {next(iter(run.devices.values()))}" if run.devices else "")
    if run.shift is not None:
        text += f"; HR-MSI moved back by (dy, dx) = ({run.shift[0]:+.2f}, {run.shift[1]:+.2f}) HR px"
    gate, details = findings_text(run)
    notes = list(run.notes) + [f"{f.level}: {f.message}" for f in run.findings if f.level != "ok"]
    if run.fitted:  # how each fit to the pair went, and what its self-check says
        from ..pair import describe_fit, pair_report, shipped_advice

        for name, model in run.fitted.items():
            details += ("\n" if details else "") + f"{name}: " + "\n".join(describe_fit(model))
            advice = shipped_advice(model.bands, model.msi_bands)
            if advice:  # the shipped networks' sensor: which to prefer, from a measurement (all of it in the tooltip)
                details += f"\n{name}: {advice}"
                text += f"\n{name}: " + advice.split(": ", 1)[1].split(" (docs")[0]
            found = pair_report(model)[1]
            notes += [f"{name}: {f.level}: {f.message}" for f in found if f.level != "ok"]
            check = model.meta.get("self_check") or {}
            if check.get("pixels"):
                text += (f"\n{name}: held-out LR pixels reconstructed at {check['held_out_db']:.1f} dB "
                         f"(interpolating them: {check['interpolation_db']:.1f} dB)")
    return text + (f"\n{gate}" if gate else ""), details, list(dict.fromkeys(notes))
