"""A grid of trained variants: variants × weighting schemes × seeds × folds, each scored on scenes it never saw.

The paper's ablations (Tables 2–5) are differences of a few tenths of a dB; whether a difference is real
needs the spread over seeds, measured. :func:`run_grid` trains one INFN per *cell*
``(variant, scheme, seed, fold)`` at one recipe (:class:`GridRecipe`: preset, steps, batch, learning rate,
...), scores it on the fold's held-out scenes and on the scenes held out of every fold (``test_also``,
e.g. CAVE's superballs), and writes one JSON per cell. :mod:`napari_inf3.evaluation.ablation_report` turns the cells
into tables (mean ± std over seeds, paired differences with confidence intervals).

It resumes where it stopped: a finished cell is skipped, an unfinished one continues from its last epoch
checkpoint (the patch order depends only on seed and epoch, so the result is the one an uninterrupted run
gives). ``max_minutes`` stops at the next epoch boundary; ``part=(i, n)`` takes every n-th cell from the
i-th, so n processes (one core each) share a grid, or several sessions add up.

Layout of ``out``::

    grid.json                          the recipe (a later call must use the same one) and the scene split
    baselines.json                     bicubic and the SRF projection of bicubic, per test scene
    cells/<variant>-<scheme>-s<seed>-f<fold>/model.pt     checkpoint (every epoch, atomically)
    cells/<variant>-<scheme>-s<seed>-f<fold>/scores.json  PSNR (dB) / SAM (degrees) / ERGAS per test scene
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..data.cube import CubeError

__all__ = ["VARIANTS", "GridRecipe", "GridCell", "GridPlan", "plan_grid", "run_grid", "load_cells", "fill_baselines",
           "variant_parameters"]

#: Variant names → INFN keywords (:class:`~napari_inf3.models.infn.INFN`); the paper's table and row each tests.
VARIANTS: dict[str, dict[str, Any]] = {
    "full": {},
    "no_hr": {"hr_injection": False},  # Table 2, row 1: 42.55 dB
    "no_lr": {"lr_injection": False},  # Table 2, row 2: 52.17 dB
    "no_rel": {"rel_coord": False},  # Table 3: 52.22 dB
    "up_bilinear": {"upsampler": "bilinear"},  # Table 5: 51.93 dB
    "up_bicubic": {"upsampler": "bicubic"},  # Table 5: not legible in our copy
    "up_pixelshuffle": {"upsampler": "pixelshuffle"},  # Table 5: 52.15 dB
}
#: The paper's figures for each variant (CAVE ×4, PSNR dB, parameters), for the report.
PAPER: dict[str, dict[str, Any]] = {
    "full": {"psnr": 52.36, "params": 2.902e6, "table": "1–5"},
    "no_hr": {"psnr": 42.55, "params": None, "table": "2"},
    "no_lr": {"psnr": 52.17, "params": None, "table": "2"},
    "no_rel": {"psnr": 52.22, "params": None, "table": "3"},
    "up_bilinear": {"psnr": 51.93, "params": 3.003e6, "table": "5"},
    "up_bicubic": {"psnr": None, "params": 3.003e6, "table": "5"},
    "up_pixelshuffle": {"psnr": 52.15, "params": 7.722e6, "table": "5"},
}
SCHEMES = ("area", "net", "cosine")
#: the scheme name of a cell whose variant has no weighting (Table 5's upsamplers)
NO_SCHEME = "none"


def scene_name(path: Path) -> str:
    """A scene's name in the grid's tables: a folder's name (CAVE), a file's without its suffix."""
    return path.name if path.is_dir() else path.stem


def _is_upsampler(variant: str) -> bool:
    return "upsampler" in VARIANTS[variant]


@dataclass(frozen=True)
class GridRecipe:
    """What every cell of a grid shares; stored in ``grid.json``, so a resumed grid cannot drift.

    ``steps`` optimisation steps of ``batch_size`` patches of ``patch``² HR pixels at learning rate ``lr``
    (``schedule`` ``'cosine'`` or ``'constant'``), a checkpoint every ``epoch_steps``; ``consistency``
    ``'srf'`` (the shipped recipe) or ``'none'`` (the paper's network); ``folds``: k of the k-fold split of
    the training scenes; ``test_also``: scene names never trained on, scored by every cell.
    """

    preset: str = "lite"
    steps: int = 240
    batch_size: int = 16
    lr: float = 2e-4
    schedule: str = "cosine"
    epoch_steps: int = 20
    patch: int = 64
    consistency: str = "srf"
    scale: int = 4
    folds: int = 4
    test_also: tuple[str, ...] = ("superballs_ms",)

    def __post_init__(self) -> None:
        if self.steps % self.epoch_steps:
            raise ValueError(f"steps ({self.steps}) must be a multiple of epoch_steps ({self.epoch_steps})")
        if self.folds < 2:
            raise ValueError(f"folds must be at least 2 (k-fold); got {self.folds}")

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["test_also"] = list(self.test_also)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GridRecipe:
        d = dict(d)
        d["test_also"] = tuple(d.get("test_also", ()))
        return cls(**{k: v for k, v in d.items() if k in {f.name for f in dataclasses.fields(cls)}})


@dataclass(frozen=True)
class GridCell:
    """One model of the grid: ``variant`` (a :data:`VARIANTS` name), ``scheme``, ``seed``, ``fold``."""

    variant: str
    scheme: str
    seed: int
    fold: int

    @property
    def name(self) -> str:
        return f"{self.variant}-{self.scheme}-s{self.seed}-f{self.fold}"

    @classmethod
    def parse(cls, name: str) -> GridCell:
        variant, scheme, seed, fold = name.rsplit("-", 3)
        return cls(variant, scheme, int(seed[1:]), int(fold[1:]))

    def model_options(self) -> dict[str, Any]:
        return dict(VARIANTS[self.variant])


@dataclass(frozen=True)
class GridPlan:
    """A grid to run: where (``out``), the data, the recipe and the cells, in the order they run."""

    out: Path
    scenes: tuple[Path, ...]  # the training pool, sorted (k-fold over these)
    extra_tests: tuple[Path, ...]  # scored by every cell, never trained on
    recipe: GridRecipe
    cells: tuple[GridCell, ...]

    def fold_split(self, fold: int) -> tuple[list[Path], list[Path]]:
        """(training scenes, held-out scenes) of ``fold``: every k-th scene of the sorted pool from ``fold``."""
        held = list(self.scenes[fold :: self.recipe.folds])
        return [p for p in self.scenes if p not in held], held

    def cell_dir(self, cell: GridCell) -> Path:
        return self.out / "cells" / cell.name


def plan_grid(data: str | Path, out: str | Path, recipe: GridRecipe, *, variants: Sequence[str] = ("full",),
              schemes: Sequence[str] = SCHEMES, seeds: Sequence[int] = (0, 1, 2),
              run_folds: Sequence[int] | None = None) -> GridPlan:
    """The plan for ``variants`` × ``schemes`` × ``seeds`` × ``run_folds`` (default: all k folds) over the
    scenes in the folder ``data`` (``recipe.test_also`` held out of training). A variant written
    ``'no_hr:cosine'`` (or ``'no_hr:area,cosine'``) runs with those schemes only.

    Cells run seed by seed, so a grid stopped half way has whole seeds: every scheme and variant compared
    on the same seeds. Table 5's upsampler variants have no weighting: one cell per seed (scheme ``none``).
    Raises :class:`ValueError` for an unknown variant or scheme, :class:`CubeError` for data that does not
    hold the named scenes, and if ``out`` holds a grid made with another recipe.
    """
    from ..io import scene_paths

    only = {v.split(":")[0]: v.split(":")[1].split(",") for v in variants if ":" in v}  # 'no_hr:cosine'
    variants = list(dict.fromkeys(v.split(":")[0] for v in variants))
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        raise ValueError(f"unknown variant(s) {unknown}; choose from {list(VARIANTS)}")
    bad = sorted(set(schemes).union(*only.values()) - set(SCHEMES) - {"cosine_norm"})
    if bad:
        raise ValueError(f"unknown scheme(s) {bad}; choose from {list(SCHEMES)}")
    folds = list(range(recipe.folds)) if run_folds is None else list(run_folds)
    if any(not 0 <= f < recipe.folds for f in folds):
        raise ValueError(f"folds are numbered 0 … {recipe.folds - 1}; got {folds}")
    every = scene_paths([data])
    missing = [n for n in recipe.test_also if n not in {scene_name(p) for p in every}]
    if missing:
        raise CubeError(f"holds no scene named {', '.join(missing)} (test_also)", data)
    pool = tuple(p for p in every if scene_name(p) not in recipe.test_also)
    if len(pool) < recipe.folds:
        raise CubeError(f"{len(pool)} training scene(s) cannot make {recipe.folds} folds", data)
    extra = tuple(p for p in every if scene_name(p) in recipe.test_also)
    cells = []
    for fold in folds:
        for seed in seeds:
            for variant in variants:
                for scheme in ([NO_SCHEME] if _is_upsampler(variant) else only.get(variant, schemes)):
                    cells.append(GridCell(variant, scheme, int(seed), fold))
    plan = GridPlan(Path(out), pool, extra, recipe, tuple(dict.fromkeys(cells)))
    _check_recipe(plan)
    return plan


def _check_recipe(plan: GridPlan) -> None:
    """A grid folder belongs to one recipe and one scene list: a call with another is refused, by name."""
    meta = plan.out / "grid.json"
    if not meta.exists():
        return
    theirs = json.loads(meta.read_text(encoding="utf-8"))
    diffs = [f"{k}: {theirs['recipe'].get(k)!r} there, {v!r} here" for k, v in plan.recipe.to_dict().items()
             if theirs["recipe"].get(k) != v]
    if theirs.get("scenes") != [scene_name(p) for p in plan.scenes]:
        diffs.append("the training scenes differ")
    if diffs:
        raise CubeError("holds a grid with another recipe (" + "; ".join(diffs) + "); use another --out", plan.out)


@dataclass(frozen=True)
class GridEvent:
    """A report from :func:`run_grid`: ``kind`` ``'start'`` | ``'epoch'`` | ``'scored'`` | ``'skip'`` |
    ``'stopped'``; ``cell``; ``step`` of ``total``; ``seconds`` since the call began; ``scores`` when scored."""

    kind: str
    cell: GridCell | None
    step: int = 0
    total: int = 0
    seconds: float = 0.0
    scores: dict[str, dict[str, float]] | None = None


def run_grid(plan: GridPlan, *, part: tuple[int, int] = (0, 1), max_minutes: float | None = None,
             threads: int | None = None, device: str = "cpu",
             should_stop: Callable[[], bool] | None = None) -> Iterator[GridEvent]:
    """Train and score the plan's cells not done yet (this process's share: every ``part[1]``-th from
    ``part[0]``); yields :class:`GridEvent` s. Stops at an epoch boundary after ``max_minutes``."""
    import torch

    from ..io.atomic import atomic_write_text

    if threads:
        torch.set_num_threads(threads)
    plan.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(plan.out / "grid.json", json.dumps(
        {"recipe": plan.recipe.to_dict(), "data": str(plan.scenes[0].parent),
         "scenes": [scene_name(p) for p in plan.scenes], "test_also": [scene_name(p) for p in plan.extra_tests],
         "folds": {f: [scene_name(p) for p in plan.fold_split(f)[1]] for f in range(plan.recipe.folds)}}, indent=1))
    start = time.perf_counter()
    deadline = None if max_minutes is None else start + 60 * max_minutes
    i, n = part
    tests: dict[str, tuple] = {}
    for cell in plan.cells[i::n]:
        if (plan.cell_dir(cell) / "scores.json").exists():
            yield GridEvent("skip", cell, seconds=time.perf_counter() - start)
            continue
        finished = yield from _train_cell(plan, cell, deadline, device, start, should_stop)
        if not finished:
            yield GridEvent("stopped", cell, seconds=time.perf_counter() - start)
            return
        scores = _score_cell(plan, cell, tests, device)
        yield GridEvent("scored", cell, seconds=time.perf_counter() - start, scores=scores)


def _train_cell(plan: GridPlan, cell: GridCell, deadline: float | None, device: str, start: float,
                should_stop: Callable[[], bool] | None):
    """Train one cell to the recipe's steps (resuming its checkpoint); False if stopped before the end."""
    from ..models.checkpoint import read_checkpoint
    from ..training.config import TrainConfig
    from ..training.loop import train

    r = plan.recipe
    ckpt = plan.cell_dir(cell) / "model.pt"
    epochs = r.steps // r.epoch_steps
    resume = None
    if ckpt.exists():
        meta = read_checkpoint(ckpt).get("meta") or {}
        if meta.get("epochs", 0) >= epochs and not any(h.get("stopped") for h in meta.get("history", [])[-1:]):
            return True  # trained; scoring was interrupted
        resume = ckpt
    ckpt.parent.mkdir(parents=True, exist_ok=True)
    training, _ = plan.fold_split(cell.fold)
    config = TrainConfig(
        weighting="cosine" if cell.scheme == NO_SCHEME else cell.scheme, preset=r.preset,
        model_options=cell.model_options() | ({"upsampler_scale": r.scale} if _is_upsampler(cell.variant) else {}),
        consistency=r.consistency, scale=r.scale, patch=r.patch, batch_size=r.batch_size, lr=r.lr,
        schedule=r.schedule, epochs=epochs, patches_per_epoch=r.epoch_steps * r.batch_size, seed=cell.seed,
        device=device, out=ckpt, resume=resume, overwrite=resume is None, val_crop=0)
    yield GridEvent("start", cell, total=r.steps, seconds=time.perf_counter() - start)
    run = train(training, config)
    try:
        for ev in run:
            if ev.kind == "epoch":
                yield GridEvent("epoch", cell, ev.step, ev.total_steps, time.perf_counter() - start)
                late = deadline is not None and time.perf_counter() > deadline
                if ev.step < ev.total_steps and (late or (should_stop is not None and should_stop())):
                    return False
    finally:
        run.close()
    return True


def _score_cell(plan: GridPlan, cell: GridCell, tests: dict[str, tuple], device: str) -> dict:
    """Fuse the cell's test scenes (its fold's held-out ones and ``test_also``), write ``scores.json``."""
    from ..fusion.inference import fuse
    from ..io.atomic import atomic_write_text
    from ..models.checkpoint import load_checkpoint

    model = load_checkpoint(plan.cell_dir(cell) / "model.pt", device=device)
    _, held = plan.fold_split(cell.fold)
    scores: dict[str, dict[str, float]] = {}
    for path in [*held, *plan.extra_tests]:
        truth, lr, msi = _test_pair(plan, path, tests)
        scores[scene_name(path)] = _indices(truth, fuse(model, lr, msi, device).cube)
    meta = model.meta or {}
    last = (meta.get("history") or [{}])[-1]  # the last epoch: its step and wall seconds (of the last call)
    rec = {"cell": cell.name, **dataclasses.asdict(cell), "held_out": [scene_name(p) for p in held],
           "test_also": [scene_name(p) for p in plan.extra_tests], "scores": scores,
           "params": model.num_parameters(), "variant_words": model.variant(),
           "train_seconds": last.get("seconds"), "steps": last.get("step")}
    atomic_write_text(plan.cell_dir(cell) / "scores.json", json.dumps(rec, indent=1))
    _write_baselines(plan, tests)
    return scores


def _test_pair(plan: GridPlan, path: Path, cache: dict[str, tuple]) -> tuple:
    """``(truth, lr_hsi, hr_msi)`` of a test scene under the paper's protocol (×r, offset r // 2, Nikon D700);
    ``truth`` a :class:`~napari_inf3.evaluation.metrics.GroundTruth`, so the GT's own sums are made once per process."""
    name = scene_name(path)
    if name not in cache:
        from ..data.simulation import simulate
        from ..io import read_cube
        from .metrics import GroundTruth

        gt = read_cube(path).data
        lr, msi = simulate(gt, plan.recipe.scale)
        cache[name] = (GroundTruth(gt, plan.recipe.scale), lr, msi)
    return cache[name]


def _indices(truth, cube) -> dict[str, float]:
    """PSNR (dB), SAM (degrees) and ERGAS of ``cube`` against ``truth``; no SSIM (the tables do not use it, and it
    takes most of the scoring time)."""
    return truth.evaluate_with_maps(cube, ssim=False)[0]


def _write_baselines(plan: GridPlan, tests: dict[str, tuple]) -> None:
    """Bicubic and the SRF projection of bicubic for the test scenes met so far (``baselines.json``)."""
    import numpy as np

    from ..fusion.inference import fuse
    from ..fusion.upsampling import bicubic
    from ..io.atomic import atomic_write_text
    from ..models.load import projection_model

    path = plan.out / "baselines.json"
    have = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    new = False
    for name, (truth, lr, msi) in tests.items():
        if name in have:
            continue
        up = np.clip(bicubic(lr, truth.gt.shape[1:]), 0, None)
        have[name] = {"bicubic": _indices(truth, up),
                      "projection": _indices(truth, fuse(projection_model(), lr, msi, "cpu").cube)}
        new = True
    if new:
        atomic_write_text(path, json.dumps(have, indent=1))


def load_cells(out: str | Path) -> list[dict[str, Any]]:
    """Every scored cell's record in the grid folder ``out`` (``cells/*/scores.json``), sorted by name, its
    ``'cell'`` a :class:`GridCell`."""
    recs = []
    for p in sorted(Path(out).glob("cells/*/scores.json")):
        rec = json.loads(p.read_text(encoding="utf-8"))
        rec["cell"] = GridCell.parse(rec["cell"])
        recs.append(rec)
    return recs


def fill_baselines(out: str | Path) -> None:
    """Add to ``out/baselines.json`` the test scenes scored by a cell but missing there (parallel parts each
    write the scenes they met; the last writer may have left out another's). Needs the scenes where
    ``grid.json`` says they are; without them the tables go without the baselines' rows."""
    from ..io import scene_paths

    out = Path(out)
    meta_path = out / "grid.json"
    if not meta_path.exists():
        raise CubeError("holds no grid (no grid.json)", out)
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    path = out / "baselines.json"
    have = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    names = {s for r in load_cells(out) for s in r["scores"]} - set(have)
    data = Path(meta.get("data") or "")
    if not names or not data.is_dir():
        return
    plan = GridPlan(out, (), (), GridRecipe.from_dict(meta["recipe"]), ())
    tests: dict[str, tuple] = {}
    for scene in scene_paths([data]):
        if scene_name(scene) in names:
            _test_pair(plan, scene, tests)
    _write_baselines(plan, tests)


def variant_parameters(preset: str, scale: int = 4) -> dict[str, int]:
    """Parameter count of each :data:`VARIANTS` entry at ``preset`` (cosine weighting; ``net`` has C + 1 more)."""
    from ..models.infn import INFN

    return {name: INFN(preset=preset, weighting="cosine", upsampler_scale=scale, **opts).num_parameters()
            for name, opts in VARIANTS.items()}
