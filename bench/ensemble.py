"""What the ensemble costs: its three members fused one by one, ``fuse('ensemble')`` (members, mean, and with
``uncertainty=True`` the cues and the calibration), and the ensemble inside a run that already fused its
members (only the averaging and the expected-|error| map: the shared work).

    python -m bench ensemble                     # superballs ×4, whole scene, lite preset, 2 threads
    python -m bench ensemble --preset paper --size 256

Medians of ``--reps`` alternated rounds; results in docs/UNCERTAINTY.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from bench import emit

SCENE = Path(__file__).resolve().parents[2] / "shared" / "data" / "cave" / "superballs_ms"


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def main(argv=None) -> None:
    import torch

    import napari_inf3 as ni
    from napari_inf3.data.sample import load_sample
    from napari_inf3.fusion.pipeline import fusion_run
    from napari_inf3.fusion.types import SimulatedPair

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="lite", choices=["lite", "paper"])
    ap.add_argument("--size", type=int, default=512, help="central N × N of superballs (the sample without it)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    gt = np.asarray((ni.read_cube(SCENE) if SCENE.is_dir() else load_sample()).data, np.float32)
    y, x = max(0, (gt.shape[1] - args.size) // 2), max(0, (gt.shape[2] - args.size) // 2)
    gt = gt[:, y : y + args.size, x : x + args.size]
    lr, msi = ni.simulate(gt, 4, crop=True)
    spec = "" if args.preset == "lite" else f"{args.preset}:"
    ens = ni.pretrained("ensemble", device="cpu", preset=args.preset)
    members = list(ens.members)
    pair = SimulatedPair(gt, scale=4)
    ni.fuse(ens, lr, msi, "cpu")  # warm-up
    rounds: dict[str, list[float]] = {"members one by one": [], "ensemble": [], "ensemble + expected |error|": [],
                                      "run: members, then ensemble": [], "of which the ensemble": []}
    for _ in range(args.reps):
        rounds["members one by one"].append(_timed(lambda: [ni.fuse(m, lr, msi, "cpu") for m in ens.members.values()]))
        rounds["ensemble"].append(_timed(lambda: ni.fuse(ens, lr, msi, "cpu")))
        rounds["ensemble + expected |error|"].append(_timed(lambda: ni.fuse(ens, lr, msi, "cpu", uncertainty=True)))
        t = time.perf_counter()
        run = fusion_run([f"{spec}{m}" for m in members] + [f"{spec}ensemble"], pair, device="cpu")
        rounds["run: members, then ensemble"].append(time.perf_counter() - t)
        rounds["of which the ensemble"].append(run.seconds[f"{spec}ensemble"])
    med = {k: float(np.median(v)) for k, v in rounds.items()}
    print(f"{args.preset}, {gt.shape[1]}×{gt.shape[2]}, {args.threads} threads, median of {args.reps}:")
    print("| what | s |\n|---|---|")
    for k, v in med.items():
        print(f"| {k} | {v:.2f} |")
    emit({"preset": args.preset, "size": gt.shape[1], "threads": args.threads,
          **{k.replace(" ", "_"): round(v, 3) for k, v in med.items()},
          "ensemble_overhead": round(med["ensemble"] / med["members one by one"], 3),
          "shared_ensemble_fraction": round(med["of which the ensemble"] / med["members one by one"], 3)})


if __name__ == "__main__":
    main()
