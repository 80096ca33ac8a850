"""``napari-inf3 grid``: train and score a grid of ablation variants × schemes × seeds × folds, resumably.

    napari-inf3 grid CAVE_FOLDER --out runs/grid --variants full no_hr --seeds 0 1 2 --run-folds 0 \\
        --test-also superballs_ms --steps 240 --jobs 2
    napari-inf3 grid --out runs/grid --report          # the tables so far (grid.md, grid_summary.json)
    napari-inf3 grid --list-variants                   # the variants and their parameter counts vs the paper

See :mod:`napari_inf3.evaluation.ablation_grid` (what a cell is, how it resumes) and
:mod:`napari_inf3.evaluation.ablation_report`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from ..data.cube import CubeError


def add_grid_args(sub) -> None:
    """``grid``: the ablation grid (:func:`cmd_grid`)."""
    from ..evaluation.ablation_grid import SCHEMES, VARIANTS

    p = sub.add_parser("grid", help="train and score ablation variants × schemes × seeds × folds (resumable)",
                       description=(__doc__ or "").split("\n\n")[0] + " Each model is scored on scenes it never "
                       "trained on: its fold's held-out scenes and --test-also. Rerun the same command to "
                       "continue; add seeds, variants or folds to extend the grid.",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("data", nargs="?", help="folder of ground-truth scenes (the k-fold pool and --test-also)")
    p.add_argument("--out", help="grid folder (created; a later call must use the same recipe)")
    p.add_argument("--variants", nargs="+", default=["full"], metavar="VARIANT",
                   help=f"model variants (default: full): {', '.join(VARIANTS)}; VARIANT:SCHEME[,SCHEME] runs "
                   "it with those schemes only (e.g. no_hr:cosine)")
    p.add_argument("--schemes", nargs="+", default=list(SCHEMES), choices=[*SCHEMES, "cosine_norm"],
                   help="weighting schemes (default: area net cosine; upsampler variants have none)")
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    p.add_argument("--folds", type=int, default=4, help="k of the k-fold split of the training scenes (default 4)")
    p.add_argument("--run-folds", nargs="+", type=int, default=None, help="folds to run now (default: all)")
    p.add_argument("--test-also", nargs="*", default=[], metavar="SCENE",
                   help="scene names never trained on, scored by every model (e.g. superballs_ms)")
    g = p.add_argument_group("recipe (shared by every cell; stored in grid.json)")
    g.add_argument("--preset", default="lite", choices=["lite", "paper"])
    g.add_argument("--steps", type=int, default=240)
    g.add_argument("--epoch-steps", type=int, default=20, help="steps between checkpoints (resume points)")
    g.add_argument("--batch-size", type=int, default=16)
    g.add_argument("--patch", type=int, default=64)
    g.add_argument("--lr", type=float, default=2e-4)
    g.add_argument("--schedule", default="cosine", choices=["cosine", "constant"])
    g.add_argument("--consistency", default="srf", choices=["srf", "none"],
                   help="srf: the shipped recipe's SRF projection; none: the paper's network")
    g.add_argument("--scale", type=int, default=4)
    r = p.add_argument_group("running")
    r.add_argument("--jobs", type=int, default=1, help="processes, one thread each, sharing the grid")
    r.add_argument("--part", default="0/1", help="I/N: this process runs every N-th cell from the I-th")
    r.add_argument("--threads", type=int, default=None, help="torch threads of this process")
    r.add_argument("--max-minutes", type=float, default=None, help="stop at the next checkpoint after this")
    r.add_argument("--device", default="cpu")
    r.add_argument("--report", action="store_true", help="only write the report of what is scored so far")
    r.add_argument("--list-variants", action="store_true", help="print the variants' parameter counts and stop")
    p.set_defaults(func=cmd_grid)


def cmd_grid(args) -> int:
    from ..evaluation.ablation_grid import GridRecipe, fill_baselines, plan_grid, run_grid
    from ..evaluation.ablation_report import write_report

    if args.list_variants:
        print(variants_table())
        return 0
    if not args.out:
        raise CubeError("--out is required: the grid folder")
    if args.report:
        fill_baselines(args.out)
        print(write_report(args.out).read_text(encoding="utf-8"))
        return 0
    if not args.data:
        raise CubeError("name the folder of scenes to train and test on")
    recipe = GridRecipe(preset=args.preset, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                        schedule=args.schedule, epoch_steps=args.epoch_steps, patch=args.patch,
                        consistency=args.consistency, scale=args.scale, folds=args.folds,
                        test_also=tuple(args.test_also))
    plan = plan_grid(args.data, args.out, recipe, variants=args.variants, schemes=args.schemes, seeds=args.seeds,
                     run_folds=args.run_folds)
    if args.jobs > 1:
        return _spawn(args.jobs, args.argv, plan.out)
    part = _part(args.part)
    print(f"grid {plan.out}: {len(plan.cells)} cell(s), this process {part[0]}/{part[1]}", flush=True)
    for ev in run_grid(plan, part=part, max_minutes=args.max_minutes, threads=args.threads, device=args.device):
        if ev.cell is None:
            continue
        if ev.kind == "scored" and ev.scores:
            txt = ", ".join(f"{s} {v['psnr']:.2f}" for s, v in ev.scores.items())
            print(f"[{ev.seconds:6.0f} s] {ev.cell.name}: {txt}", flush=True)
        elif ev.kind in ("start", "skip", "stopped"):
            print(f"[{ev.seconds:6.0f} s] {ev.cell.name}: {ev.kind}", flush=True)
        elif ev.kind == "epoch":
            print(f"[{ev.seconds:6.0f} s] {ev.cell.name}: step {ev.step}/{ev.total}", flush=True)
    if part[0] == 0:
        write_report(plan.out)
        print(f"report: {plan.out / 'grid.md'}")
    return 0


def _part(text: str) -> tuple[int, int]:
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise CubeError(f"--part is I/N with 0 ≤ I < N (e.g. 0/2); got {text!r}") from None
    if not 0 <= i < n:
        raise CubeError(f"--part is I/N with 0 ≤ I < N (e.g. 0/2); got {text!r}")
    return i, n


def _spawn(jobs: int, argv: list[str], out: Path) -> int:
    """Run this command (``argv``: its words after ``napari-inf3``) as ``jobs`` processes (``--part i/jobs
    --threads 1 --jobs 1``, the last of a repeated option wins); wait for all, then report on the grid ``out``."""
    procs = []
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    for i in range(jobs):
        cmd = [sys.executable, "-m", "napari_inf3", *argv, "--jobs", "1", "--part", f"{i}/{jobs}", "--threads", "1"]
        procs.append(subprocess.Popen(cmd, env=env))
    codes = [p.wait() for p in procs]
    if all(c == 0 for c in codes):
        from ..evaluation.ablation_grid import fill_baselines
        from ..evaluation.ablation_report import write_report

        fill_baselines(out)
        print(f"report: {write_report(out)}")
    return max(codes)


def variants_table() -> str:
    """The variants with their parameter counts at both presets, next to the paper's."""
    from ..evaluation.ablation_grid import PAPER, VARIANTS, variant_parameters

    lite, paper = variant_parameters("lite"), variant_parameters("paper")
    lines = ["| variant | INFN keywords | lite | paper preset | paper's Table (params) |", "|---|---|---|---|---|"]
    for name, opts in VARIANTS.items():
        p = PAPER[name]
        theirs = f"{p['params'] / 1e6:.3f} M" if p["params"] else "—"
        kw = ", ".join(f"{k}={v!r}" for k, v in opts.items()) or "(defaults)"
        lines.append(f"| {name} | {kw} | {lite[name]:,} | {paper[name]:,} ({paper[name] / 1e6:.3f} M) | "
                     f"{p['table']} ({theirs}) |")
    return "\n".join(lines)
