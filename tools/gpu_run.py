"""One command for a lent GPU machine: check it, train area / net / cosine together, time fusion, run the CUDA tests.

    python -m tools.gpu_run --pack .pack --out "$OUT" --budget 290 --wheels .wheels

From the repository root (``-m`` puts the source tree on the import path). Runs from the source tree with
what the GPU machine has (torch, numpy, pillow; no napari, no spectral) and writes everything worth keeping
into ``--out`` (at most 8 files come back):

1. ``machine``: torch, CUDA device, and the bf16 matmul rate timed here (8192³ ``torch.mm``,
   median of 20 after warm-up, CUDA events) — the ceiling the fusion ratio is taken against.
2. ``tests``: ``pytest -m cuda tests/models/test_cuda.py`` (pytest installed from ``--wheels`` when
   the machine lacks it).
3. ``train``: one INFN per weighting (``--preset``, SRF projection, same seed, same data, same
   batches, same steps — they train in lock step, one batch shared by the three), bf16 autocast,
   channels-last trunks, cuDNN autotuning, fused Adam, batches cut and simulated on the GPU
   (:class:`napari_inf3.training.data.PatchSampler`). Stops on a wall-clock budget: after the
   first ``--calibrate`` fraction of it the step rate fixes the total steps, and the
   learning rate follows a cosine over those steps (so the run is a step-based schedule that
   ``napari_inf3.train`` can repeat). Logs loss, patches/s and the validation PSNR on the
   superballs sample crop (``sample_data/``, 16-bit, never trained on) against time.
   Writes weights-only fp32 checkpoints ``infn_<preset>_<weighting>_x4.pt``.
4. ``fusion``: superballs ×4 (512², from the pack) with each checkpoint, fp32 and bf16: the
   network alone on GPU-resident tensors (CUDA events, median of ``--repeats`` after warm-up)
   and :func:`napari_inf3.fuse` host to host; ``flop_ratio`` = straightforward FLOPs / time /
   the bf16 matmul rate of step 1.

``gpu_run.json`` is rewritten after every stage, so a stage that fails keeps the others. The runs that made
the shipped checkpoints, and their figures: docs/results/gpu/gpu_run_{lite,paper}.json and .log,
docs/PERFORMANCE.md ("On a GPU"), docs/REPRODUCTION.md.
``--init shipped`` continues the shipped checkpoints of ``--preset`` instead of starting from
scratch, so GPU time lent in separate sessions adds up (each checkpoint's ``meta['init']`` keeps
its parent's metadata; :func:`napari_inf3.training.start.lineage` lists the chain).
``--preset lite --budget 20 --device cpu --no-tests`` is the CPU rehearsal (tests/test_gpu_run.py).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

WEIGHTINGS = ("area", "net", "cosine")
VAL_SCENE = "superballs_ms"


def log(*a) -> None:
    print(f"[{time.strftime('%H:%M:%S')}]", *a, flush=True)


def sync(dev) -> None:
    import torch

    if dev.type == "cuda":
        torch.cuda.synchronize(dev)


def timed(fn, dev, repeats: int, warmup: int = 3) -> list[float]:
    """Milliseconds of ``fn()`` per call: CUDA events on a GPU, perf_counter after a sync elsewhere."""
    import torch

    for _ in range(warmup):
        fn()
    sync(dev)
    out = []
    for _ in range(repeats):
        if dev.type == "cuda":
            a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            a.record()
            fn()
            b.record()
            b.synchronize()
            out.append(a.elapsed_time(b))
        else:
            t = time.perf_counter()
            fn()
            out.append(1e3 * (time.perf_counter() - t))
    return out


def machine(dev) -> dict:
    import torch

    info = {"torch": torch.__version__, "python": sys.version.split()[0], "device": str(dev),
            "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version() if dev.type == "cuda" else None}
    if dev.type == "cuda":
        p = torch.cuda.get_device_properties(dev)
        info.update(name=p.name, memory_gb=round(p.total_memory / 2**30, 1), sms=p.multi_processor_count,
                    capability=f"{p.major}.{p.minor}")
        n = 8192
        dt = torch.bfloat16
    else:
        info["name"] = "cpu"
        n = 1024
        dt = torch.float32
    gen = torch.Generator(device=dev).manual_seed(0)
    a = torch.randn(n, n, device=dev, dtype=dt, generator=gen)
    b = torch.randn(n, n, device=dev, dtype=dt, generator=gen)
    ms = float(np.median(timed(lambda: torch.mm(a, b), dev, 20, warmup=5)))
    info["matmul"] = {"n": n, "dtype": str(dt), "ms": round(ms, 4), "tflops": round(2 * n**3 / ms / 1e9, 4)}
    info["tf32"] = {"matmul": torch.backends.cuda.matmul.allow_tf32, "cudnn": torch.backends.cudnn.allow_tf32}
    return info


def read_png_folder(folder: Path) -> np.ndarray:
    """A CAVE band folder as ``(B, H, W)`` float32 in [0, 1] (pillow only)."""
    from PIL import Image

    files = sorted(folder.glob("*_[0-9][0-9].png"))
    return np.stack([np.asarray(Image.open(f), dtype=np.float32) / 65535.0 for f in files]).astype(np.float32)


def run_tests(wheels: Path | None, out: Path) -> dict:
    path = [str(ROOT)]
    try:
        import pytest  # noqa: F401
    except ImportError:
        if wheels is None:
            return {"skipped": "pytest is not installed and no --wheels given"}
        site = out.parent / f".{out.name}-site"  # outside --out: only results come back
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--find-links", str(wheels),
                        "--target", str(site), "pytest"], check=True)
        path.append(str(site))
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "cuda", "-p", "no:cacheprovider",
                           "tests/models/test_cuda.py"], cwd=ROOT, capture_output=True, text=True, timeout=240,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(path)})
    (out / "cuda_tests.log").write_text(proc.stdout + proc.stderr)
    tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or [""]
    return {"returncode": proc.returncode, "summary": tail[0], "seconds": round(time.perf_counter() - t, 1)}


def validate(models: dict, lr_np, msi_np, gt, dev) -> dict:
    from napari_inf3.evaluation.metrics import psnr
    from napari_inf3.fusion.inference import fuse

    out = {}
    for w, m in models.items():
        out[w] = round(float(psnr(fuse(m, lr_np, msi_np, dev, tile="off").cube, gt)), 3)
        m.train()
    return out


def init_source(init: str, preset: str, weighting: str) -> str:
    """The checkpoint ``--init`` names for one weighting: ``shipped`` → the package's ``preset``
    checkpoint (``'paper:cosine'``); a folder → its ``infn_<preset>_<weighting>_x4.pt``."""
    if init == "shipped":
        return f"{preset}:{weighting}"
    path = Path(init) / f"infn_{preset}_{weighting}_x4.pt"
    if not path.is_file():
        raise FileNotFoundError(f"--init {init}: no {path.name} there")
    return str(path)


def train_together(scenes: dict, val_gt: np.ndarray, dev, a) -> tuple[dict, dict]:
    """Train one model per weighting in lock step; returns ``(models, record)``."""
    import torch

    from napari_inf3.data.simulation import load_srf, simulate
    from napari_inf3.fusion.inference import _autocast
    from napari_inf3.models.infn import INFN
    from napari_inf3.training.data import PatchSampler
    from napari_inf3.training.sampling import default_stride, epoch_order, patch_grid
    from napari_inf3.training.start import init_model

    srf = load_srf()
    names = sorted(scenes)
    arrays = [scenes[n] for n in names]
    grid = patch_grid([s.shape for s in arrays], a.patch, default_stride(a.patch, a.scale))
    sampler = PatchSampler(arrays, grid, a.patch, a.scale, None, srf, dev)
    del arrays
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    autocast = _autocast(dev, a.precision)
    models, opts, parents = {}, {}, {}
    for w in WEIGHTINGS:
        torch.manual_seed(a.seed)
        if a.init is None:
            m = INFN(bands=31, msi_bands=3, weighting=w, preset=a.preset, consistency="srf", srf=srf).to(dev)
        else:  # continue earlier runs: their weights, a fresh optimiser and schedule (training.train(init=))
            m, parents[w] = init_model(init_source(a.init, a.preset, w), srf, 31)
            if m.config.get("preset") != a.preset or m.weighting != w:
                raise ValueError(f"--init {a.init}: the {w} checkpoint is {m.config.get('preset')}/{m.weighting}, "
                                 f"not {a.preset}/{w}")
            m = m.to(dev)
        if dev.type == "cuda":
            m = m.to(memory_format=torch.channels_last)
        models[w] = m.train()
        opts[w] = torch.optim.Adam(m.parameters(), lr=a.lr, **({"fused": True} if dev.type == "cuda" else {}))
    val_lr, val_msi = simulate(val_gt, a.scale)
    rec = {"preset": a.preset, "params": models["cosine"].num_parameters(), "batch": a.batch, "patch": a.patch,
           "lr": a.lr, "schedule": "cosine to 1 % over the calibrated steps", "precision": a.precision,
           "scenes": names, "patches_in_grid": len(grid), "seed": a.seed, "offset": a.scale // 2,
           "curve": [], "val": [], "init": parents or None}
    rec["val"].append({"seconds": 0.0, "step": 0, **validate(models, val_lr, val_msi, val_gt, dev)})
    log("untrained (SRF projection of bicubic)" if a.init is None else f"starting weights ({a.init})",
        "on the validation crop:", rec["val"][-1])
    epoch, pos = 0, 0
    idx, aug = epoch_order(len(grid), len(grid), a.seed, epoch)
    acc = {w: torch.zeros((), device=dev) for w in WEIGHTINGS}
    step, total_steps, last_log_step = 0, None, 0
    warm_steps, warm_at = 3, None
    t0 = time.perf_counter()
    t_log, t_val = t0, t0
    val_seconds = 0.0
    while True:
        if pos + a.batch > len(idx):
            epoch, pos = epoch + 1, 0
            idx, aug = epoch_order(len(grid), len(grid), a.seed, epoch)
        ks = slice(pos, pos + a.batch)
        pos += a.batch
        gt, lr_t, msi_t = sampler.batch(idx[ks], aug[ks])
        frac = 0.0 if total_steps is None else min(1.0, step / total_steps)
        cur_lr = a.lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * frac)))
        for w in WEIGHTINGS:
            for g in opts[w].param_groups:
                g["lr"] = cur_lr
            with autocast:
                pred = models[w](lr_t, msi_t)
            loss = torch.nn.functional.l1_loss(pred.float(), gt)
            opts[w].zero_grad(set_to_none=True)
            loss.backward()
            opts[w].step()
            acc[w] += loss.detach()
        step += 1
        now = time.perf_counter()
        train_seconds = now - t0 - val_seconds
        if step == warm_steps:  # cuDNN autotuning and allocator warm-up stay out of the rate
            sync(dev)
            warm_at = (time.perf_counter() - t0 - val_seconds, step)
        if total_steps is None and warm_at is not None and train_seconds >= a.calibrate * a.budget \
                and step >= warm_steps + 3:
            sync(dev)
            train_seconds = time.perf_counter() - t0 - val_seconds
            rate = (step - warm_at[1]) / max(train_seconds - warm_at[0], 1e-9)
            total_steps = max(step + 1, step + int(rate * (a.budget * (1 - a.val_share) - train_seconds)))
            rec["calibrated"] = {"step": step, "seconds": round(train_seconds, 2), "steps_per_s": round(rate, 3),
                                 "total_steps": total_steps}
            log(f"calibrated: {rate:.2f} steps/s after {step} steps in {train_seconds:.1f} s -> {total_steps} steps")
        done = total_steps is not None and step >= total_steps
        if now - t_log >= a.log_every or done:
            losses = {w: float(v) / (step - last_log_step) for w, v in acc.items()}  # the one sync
            for v in acc.values():
                v.zero_()
            t_now = time.perf_counter()
            row = {"seconds": round(t_now - t0, 2), "train_seconds": round(t_now - t0 - val_seconds, 2),
                   "step": step, "epoch": epoch, "lr": cur_lr,
                   "patches_per_s_each": round((step - last_log_step) * a.batch / max(t_now - t_log, 1e-9), 1),
                   "loss": {w: round(v, 6) for w, v in losses.items()}}
            rec["curve"].append(row)
            log(f"step {step}/{total_steps} ep {epoch} {row['patches_per_s_each']} patches/s per model "
                f"loss {row['loss']}")
            if not all(math.isfinite(v) for v in losses.values()):
                rec["diverged"], rec["stopped_by"] = row, "diverged"
                log("a loss is not finite: stopping")
                break
            last_log_step, t_log = step, time.perf_counter()
        if time.perf_counter() - t_val >= a.val_every or done:
            tv = time.perf_counter()
            scores = validate(models, val_lr, val_msi, val_gt, dev)
            val_seconds += time.perf_counter() - tv
            rec["val"].append({"seconds": round(time.perf_counter() - t0, 2), "step": step, **scores})
            log("validation PSNR (dB):", scores)
            t_val = time.perf_counter()
            t_log += time.perf_counter() - tv  # validation time is not training throughput
        # the 1.15 × budget cap guards the calibrated plan; before calibration (a machine slower than
        # the budget assumed) keep going until it is made, up to 3 × the budget at most
        over = time.perf_counter() - t0 - a.budget * (1.15 if total_steps is not None else 3.0)
        if done or over > 0:
            rec["stopped_by"] = "plan" if done else "time cap"  # a slower stretch after calibration hits the cap
            break
    sync(dev)
    wall = time.perf_counter() - t0
    rec.update(steps=step, epochs=round(step * a.batch / len(grid), 2), wall_seconds=round(wall, 1),
               train_seconds=round(wall - val_seconds, 1),
               patches_per_s_each=round(step * a.batch / max(wall - val_seconds, 1e-9), 1))
    return models, rec


def save(models: dict, rec: dict, dev, out: Path) -> list[str]:
    from napari_inf3.models.checkpoint import save_checkpoint

    paths = []
    for w, m in models.items():
        meta = {"scenes": rec["scenes"], "val_scenes": [VAL_SCENE + " (sample crop)"], "scale": 4,
                "offset": rec["offset"], "patch": rec["patch"], "batch_size": rec["batch"], "lr": rec["lr"],
                "schedule": "cosine", "seed": rec["seed"], "augment": True, "steps": rec["steps"],
                "epochs": rec["epochs"], "wall_seconds": rec["wall_seconds"], "device": str(dev),
                "gpu": rec.get("gpu"), "processes": 1, "precision": rec["precision"], "srf": "nikon_d700",
                "data": "scene pack, top 8 bits (tools/pack_scenes.py)", "trained_with": "tools/gpu_run.py",
                "history": [{"seconds": v["seconds"], "step": v["step"], "val_psnr": v[w]} for v in rec["val"]],
                "val_psnr": rec["val"][-1][w], "torch": __import__("torch").__version__,
                **({"init": rec["init"][w], "start_val_psnr": rec["val"][0][w]} if rec.get("init") else {})}
        p = out / f"infn_{rec['preset']}_{w}_x4.pt"
        save_checkpoint(m, p, epoch=int(rec["epochs"]), step=rec["steps"], meta=meta)
        paths.append(p.name)
    return paths


def time_fusion(models: dict, gt: np.ndarray, dev, a, matmul_tflops: float) -> dict:
    import torch

    from napari_inf3.data.simulation import simulate
    from napari_inf3.evaluation.metrics import psnr
    from napari_inf3.fusion.inference import _autocast, fuse
    from napari_inf3.models.infn.flops import straightforward_flops

    lr, msi = simulate(gt, 4)
    lr_t = torch.from_numpy(lr)[None].to(dev)
    msi_t = torch.from_numpy(msi)[None].to(dev)
    res = {"scene": f"{VAL_SCENE} {gt.shape[1]}x{gt.shape[2]} (pack, 8-bit)", "rows": []}
    for w, m in models.items():
        m.eval()
        flops = straightforward_flops(m.config, 4)["total"] * gt.shape[1] * gt.shape[2]
        for prec in ("fp32", "bf16") if dev.type == "cuda" else ("fp32",):  # bf16 on this CPU is emulated
            with torch.inference_mode(), _autocast(dev, prec):
                net_ms = timed(lambda m=m: m(lr_t, msi_t), dev, a.repeats)
            api_ms = timed(lambda m=m, prec=prec: fuse(m, lr, msi, dev, precision=prec), dev, max(3, a.repeats // 2),
                           warmup=1)
            fused = fuse(m, lr, msi, dev, precision=prec).cube
            med = float(np.median(net_ms))
            row = {"weighting": w, "precision": prec, "net_ms_median": round(med, 3),
                   "net_ms_min": round(min(net_ms), 3), "fuse_api_ms_median": round(float(np.median(api_ms)), 3),
                   "tflop": round(flops / 1e12, 3), "achieved_tflops": round(flops / med / 1e9, 1),
                   "flop_ratio": round(flops / med / 1e9 / matmul_tflops, 3) if matmul_tflops > 0 else None,
                   "psnr_db": round(float(psnr(fused, gt)), 3)}
            res["rows"].append(row)
            log("fusion", row)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pack", type=Path, default=ROOT / ".pack")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--preset", default="paper")
    ap.add_argument("--budget", type=float, default=290.0, help="training wall-clock seconds")
    ap.add_argument("--calibrate", type=float, default=0.15, help="fraction of the budget that sets the steps")
    ap.add_argument("--val-share", type=float, default=0.05, help="fraction of the budget kept for validation")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--patch", type=int, default=64)
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--init", default=None,
                    help="continue earlier runs: 'shipped' (the package's checkpoints of --preset) or a folder of "
                         "infn_<preset>_<weighting>_x4.pt; fresh optimiser and schedule, lineage in the metadata")
    ap.add_argument("--precision", default="bf16")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--log-every", type=float, default=10.0)
    ap.add_argument("--val-every", type=float, default=30.0)
    ap.add_argument("--repeats", type=int, default=12)
    ap.add_argument("--wheels", type=Path, default=None)
    ap.add_argument("--no-tests", action="store_true")
    ap.add_argument("--max-scenes", type=int, default=None, help="train on the first N scenes (rehearsal)")
    ap.add_argument("--fuse-size", type=int, default=512, help="side of the timed fusion scene (HR pixels)")
    a = ap.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()

    import torch

    from napari_inf3.models.device import select_device

    from .pack_scenes import read_pack

    dev = select_device(a.device)
    result: dict = {"args": {k: str(v) for k, v in vars(a).items()}}

    def write() -> None:
        result["total_seconds"] = round(time.perf_counter() - t_start, 1)
        (a.out / "gpu_run.json").write_text(json.dumps(result, indent=1))

    def stage(name, fn, *args):
        t = time.perf_counter()
        try:
            result[name] = fn(*args)
        except Exception as exc:  # a failed stage is recorded, the next still runs
            result[name] = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()}
            log(f"stage {name} failed:", result[name]["traceback"])
        log(f"stage {name}: {time.perf_counter() - t:.1f} s")
        write()
        return result[name]

    info = stage("machine", lambda: machine(dev))
    log("machine:", info)
    if not a.no_tests:
        stage("tests", lambda: run_tests(a.wheels, a.out))
        log("tests:", result["tests"])
    t = time.perf_counter()
    pack = read_pack(a.pack)
    fuse_gt = pack.pop(VAL_SCENE, None)
    train_scenes = dict(sorted(pack.items())[: a.max_scenes]) if a.max_scenes else pack
    val_gt = read_png_folder(ROOT / "sample_data" / "superballs_crop_ms")
    log(f"data: {len(train_scenes)} training scenes from the pack, validation crop {val_gt.shape} "
        f"({time.perf_counter() - t:.1f} s)")
    trained: dict = {}

    def do_train(scenes):  # the scenes come as an argument so that the del below frees them before fusion
        models, rec = train_together(scenes, val_gt, dev, a)
        rec["gpu"] = info.get("name")
        trained.update(models)
        rec["checkpoints"] = save(models, rec, dev, a.out)
        return rec

    stage("train", do_train, train_scenes)
    del pack, train_scenes
    if dev.type == "cuda":
        torch.cuda.empty_cache()
    if trained:
        gt = fuse_gt if fuse_gt is not None else np.pad(val_gt, ((0, 0), (0, 320), (0, 320)), mode="symmetric")
        gt = np.ascontiguousarray(gt[:, : a.fuse_size, : a.fuse_size])
        stage("fusion", lambda: time_fusion(trained, gt, dev, a, info.get("matmul", {}).get("tflops", float("nan"))))
    log(f"done in {time.perf_counter() - t_start:.1f} s; results in {a.out / 'gpu_run.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
