"""What storing the photograph as JPEG costs the camera path, and what knowing the file recovers (issue 33).

    .venv/bin/python -m experiments jpeg_camera [--model cosine] [--scenes a b ...] [--settings 85:2 ...]
        [--out FILE.json]

Per scene of ``../shared/data/cave`` (19 training scenes + superballs): the LR-HSI simulated from the cube (×4,
offset r // 2, the paper's protocol); the HR-MSI = ``../shared/data/cave_rgb/<scene>_RGB.png`` stored losslessly,
and saved by Pillow as JPEG at qualities 95 / 85 / 75 with its default 4:2:0 chroma and at 95 / 85 with 4:4:4,
each read back with ``read_cube`` (the reader keeps the file's tables and subsampling); the camera estimated from
each pair with the defaults (``estimate_camera``) and ``--model`` fused through it (``fuse(..., camera=fit)``: for
an 8-bit photo, JPEG or lossless, a shipped lite network, or each member of the lite ensemble, also fuses with its
JPEG-tuned weights and keeps the result reproducing the LR-HSI better; the columns "plain weights" are the shipped
files' own weights only).
Also the quality-85 file read as if it were lossless (its ``meta['jpeg']`` dropped: the path before issue 33, but
with today's back-projection), and the file's own noise figure (``quantisation_noise``). PSNR (dB) against the
cube. Writes one row per scene and the means.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
#: (quality, Pillow's subsampling code: 0 = 4:4:4, 2 = 4:2:0)
SETTINGS = ((95, 2), (85, 2), (75, 2), (95, 0), (85, 0))


def scene_row(sc: str, model: str, plain=None, settings=SETTINGS) -> dict:
    """One scene's PSNRs: bicubic, lossless, each JPEG setting of ``settings`` (and with ``plain``, a model with
    the shipped network's own weights only, too), the quality-85 4:2:0 file read blind."""
    from PIL import Image

    import napari_inf3 as ni
    from napari_inf3.camera.jpeg import JpegStorage, quantisation_noise
    from napari_inf3.evaluation.metrics import psnr
    from napari_inf3.fusion.inference import bicubic

    gt = ni.read_cube(DATA / "cave" / f"{sc}_ms").data
    lr, _ = ni.simulate(gt, 4)
    png = DATA / "cave_rgb" / f"{sc}_RGB.png"
    clean = ni.read_cube(png)
    clean_fit = ni.estimate_camera(lr, clean, 4)
    row = {"scene": sc, "bicubic": psnr(np.maximum(bicubic(lr, gt.shape[1:]), 0), gt),
           "lossless": psnr(ni.fuse(model, lr, clean, camera=clean_fit).cube, gt)}
    if plain is not None:
        row["lossless plain weights"] = psnr(ni.fuse(plain, lr, clean, camera=clean_fit).cube, gt)
    with tempfile.TemporaryDirectory() as d:
        for q, sub in settings:
            path = Path(d) / f"{sc}_{q}_{sub}.jpg"
            Image.open(png).convert("RGB").save(path, quality=q, subsampling=sub)
            photo = ni.read_cube(path)
            key = f"q{q} {'4:2:0' if sub == 2 else '4:4:4'}"
            row[f"noise {key}"] = quantisation_noise(photo.data, JpegStorage.from_dict(photo.meta["jpeg"]))
            fit = ni.estimate_camera(lr, photo, 4)
            row[key] = psnr(ni.fuse(model, lr, photo, camera=fit).cube, gt)
            if plain is not None:  # the shipped network's own weights, not its JPEG-tuned ones
                row[f"{key} plain weights"] = psnr(ni.fuse(plain, lr, photo, camera=fit).cube, gt)
            if (q, sub) == (85, 2):  # the same file read as if it were lossless
                photo.meta.pop("jpeg")
                row["q85 4:2:0 read blind"] = psnr(ni.fuse(model, lr, photo,
                                                           camera=ni.estimate_camera(lr, photo, 4)).cube, gt)
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in row.items()}


def own_weights(model: str, tmp: Path):
    """``model`` with the shipped networks' own weights only (copies of their files are not recognised as shipped,
    so they fuse as they are: an ensemble of copies with the shipped calibration), or ``None`` when ``model`` has no
    JPEG-tuned weights."""
    from napari_inf3.shipped import ENSEMBLE, JPEG_TUNED, checkpoint_path, parse_spec, pretrained

    spec = parse_spec(model)
    if spec is None:
        return None
    name, preset = spec
    if name == ENSEMBLE:
        from napari_inf3.models.checkpoint import load_checkpoint
        from napari_inf3.models.ensemble import Ensemble

        shipped = pretrained(name, preset=preset)
        if not all((m, preset) in JPEG_TUNED for m in shipped.members):
            return None
        return Ensemble({m: load_checkpoint(shutil.copy(checkpoint_path(m, preset), tmp / f"{m}.pt"))
                         for m in shipped.members}, shipped.calibration)
    if (name, preset) not in JPEG_TUNED:
        return None
    return str(shutil.copy(checkpoint_path(name, preset), tmp / "plain.pt"))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="cosine")
    ap.add_argument("--scenes", nargs="*", default=None)
    ap.add_argument("--settings", nargs="*", default=None, metavar="Q:SUB",
                    help="JPEG settings, quality:Pillow subsampling (2 = 4:2:0, 0 = 4:4:4); default: all five")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "jpeg_camera.json")
    args = ap.parse_args(argv)
    scenes = args.scenes or sorted(p.name[:-3] for p in (DATA / "cave").glob("*_ms"))
    settings = SETTINGS if args.settings is None else tuple(tuple(int(v) for v in s.split(":")) for s in args.settings)
    rows = []
    with warnings.catch_warnings(), tempfile.TemporaryDirectory() as tmp:
        warnings.simplefilter("ignore")
        plain = own_weights(args.model, Path(tmp))
        for sc in scenes:
            rows.append(scene_row(sc, args.model, plain, settings))
            print(json.dumps(rows[-1]), flush=True)
    means = {k: round(float(np.mean([r[k] for r in rows])), 3) for k in rows[0] if k != "scene"}
    print("mean:", json.dumps(means))
    from napari_inf3.io.atomic import atomic_write_text

    atomic_write_text(args.out, json.dumps({"model": args.model, "rows": rows, "mean": means}, indent=1) + "\n")


if __name__ == "__main__":
    main()
