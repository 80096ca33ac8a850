"""Where the Fuse button's time goes: per stage, the models' own time against everything else, from the click to
the layers (issue 25: click-to-layers ≤ 1.3 × the models' time).

Stages, in the order the Fusion dock runs them: *simulate* (the pair from the GT), *bicubic*, each *model*
(what :func:`napari_inf3.fuse` took), *scoring* (PSNR, SAM, ERGAS, SSIM of every result), then on the GUI thread
*layer data* (:func:`napari_inf3._napari.layers.run_layer_data`: composites, error and SAM maps, …) and with
``--napari`` *add layers* (``viewer.add_image`` for each, in an offscreen viewer holding the GT layer; needs a
display or xvfb). SSIM is computed after the layers are shown, as the dock does (:func:`run_job`); its time is
printed, outside *click to layers*. ``--dock`` times the real dock: *click to layers* until the composites are shown
(the dock adds them before the scores), *click to scores* until the table has PSNR/SAM/ERGAS, *click to all layers*
until the hidden ones (cubes, maps) have followed, a few per event-loop turn
(:mod:`napari_inf3._napari.staged_layers`), *click to SSIM* until the table is complete.

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
    from napari_inf3.data.sample import load_sample

    gt = np.asarray((ni.read_cube(SCENE) if SCENE.is_dir() else load_sample()).data, np.float32)
    reps = -(-size // gt.shape[1])
    return np.ascontiguousarray(np.tile(gt, (1, reps, reps))[:, :size, :size])


def stage_times(models: list[str], size: int, add_layers: bool) -> dict[str, float]:
    """``{stage: seconds}`` of one run (the models' own times under their names)."""
    from napari_inf3.fusion.pipeline import iter_fusion_run
    from napari_inf3.fusion.types import SimulatedPair

    gt = scene(size)
    viewer = None
    if add_layers:  # made before the clock starts: the user's window is open, with the GT in it
        import napari

        viewer = napari.Viewer(show=False)
        viewer.add_image(gt, name="GT")
    stages: dict[str, float] = {}
    t0 = time.perf_counter()
    gen = iter_fusion_run(models, SimulatedPair(gt, scale=4), device="cpu", ssim=False)  # as the Fusion dock
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
    if viewer is not None:
        from napari_inf3._napari.layers import add_layer_data

        t = time.perf_counter()
        add_layer_data(viewer, data)
        stages["add layers"] = time.perf_counter() - t
    stages["models (fuse)"] = sum(run.seconds[m] for m in models if m in run.seconds)
    stages["click to layers"] = time.perf_counter() - t0
    from napari_inf3.fusion.pipeline import score_ssim

    t = time.perf_counter()
    score_ssim(run)
    stages["SSIM, after the layers"] = time.perf_counter() - t
    if viewer is not None:
        viewer.close()
    return stages


def dock_times(models: list[str], size: int, photo: bool = False) -> dict[str, float]:
    """The real thing: napari with the three docks and the GT layer open, *Fuse* clicked on the Fusion dock
    (its worker, its progress signals, every dock's layer pickers following the new layers); seconds from the
    click until the layers are in, until the table has SSIM, and the models' own time. ``photo``: a real pair
    instead, superballs' LR-HSI (×4) and the database's own 8-bit sRGB rendering as the HR-MSI (an RGB layer, as
    napari opens a PNG), the dock's default for it (estimate the camera); *click to pictures* until every model's
    composite is in, *click to all layers* until the rest has followed."""
    import os
    import tempfile

    import napari
    from qtpy.QtCore import Qt
    from qtpy.QtWidgets import QApplication

    os.environ["NAPARI_INF3_CONFIG_DIR"] = tempfile.mkdtemp()  # the docks' remembered choices stay out of it
    from napari_inf3._napari.fusion_choices import SIMULATE
    from napari_inf3._napari.fusion_widget import FusionWidget
    from napari_inf3._napari.spectrum_widget import SpectrumWidget
    from napari_inf3._napari.training_widget import TrainingWidget

    viewer = napari.Viewer(show=False)
    wavelengths = list(range(400, 710, 10))
    viewer.add_image(scene(size), name="GT", metadata={"wavelengths": wavelengths})
    fusion = FusionWidget(viewer)
    for dock, name in ((fusion, "Fusion"), (TrainingWidget(viewer), "Training"), (SpectrumWidget(viewer), "Spectrum")):
        viewer.window.add_dock_widget(dock, name=name, area="right")
    for i in range(fusion.models.count()):  # exactly the models asked for
        item = fusion.models.item(i)
        item.setCheckState(Qt.Checked if item.data(Qt.UserRole) in models else Qt.Unchecked)
    if photo:
        _real_photo_pair(viewer, fusion, size, wavelengths)
    else:
        fusion.mode.value = SIMULATE
        fusion.gt_combo.value = viewer.layers["GT"]
    fusion.device.setCurrentIndex(fusion.device.findData("cpu"))
    from qtpy.QtCore import QEventLoop

    times: dict[str, float] = {}
    show = fusion._show

    def timed_show(ready):  # the GUI thread adds the layers here: first the composites, then the rest
        show(ready)
        times["composites" if not ready.final else "scores"] = time.perf_counter() - t0
        if not ready.final:
            times[f"picture {len([k for k in times if k.startswith('picture')]) + 1}"] = times["composites"]

    fusion._show = timed_show

    def timed_complete(layers):  # the hidden layers follow a few per event-loop turn (staged_layers.py)
        times["all layers"] = time.perf_counter() - t0

    fusion._layers_complete = timed_complete
    loop = QEventLoop()
    QApplication.processEvents()
    t0 = time.perf_counter()
    worker = fusion.run()
    worker.finished.connect(loop.quit)
    loop.exec_() if hasattr(loop, "exec_") else loop.exec()  # idle in Qt's loop, as napari's window does
    done = time.perf_counter() - t0
    run = fusion.last_run
    out = {"click to layers": times.get("composites", done), "click to scores": times.get("scores", done),
           "click to all layers": times.get("all layers", done), "click to SSIM": done,
           "models (fuse)": sum(run.seconds[m] for m in models if m in run.seconds)}
    out |= {k: v for k, v in times.items() if k.startswith("picture")}
    out |= {f"fuse {m}": run.seconds[m] for m in models if m in run.seconds}
    viewer.close()
    return out


def _real_photo_pair(viewer, fusion, size: int, wavelengths: list[int]) -> None:
    """The Fusion dock set to a real pair: the GT's LR-HSI (×4, the paper's simulation) and superballs' 8-bit sRGB
    rendering (``cave_rgb``) as an RGB layer, tiled as the GT is; the response choice left at the dock's default."""
    from PIL import Image

    import napari_inf3 as ni
    from napari_inf3._napari.fusion_choices import PHOTO_CHOICE

    rgb = np.asarray(Image.open(SCENE.parent.parent / "cave_rgb" / "superballs_RGB.png").convert("RGB"))
    reps = -(-size // rgb.shape[0])
    rgb = np.ascontiguousarray(np.tile(rgb, (reps, reps, 1))[:size, :size])
    lr, _ = ni.simulate(np.asarray(viewer.layers["GT"].data), 4)
    viewer.add_image(np.asarray(lr), name="LR-HSI", metadata={"wavelengths": wavelengths})
    viewer.add_image(rgb, name="photo", rgb=True)
    fusion.mode.value = "real LR-HSI + HR-MSI"
    fusion.lr_combo.value = viewer.layers["LR-HSI"]
    fusion.msi_combo.value = viewer.layers["photo"]
    if fusion.pair_srf.value != PHOTO_CHOICE:
        raise SystemExit(f"an 8-bit RGB layer should default to {PHOTO_CHOICE!r}, got {fusion.pair_srf.value!r}")


def main(argv=None) -> None:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[512, 2048])
    ap.add_argument("--models", nargs="+", default=["area", "net", "cosine"])
    ap.add_argument("--napari", action="store_true", help="also time adding the layers to a napari viewer")
    ap.add_argument("--dock", action="store_true",
                    help="time the real Fusion dock instead: napari with the three docks, Fuse clicked")
    ap.add_argument("--photo", action="store_true",
                    help="with --dock: a real pair, superballs' LR-HSI and its 8-bit sRGB rendering (cave_rgb)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    summary = {"models": args.models, "threads": args.threads}
    for size in args.sizes:
        if args.dock:
            d = dock_times(args.models, size, args.photo)
            ratio = d["click to layers"] / d["models (fuse)"]
            pictures = sorted(k for k in d if k.startswith("picture"))
            if pictures:
                print(f"{size}², pictures in at " + ", ".join(f"{d[k]:.2f} s" for k in pictures) + "; each model's "
                      "fuse() " + ", ".join(f"{d[f'fuse {m}']:.2f} s" for m in args.models if f"fuse {m}" in d))
            ratio_all = d["click to all layers"] / d["models (fuse)"]
            print(f"{size}² through the Fusion dock: click to the composites shown {d['click to layers']:.2f} s "
                  f"(ratio {ratio:.2f}), to the scores in the table {d['click to scores']:.2f} s, to all layers "
                  f"{d['click to all layers']:.2f} s (ratio {ratio_all:.2f}), to SSIM in the table "
                  f"{d['click to SSIM']:.2f} s; models {d['models (fuse)']:.2f} s")
            summary[f"dock_{size}"] = {k.replace(" ", "_"): round(v, 2) for k, v in d.items()} | {
                "ratio": round(ratio, 3), "ratio_all_layers": round(ratio_all, 3)}
            continue
        st = stage_times(args.models, size, args.napari)
        model_s = st.pop("models (fuse)")
        total = st.pop("click to layers")
        later = st.pop("SSIM, after the layers")
        print(f"\n{size}², {', '.join(args.models)}, {args.threads} threads")
        print("| stage | s | share |\n|---|---|---|")
        for k, v in st.items():
            print(f"| {k} | {v:.2f} | {v / total:.0%} |")
        print(f"| **click to layers** | **{total:.2f}** | models {model_s:.2f} s: ratio **{total / model_s:.2f}** |")
        print(f"| then SSIM in the table | {later:.2f} | |")
        summary[f"ratio_{size}"] = round(total / model_s, 3)
        summary[f"total_s_{size}"] = round(total, 2)
        summary[f"models_s_{size}"] = round(model_s, 2)
        summary[f"ssim_after_s_{size}"] = round(later, 2)
        summary[f"stages_{size}"] = {k: round(v, 3) for k, v in st.items()}
    emit(summary)


if __name__ == "__main__":
    main()
