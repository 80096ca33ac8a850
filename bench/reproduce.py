"""The reproduction report (docs/REPRODUCTION.md): Table-1-style metrics, Fig.-7-style spectra, and the
validation-PSNR-against-training-time curve of the shipped checkpoints.

    python bench/reproduce.py [SCENES ...] [--out docs/results] [--pixel 276 260] [--overwrite]

SCENES default to ../shared/data/cave/superballs_ms (the held-out validation scene). Runs
``napari-inf3 evaluate`` on them with bicubic and the shipped area / net / cosine checkpoints
(metrics.md, metrics.csv, the spectra plot), then draws val_curve.png from the training history
stored inside each checkpoint, and prints our means beside the paper's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from napari_inf3.cli import main as cli_main  # noqa: E402
from napari_inf3.shipped import PRETRAINED, pretrained_info  # noqa: E402

DEFAULT_SCENE = ROOT.parent / "shared" / "data" / "cave" / "superballs_ms"
PAPER = {  # the paper's Table 1 (CAVE, x4, 11 test scenes) and Table 4 (balloons)
    "bicubic (paper, CAVE mean)": "34.33 ± 3.88 | 4.45 ± 1.62 | 7.21 ± 4.90 | 0.944",
    "INF3 (paper, CAVE mean)": "52.36 ± 3.93 | 1.99 ± 0.60 | 0.99 ± 0.73 | 0.997",
    "area / net / cosine (paper, balloons)": "54.741 / 54.392 / 54.813 | 1.294 / 1.281 / 1.283 | "
                                             "0.335 / 0.350 / 0.331 | 0.9978 / 0.9977 / 0.9978",
}


def projection_baseline(scene: Path, scale: int = 4) -> dict:
    """Metrics of the SRF projection of bicubic alone, X^U + P⁺(Y − P X^U): what an untrained INFN with
    ``consistency='srf'`` outputs, i.e. what the shipped checkpoints start from."""
    import torch

    from napari_inf3 import fuse, read_cube, simulate
    from napari_inf3.metrics import evaluate
    from napari_inf3.model import INFN
    from napari_inf3.simulation import load_srf

    gt = read_cube(scene).data
    lr, msi = simulate(gt, scale)
    torch.manual_seed(0)
    untrained = INFN(preset="lite", consistency="srf", srf=load_srf("nikon_d700", bands=gt.shape[0])).eval()
    return evaluate(fuse(untrained, lr, msi, "cpu"), gt, scale)


def crop_baselines(scale: int = 4) -> tuple[float, float]:
    """Validation-crop PSNR of bicubic and of the untrained SRF projection (the curves' floor)."""
    import torch

    from napari_inf3 import read_cube
    from napari_inf3.model import INFN
    from napari_inf3.simulation import load_srf
    from napari_inf3.training import _validate

    gt = read_cube(DEFAULT_SCENE).data
    srf = load_srf("nikon_d700", bands=gt.shape[0])
    out = []
    for consistency in ("none", "srf"):
        torch.manual_seed(0)
        m = INFN(preset="lite", consistency=consistency, srf=srf if consistency == "srf" else None)
        out.append(_validate(m, [gt], scale, srf, torch.device("cpu"), 256))
    return out[0], out[1]


def val_curve(out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.5, 3.6), dpi=120, layout="constrained")
    ax = fig.subplots()
    for name in PRETRAINED:
        hist = [h for h in pretrained_info(name)["history"] if h.get("val_psnr") is not None]
        ax.plot([h["seconds"] / 60 for h in hist], [h["val_psnr"] for h in hist], "o-", ms=3, label=name)
    bicubic, projected = crop_baselines()
    ax.axhline(projected, color="0.4", ls="--", lw=1, label=f"untrained (SRF projection) {projected:.2f} dB")
    ax.set_xlabel(f"training wall time (min, 2-core CPU, 3 runs sharing it); bicubic: {bicubic:.2f} dB")
    ax.set_ylabel("validation PSNR (dB)")
    ax.set_title("superballs, centre 256² crop, ×4", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend()
    path = out / "val_curve.png"
    fig.savefig(path)
    return path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenes", nargs="*", default=[str(DEFAULT_SCENE)])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "results")
    ap.add_argument("--pixel", nargs=2, type=int, default=[276, 260])
    ap.add_argument("--overwrite", action="store_true")
    args = ap.parse_args()
    argv = ["evaluate", *args.scenes, "--models", *PRETRAINED, "--out-dir", str(args.out),
            "--plot-pixel", *map(str, args.pixel), "--device", "cpu"]
    if args.overwrite:
        argv.append("--overwrite")
    rc = cli_main(argv)
    if rc:
        return rc
    print(f"wrote {val_curve(args.out)}")
    for scene in args.scenes:
        base = projection_baseline(Path(scene))
        print(f"{Path(scene).name}: SRF projection of bicubic alone (no learning): "
              + "  ".join(f"{k}={v:.4f}" for k, v in base.items()))
    print("\nthe paper, for comparison (PSNR | SAM | ERGAS | SSIM):")
    for k, v in PAPER.items():
        print(f"  {k}: {v}")
    for name in PRETRAINED:
        info = pretrained_info(name)
        print(f"  {name}: {info['steps']} steps, {info['wall_seconds'] / 60:.1f} min on {info['device']}, "
              f"last validation PSNR {info['val_psnr']:.2f} dB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
