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

from ..data.cube import CubeError
from ..data.simulation import load_srf, simulate
from .config import TrainConfig
from .sampling import default_stride, epoch_order, load_scenes, patch_grid
from .start import init_model, load_camera

__all__ = ["TrainConfig", "TrainEvent", "TrainingDiverged", "train"]


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
        gts, self.names = load_scenes(scenes, "training")
        self.val, self.val_names = load_scenes(self.val_scenes, "validation") if len(self.val_scenes) else ([], [])
        self.bands = gts[0].shape[0]
        self.camera = load_camera(o.camera, self.bands)
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
            self.model, self.init_meta = init_model(o.init, self.srf_matrix, self.bands)
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
