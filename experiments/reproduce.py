"""The reproduction report (docs/REPRODUCTION.md): Table-1-style metrics, Fig.-7-style spectra, and the
validation-PSNR-against-training-time curve of the shipped checkpoints.

    python -m experiments reproduce [SCENES ...] [--out docs/results] [--pixel 276 260] [--overwrite]

SCENES default to ../shared/data/cave/superballs_ms (the held-out validation scene). Runs
``napari-inf3 evaluate`` on them (the paper's protocol: LR pixel r // 2 of each block) with bicubic,
the SRF projection of bicubic (no learning) and the shipped area / net / cosine checkpoints of
both presets (metrics.md, metrics.csv, the spectra plot), then draws val_curve.png from the
training history stored inside each checkpoint, and prints our means beside the paper's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from napari_inf3.cli.main import main as cli_main
from napari_inf3.shipped import PRESETS, PRETRAINED, pretrained_info

ROOT = Path(__file__).resolve().parents[1]

MODELS = ["projection", *PRETRAINED, *(f"paper:{n}" for n in PRETRAINED)]

DEFAULT_SCENE = ROOT.parent / "shared" / "data" / "cave" / "superballs_ms"
PAPER = {  # the paper's Table 1 (CAVE, x4, 11 test scenes) and Table 4 (balloons), as docs/REPRODUCTION.md quotes them
    "bicubic (paper, CAVE mean)": "34.33 ± 3.88 | 4.45 ± 1.62 | 7.21 ± 4.90 | 0.944",
    "INF3 (paper, CAVE mean)": "52.36 ± 3.93 | 1.99 ± 0.60 | 0.99 ± 0.73 | 0.997",
    "area / net / cosine (paper, balloons)": "54.741 / 54.392 / 54.813 | 1.294 / 1.281 / 1.283 | "
                                             "0.335 / 0.350 / 0.331 | 0.9978 / 0.9977 / 0.9978",
}


def crop_baselines(scale: int = 4) -> tuple[float, float]:
    """Validation-crop PSNR of bicubic and of the untrained SRF projection (the curves' floor)."""
    import torch

    from napari_inf3 import read_cube
    from napari_inf3.data.sample import sample_path
    from napari_inf3.data.simulation import load_srf
    from napari_inf3.models.infn import INFN
    from napari_inf3.models.load import projection_model
    from napari_inf3.training.loop import _validate

    gt = read_cube(sample_path()).data  # the crop tools/gpu_run.py validated on
    srf = load_srf("nikon_d700", bands=gt.shape[0])
    bicubic = INFN(preset="lite")  # untrained, no projection: its decoder starts at zero, so it outputs bicubic
    bic, proj = (_validate(m, [gt], scale, srf, torch.device("cpu"), 192) for m in (bicubic, projection_model()))
    return bic, proj


def val_curve(out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.5, 3.8), dpi=120, layout="constrained")
    ax = fig.subplots()
    styles = {"lite": "o--", "paper": "s-"}
    for preset in PRESETS:
        for k, name in enumerate(PRETRAINED):
            info = pretrained_info(name, preset)
            hist = [h for h in info["history"] if h.get("val_psnr") is not None]
            ax.plot([h["seconds"] / 60 for h in hist], [h["val_psnr"] for h in hist], styles[preset], ms=3,
                    color=f"C{k}", label=f"{preset} {name} ({info['steps']} steps)")
    bicubic, projected = crop_baselines()
    ax.axhline(projected, color="0.4", ls=":", lw=1, label=f"untrained (SRF projection) {projected:.2f} dB")
    gpu = pretrained_info("cosine", "paper").get("gpu") or "GPU"
    ax.set_xlabel(f"training wall time (min, one {gpu}, the three of a preset in lock step); "
                  f"bicubic: {bicubic:.2f} dB", fontsize=8)
    ax.set_ylabel("validation PSNR (dB)")
    ax.set_title("superballs sample crop (192², never trained on), ×4, LR pixel r // 2", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend()
    path = out / "val_curve.png"
    fig.savefig(path)
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenes", nargs="*", default=[str(DEFAULT_SCENE)])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "results")
    ap.add_argument("--pixel", nargs=2, type=int, default=[276, 260])
    ap.add_argument("--overwrite", action="store_true")
    args = ap.parse_args(argv)
    argv = ["evaluate", *args.scenes, "--models", *MODELS, "--out-dir", str(args.out),
            "--plot-pixel", *map(str, args.pixel), "--device", "cpu"]
    if args.overwrite:
        argv.append("--overwrite")
    rc = cli_main(argv)
    if rc:
        return rc
    print(f"wrote {val_curve(args.out)}")
    print("\nthe paper, for comparison (PSNR | SAM | ERGAS | SSIM):")
    for k, v in PAPER.items():
        print(f"  {k}: {v}")
    for preset in PRESETS:
        for name in PRETRAINED:
            info = pretrained_info(name, preset)
            print(f"  {preset} {name}: {info['steps']} steps, {info['wall_seconds'] / 60:.1f} min on "
                  f"{info.get('gpu') or info['device']}, last validation PSNR {info['val_psnr']:.2f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
