"""Where the Fuse button's time goes: per stage, the models' own time against everything else, from the click to
the layers (issue 25: click-to-layers ≤ 1.3 × the models' time).

Stages, in the order the Fusion dock runs them: *simulate* (the pair from the GT), *bicubic*, each *model*
(what :func:`napari_inf3.fuse` took), *scoring* (PSNR, SAM, ERGAS, SSIM of every result), then on the GUI thread
*layer data* (:func:`napari_inf3._napari.layers.run_layer_data`: composites, error and SAM maps, …) and with
``--napari`` *add layers* (``viewer.add_image`` for each, in an offscreen viewer; needs a display or xvfb).

    python -m bench pipeline                         # superballs 512² and 2048² (tiled 4 × 4), lite area/net/cosine
    xvfb-run -a python -m bench pipeline --napari --sizes 512
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from bench import emit

SCENE = Path(__file__).resolve().parents[2] / "shared" / "data" / "cave" / "superballs_ms"


def scene(size: int) -> np.ndarray:
    """Superballs (the sample without the data folder), tiled or cropped to ``size`` × ``size``."""
    import napari_inf3 as ni
    from napari_inf3.sample import load_sample

    gt = np.asarray((ni.read_cube(SCENE) if SCENE.is_dir() else load_sample()).data, np.float32)
    reps = -(-size // gt.shape[1])
    return np.ascontiguousarray(np.tile(gt, (1, reps, reps))[:, :size, :size])


def stage_times(models: list[str], size: int, add_layers: bool) -> dict[str, float]:
    """``{stage: seconds}`` of one run (the models' own times under their names)."""
    from napari_inf3.fusion_types import SimulatedPair
    from napari_inf3.pipeline import iter_fusion_run

    gt = scene(size)
    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    gen = iter_fusion_run(models, SimulatedPair(gt, scale=4), device="cpu")
    label = "simulate"
    t = t0
    while True:
        try:
            _, _, msg = next(gen)
        except StopIteration as stop:
            run = stop.value
            stages[label] = time.perf_counter() - t
            break
        now = time.perf_counter()
        stages[label] = stages.get(label, 0.0) + now - t
        t, label = now, msg.replace("fusing with ", "")
    t = time.perf_counter()
    from napari_inf3._napari.layers import run_layer_data

    data = run_layer_data(run, "run 1", "GT")
    stages["layer data"] = time.perf_counter() - t
    if add_layers:
        import napari

        from napari_inf3._napari.layers import add_layer_data

        viewer = napari.Viewer(show=False)
        t = time.perf_counter()
        add_layer_data(viewer, data)
        stages["add layers"] = time.perf_counter() - t
        viewer.close()
    stages["models (fuse)"] = sum(run.seconds[m] for m in models if m in run.seconds)
    stages["click to layers"] = time.perf_counter() - t0
    return stages


def main(argv=None) -> None:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[512, 2048])
    ap.add_argument("--models", nargs="+", default=["area", "net", "cosine"])
    ap.add_argument("--napari", action="store_true", help="also time adding the layers to a napari viewer")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    summary = {"models": args.models, "threads": args.threads}
    for size in args.sizes:
        st = stage_times(args.models, size, args.napari)
        model_s = st.pop("models (fuse)")
        total = st.pop("click to layers")
        print(f"\n{size}², {', '.join(args.models)}, {args.threads} threads")
        print("| stage | s | share |\n|---|---|---|")
        for k, v in st.items():
            print(f"| {k} | {v:.2f} | {v / total:.0%} |")
        print(f"| **click to layers** | **{total:.2f}** | models {model_s:.2f} s: ratio **{total / model_s:.2f}** |")
        summary[f"ratio_{size}"] = round(total / model_s, 3)
        summary[f"total_s_{size}"] = round(total, 2)
        summary[f"models_s_{size}"] = round(model_s, 2)
        summary[f"stages_{size}"] = {k: round(v, 3) for k, v in st.items()}
    emit(summary)


if __name__ == "__main__":
    main()
