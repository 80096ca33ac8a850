"""Turn the training runs into the shipped checkpoints (fp16 weights, training metadata kept).

    python bench/ship_pretrained.py runs/area.pt runs/net.pt runs/cosine.pt

Each run's checkpoint (written by bench/train_pretrained.py) is loaded, checked, and saved as
napari_inf3/shipped/infn_lite_<weighting>_x4.pt with float16 weights and no optimiser state.
Its metadata gains the training command and the validation PSNR curve stays inside.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from napari_inf3.checkpoint import load_checkpoint, save_checkpoint  # noqa: E402
from napari_inf3.shipped import FILENAME  # noqa: E402


def main(paths: list[str]) -> None:
    for p in paths:
        model, ckpt = load_checkpoint(p, device="cpu")
        meta = dict(ckpt["meta"])
        meta["trained_by"] = "bench/train_pretrained.py (same data, seed and step budget for every weighting)"
        meta["shipped_from"] = Path(p).name
        out = ROOT / "napari_inf3" / "shipped" / FILENAME.format(name=model.weighting)
        save_checkpoint(out, model, epoch=ckpt["epoch"], step=ckpt["step"], meta=meta, half=True)
        print(f"{out.relative_to(ROOT)}: {out.stat().st_size / 1e6:.2f} MB, {ckpt['step']} steps, "
              f"{meta['wall_seconds'] / 60:.1f} min, validation PSNR {meta.get('val_psnr')}")


if __name__ == "__main__":
    main(sys.argv[1:])
