"""Training throughput per preset against this machine's own limit (issue 6).

    .venv/bin/python -m bench train [--steps 6] [--batch 16] [--presets paper lite]

Runs :func:`napari_inf3.train` for a few steps on real CAVE training scenes (two of
../shared/data/cave, never superballs; the sample crop without them), 64² patches ×4 as the
paper, and reports steps/s, patches/s and the FLOP ratio: (training FLOPs ≈ 3 × the
straightforward forward FLOPs of :mod:`napari_inf3.models.infn.flops` per pixel — forward, and a
backward that costs twice that — × pixels per step / seconds per step) / (a 2048² ``torch.mm``'s
FLOP/s timed in the same run). The first two steps (allocator and oneDNN warm-up; with ``--compile``
the compilation) are not timed. Batches are cut and simulated on the training device
(:class:`napari_inf3.training.data.PatchSampler`), and each step ends in one sync (its loss), so on
CUDA this times the GPU, not numpy; ``--precision bf16`` trains under autocast.
Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from . import emit
from .fuse import matmul_flops

ROOT = Path(__file__).resolve().parents[1]
CAVE = ROOT.parent / "shared" / "data" / "cave"


def scenes() -> list:
    from napari_inf3 import read_cube
    from napari_inf3.data.sample import sample_path

    picks = [CAVE / n for n in ("paints_ms", "face_ms")]  # training scenes of the paper's split
    return [read_cube(p) for p in picks] if all(p.is_dir() for p in picks) else [read_cube(sample_path())]


def measure(preset: str, weighting: str, steps: int, batch: int, data, device, precision: str = "fp32",
            compile: bool = False) -> dict:
    from napari_inf3 import train
    from napari_inf3.models.infn.flops import straightforward_flops

    times, model = [], None
    last = None
    for ev in train(data, weighting=weighting, preset=preset, batch_size=batch, epochs=1,
                    patches_per_epoch=batch * (steps + 2), lr=1e-4, device=device, precision=precision,
                    compile=compile):
        if ev.kind == "step":
            now = time.perf_counter()
            if last is not None and ev.step > 2:  # steps 1-2: warm-up (and compilation)
                times.append(now - last)
            last = now
        elif ev.kind == "done":
            model = ev.extra["model"]
    per_step = sum(times) / len(times)
    flops = 3 * straightforward_flops(model.config, 4)["total"] * batch * 64 * 64
    return {"preset": preset, "weighting": weighting, "batch": batch, "steps_timed": len(times),
            "s_per_step": per_step, "steps_per_s": 1 / per_step, "patches_per_s": batch / per_step,
            "train_flops_per_step": flops, "gflops_s": flops / per_step / 1e9, "params": model.num_parameters(),
            "device": str(next(model.parameters()).device)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=6, help="timed steps per preset (after one warm-up step)")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--presets", nargs="+", default=["paper", "lite"])
    ap.add_argument("--weighting", default="cosine")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    ap.add_argument("--compile", action="store_true", help="train through torch.compile (its first steps not timed)")
    args = ap.parse_args(argv)
    import torch

    torch.manual_seed(0)
    mm = matmul_flops()
    data = scenes()
    print(f"matmul (2048² torch.mm, fp32, CPU): {mm / 1e9:.0f} GFLOP/s; {torch.get_num_threads()} threads")
    print(f"{'preset':6} {'weighting':9} {'batch':>5} {'s/step':>8} {'steps/s':>8} {'patches/s':>10} {'GFLOP/s':>8} "
          f"{'ratio':>6}")
    rows = []
    for preset in args.presets:
        row = measure(preset, args.weighting, args.steps, args.batch, data, args.device, args.precision, args.compile)
        row["compiled"] = args.compile
        row["flop_ratio"] = row["gflops_s"] * 1e9 / mm if row["device"] == "cpu" else None
        rows.append(row)
        ratio = "—" if row["flop_ratio"] is None else f"{row['flop_ratio']:.2f}"
        print(f"{preset:6} {args.weighting:9} {args.batch:>5} {row['s_per_step']:8.2f} {row['steps_per_s']:8.3f} "
              f"{row['patches_per_s']:10.2f} {row['gflops_s']:8.1f} {ratio:>6}", flush=True)
    emit({"bench": "train", "matmul_gflops": mm / 1e9, "rows": rows})


if __name__ == "__main__":
    main()
