"""Figures for docs/REAL_PAIRS.md "A photograph as the HR-MSI": CAVE's own 8-bit sRGB renderings.

    .venv/bin/python -m experiments real_camera [--models cosine paper:cosine] [--tuned my.pt] [--scenes a b ...]

Per scene of ``../shared/data/cave`` (19 training scenes + superballs): the LR-HSI simulated from the cube
(×4, offset r // 2, the paper's protocol), the HR-MSI = ``../shared/data/cave_rgb/<scene>_RGB.png`` as stored
(a camera nobody here modelled). PSNR against the cube of: bicubic; the SRF projection with the response
``estimate_srf`` fits (linear, non-negative: the path before the camera model); the SRF projection with
``estimate_camera``'s fit; each model of ``--models`` fused with ``camera=fit``; ``--tuned`` checkpoints too.
With each: the pair-only check (``napari_inf3.camera.pair_consistency``: how well the result, degraded,
reproduces the LR-HSI), to show what a user without ground truth sees. Writes ``real_camera.json``.
The shipped networks were trained on the 19 training scenes' cubes (never on these PNGs); superballs is
the scene none of them saw.
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


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="*", default=["cosine"])
    ap.add_argument("--tuned", nargs="*", default=[], help="checkpoints fine-tuned to the camera (name=path)")
    ap.add_argument("--scenes", nargs="*", default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "real_camera.json")
    args = ap.parse_args(argv)

    import napari_inf3 as ni
    from napari_inf3.camera import pair_consistency
    from napari_inf3.evaluation.metrics import psnr
    from napari_inf3.fusion.inference import bicubic

    scenes = args.scenes or sorted(p.name[:-3] for p in (DATA / "cave").glob("*_ms"))
    models = list(args.models) + [t.split("=", 1)[1] if "=" in t else t for t in args.tuned]
    names = list(args.models) + [t.split("=", 1)[0] if "=" in t else Path(t).stem for t in args.tuned]
    rows = []
    for sc in scenes:
        gt = ni.read_cube(DATA / "cave" / f"{sc}_ms").data
        lr, _ = ni.simulate(gt, 4)
        msi = ni.read_cube(DATA / "cave_rgb" / f"{sc}_RGB.png").data
        t0 = time.perf_counter()
        fit = ni.estimate_camera(lr, msi, 4)
        t_fit = time.perf_counter() - t0
        x_up = np.maximum(bicubic(lr, gt.shape[1:]), 0)
        old = ni.estimate_srf(lr, msi, 4)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results = {"bicubic": x_up, "projection (linear fit)": ni.fuse("projection", lr, msi, srf=old.srf).cube,
                       "projection": ni.fuse("projection", lr, msi, camera=fit).cube}
            for name, m in zip(names, models, strict=True):
                results[name] = ni.fuse(m, lr, msi, camera=fit).cube
        row = {"scene": sc, "curve": fit.curve.describe(), "signed": fit.signed, "residual": fit.residual.tolist(),
               "linear_fit_residual": old.residual.tolist(), "fit_seconds": round(t_fit, 2),
               "psnr": {k: round(psnr(v, gt), 3) for k, v in results.items()},
               "lr_psnr": {k: round(pair_consistency(v, lr, msi, fit)["lr_psnr"], 2) for k, v in results.items()}}
        rows.append(row)
        print(sc, row["curve"], "signed" if fit.signed else "",
              " ".join(f"{k} {v:.2f}" for k, v in row["psnr"].items()), flush=True)
    methods = list(rows[0]["psnr"])
    mean = {m: float(np.mean([r["psnr"][m] for r in rows])) for m in methods}
    held = [r for r in rows if r["scene"] == "superballs"]
    print("\n| scene | " + " | ".join(methods) + " |\n|---|" + "---|" * len(methods))
    for r in rows:
        print(f"| {r['scene']} | " + " | ".join(f"{r['psnr'][m]:.2f}" for m in methods) + " |")
    print("| **mean** | " + " | ".join(f"**{mean[m]:.2f}**" for m in methods) + " |")
    below = {m: [r["scene"] for r in rows if r["psnr"][m] <= r["psnr"]["bicubic"]] for m in methods[1:]}
    summary = {"mean": mean, "gain_over_bicubic": {m: mean[m] - mean["bicubic"] for m in methods},
               "scenes_not_above_bicubic": below, "superballs": held[0]["psnr"] if held else None}
    print(json.dumps(summary))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    from napari_inf3.io.atomic import atomic_write_text

    atomic_write_text(args.out, json.dumps({"rows": rows, "summary": summary}, indent=1) + "\n")


if __name__ == "__main__":
    main()
