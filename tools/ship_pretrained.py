"""Turn training runs into the shipped checkpoints (fp16 weights, training metadata kept).

    python -m tools.ship_pretrained runs/gpu_lite/infn_lite_*_x4.pt runs/gpu_paper/infn_paper_*_x4.pt

Each run's checkpoint (written by tools/gpu_run.py or experiments/train_pretrained.py) is loaded,
checked (offset r // 2, the paper's protocol), and saved as
napari_inf3/shipped/infn_<preset>_<weighting>_x4.pt with float16 weights and no optimiser
state. Its metadata and validation PSNR curve stay inside. A run fine-tuned through a JPEG camera
(``experiments train_jpeg_tuned_area`` / ``_net`` / ``_cosine``) becomes its network's JPEG-tuned file
(``napari_inf3.shipped.JPEG_TUNED``), its parent's metadata under ``meta['init']``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from napari_inf3.models.checkpoint import load_checkpoint, read_checkpoint, save_checkpoint
from napari_inf3.shipped import FILENAME, JPEG_TUNED

ROOT = Path(__file__).resolve().parents[1]


def main(paths: list[str]) -> None:
    for p in paths:
        model, ckpt = load_checkpoint(p, device="cpu"), read_checkpoint(p)
        meta = dict(ckpt["meta"])
        if meta.get("offset") != meta.get("scale", 4) // 2:
            raise SystemExit(f"{p}: trained with decimation offset {meta.get('offset')}, not the paper's r // 2")
        meta["shipped_from"] = Path(p).name
        key = (model.weighting, model.config["preset"])
        through_jpeg = bool((meta.get("camera") or {}).get("jpeg"))
        if through_jpeg and key not in JPEG_TUNED:
            raise SystemExit(f"{p}: fine-tuned through a JPEG camera, but {key} has no JPEG-tuned file (JPEG_TUNED)")
        name = JPEG_TUNED[key] if through_jpeg else FILENAME.format(name=key[0], preset=key[1])
        out = ROOT / "napari_inf3" / "shipped" / name
        save_checkpoint(model, out, epoch=ckpt["epoch"], step=ckpt["step"], meta=meta, half=True)
        print(f"{out.relative_to(ROOT)}: {out.stat().st_size / 1e6:.2f} MB, {ckpt['step']} steps, "
              f"{meta['wall_seconds'] / 60:.1f} min on {meta.get('gpu') or meta['device']}, "
              f"validation PSNR {meta.get('val_psnr')}")


if __name__ == "__main__":
    main(sys.argv[1:])
