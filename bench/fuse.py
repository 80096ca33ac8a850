"""Fusion speed, memory and FLOP efficiency against this machine's own limit (issue 6).

    .venv/bin/python -m bench fuse            # full: sizes 256²..2048², every preset × weighting at 512²
    .venv/bin/python -m bench fuse --quick    # paper preset, cosine, 512² and 1024² only (55 s on 2 cores:
                                              # docs/PERFORMANCE.md)

Input: the real CAVE scene ``superballs_ms`` (512×512×31, from ../shared/data; the 192² sample
crop mirrored up to 512² without it), simulated ×4 as the paper does. Larger and smaller sizes
are mirror-tilings / centre crops of that simulated pair (the LR-HSI and the HR-MSI are tiled
together, so they stay a consistent pair). Every measurement runs in a fresh process, so its
peak RSS (``ru_maxrss``) is its own; it warms up on a small crop first, then fuses once
(512² and smaller: best of two, except with ``--quick``) with :func:`napari_inf3.fuse` and the automatic tile size.

``flop_ratio`` = (straightforward FLOPs of the paper's formulas, :mod:`napari_inf3.models.infn.flops`,
divided by the wall time) / (this machine's dense fp32 matmul FLOP/s: a 2048² ``torch.mm``
timed in the same run). Savings of the algorithm (split first MLP layer, last layer after the
weighting) raise it; only the paper preset at 512² on the CPU is the headline figure.

Prints a table, then one JSON line with ``flop_ratio``, ``peak_mem_gb`` (at the largest
size), ``time_per_pixel_spread`` (max / min seconds per HR pixel across sizes) and all rows.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from . import emit

ROOT = Path(__file__).resolve().parents[1]
SCENE = ROOT.parent / "shared" / "data" / "cave" / "superballs_ms"
SCALE = 4


def real_pair(size: int) -> tuple[np.ndarray, np.ndarray, str]:
    """``(LR (31, size/4, size/4), HR-MSI (3, size, size), scene name)`` from a real CAVE scene."""
    from napari_inf3 import read_cube, simulate
    from napari_inf3.data.sample import sample_path

    path = SCENE if SCENE.is_dir() else sample_path()
    gt = read_cube(path).data
    if gt.shape[1] < 512:  # the sample crop: mirror it up to the 512² the benchmark is about
        gt = np.pad(gt, ((0, 0), (0, 512 - gt.shape[1]), (0, 512 - gt.shape[2])), mode="symmetric")
    lr, msi = simulate(gt[:, :512, :512], SCALE)
    return mirror(lr, size // SCALE), mirror(msi, size), path.name


def mirror(a: np.ndarray, n: int) -> np.ndarray:
    """``a`` ``(C, m, m)`` cropped (centre) or mirror-tiled to ``(C, n, n)``."""
    m = a.shape[-1]
    if n <= m:
        o = (m - n) // 2
        return np.ascontiguousarray(a[:, o : o + n, o : o + n])
    return np.pad(a, ((0, 0), (0, n - m), (0, n - m)), mode="symmetric")


def matmul_flops(n: int = 2048, reps: int = 5) -> float:
    """Dense fp32 FLOP/s of ``torch.mm`` on n×n matrices on the CPU (best of ``reps``)."""
    import torch

    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t)
    return 2.0 * n**3 / best


def worker(spec: dict) -> dict:
    """One measurement in this (fresh) process; returns its row."""
    import torch

    from napari_inf3 import fuse
    from napari_inf3.data.simulation import load_srf
    from napari_inf3.fusion.tiling import auto_tile
    from napari_inf3.models.infn import INFN
    from napari_inf3.models.infn.flops import straightforward_flops

    if spec.get("threads"):
        torch.set_num_threads(spec["threads"])
    torch.manual_seed(0)
    dev = torch.device(spec["device"])
    # as train() builds them: with the SRF projection (its cost: 3×31 and 31×3 per pixel)
    model = INFN(weighting=spec["weighting"], preset=spec["preset"], consistency="srf",
                 srf=load_srf("nikon_d700", bands=31)).eval().to(dev)
    lr, msi, scene = real_pair(spec["size"])
    fuse(model, lr[:, :16, :16], msi[:, :64, :64], dev)  # warm-up: oneDNN primitives, allocator
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    if dev.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats(dev)
    tile = spec["tile"] if spec.get("tile") is not None else auto_tile(model, SCALE, dev)  # 0: untiled
    times = []
    reps = max(10, spec.get("reps", 1)) if dev.type == "cuda" else spec.get("reps", 1)
    if dev.type == "cuda":  # cuDNN autotuning and the first launches stay out of the timing
        for _ in range(2):
            fuse(model, lr, msi, dev, tile=tile, precision=spec.get("precision", "fp32"),
                 weights=spec.get("weights", False))
        torch.cuda.synchronize()
    for _ in range(reps):
        t = time.perf_counter()
        out = fuse(model, lr, msi, dev, tile=tile, precision=spec.get("precision", "fp32"),
                   weights=spec.get("weights", False))
        if dev.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
        del out
    # the CPU reports its best of a few (each takes seconds); CUDA the median of >= 10, host to host
    best = float(np.median(times)) if dev.type == "cuda" else min(times)
    px = spec["size"] ** 2
    flops = straightforward_flops(model.config, SCALE)["total"]
    row = {
        **spec, "scene": scene, "tile_lr": int(tile), "seconds": best, "hr_px_per_s": px / best,
        "us_per_px": 1e6 * best / px, "flops_per_px": flops, "gflops_s": flops * px / best / 1e9,
        "rss_before_gb": rss0, "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
        "params": model.num_parameters(), "threads": torch.get_num_threads(),
    }
    if dev.type == "cuda":
        row["cuda_max_allocated_gb"] = torch.cuda.max_memory_allocated(dev) / 2**30
    return row


def run(specs: list[dict]) -> list[dict]:
    """Measure ``specs`` in one fresh process (the CPU: one spec each, so its peak RSS is its own;
    CUDA: all of them in one, so CUDA's start-up is paid once)."""
    cmd = [sys.executable, "-m", "bench.fuse", "--worker", json.dumps(specs)]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if res.returncode != 0:
        raise SystemExit(f"bench/fuse.py: the measurement {specs} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def bf16_matmul_tflops(dev: str) -> float:
    """Dense bf16 TFLOP/s of an 8192³ ``torch.mm`` on a CUDA device (median of 20, CUDA events)."""
    import torch

    a = torch.randn(8192, 8192, device=dev, dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device=dev, dtype=torch.bfloat16)
    for _ in range(5):
        torch.mm(a, b)
    ms = []
    for _ in range(20):
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        e0.record()
        torch.mm(a, b)
        e1.record()
        e1.synchronize()
        ms.append(e0.elapsed_time(e1))
    return 2 * 8192**3 / float(np.median(ms)) / 1e9


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="paper preset, cosine, 512² and 1024² only")
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024, 2048], help="HR sides")
    ap.add_argument("--devices", nargs="+", default=None, help="default: cpu, and cuda when present")
    ap.add_argument("--tile", type=int, default=None, help="LR tile side (default: automatic)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16", "fp16"],
                    help="autocast for the network (fp16: CUDA only); flop_ratio is meant for fp32")
    ap.add_argument("--weights", action="store_true",
                    help="add rows that also return the (4, H, W) neighbour weights (what they cost)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        specs = json.loads(args.worker)
        rows = [worker(s) for s in specs]
        if any(s["device"].startswith("cuda") for s in specs):
            peak = bf16_matmul_tflops(specs[0]["device"])
            for r in rows:
                r["gpu_bf16_matmul_tflops"] = peak
        print(json.dumps(rows))
        return

    import torch

    devices = args.devices or (["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    sizes = [512, 1024] if args.quick else sorted(args.sizes)
    mm = matmul_flops()
    base = {"tile": args.tile, "threads": args.threads, "precision": args.precision}
    reps = lambda size: 1 if args.quick or size > 512 else 2  # noqa: E731  best of two where it is cheap
    specs = []
    for dev in devices:
        specs += [{"device": dev, "preset": "paper", "weighting": "cosine", "size": s, "reps": reps(s), **base}
                  for s in sizes]
        if args.weights:
            specs += [{"device": dev, "preset": "paper", "weighting": w, "size": 512, "reps": reps(512),
                       "weights": True, **base} for w in ("area", "net", "cosine")]
        if not args.quick:
            specs += [{"device": dev, "preset": p, "weighting": w, "size": 512, "reps": 2, **base}
                      for p in ("paper", "lite") for w in ("area", "net", "cosine")
                      if not (p == "paper" and w == "cosine" and 512 in sizes)]
    rows = []
    print(f"matmul (2048² torch.mm, fp32, CPU): {mm / 1e9:.0f} GFLOP/s")
    print(f"{'device':6} {'preset':6} {'weighting':9} {'size':>5} {'tile':>5} {'s':>8} {'Mpx/s':>7} {'µs/px':>7} "
          f"{'MFLOP/px':>8} {'GFLOP/s':>8} {'ratio':>6} {'peak RSS':>9}")
    groups = [[s] for s in specs if s["device"] == "cpu"]
    cuda_specs = [s for s in specs if s["device"] != "cpu"]
    groups += [cuda_specs] if cuda_specs else []
    for row in (r for g in groups for r in run(g)):
        # CPU: against its fp32 matmul rate; CUDA: against the GPU's bf16 matmul rate (the ceiling)
        row["flop_ratio"] = (row["gflops_s"] * 1e9 / mm if row["device"] == "cpu"
                             else row["gflops_s"] / 1e3 / row["gpu_bf16_matmul_tflops"])
        rows.append(row)
        ratio = "—" if row["flop_ratio"] is None else f"{row['flop_ratio']:.2f}"
        print(f"{row['device']:6} {row['preset']:6} {row['weighting'] + ('+w' if row.get('weights') else ''):9} "
              f"{row['size']:>5} {row['tile_lr']:>5} "
              f"{row['seconds']:8.2f} {row['hr_px_per_s'] / 1e6:7.3f} {row['us_per_px']:7.2f} "
              f"{row['flops_per_px'] / 1e6:8.2f} {row['gflops_s']:8.1f} {ratio:>6} {row['peak_rss_gb']:8.2f}G"
              + (f" cuda {row['cuda_max_allocated_gb']:.2f}G" if "cuda_max_allocated_gb" in row else ""), flush=True)
    main_dev = "cpu" if any(r["device"] == "cpu" for r in rows) else rows[0]["device"]
    plain = [r for r in rows if not r.get("weights")]  # the --weights rows are reported, not summarised
    cpu_sweep = [r for r in plain if r["device"] == main_dev and r["preset"] == "paper" and r["weighting"] == "cosine"]
    head = [r for r in plain if r["device"] == main_dev and r["preset"] == "paper" and r["size"] == 512] or cpu_sweep
    per_px = [r["us_per_px"] for r in cpu_sweep]
    largest = max(cpu_sweep, key=lambda r: r["size"])
    summary = {
        "bench": "fuse", "matmul_gflops": mm / 1e9, "headline_device": main_dev,
        "flop_ratio": min(r["flop_ratio"] for r in head),
        "flop_ratio_by_weighting": {r["weighting"]: r["flop_ratio"] for r in head},
        "peak_mem_gb": largest["peak_rss_gb"], "peak_mem_size": largest["size"],
        "time_per_pixel_spread": max(per_px) / min(per_px),
        "rows": rows,
    }
    print(f"flop_ratio (paper, 512², {main_dev}, worst weighting) {summary['flop_ratio']:.2f}; time per pixel spread "
          f"{summary['time_per_pixel_spread']:.2f} over {[r['size'] for r in cpu_sweep]}; peak RSS "
          f"{summary['peak_mem_gb']:.2f} GB at {largest['size']}²")
    emit(summary)


if __name__ == "__main__":
    main()
