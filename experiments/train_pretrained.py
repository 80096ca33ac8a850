"""Train one INFN on the CPU the way the shipped ones are trained: same data, seed and budget per weighting.

    python -m experiments train_pretrained --weighting cosine --out runs/cosine.pt

Trains on every scene folder of ../shared/data/cave but superballs (the paper's 19 training
scenes), simulated under the paper's protocol (LR pixel r // 2 of each block), validates on a
centre crop of superballs after every epoch, and writes one JSON line per epoch to
``<out>.log.jsonl``. The shipped checkpoints were trained on a GPU by tools/gpu_run.py with the
same data and simulation (docs/REPRODUCTION.md); this is the CPU route to one of your own.

``--init cosine --camera generic-jpeg``: the shipped JPEG-tuned network (``napari_inf3/shipped/JPEG_TUNED``),
the shipped ``cosine`` fine-tuned through ``CameraFit.generic_jpeg(--jpeg-quality)`` (an sRGB rendering stored as
JPEG with libjpeg's tables; nothing fitted to CAVE's renderings); validation fuses superballs through it too.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from napari_inf3.training.loop import train

ROOT = Path(__file__).resolve().parents[1]
CAVE = ROOT.parent / "shared" / "data" / "cave"
VALIDATION = "superballs_ms"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weighting", required=True, choices=["area", "net", "cosine"])
    ap.add_argument("--preset", default="lite")
    ap.add_argument("--consistency", default="srf", choices=["srf", "none"])
    ap.add_argument("--data", type=Path, default=CAVE)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--patches-per-epoch", type=int, default=800)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-4,
                    help="1e-3 kills the decoder with consistency='srf' (docs/METHOD.md)")
    ap.add_argument("--schedule", default="cosine")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", type=Path, default=None)
    ap.add_argument("--max-minutes", type=float, default=None)
    ap.add_argument("--init", default=None, help="a model to fine-tune (a pretrained name or a checkpoint)")
    ap.add_argument("--camera", default=None, choices=["generic-jpeg"],
                    help="train through a photo's storage: the generic JPEG camera (CameraFit.generic_jpeg)")
    ap.add_argument("--jpeg-quality", type=int, default=85)
    args = ap.parse_args(argv)
    camera = None
    if args.camera == "generic-jpeg":
        from napari_inf3.camera.model import CameraFit

        camera = CameraFit.generic_jpeg(args.jpeg_quality)
    scenes = sorted(p for p in args.data.iterdir() if p.is_dir() and p.name != VALIDATION)
    log = args.out.with_suffix(".log.jsonl")
    for ev in train(
        scenes, val_scenes=[args.data / VALIDATION], weighting=args.weighting, preset=args.preset,
        consistency=args.consistency, init=args.init, camera=camera,
        epochs=args.epochs, patches_per_epoch=args.patches_per_epoch, batch_size=args.batch_size,
        lr=args.lr, schedule=args.schedule, seed=args.seed, out=args.out, resume=args.resume,
        num_threads=args.threads, max_seconds=None if args.max_minutes is None else 60 * args.max_minutes,
    ):
        if ev.kind == "epoch":
            rec = {"epoch": ev.epoch, "step": ev.step, "loss": ev.loss, "val_psnr": ev.val_psnr,
                   "seconds": round(ev.seconds, 1), "lr": ev.lr}
            print(json.dumps(rec), flush=True)
            with open(log, "a") as fh:
                fh.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
