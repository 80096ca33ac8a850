"""Fit the ensemble's error calibration (issue 22) and say how well it predicts scenes it was not fitted on.

For each CAVE scene (simulated ×4 under the paper's protocol, LR pixel r // 2 of each block): fuse with the
three shipped schemes of ``--preset``, average, and keep per-pixel maps: the true mean |error| over bands of
the ensemble and the cues of :func:`napari_inf3.models.uncertainty.error_cues`. Then:

1. cross-validation over the training scenes (``--folds`` groups, seeded): fit on the others, predict each
   held-out scene: Spearman(expected, true |error|) per scene, the plain spread's Spearman for comparison, and
   predicted / true mean |error|;
2. the calibration fitted on every training scene, checked on ``--check`` scenes (superballs: never trained on);
3. ``--ship``: that calibration, with the cross-validation's figures in its ``checked``, written to
   ``napari_inf3/shipped/ensemble_<preset>_x4.json``.

Per-scene maps are cached in ``--cache`` (one .npz per preset and scene); ``--crop N`` uses each scene's
central N × N (the paper preset costs ≈ 10 s a 512² scene a scheme on this project's 2-core CPU).

    python -m experiments calibrate_ensemble_lite      # experiments/configs/calibrate_ensemble_lite.toml
    python -m experiments calibrate_ensemble_paper     # the paper preset on 256² crops
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "cave"
CHECK = ("superballs_ms",)


def scene_maps(scene: Path, preset: str, crop: int, cache: Path) -> dict[str, np.ndarray]:
    """The scene's cue maps, true |error| map and PSNRs (area, net, cosine, ensemble, projection); cached."""
    import torch

    from napari_inf3.data.simulation import simulate
    from napari_inf3.evaluation.metrics import error_map, psnr
    from napari_inf3.fusion.inference import fuse, pair_projection
    from napari_inf3.io import read_cube
    from napari_inf3.models.uncertainty import error_cues

    path = cache / f"{preset}_{scene.name}{f'_crop{crop}' if crop else ''}.npz"
    if path.is_file():
        return dict(np.load(path))
    torch.set_num_threads(2)
    g = np.asarray(read_cube(scene).data, np.float32)
    if crop:
        y, x = (g.shape[1] - crop) // 2, (g.shape[2] - crop) // 2
        g = g[:, y : y + crop, x : x + crop]
    lr, msi = simulate(g, 4, "nikon_d700", crop=True)
    g = g[:, : msi.shape[1], : msi.shape[2]]
    spec = "" if preset == "lite" else f"{preset}:"
    cubes = [fuse(f"{spec}{w}", lr, msi, "cpu").cube for w in ("area", "net", "cosine")]
    ens = np.mean(cubes, axis=0)
    projection, _ = pair_projection(lr, msi)
    maps = error_cues(cubes, projection, msi) | {"err": error_map(ens, g)}
    scores = np.array([psnr(c, g) for c in (*cubes, ens, projection)])
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(path, **maps, scores=scores)
    return maps | {"scores": scores}


def judge(cal, maps: dict[str, np.ndarray]) -> dict[str, float]:
    from napari_inf3.models.uncertainty import CUES, spearman

    pred = cal.predict({c: maps[c] for c in CUES})
    s = maps["scores"]
    return {"spearman": spearman(pred, maps["err"]), "spearman_spread": spearman(maps["spread"], maps["err"]),
            "pred_over_true": float(pred.mean() / maps["err"].mean()), "true_mean_error": float(maps["err"].mean()),
            "ensemble_psnr": float(s[3]), "best_single_psnr": float(s[:3].max()), "projection_psnr": float(s[4])}


def summary(rows: dict[str, dict[str, float]]) -> dict[str, float]:
    rel = np.array([abs(r["pred_over_true"] - 1) for r in rows.values()])
    return {"scenes": len(rows),
            "spearman_mean": float(np.mean([r["spearman"] for r in rows.values()])),
            "spearman_spread_mean": float(np.mean([r["spearman_spread"] for r in rows.values()])),
            "mean_error_rel_median": float(np.median(rel)), "mean_error_rel_worst": float(rel.max()),
            "ensemble_minus_best_db": float(np.mean([r["ensemble_psnr"] - r["best_single_psnr"]
                                                     for r in rows.values()]))}


def main(argv=None) -> int:
    from napari_inf3.models.uncertainty import CUES, ErrorCalibration, fit_calibration

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="lite", choices=["lite", "paper"])
    ap.add_argument("--data", default=str(DATA), help="folder of CAVE scene folders")
    ap.add_argument("--crop", type=int, default=0, help="central N × N of each scene (0: whole)")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--cache", default=str(ROOT / "runs" / "calibration_maps"))
    ap.add_argument("--ship", action="store_true", help="write the shipped calibration JSON")
    ap.add_argument("--out", help="results JSON (default docs/results/ensemble_calibration_<preset>.json)")
    args = ap.parse_args(argv)
    t0 = time.time()
    scenes = sorted(p for p in Path(args.data).iterdir() if p.is_dir())
    maps = {}
    for s in scenes:
        maps[s.name] = scene_maps(s, args.preset, args.crop, Path(args.cache))
        print(f"{s.name}: maps ready ({time.time() - t0:.0f} s)", file=sys.stderr, flush=True)
    train = [n for n in maps if n not in CHECK]
    order = np.random.default_rng(0).permutation(len(train))
    folds = [[train[i] for i in order[k :: args.folds]] for k in range(args.folds)]

    def fit(names):
        return fit_calibration([({c: maps[n][c] for c in CUES}, maps[n]["err"]) for n in names], preset=args.preset,
                               names=names)

    cv = {}
    for fold in folds:
        cal = fit([n for n in train if n not in fold])
        cv |= {n: judge(cal, maps[n]) for n in fold}
    final = fit(train)
    held = {n: judge(final, maps[n]) for n in CHECK if n in maps}
    res = {"preset": args.preset, "crop": args.crop, "folds": args.folds, "cross_validated": summary(cv),
           "held_out": summary(held) if held else {}, "per_scene_cv": cv, "per_scene_held_out": held,
           "calibration": {"coef": final.coef, "degree": final.degree, "scale": final.scale, "eps": final.eps,
                           "cues": list(CUES)},
           "seconds": round(time.time() - t0)}
    print(f"| {args.preset} | {'scene' if not args.crop else f'{args.crop}² crop'} | ", end="")
    for part in ("cross_validated", "held_out"):
        s = res[part]
        if s:
            print(f"{part}: Spearman {s['spearman_mean']:.3f} (spread alone {s['spearman_spread_mean']:.3f}), "
                  f"mean |error| off by {s['mean_error_rel_median']:.0%} median / {s['mean_error_rel_worst']:.0%} "
                  f"worst, ensemble − best {s['ensemble_minus_best_db']:+.2f} dB | ", end="")
    print()
    out = Path(args.out or ROOT / "docs" / "results" / f"ensemble_calibration_{args.preset}.json")
    out.write_text(json.dumps(res, indent=1) + "\n")
    if args.ship:
        from napari_inf3.shipped import calibration_path

        shipped = ErrorCalibration(final.coef, degree=final.degree, eps=final.eps, smooth_px=final.smooth_px,
                                   scale=final.scale, preset=args.preset, fitted_on=final.fitted_on,
                                   checked={k: round(v, 4) for k, v in res["cross_validated"].items()})
        print(f"wrote {shipped.save(calibration_path(args.preset), overwrite=True)}")
    print(json.dumps({k: res[k] for k in ("preset", "cross_validated", "held_out", "seconds")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
