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
simulated as :func:`napari_inf3.simulation.simulate` does, with torch on the training device
(:class:`napari_inf3.training_data.PatchSampler`: the scenes live there, nothing is cut or
simulated in numpy per step). Loss: L1. Optimiser: Adam.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from .cube import Cube, CubeError
from .simulation import load_srf, simulate

__all__ = ["TrainEvent", "TrainingDiverged", "train", "patch_grid", "epoch_order", "default_stride"]


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
    from .io import read_cube

    arrays, names = [], []
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
        if H < patch or W < patch:
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


def _validate(model, val, scale, srf, device, crop, offset=None) -> float:
    import torch

    from .inference import fuse
    from .metrics import psnr

    scores = []
    model.eval()
    for gt in val:
        H, W = gt.shape[-2:]
        ch = min(H, crop) // scale * scale
        cw = min(W, crop) // scale * scale
        y0, x0 = (H - ch) // 2 // scale * scale, (W - cw) // 2 // scale * scale
        g = gt[:, y0 : y0 + ch, x0 : x0 + cw]
        lr, msi = simulate(g, scale, srf, offset=offset)
        scores.append(psnr(fuse(model, lr, msi, device, tile=None), g))
    model.train()
    torch.set_grad_enabled(True)
    return float(np.mean(scores))


def train(
    scenes: Sequence,
    *,
    val_scenes: Sequence = (),
    weighting: str = "cosine",
    preset: str = "lite",
    model_options: dict[str, Any] | None = None,
    consistency: str = "srf",
    scale: int = 4,
    offset: int | None = None,
    srf: str | np.ndarray = "nikon_d700",
    patch: int = 64,
    stride: int | None = None,
    batch_size: int = 32,
    lr: float = 1e-4,
    schedule: str = "constant",
    epochs: int = 10,
    patches_per_epoch: int | None = None,
    max_seconds: float | None = None,
    augment: bool = True,
    grad_clip: float | None = None,
    seed: int = 0,
    device=None,
    out: str | Path | None = None,
    resume: str | Path | None = None,
    val_crop: int = 256,
    num_threads: int | None = None,
    overwrite: bool = False,
    precision: str = "fp32",
) -> Iterator[TrainEvent]:
    """Train an INFN; yields :class:`TrainEvent` s. See the module docstring for the data.

    Parameters
    ----------
    scenes : ground-truth cubes (paths, :class:`Cube` s or ``(B, H, W)`` arrays in [0, 1]).
    val_scenes : scenes for the per-epoch validation PSNR (a centre crop of ``val_crop``²).
    weighting, preset, model_options : the INFN to build (ignored when resuming).
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
    overwrite : replace an existing ``out`` when not resuming (refused otherwise).
    precision : ``'fp32'`` (default) or ``'bf16'``: forward and loss under ``torch.autocast``
        (weights, optimiser and the SRF projection stay float32); on CUDA also channels-last
        trunks and ``cudnn.benchmark`` (the patch size is fixed).
    """
    import torch

    from .checkpoint import read_checkpoint, save_checkpoint
    from .distributed import all_sum, context_from_env, shutdown
    from .inference import _autocast
    from .model import INFN, build_model
    from .simulation import check_offset
    from .training_data import PatchSampler

    if out is not None and Path(out).exists() and resume is None and not overwrite:
        raise CubeError("already exists; resume from it, choose another path, or pass overwrite=True", out)
    if num_threads:
        torch.set_num_threads(int(num_threads))
    ctx, dev = context_from_env(device)
    autocast = _autocast(dev, precision)  # checks the name first
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    gts, names = _load_scenes(scenes, "training")
    val, val_names = _load_scenes(val_scenes, "validation") if len(val_scenes) else ([], [])
    bands = gts[0].shape[0]
    srf_matrix = load_srf(srf, bands=bands)
    if patch % scale:
        raise CubeError(f"the patch size {patch} is not divisible by the scale {scale}")
    grid = patch_grid([g.shape for g in gts], patch, stride or default_stride(patch, scale))
    per_epoch = int(patches_per_epoch or len(grid))
    if ctx.active:
        if batch_size % ctx.world:
            raise ValueError(f"the global batch size {batch_size} is not divisible by the {ctx.world} processes")
        per_epoch -= per_epoch % ctx.world  # every global batch then splits evenly over the ranks
    steps_per_epoch = math.ceil(per_epoch / batch_size)
    local_batch = batch_size // ctx.world

    start_epoch, step, history = 0, 0, []
    if resume is not None:
        ckpt = read_checkpoint(resume)
        model = build_model(ckpt["config"]).to(dev)
        model.load_state_dict({k: v.float() for k, v in ckpt["state_dict"].items()})
        start_epoch, step = int(ckpt["epoch"]), int(ckpt["step"])
        history = list(ckpt.get("meta", {}).get("history", []))
        offset = ckpt.get("meta", {}).get("offset", 0 if ckpt.get("meta") else None)
        elapsed0 = float(ckpt.get("meta", {}).get("wall_seconds", 0.0))
    else:
        torch.manual_seed(seed)
        model = INFN(bands=bands, msi_bands=srf_matrix.shape[0], weighting=weighting, preset=preset,
                     consistency=consistency, srf=srf_matrix if consistency == "srf" else None,
                     **(model_options or {})).to(dev)
        elapsed0 = 0.0
    offset = check_offset(offset, scale)
    sampler = PatchSampler(gts, grid, patch, scale, offset, srf_matrix, dev)
    del gts  # the sampler holds the scenes (on the device)
    net = model
    if ctx.active:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[dev.index] if dev.type == "cuda" else None)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    if resume is not None and ckpt.get("optimizer"):
        opt.load_state_dict(ckpt["optimizer"])
    total_steps = steps_per_epoch * epochs
    if schedule not in ("constant", "cosine"):
        raise ValueError(f"unknown schedule {schedule!r}; choose 'constant' or 'cosine'")

    def lr_at(k: int) -> float:
        if schedule == "constant":
            return lr
        return lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(k, total_steps) / total_steps)))

    t0 = time.perf_counter()

    def meta(epoch_done: int) -> dict[str, Any]:
        return {
            "scenes": names, "val_scenes": val_names, "scale": scale, "offset": offset, "patch": patch,
            "batch_size": batch_size, "lr": lr, "schedule": schedule, "seed": seed, "augment": augment,
            "patches_per_epoch": per_epoch, "epochs": epoch_done, "steps": step,
            "wall_seconds": elapsed0 + time.perf_counter() - t0, "device": str(dev), "processes": ctx.world,
            "torch": str(torch.__version__), "history": history,
            "val_psnr": history[-1]["val_psnr"] if history else None,
            "srf": srf if isinstance(srf, str) else "custom", "precision": precision,
        }

    def checkpoint(epoch_done: int) -> str | None:
        if out is None or not ctx.is_main:
            return None
        return str(save_checkpoint(out, model, optimizer=opt, epoch=epoch_done, step=step, meta=meta(epoch_done)))

    model.train()
    stop = finished = False
    from torch.utils.data import DistributedSampler

    try:
        for epoch in range(start_epoch, epochs):
            idx, aug = epoch_order(len(grid), per_epoch, seed, epoch)
            # this rank's positions in the epoch order: all of them in one process; k, k + N, ... of N
            mine = np.arange(per_epoch)
            if ctx.active:
                mine = mine[list(DistributedSampler(range(per_epoch), ctx.world, ctx.rank, shuffle=False))]
            losses = []
            for b in range(steps_per_epoch):
                ks = mine[b * local_batch : (b + 1) * local_batch]
                gt_t, lr_t, msi_t = sampler.batch(idx[ks], aug[ks] if augment else None)
                for group in opt.param_groups:
                    group["lr"] = lr_at(step)
                with autocast:
                    pred = net(lr_t, msi_t)
                loss = torch.nn.functional.l1_loss(pred.float(), gt_t)
                opt.zero_grad(set_to_none=True)
                loss.backward()  # DDP averages the gradients over the ranks here
                if grad_clip:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
                opt.step()  # queued before the one sync of the step (loss.item() below)
                seconds = elapsed0 + time.perf_counter() - t0
                over_time = max_seconds is not None and seconds >= max_seconds
                # the global batch's loss, and one stop decision for every rank
                total, count, stops = all_sum(ctx, [loss.item() * len(ks), len(ks), float(over_time)])
                step_loss = total / count
                if not math.isfinite(step_loss):
                    raise TrainingDiverged(
                        f"loss became {step_loss} at step {step + 1} (epoch {epoch + 1}); "
                        "the last epoch checkpoint is kept; try a lower learning rate or grad_clip"
                    )
                step += 1
                losses.append(step_loss)
                try:
                    yield TrainEvent("step", step, epoch, losses[-1], lr_at(step - 1), seconds, steps_per_epoch,
                                     total_steps)
                except GeneratorExit:
                    # stopped between steps (GUI Stop, .close()): keep the work so far; resuming
                    # restarts this epoch from these weights
                    if out is not None and b + 1 < steps_per_epoch:
                        history.append({"epoch": epoch, "step": step, "loss": float(np.mean(losses)),
                                        "val_psnr": None, "seconds": seconds, "stopped": True})
                        checkpoint(epoch)
                    raise
                if stops > 0:
                    stop = True
                    break
            val_psnr = (_validate(model, val, scale, srf_matrix, dev, val_crop, offset)
                        if val and ctx.is_main else None)
            history.append({
                "epoch": epoch + 1, "step": step, "loss": float(np.mean(losses)), "val_psnr": val_psnr,
                "seconds": elapsed0 + time.perf_counter() - t0,
            })
            path = checkpoint(epoch + 1)
            yield TrainEvent("epoch", step, epoch + 1, float(np.mean(losses)), lr_at(step - 1),
                             elapsed0 + time.perf_counter() - t0, steps_per_epoch, total_steps, val_psnr, path)
            if stop:
                break
        finished = True
    finally:
        net = None  # DDP's reducer holds the process group: let it go first
        shutdown(ctx, wait_for_all=finished)
    yield TrainEvent("done", step, len(history) and history[-1]["epoch"], history[-1]["loss"] if history else float("nan"),
                     lr, elapsed0 + time.perf_counter() - t0, steps_per_epoch, total_steps,
                     history[-1]["val_psnr"] if history else None, str(out) if out else None,
                     extra={"model": model})
