"""Training throughput: one process against N torch.distributed processes (DDP) on this machine.

    .venv/bin/python -m bench ddp [--procs 2] [--preset lite] [--steps 12] [--batch 16]

Runs ``napari-inf3 train`` twice on the same real CAVE scenes (two training scenes of
../shared/data/cave; the sample crop without them) with the same global batch: once as one
process with all cores as torch threads, once under ``torchrun --standalone
--nproc_per_node=N`` (gloo, one thread per process). Reads steps and wall time from each
checkpoint's metadata (model built → last step; interpreter start-up and rendezvous not
included) and prints patches/s for both, then one JSON line.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from . import emit

ROOT = Path(__file__).resolve().parents[1]
CAVE = ROOT.parent / "shared" / "data" / "cave"


def run(prefix: list[str], env: dict, scenes: list[str], out: Path, args) -> dict:
    from napari_inf3.models.checkpoint import read_checkpoint

    cmd = [*prefix, "-m", "napari_inf3", "train", *scenes, "--out", str(out), "--preset", args.preset,
           "--batch-size", str(args.batch), "--epochs", "1", "--patches-per-epoch", str(args.batch * args.steps),
           "--device", "cpu", "--lr", "1e-4"]
    res = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **env})
    if res.returncode != 0:
        raise SystemExit(f"bench/ddp.py: {' '.join(cmd)} failed:\n{res.stderr[-3000:]}")
    meta = read_checkpoint(out)["meta"]
    return {"steps": meta["steps"], "seconds": meta["wall_seconds"], "processes": meta["processes"],
            "patches_per_s": meta["steps"] * args.batch / meta["wall_seconds"]}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--procs", type=int, default=2)
    ap.add_argument("--preset", default="lite")
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args(argv)
    picks = [CAVE / n for n in ("balloons_ms", "face_ms")]
    if all(p.is_dir() for p in picks):
        scenes = [str(p) for p in picks]
    else:
        from napari_inf3.data.sample import sample_path

        scenes = [str(sample_path())]
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        one = run([sys.executable], {"OMP_NUM_THREADS": str(cores)}, scenes, Path(tmp) / "one.pt", args)
        many = run([sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={args.procs}"],
                   {"OMP_NUM_THREADS": str(max(1, cores // args.procs))}, scenes, Path(tmp) / "ddp.pt", args)
    print(f"{args.preset}, global batch {args.batch}, {args.steps} steps, {cores} cores")
    print(f"1 process × {cores} threads:            {one['patches_per_s']:.2f} patches/s ({one['seconds']:.1f} s)")
    print(f"{args.procs} processes × {max(1, cores // args.procs)} thread(s) (DDP, gloo): "
          f"{many['patches_per_s']:.2f} patches/s ({many['seconds']:.1f} s)")
    emit({"bench": "ddp", "preset": args.preset, "batch": args.batch, "cores": cores,
          "one_process": one, "ddp": many, "speedup": many["patches_per_s"] / one["patches_per_s"]})


if __name__ == "__main__":
    main()
