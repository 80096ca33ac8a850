"""Make docs/ensemble_screenshot.png: the demo window with the shipped ensemble in the run (*Compare schemes*:
its expected |error| under its true |error|) and the Spectrum inspector at the pixel of highest expected
|error|, the members' spread as a band around the ensemble's curve.

    NAPARI_INF3_CONFIG_DIR=$(mktemp -d) xvfb-run -a .venv/bin/python scripts/ensemble_screenshot.py [out] [--pick N]
        [--overwrite]

``--pick N``: the Spectrum inspector at the N-th pixel of highest expected |error| (default 1); where the
members nearly agree their band is a hair around the curve, so a later pick may show it better.

The expected |error| comes from the shipped calibration (``napari_inf3/shipped/ensemble_lite_x4.json``);
without one the run has no expected-|error| map and the script stops.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PIL import Image


def main() -> None:
    from napari_inf3.qt_default import prefer_default_binding

    prefer_default_binding()  # PyQt6, the default install's, also where PyQt5 is installed beside it
    import napari
    from qtpy.QtWidgets import QApplication
    from screenshot import save_palette_png  # scripts/ is the script's own directory, first on its path

    from napari_inf3._napari.demo_viewer import build_demo_viewer
    from napari_inf3.data.sample import load_sample
    from napari_inf3.fusion.pipeline import fusion_run
    from napari_inf3.fusion.types import SimulatedPair

    argv = sys.argv[1:]
    pick = 1
    if "--pick" in argv:
        i = argv.index("--pick")
        pick = int(argv[i + 1])
        del argv[i : i + 2]
    args = [a for a in argv if a != "--overwrite"]
    out = Path(args[0]) if args else Path(__file__).resolve().parents[1] / "docs" / "ensemble_screenshot.png"
    if out.exists() and "--overwrite" not in sys.argv:
        sys.exit(f"{out} exists; pass --overwrite to replace it")
    run = fusion_run({"area": "area", "net": "net", "cosine": "cosine", "ensemble": "ensemble"},
                     SimulatedPair(load_sample(), scale=4))
    if not run.expected_error:
        sys.exit("the shipped ensemble has no error calibration: no expected |error| to show")
    viewer = napari.Viewer(title="napari-inf3 ensemble", show=True)
    viewer.window.resize(1600, 1000)
    _, fusion, spectrum, _ = build_demo_viewer(run, viewer)
    spectrum.rank.setCurrentText("expected |error|")
    for _ in range(pick):  # ▶ N times: the N-th pixel of highest expected |error|
        spectrum.step(1)
    fusion.fit_view()
    for _ in range(30):  # let the docks lay out and the view fit
        QApplication.processEvents()
        time.sleep(0.02)
    shot = Image.fromarray(viewer.screenshot(canvas_only=False, flash=False)).convert("RGB")
    save_palette_png(shot, out)  # 256 colours, dithered (undithered, the composites came out in flat bands)
    print(f"wrote {out} {shot.size}")
    viewer.close()


if __name__ == "__main__":
    main()
