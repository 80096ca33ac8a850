"""What the Fusion dock's choices mean to the engine (Qt-free): input modes, composites, a real pair's
HR-MSI response, an HR-MSI layer as an array, and the status line after a run."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..fusion_types import PairInput, RealPair

SIMULATE, REAL_PAIR = MODES = ("simulate from ground truth", "real LR-HSI + HR-MSI")
PAPER_BANDS, TRUE_COLOUR, THREE_WAVELENGTHS = COMPOSITES = (
    "bands 31-20-10 (paper)", "true colour (SRF)", "three wavelengths (nm)")
#: The HR-MSI response choices of a real pair: label → what the pipeline's ``pair_srf`` gets.
PAIR_SRF = {"Nikon D700 (as trained)": None, "from file…": "file", "estimate from the pair": "estimate",
            "estimate the camera (a photo)": "camera", "camera from file…": "camera_file"}
#: The response choices read from a file (the dock shows its file picker for these).
FROM_FILE = ("file", "camera_file")
#: The dock's tooltips, by control.
TIPS = {
    "offset": "decimation offset: the LR-HSI keeps pixel (offset, offset) of each r×r block; the paper's protocol "
              "keeps r // 2",
    "pair_srf": "the response the SRF projection uses for a real pair: the Nikon D700 the checkpoints were trained "
                "with, a CSV (header channel,<nm>,...; a row per band), one fitted from the pair itself, or, for a "
                "photograph (PNG / JPEG, gamma-encoded), its whole camera: tone curve, gain, response (saved as JSON)",
    "wavelengths": "R, G, B wavelengths in nm for the 'three wavelengths' composite",
    "weight_maps": "per network: the entropy of its four neighbour weights (0 = one neighbour takes all, ln 4 = all "
                   "equal) and the winning neighbour; per pair of networks: SAM and mean |a − b| between their cubes",
}


def composite_options(choice: str, srf: str, wavelengths: str) -> dict:
    """:meth:`~napari_inf3.pipeline.FusionRun.composites` keywords for a composite ``choice``; ``srf`` is
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


def pair_response_kwargs(label: str, file: str | Path | None) -> dict:
    """The pipeline's ``pair_srf`` / ``camera`` keyword for a real pair's response choice ``label``
    (a key of :data:`PAIR_SRF`); ``file`` is the CSV / camera JSON picked for the file choices."""
    choice = PAIR_SRF[label]
    if choice in FROM_FILE:
        path = Path(file) if file is not None else Path("")
        if not path.is_file():
            what = "response CSV (header channel,<nm>,...)" if choice == "file" else "camera JSON"
            raise ValueError(f"choose the {what}, got {str(path)!r}")
        return {"pair_srf" if choice == "file" else "camera": str(path)}
    if choice == "camera":
        return {"camera": "estimate"}
    return {"pair_srf": choice}


def msi_array(layer) -> np.ndarray:
    """An HR-MSI layer's data as ``(bands, y, x)`` float32 (RGB layers are ``(y, x, 3)``)."""
    data = np.asarray(layer.data)
    if getattr(layer, "rgb", False):
        data = np.moveaxis(data[..., :3], -1, 0)
        if data.dtype == np.uint8:
            return data.astype(np.float32) / 255.0
    return data.astype(np.float32)


@dataclass(frozen=True)
class FusionJob:
    """One run as the Fusion dock's controls describe it: the pair, where to run, whether to keep the
    neighbour weights, and the layer the pair came from (the result layers are named after it)."""

    pair: PairInput
    device: str | None = None
    weights: bool = False
    source_layer: str = ""

    def steps(self, n_models: int) -> int:
        """The worker's yields for a run (:func:`run_job`), which napari's activity bar counts: bicubic and
        its composite, two per model (its start, its composite), one before a real pair's alignment / response
        fit, the scoring, the layers and SSIM."""
        return 2 * n_models + 5 + int(isinstance(self.pair, RealPair) and self.pair.estimates)


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


def run_job(job: FusionJob, models: dict, pictures: dict):
    """The Fusion dock's worker (Qt-free), in the order a user looks: each result's composite as soon as it
    is fused (GT and bicubic first), as :class:`LayersReady` s with ``final=False`` for the GUI thread to show
    while the next model runs; then the scores, error and SAM maps; every layer's data as the final
    :class:`LayersReady`; then SSIM for the table. Yields ``(done, total, message)`` between, returns the run.
    No score is computed twice."""
    from ..pipeline import fuse_into, score_run, score_ssim, start_run
    from .layers import next_run_id, run_layer_data

    steps = job.steps(len(models))
    run = yield from start_run(job.pair, total=steps)
    run_id = next_run_id()
    composites: dict = {}
    limits = run.composite_limits(**pictures)  # one stretch for all of them, made once
    yield _new_composites(run, run_id, pictures, limits, composites)
    last = None
    for k, (name, spec) in enumerate(models.items(), start=2):
        yield (k, steps, f"fusing with {name}")
        fuse_into(run, name, spec, device=job.device, weights=job.weights)
        last = _new_composites(run, run_id, pictures, limits, composites)
        yield last
    if last is not None:  # the scores' threads wait until the last picture is up, so they do not slow it down
        last.shown.wait(timeout=10)
    yield (steps - 3, steps, "scoring, error and SAM maps")
    score_run(run, ssim=False)
    ready = LayersReady(run, run_id, run_layer_data(run, run_id, job.source_layer, pictures, composites=composites))
    yield ready
    ready.shown.wait(timeout=60)  # the layers first (a GUI that never answers does not hold SSIM back for long)
    if run.gt is not None:
        yield (steps - 1, steps, "computing SSIM")
        score_ssim(run)
    return run


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
    return text + (f"\n{gate}" if gate else ""), details, list(dict.fromkeys(notes))
