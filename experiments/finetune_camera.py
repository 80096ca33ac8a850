"""Fine-tuning the shipped network to a real camera (CAVE's sRGB renderings), scored on scenes it never saw.

    OMP_NUM_THREADS=2 .venv/bin/python -m experiments finetune_camera --seconds 540 --out runs/finetune_camera

Two folds over the 19 training scenes (alphabetical halves, 10 and 9); superballs is in neither. For each
fold: the camera is estimated from each of the fold's training pairs (LR-HSI simulated ×4 from the cube,
HR-MSI = ``../shared/data/cave_rgb/<scene>_RGB.png``) and the one with the least held-out residual is kept
(one camera, as a user with a few pairs of one camera would); the shipped lite ``cosine`` is fine-tuned
with ``train(init="cosine", camera=fit)`` on that fold's cubes for ``--seconds`` of CPU; then every scene of
the *other* fold, and superballs, is fused with its own estimated camera by bicubic, the camera projection,
the shipped ``cosine`` and the fine-tuned one. Writes ``finetune_camera.json`` beside the checkpoints.
The run docs/REAL_PAIRS.md reports: the config ``finetune_camera_540s``, docs/results/finetune_camera.json.
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
HELD_OUT = "superballs"


def pair(sc: str, jpeg_quality: int | None = None):
    """``(gt, lr, photo)``: the photo as stored (a Cube: a JPEG's storage is in its meta), saved first as JPEG
    at ``jpeg_quality`` (Pillow's defaults, 4:2:0) when given."""
    import tempfile

    from PIL import Image

    import napari_inf3 as ni

    gt = ni.read_cube(DATA / "cave" / f"{sc}_ms").data
    lr, _ = ni.simulate(gt, 4)
    png = DATA / "cave_rgb" / f"{sc}_RGB.png"
    if jpeg_quality is None:
        return gt, lr, ni.read_cube(png)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"{sc}.jpg"
        Image.open(png).convert("RGB").save(path, quality=jpeg_quality)
        return gt, lr, ni.read_cube(path)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=540.0, help="CPU wall time of each fine-tuning run")
    ap.add_argument("--steps", type=int, default=100000, help="at most this many steps")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--folds", type=int, nargs="*", default=[0, 1])
    ap.add_argument("--jpeg-quality", type=int, default=None,
                    help="the photographs saved as JPEG at this quality first (the camera then carries the JPEG)")
    ap.add_argument("--camera", choices=["estimated", "generic"], default="estimated",
                    help="fine-tune through the camera estimated from the fold's CAVE renderings, or through "
                         "the generic JPEG camera (an sRGB rendering from the CIE 1931 observer, sRGB curve, 8 bits, "
                         "IJG tables at --jpeg-quality, 4:2:0: napari_inf3.camera.model.CameraFit.generic_jpeg), "
                         "nothing fitted to CAVE's renderings")
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "finetune_camera")
    args = ap.parse_args(argv)

    import napari_inf3 as ni
    from napari_inf3.evaluation.metrics import psnr
    from napari_inf3.fusion.inference import bicubic

    scenes = sorted(p.name[:-3] for p in (DATA / "cave").glob("*_ms") if p.name[:-3] != HELD_OUT)
    halves = [scenes[:10], scenes[10:]]
    args.out.mkdir(parents=True, exist_ok=True)
    # the shipped cosine's own weights only: an 8-bit photo must not also try the shipped JPEG-tuned weights
    # (fine-tuned on all 19 training scenes) beside it
    from .jpeg_camera import own_weights

    shipped = own_weights("cosine", args.out)
    report = {"folds": [], "args": {k: str(v) for k, v in vars(args).items()}}
    for k in args.folds:
        train_sc, test_sc = halves[k], halves[1 - k] + [HELD_OUT]
        if args.camera == "generic":
            from napari_inf3.camera.model import CameraFit

            cam_scene, camera = "generic", CameraFit.generic_jpeg(args.jpeg_quality or 85)
        else:
            fits = {sc: ni.estimate_camera(*pair(sc, args.jpeg_quality)[1:], 4) for sc in train_sc}
            cam_scene = min(fits, key=lambda s: fits[s].mean_residual)
            camera = fits[cam_scene]
        print(f"fold {k}: camera from {cam_scene} ({camera.describe()})", flush=True)
        ckpt = args.out / f"cosine_camera_fold{k}.pt"
        per_epoch = args.batch_size * 25
        t0 = time.perf_counter()
        steps = 0
        for ev in ni.train([DATA / "cave" / f"{s}_ms" for s in train_sc], init="cosine", camera=camera,
                           lr=args.lr, schedule="cosine", batch_size=args.batch_size,
                           patches_per_epoch=per_epoch, epochs=max(1, args.steps // 25),
                           max_seconds=args.seconds, out=ckpt, overwrite=True, seed=k):
            if ev.kind == "epoch":
                steps = ev.step
                print(f"  step {ev.step} loss {ev.loss:.5f} {time.perf_counter() - t0:.0f} s", flush=True)
        minutes = (time.perf_counter() - t0) / 60
        rows = []
        for sc in test_sc:
            gt, lr, msi = pair(sc, args.jpeg_quality)
            fit = ni.estimate_camera(lr, msi, 4)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = {"bicubic": psnr(np.maximum(bicubic(lr, gt.shape[1:]), 0), gt),
                       "projection": psnr(ni.fuse("projection", lr, msi, camera=fit).cube, gt),
                       "shipped cosine": psnr(ni.fuse(shipped, lr, msi, camera=fit).cube, gt),
                       "fine-tuned cosine": psnr(ni.fuse(str(ckpt), lr, msi, camera=fit).cube, gt)}
            rows.append({"scene": sc, **{m: round(v, 3) for m, v in res.items()}})
            print("  ", sc, " ".join(f"{m} {v:.2f}" for m, v in res.items()), flush=True)
        mean = {m: float(np.mean([r[m] for r in rows])) for m in rows[0] if m != "scene"}
        print(f"fold {k} mean over {len(rows)} unseen scenes: " + " ".join(f"{m} {v:.2f}" for m, v in mean.items()))
        report["folds"].append({"fold": k, "trained_on": train_sc, "camera_from": cam_scene, "steps": steps,
                                "cpu_minutes": round(minutes, 2), "rows": rows, "mean": mean})
    from napari_inf3.io.atomic import atomic_write_text

    atomic_write_text(args.out / "finetune_camera.json", json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
