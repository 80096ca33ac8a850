"""Whether the JPEG-tuned ``cosine`` should fuse a JPEG, told without ground truth (issue 33).

    .venv/bin/python -m experiments jpeg_choice [--scenes superballs face] [--out FILE.json]

The shipped JPEG-tuned ``cosine`` was fine-tuned through one camera (``CameraFit.generic_jpeg``: an sRGB rendering
from the CIE 1931 observer). Per scene (LR-HSI simulated ×4, the paper's protocol), photos made through three
cameras — the CIE sRGB rendering, the Nikon D700 white-balanced, and the Nikon mixed by a colour-correction matrix
(the tests' camera, ``tests.conftest.photo_camera``: how a camera renders its raw channels to sRGB) — and CAVE's own
rendering, each saved by Pillow as JPEG quality 85 (4:2:0) and read back; the camera estimated from each pair; then
fused with the shipped ``cosine``'s own weights, with its JPEG-tuned ones, and as ``fuse('cosine', ...)`` does
(both, keeping the result that reproduces the LR-HSI better, :mod:`napari_inf3.fusion.jpeg_choice`). PSNR (dB)
against the cube, and each result's LR-HSI reproduction (dB, blurred and decimated as the camera's fit says).
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


def cameras() -> dict:
    from napari_inf3.camera import CameraFit, ToneCurve
    from napari_inf3.data.simulation import load_srf
    from tests.conftest import photo_camera  # python -m experiments runs from the repository root

    nikon = load_srf("nikon_d700", bands=31).astype(np.float64)
    nikon /= nikon.sum(axis=1, keepdims=True)
    white = CameraFit(curve=ToneCurve("srgb"), srf=nikon.astype(np.float32), gain=np.ones(3), black=np.zeros(3), bits=8)
    return {"CIE sRGB": CameraFit.generic_jpeg(85), "Nikon": white, "Nikon mixed": photo_camera(),
            "CAVE rendering": None}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenes", nargs="*", default=["superballs", "face", "photo_and_face", "sponges"])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "jpeg_choice.json")
    args = ap.parse_args(argv)

    from PIL import Image

    import napari_inf3 as ni
    from napari_inf3.evaluation.metrics import psnr
    from napari_inf3.fusion.jpeg_choice import lr_reproduction
    from napari_inf3.shipped import checkpoint_path, jpeg_tuned_path

    tmp = Path(tempfile.mkdtemp())
    plain = str(shutil.copy(checkpoint_path("cosine"), tmp / "plain.pt"))  # copies fuse as they are
    tuned = str(shutil.copy(jpeg_tuned_path("cosine"), tmp / "tuned.pt"))
    rows = []
    for sc in args.scenes:
        gt = ni.read_cube(DATA / "cave" / f"{sc}_ms").data
        lr, _ = ni.simulate(gt, 4)
        for name, cam in cameras().items():
            path = tmp / f"{sc}.jpg"
            if cam is None:
                Image.open(DATA / "cave_rgb" / f"{sc}_RGB.png").convert("RGB").save(path, quality=85)
            else:
                stored = cam.encode(np.einsum("sb,bhw->shw", cam.srf, np.asarray(gt, np.float32)))
                rgb = np.moveaxis(np.round(np.clip(stored, 0, 1) * 255).astype(np.uint8), 0, -1)
                Image.fromarray(rgb).save(path, quality=85)
            photo = ni.read_cube(path)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = ni.estimate_camera(lr, photo, 4)
                res = {m: ni.fuse(spec, lr, photo, camera=fit).cube
                       for m, spec in (("plain", plain), ("tuned", tuned), ("chosen", "cosine"))}
            row = {"scene": sc, "camera": name, **{m: round(psnr(x, gt), 3) for m, x in res.items()}}
            for m in ("plain", "tuned"):
                row[f"LR reproduced, {m}"] = round(float(10 * np.log10(1 / lr_reproduction(res[m], lr, fit))), 3)
            row["right choice"] = bool((row["tuned"] > row["plain"]) == (row["LR reproduced, tuned"] >
                                                                         row["LR reproduced, plain"]))
            rows.append(row)
            print(json.dumps(row), flush=True)
    from napari_inf3.io.atomic import atomic_write_text

    atomic_write_text(args.out, json.dumps({"rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
