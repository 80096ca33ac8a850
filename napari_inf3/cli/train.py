"""``napari-inf3 train``: train or fine-tune INFN (one process or DDP under torchrun) into a checkpoint."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..models.variants import UPSAMPLERS  # --upsampler's choices: torch-free, so the parser is built without torch
from ._common import add_common_args, progress_bar_for


def cmd_train(args) -> int:
    from ..data.cube import CubeError
    from ..training.config import TrainConfig
    from ..training.distributed import env_world_size, is_main_process
    from ..training.loop import train

    main_rank = is_main_process()  # under torchrun only rank 0 prints (and writes checkpoints)

    out = Path(args.out)
    if out.exists() and not args.overwrite and args.resume is None:
        raise CubeError("already exists; pass --overwrite to replace it, or --resume it", out)
    from ..io import scene_paths

    scenes = scene_paths(args.scenes, args.exclude)
    val = scene_paths(args.val) if args.val else []
    overlap = {p.resolve() for p in scenes} & {p.resolve() for p in val}
    if overlap:
        raise CubeError(f"validation scenes are also training scenes: {sorted(str(p) for p in overlap)}")
    model_options = _model_options(args)
    if main_rank:
        procs = env_world_size()
        what = f"from {args.init}" if args.init else f"{args.weighting}/{args.preset}"
        if model_options:
            from ..models.variants import describe_variant

            what += f" ({describe_variant(model_options)})"
        print(f"training {what} on {len(scenes)} scene(s), validating on {len(val)}"
              + (f", {procs} processes (global batch {args.batch_size})" if procs > 1 else ""))
    bar = None
    config = TrainConfig(
        weighting=args.weighting, preset=args.preset, model_options=model_options, consistency=args.consistency,
        scale=args.scale,
        offset=args.offset, patch=args.patch, batch_size=args.batch_size, lr=args.lr, schedule=args.schedule,
        precision=args.precision, compile=args.compile, srf=args.srf, camera=args.camera, epochs=args.epochs,
        patches_per_epoch=args.patches_per_epoch, seed=args.seed, device=args.device, out=out,
        resume=args.resume, init=args.init, max_seconds=None if args.max_minutes is None else args.max_minutes * 60,
        grad_clip=args.grad_clip, overwrite=args.overwrite,
    )
    for ev in train(scenes, config, val_scenes=val):
        if not main_rank:
            continue
        if bar is None:
            bar = progress_bar_for(ev.total_steps, "train", "step")
            bar.n = ev.step - 1
        if ev.extra.get("start_val_psnr") is not None:
            bar.write(f"starting from {args.init}: validation PSNR {ev.extra['start_val_psnr']:.2f} dB")
        if ev.kind == "step":
            bar.n = ev.step
            bar.set_postfix_str(f"epoch {ev.epoch + 1} loss {ev.loss:.4f}")
            bar.refresh()
        elif ev.kind == "epoch":
            val_txt = "" if ev.val_psnr is None else f", validation PSNR {ev.val_psnr:.2f} dB"
            bar.write(f"epoch {ev.epoch}: mean loss {ev.loss:.5f}{val_txt}, {ev.seconds:.0f} s -> {ev.checkpoint}")
    if bar is not None:
        bar.close()
    if main_rank:
        print(f"checkpoint: {out}")
    return 0


def _model_options(args) -> dict[str, Any] | None:
    """``TrainConfig.model_options`` from the ablation switches: None when none is given (the full network),
    else only what differs from it. A CubeError when they cannot apply: with --init / --resume (the model
    keeps its own architecture) or --no-rel-coord with another upsampler than INF³'s."""
    from ..data.cube import CubeError
    from ..models.variants import ablation_options

    opts = ablation_options(hr_injection=not args.no_hr_injection, lr_injection=not args.no_lr_injection,
                            rel_coord=not args.no_rel_coord, upsampler=args.upsampler, scale=args.scale)
    if not opts:
        return None
    given = ", ".join(_ablation_flags(opts))
    if args.init or args.resume:
        raise CubeError(f"{given}: --{'init' if args.init else 'resume'} keeps its model's own architecture; "
                        "the ablation switches make a new network (leave them out, or leave out "
                        f"--{'init' if args.init else 'resume'})")
    if "rel_coord" in opts and "upsampler" in opts:
        raise CubeError(f"--no-rel-coord is an ablation of INF³'s implicit function; the {args.upsampler} "
                        "upsampler has no relative coordinate to leave out (drop one of the two)")
    return opts


def _ablation_flags(opts: dict[str, Any]) -> list[str]:
    """The command-line switches that ask for ``opts`` (for messages)."""
    flags = [f"--no-{name.replace('_', '-')}" for name in ("hr_injection", "lr_injection", "rel_coord") if name in opts]
    return flags + ([f"--upsampler {opts['upsampler']}"] if "upsampler" in opts else [])


def add_train_args(sub) -> None:
    """``train``: an INFN checkpoint from ground-truth scenes, optionally under torchrun (:func:`cmd_train`)."""
    p = sub.add_parser("train", help="train an INFN checkpoint on ground-truth scenes",
                       description="Train INFN on 64x64 patches simulated on the fly (L1 loss, Adam).")
    p.add_argument("scenes", nargs="+", help="training cubes, or folders that contain them")
    p.add_argument("--exclude", nargs="*", default=[], help="scene names to skip (e.g. your validation scene)")
    p.add_argument("--val", nargs="*", default=[], help="validation cubes (PSNR after every epoch)")
    p.add_argument("--out", required=True, help="checkpoint to write (rewritten after every epoch)")
    p.add_argument("--resume", help="continue from this checkpoint")
    p.add_argument("--init", metavar="MODEL",
                   help="fine-tune: start from this model's weights (pretrained name such as cosine or "
                        "paper:net, or a checkpoint); its weighting and preset are kept, optimiser and "
                        "schedule start afresh, the projection takes --srf")
    p.add_argument("--weighting", default="cosine", choices=["area", "net", "cosine", "cosine_norm"])
    p.add_argument("--preset", default="lite", choices=["lite", "paper"])
    p.add_argument("--consistency", default="srf", choices=["srf", "none"],
                   help="project the output onto what the HR-MSI sees through the SRF (srf, default) "
                   "or not (the paper)")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--patches-per-epoch", type=int, default=None, help="default: the whole patch grid")
    p.add_argument("--batch-size", type=int, default=32,
                   help="global batch: under torchrun each of N processes takes 1/N of it")
    p.add_argument("--patch", type=int, default=64, help="GT patch side in pixels (default 64)")
    p.add_argument("--lr", type=float, default=1e-4, help="Adam learning rate (paper: 1e-4)")
    p.add_argument("--schedule", default="constant", choices=["constant", "cosine"])
    p.add_argument("--grad-clip", type=float, default=None, help="clip the gradient norm to this")
    p.add_argument("--max-minutes", type=float, default=None, help="stop (with a checkpoint) after this time")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"],
                   help="bf16: forward and loss under autocast (worth it on a GPU; weights stay float32)")
    p.add_argument("--srf", default="nikon_d700",
                   help="the HR-MSI camera's spectral response the training pairs are simulated with: a packaged "
                   "name (nikon_d700) or a CSV (header channel,<nm>,...; e.g. from fuse --srf estimate --srf-out)")
    p.add_argument("--camera", metavar="FILE",
                   help="a camera JSON (fuse --camera estimate --camera-out): training HR-MSIs are simulated "
                   "through it (its response, tone curve, clipping, 8-bit), e.g. to fine-tune --init cosine to it")
    p.add_argument("--compile", action="store_true",
                   help="torch.compile the training step: ~1 min to compile, then ~10 %% faster paper-preset steps "
                        "on a CPU (lite: no gain)")
    add_ablation_args(p)
    add_common_args(p)
    p.set_defaults(func=cmd_train)


def add_ablation_args(p: argparse.ArgumentParser) -> None:
    """``train``'s advanced options: INFN's ablation switches, for a new network (:func:`_model_options`)."""
    g = p.add_argument_group("ablations (the paper's Tables 2, 3, 5)",
                             "train a variant of the network, e.g. to repeat the paper's ablations; a new network "
                             "only: --init and --resume keep their model's architecture")
    g.add_argument("--no-hr-injection", action="store_true",
                   help="leave the HR-domain injection S_pa(C_q) out of the MLP's input (eq. 13; Table 2)")
    g.add_argument("--no-lr-injection", action="store_true",
                   help="leave the LR-domain injection S_pa^D(C_i) out of the features F¹ (eq. 11; Table 2)")
    g.add_argument("--no-rel-coord", action="store_true",
                   help="leave the relative coordinate δc out of the MLP's input (eq. 14; Table 3); "
                   "INF³'s upsampler only")
    g.add_argument("--upsampler", default="inf3", choices=UPSAMPLERS,
                   help="inf3 (the paper's implicit function, default) or Table 5's alternatives: the LR feature "
                   "map upsampled bilinearly, bicubically or by a pixel shuffle (whose fixed ratio is --scale)")
