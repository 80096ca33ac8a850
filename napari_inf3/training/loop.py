"""Training INFN: patches cut from whole scenes, simulated on the fly, as a generator of events.

``train(...)`` yields a :class:`TrainEvent` after every optimisation step (``kind='step'``),
after every epoch's validation (``kind='epoch'``) and once at the end (``kind='done'``), so a
GUI can drive it, draw the loss and stop it between steps (just stop iterating, or call
``.close()``: a checkpoint of the weights so far is written, marked as a partial epoch).

Data: each epoch visits ``patches_per_epoch`` GT patches of ``patch × patch`` pixels drawn
from the grid of overlapping patches of every scene (stride ≈ patch/2 as the paper's 3920
patches), in an order that depends only on ``(seed, epoch)``; so a run resumed from an epoch
checkpoint continues the exact same sequence. Each patch may be flipped / rotated by 90°
(``augment``; the blur and the SRF are isotropic, so the simulation stays valid), then
simulated as :func:`napari_inf3.data.simulation.simulate` does, with torch on the training device
(:class:`napari_inf3.training.data.PatchSampler`: the scenes live there, nothing is cut or
simulated in numpy per step). Loss: L1. Optimiser: Adam.
"""

from __future__ import annotations

import math
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data.cube import Cube, CubeError
from ..data.simulation import load_srf, simulate
from .config import TrainConfig

__all__ = ["TrainConfig", "TrainEvent", "TrainingDiverged", "train", "lineage", "patch_grid", "epoch_order",
           "default_stride"]


@dataclass
class TrainEvent:
    """One report from :func:`train`.

    ``kind``: ``'step'`` | ``'epoch'`` | ``'done'``. ``loss`` is the step's L1 loss (mean
    over the epoch for ``'epoch'``), ``lr`` the learning rate, ``seconds`` the wall time since
    the run (or resumed run) started, ``val_psnr`` the mean validation PSNR in dB (epoch
    events, when there is validation data), ``checkpoint`` the path written, if any.
    """

    kind: str
    step: int
    epoch: int
    loss: float
    lr: float
    seconds: float
    steps_per_epoch: int = 0
    total_steps: int = 0
    val_psnr: float | None = None
    checkpoint: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite; the last good checkpoint is kept."""


def _load_scenes(scenes: Sequence, what: str) -> tuple[list[np.ndarray], list[str]]:
    from ..io import read_cube

    arrays: list[np.ndarray] = []
    names: list[str] = []
    for s in scenes:
        if isinstance(s, Cube):
            arrays.append(np.asarray(s.data, np.float32))
            names.append(Path(s.source).name if s.source else f"cube{len(names)}")
        elif isinstance(s, np.ndarray):
            arrays.append(np.asarray(s, np.float32))
            names.append(f"array{len(names)}")
        else:
            arrays.append(read_cube(s).data)
            names.append(Path(s).name)
        if arrays[-1].ndim != 3:
            raise CubeError(f"{what} scene {names[-1]} is not a (B, H, W) cube")
    bands = {a.shape[0] for a in arrays}
    if len(bands) > 1:
        raise CubeError(f"{what} scenes have different band counts: {sorted(bands)}")
    return arrays, names


def patch_grid(shapes: Sequence[tuple[int, ...]], patch: int, stride: int) -> np.ndarray:
    """All ``(scene, row, col)`` top-left corners of overlapping patches, ``(P, 3)`` int64."""
    out = []
    for i, shp in enumerate(shapes):
        H, W = shp[-2:]
        if H < patch or W < patch:  # noqa: SIM300 - H and W are the scene's height and width, not constants
            raise CubeError(f"scene {i} ({H}×{W}) is smaller than the {patch}×{patch} training patch")
        ys = list(range(0, H - patch + 1, stride))
        xs = list(range(0, W - patch + 1, stride))
        if ys[-1] != H - patch:
            ys.append(H - patch)
        if xs[-1] != W - patch:
            xs.append(W - patch)
        out += [(i, y, x) for y in ys for x in xs]
    return np.asarray(out, dtype=np.int64)


def default_stride(patch: int, scale: int) -> int:
    """The patch grid's stride: ≈ patch / 2 and a multiple of the scale, + 2 (the paper's 196 patches a 512² scene)."""
    return max(scale, patch // 2 // scale * scale + 2)


def epoch_order(n_patches: int, per_epoch: int, seed: int, epoch: int) -> tuple[np.ndarray, np.ndarray]:
    """Patch indices and augmentation codes (0–7) of one epoch; depends only on (seed, epoch)."""
    rng = np.random.default_rng([seed, epoch])
    reps = math.ceil(per_epoch / n_patches)
    idx = np.concatenate([rng.permutation(n_patches) for _ in range(reps)])[:per_epoch]
    aug = rng.integers(0, 8, size=per_epoch)
    return idx, aug


def _validate(model, val, scale, srf, device, crop, offset=None, camera=None) -> float:
    import torch

    from ..evaluation.metrics import psnr
    from ..fusion.inference import fuse

    scores = []
    model.eval()
    for gt in val:
        H, W = gt.shape[-2:]
        ch = min(H, crop) // scale * scale
        cw = min(W, crop) // scale * scale
        y0, x0 = (H - ch) // 2 // scale * scale, (W - cw) // 2 // scale * scale
        g = gt[:, y0 : y0 + ch, x0 : x0 + cw]
        if camera is not None:  # the photo as the camera stores it, fused as a user's would be
            lr, msi = simulate(g, scale, camera.srf, offset=offset)
            scores.append(psnr(fuse(model, lr, camera.store(msi), device, camera=camera).cube, g))
            continue
        lr, msi = simulate(g, scale, srf, offset=offset)
        scores.append(psnr(fuse(model, lr, msi, device).cube, g))
    model.train()
    torch.set_grad_enabled(True)
    return float(np.mean(scores))


def train(
    scenes: Sequence,
    config: TrainConfig | None = None,
    *,
    val_scenes: Sequence = (),
    **options: Any,
) -> Generator[TrainEvent, None, None]:
    """Train an INFN; yields :class:`TrainEvent` s. See the module docstring for the data.

    Parameters
    ----------
    scenes : ground-truth cubes (paths, :class:`Cube` s or ``(B, H, W)`` arrays in [0, 1]).
    config : a :class:`~napari_inf3.training.config.TrainConfig` (default: its defaults); ``options``
        (any of its fields, as keywords) replace what it says — the notebook way:
        ``train(scenes, epochs=5, init="cosine")``. Stored in every checkpoint (``meta["train_config"]``).
    val_scenes : scenes for the per-epoch validation PSNR (a centre crop of ``val_crop``²).

    The options (``config``'s fields):

    weighting, preset, model_options, consistency : the INFN to build (ignored when resuming or
        starting from ``init``: the model's own are kept).
    offset : the simulation's decimation offset (``None``: the paper's r // 2; stored in the
        checkpoint's metadata; a resumed run keeps the checkpoint's).
    consistency : ``'srf'`` (default) projects the output onto the cubes the HR-MSI reproduces
        through the training SRF (:meth:`INFN.project`); ``'none'`` is the paper's (docs/METHOD.md).
    lr, schedule : Adam's learning rate (the paper: 1e-4, ``'constant'``); ``'cosine'`` decays it
        to 1 % of ``lr`` over ``epochs`` (better for short CPU budgets).
    patches_per_epoch : patches one epoch visits (default: the whole patch grid).
    max_seconds : stop after this wall time (checked after each step; a checkpoint is written).
    out : checkpoint path, rewritten atomically after every epoch and at the end.
    resume : a checkpoint to continue from (model, optimiser, epoch and step restored).
    init : start from a trained INFN's weights (fine-tuning): a pretrained name (``'cosine'``,
        ``'paper:net'``), a checkpoint path or a model. The optimiser, step and schedule start
        afresh; the SRF projection takes this run's ``srf`` (so a shipped model can be tuned to
        another camera's response); the parent's metadata is kept under ``meta['init']``
        (see :func:`lineage`). Not together with ``resume``.
    camera : a :class:`~napari_inf3.camera.CameraFit` (or the path of one saved with ``.save``): the
        training HR-MSIs are simulated through it — its response, then its tone curve, clipping at black
        and white and its quantisation, read back linear — and the network is trained inside the
        camera-transfer path that ``fuse(..., camera=)`` runs (it keeps its own response ``srf`` and is
        shown ``srf · X_p``; :mod:`napari_inf3.camera.fusion`), so fine-tuning (``init=``) teaches it
        that real camera's degradation. Stored in the checkpoint's metadata.
    overwrite : replace an existing ``out`` when not resuming (refused otherwise).
    precision : ``'fp32'`` (default) or ``'bf16'``: forward and loss under ``torch.autocast``
        (weights, optimiser and the SRF projection stay float32); on CUDA also channels-last
        trunks and ``cudnn.benchmark`` (the patch size is fixed).
    compile : run the training forward (and its backward) through ``torch.compile``. On a 2-core
        CPU the first step compiles for ≈ 30 s (``lite``) to 60 s (``paper``); after it a ``paper``
        step took 0.89× the eager time and a ``lite`` step 1.07× (bench/train_compile.py), so it
        pays only for long ``paper`` runs. Validation and the saved weights are unaffected.
    """
    cfg = (config or TrainConfig()).replace(**options)
    yield from _Run(scenes, val_scenes, cfg).events()


def _init_model(init, srf_matrix: np.ndarray, bands: int):
    """``(model, parent_meta)``: a trainable copy of the INFN ``init`` names, its SRF projection
    set to ``srf_matrix``, and what :func:`lineage` needs of where it came from."""
    import copy

    from ..models.load import is_projection, load_model

    what = init if isinstance(init, (str, Path)) else type(init).__name__
    parent = load_model(init, device="cpu")
    if is_projection(parent):
        raise ValueError("init='projection' has no weights to start from; leave init out for a new network")
    if parent.bands != bands:
        raise CubeError(f"init model {what!r} takes {parent.bands} bands; the training scenes have {bands}")
    if parent.msi_bands != srf_matrix.shape[0]:
        raise CubeError(f"init model {what!r} takes {parent.msi_bands} HR-MSI bands; "
                        f"the training response has {srf_matrix.shape[0]}")
    model = copy.deepcopy(parent).float().train()
    if model.config.get("consistency", "none") == "srf":
        model.set_srf(srf_matrix)
    meta = dict(getattr(parent, "meta", None) or {})
    keep = ("steps", "epochs", "wall_seconds", "device", "gpu", "precision", "srf", "offset", "val_psnr",
            "trained_with", "scenes", "batch_size", "lr", "init")
    parent_meta = {"from": str(init) if isinstance(init, (str, Path)) else getattr(parent, "source", what),
                   **{k: meta[k] for k in keep if k in meta}}
    return model, parent_meta


def _load_camera(camera, bands: int):
    """``train(camera=)`` as a :class:`~napari_inf3.camera.CameraFit` (or ``None``), checked against the scenes."""
    if camera is None:
        return None
    from ..camera import CameraFit

    fit = camera if isinstance(camera, CameraFit) else CameraFit.load(camera)
    if fit.srf.shape[1] != bands:
        raise CubeError(f"the camera's response has {fit.srf.shape[1]} columns (bands); "
                        f"the training scenes have {bands}")
    return fit


def lineage(meta: dict[str, Any]) -> list[dict[str, Any]]:
    """The runs behind a checkpoint's metadata, oldest first: each ``init`` parent, then ``meta``.

    ``sum(r['steps'] for r in lineage(meta))`` is the number of optimisation steps the weights
    have seen in all (batch sizes may differ between runs; each entry keeps its own).
    """
    chain: list[dict[str, Any]] = []
    m: Any = meta
    while isinstance(m, dict):
        chain.append(m)
        m = m.get("init")
    return chain[::-1]


class _Run:
    """One call of :func:`train`, as named steps: :meth:`__init__` loads the data and builds (or
    resumes) the model and optimiser; :meth:`events` runs it: :meth:`epoch` yields the step events of one
    epoch; :meth:`end_epoch` validates and writes the checkpoint; :meth:`close` leaves the process group."""

    # Every attribute a run has, in one place; __init__'s steps set them (torch objects typed Any: torch is
    # imported when a run starts, not with this module).
    # _load_data: the scenes, their bands and responses, the patch grid and the step counts
    names: list[str]
    val: list[np.ndarray]
    val_names: list[str]
    bands: int
    camera: Any  # a CameraFit, or None
    srf_matrix: np.ndarray  # (s, S): the response the model's projection uses
    msi_srf: np.ndarray  # (s, S): the response the training HR-MSIs are made with (the camera's, when given)
    grid: Any
    per_epoch: int
    steps_per_epoch: int
    local_batch: int
    total_steps: int
    # _build_model: the network (and what it is wrapped in), where it starts, what it remembers
    model: Any
    net: Any  # model, or the camera-transfer / DDP / compiled wrapper the steps run through
    offset: int
    start_epoch: int
    step: int
    history: list[dict]
    ckpt: dict[str, Any] | None
    init_meta: dict[str, Any] | None
    elapsed0: float
    # _build_sampler, _build_optimiser, epoch
    sampler: Any
    opt: Any
    losses: list[float]

    def __init__(self, scenes: Sequence, val_scenes: Sequence, cfg: TrainConfig):
        import torch

        from ..fusion.inference import _autocast
        from .distributed import context_from_env

        self.cfg = o = cfg
        self.val_scenes = val_scenes
        out, resume = o.out, o.resume
        if out is not None and Path(out).exists() and resume is None and not o.overwrite:
            raise CubeError("already exists; resume from it, choose another path, or pass overwrite=True", out)
        if o.num_threads:
            torch.set_num_threads(int(o.num_threads))
        self.ctx, self.dev = context_from_env(o.device)
        self.autocast = _autocast(self.dev, o.precision)  # checks the name first
        if self.dev.type == "cuda":
            torch.backends.cudnn.benchmark = True
        gts = self._load_data(scenes)
        self._build_model()
        self._build_sampler(gts)
        self._build_optimiser()
        # fine-tuning: what the starting weights score, so the run's gain can be read off
        self.start_val_psnr = None
        if self.init_meta is not None and self.val and self.ctx.is_main:
            self.start_val_psnr = _validate(self.model, self.val, o.scale, self.srf_matrix, self.dev,
                                            o.val_crop, self.offset, self.camera)
        self.finished = False
        self.t0 = time.perf_counter()

    # ---- set-up steps ----------------------------------------------------------------------
    def _load_data(self, scenes: Sequence) -> list[np.ndarray]:
        """Scenes, validation scenes, SRF, patch grid and the epoch's arithmetic."""
        o, ctx = self.cfg, self.ctx
        gts, self.names = _load_scenes(scenes, "training")
        self.val, self.val_names = _load_scenes(self.val_scenes, "validation") if len(self.val_scenes) else ([], [])
        self.bands = gts[0].shape[0]
        self.camera = _load_camera(o.camera, self.bands)
        # with a camera the network keeps its own response (srf): it is shown the HR-MSI it knows through
        # the camera-transfer path (napari_inf3.camera.fusion), and the training HR-MSIs come from the camera
        self.srf_matrix = load_srf(o.srf, bands=self.bands)
        self.msi_srf = self.camera.srf if self.camera is not None else self.srf_matrix
        scale, patch = o.scale, o.patch
        if patch % scale:
            raise CubeError(f"the patch size {patch} is not divisible by the scale {scale}")
        self.grid = patch_grid([g.shape for g in gts], patch, o.stride or default_stride(patch, scale))
        per_epoch = int(o.patches_per_epoch or len(self.grid))
        if ctx.active:
            if o.batch_size % ctx.world:
                raise ValueError(f"the global batch size {o.batch_size} is not divisible by the {ctx.world} processes")
            per_epoch -= per_epoch % ctx.world  # every global batch then splits evenly over the ranks
        self.per_epoch = per_epoch
        self.steps_per_epoch = math.ceil(per_epoch / o.batch_size)
        self.local_batch = o.batch_size // ctx.world
        self.total_steps = self.steps_per_epoch * o.epochs
        if o.schedule not in ("constant", "cosine"):
            raise ValueError(f"unknown schedule {o.schedule!r}; choose 'constant' or 'cosine'")
        return gts

    def _build_model(self) -> None:
        """A new INFN (seeded), or the one in ``resume`` with its epoch, step, history and offset."""
        import torch

        from ..data.simulation import check_offset
        from ..models.checkpoint import read_checkpoint
        from ..models.infn import INFN, build_model

        o = self.cfg
        self.start_epoch, self.step, self.history, self.ckpt, self.init_meta = 0, 0, [], None, None
        offset = o.offset
        if o.resume is not None and o.init is not None:
            raise ValueError("give either resume (continue a run) or init (start a new run from trained weights)")
        if o.init is not None:
            self.model, self.init_meta = _init_model(o.init, self.srf_matrix, self.bands)
            self.model.to(self.dev)
            self.elapsed0 = 0.0
        elif o.resume is not None:
            ckpt = self.ckpt = read_checkpoint(o.resume)
            self.model = build_model(ckpt["config"]).to(self.dev)
            self.model.load_state_dict({k: v.float() for k, v in ckpt["state_dict"].items()})
            self.start_epoch, self.step = int(ckpt["epoch"]), int(ckpt["step"])
            self.history = list(ckpt.get("meta", {}).get("history", []))
            offset = ckpt.get("meta", {}).get("offset", 0 if ckpt.get("meta") else None)
            self.elapsed0 = float(ckpt.get("meta", {}).get("wall_seconds", 0.0))
        else:
            torch.manual_seed(o.seed)
            srf = self.srf_matrix if o.consistency == "srf" else None
            self.model = INFN(bands=self.bands, msi_bands=self.srf_matrix.shape[0], weighting=o.weighting,
                              preset=o.preset, consistency=o.consistency, srf=srf,
                              **(o.model_options or {})).to(self.dev)
            self.elapsed0 = 0.0
        self.offset = check_offset(offset, o.scale)
        self.net = self.model
        if self.camera is not None:
            from ..camera.fusion import transfer_module

            self.net = transfer_module(self.model, self.camera)
        if self.ctx.active:
            from torch.nn.parallel import DistributedDataParallel

            dev = self.dev
            self.net = DistributedDataParallel(self.net, device_ids=[dev.index] if dev.type == "cuda" else None)
        if o.compile:
            self.net = torch.compile(self.net)

    def _build_sampler(self, gts: list[np.ndarray]) -> None:
        from .data import PatchSampler

        o = self.cfg
        self.sampler = PatchSampler(gts, self.grid, o.patch, o.scale, self.offset, self.msi_srf, self.dev,
                                    camera=self.camera)

    def _build_optimiser(self) -> None:
        import torch

        self.opt = torch.optim.Adam(self.model.parameters(), lr=self.cfg.lr)
        if self.ckpt is not None and self.ckpt.get("optimizer"):
            self.opt.load_state_dict(self.ckpt["optimizer"])

    # ---- running ---------------------------------------------------------------------------
    def lr_at(self, k: int) -> float:
        """The learning rate of step ``k`` (0-based) under the schedule."""
        lr = self.cfg.lr
        if self.cfg.schedule == "constant":
            return lr
        return lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(k, self.total_steps) / self.total_steps)))

    def seconds(self) -> float:
        return self.elapsed0 + time.perf_counter() - self.t0

    def train_step(self, ks: np.ndarray, idx: np.ndarray, aug: np.ndarray):
        """One optimisation step on the patches ``idx[ks]``; returns the loss tensor (not synced)."""
        import torch

        o = self.cfg
        gt_t, lr_t, msi_t = self.sampler.batch(idx[ks], aug[ks] if o.augment else None)
        for group in self.opt.param_groups:
            group["lr"] = self.lr_at(self.step)
        with self.autocast:
            pred = self.net(lr_t, msi_t)
        loss = torch.nn.functional.l1_loss(pred.float(), gt_t)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()  # DDP averages the gradients over the ranks here
        if o.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), o.grad_clip)
        self.opt.step()  # queued before the one sync of the step (loss.item() in epoch())
        return loss

    def events(self) -> Iterator[TrainEvent]:
        """The run's events: each epoch's step events and epoch event, from ``start_epoch`` until the last
        epoch or the time budget, then the done event. The process group is left however it ends (a stop
        by ``.close()``, an error); only a normal end (epochs done, or time budget spent) first waits for
        the other ranks."""
        try:
            for epoch in range(self.start_epoch, self.cfg.epochs):
                stopped = yield from self.epoch(epoch)
                yield self.end_epoch(epoch)
                if stopped:
                    break
            self.finished = True
        finally:
            self.close()
        yield self.done_event()

    def epoch(self, epoch: int):
        """Yield a step event after every step of ``epoch``; returns True when the time budget stopped it."""
        from torch.utils.data import DistributedSampler

        from .distributed import all_sum

        o, ctx = self.cfg, self.ctx
        idx, aug = epoch_order(len(self.grid), self.per_epoch, o.seed, epoch)
        # this rank's positions in the epoch order: all of them in one process; k, k + N, ... of N
        mine = np.arange(self.per_epoch)
        if ctx.active:
            # the ignore: DistributedSampler takes only len() of its dataset, which a range has
            sampler: DistributedSampler[int] = DistributedSampler(
                range(self.per_epoch), ctx.world, ctx.rank, shuffle=False)  # type: ignore[arg-type]
            mine = mine[list(sampler)]
        self.losses = []
        for b in range(self.steps_per_epoch):
            ks = mine[b * self.local_batch : (b + 1) * self.local_batch]
            loss = self.train_step(ks, idx, aug)
            seconds = self.seconds()
            over_time = o.max_seconds is not None and seconds >= o.max_seconds
            # the global batch's loss, and one stop decision for every rank
            total, count, stops = all_sum(ctx, [loss.item() * len(ks), len(ks), float(over_time)])
            step_loss = total / count
            if not math.isfinite(step_loss):
                raise TrainingDiverged(
                    f"loss became {step_loss} at step {self.step + 1} (epoch {epoch + 1}); "
                    "the last epoch checkpoint is kept; try a lower learning rate or grad_clip"
                )
            self.step += 1
            self.losses.append(step_loss)
            try:
                first = self.step == 1 and self.start_val_psnr is not None
                yield TrainEvent("step", self.step, epoch, step_loss, self.lr_at(self.step - 1), seconds,
                                 self.steps_per_epoch, self.total_steps,
                                 extra={"start_val_psnr": self.start_val_psnr} if first else {})
            except GeneratorExit:
                # stopped between steps (GUI Stop, .close()): keep the work so far; resuming
                # restarts this epoch from these weights
                if o.out is not None and b + 1 < self.steps_per_epoch:
                    self.history.append({"epoch": epoch, "step": self.step, "loss": float(np.mean(self.losses)),
                                         "val_psnr": None, "seconds": seconds, "stopped": True})
                    self.checkpoint(epoch)
                raise
            if stops > 0:
                return True
        return False

    def end_epoch(self, epoch: int) -> TrainEvent:
        """Validate (rank 0), record the epoch in the history, write the checkpoint; the epoch event."""
        o = self.cfg
        val_psnr = (_validate(self.model, self.val, o.scale, self.srf_matrix, self.dev, o.val_crop, self.offset,
                              self.camera)
                    if self.val and self.ctx.is_main else None)
        loss = float(np.mean(self.losses))
        self.history.append({"epoch": epoch + 1, "step": self.step, "loss": loss, "val_psnr": val_psnr,
                             "seconds": self.seconds()})
        path = self.checkpoint(epoch + 1)
        return TrainEvent("epoch", self.step, epoch + 1, loss, self.lr_at(self.step - 1), self.seconds(),
                          self.steps_per_epoch, self.total_steps, val_psnr, path)

    def meta(self, epoch_done: int) -> dict[str, Any]:
        """The training metadata every checkpoint carries."""
        import torch

        o, h = self.cfg, self.history
        srf = o.srf
        return {
            "scenes": self.names, "val_scenes": self.val_names, "scale": o.scale, "offset": self.offset,
            "patch": o.patch, "batch_size": o.batch_size, "lr": o.lr, "schedule": o.schedule,
            "seed": o.seed, "augment": o.augment, "patches_per_epoch": self.per_epoch, "epochs": epoch_done,
            "steps": self.step, "wall_seconds": self.seconds(), "device": str(self.dev),
            "processes": self.ctx.world, "torch": str(torch.__version__), "history": h,
            "val_psnr": h[-1]["val_psnr"] if h else None,
            "srf": "camera" if self.camera is not None else srf if isinstance(srf, str) else "custom",
            "precision": o.precision,
            **({"camera": self.camera.to_dict()} if self.camera is not None else {}),
            "compiled": bool(o.compile),
            "train_config": o.to_dict(),
            **({"init": self.init_meta, "start_val_psnr": self.start_val_psnr} if self.init_meta is not None else {}),
        }

    def checkpoint(self, epoch_done: int) -> str | None:
        from ..models.checkpoint import save_checkpoint

        if self.cfg.out is None or not self.ctx.is_main:
            return None
        return str(save_checkpoint(self.model, self.cfg.out, optimizer=self.opt, epoch=epoch_done, step=self.step,
                                   meta=self.meta(epoch_done)))

    def close(self) -> None:
        from .distributed import shutdown

        self.net = None  # DDP's reducer holds the process group: let it go first
        shutdown(self.ctx, wait_for_all=self.finished)

    def done_event(self) -> TrainEvent:
        h, out = self.history, self.cfg.out
        return TrainEvent("done", self.step, len(h) and h[-1]["epoch"], h[-1]["loss"] if h else float("nan"),
                          self.cfg.lr, self.seconds(), self.steps_per_epoch, self.total_steps,
                          h[-1]["val_psnr"] if h else None, str(out) if out else None, extra={"model": self.model})
