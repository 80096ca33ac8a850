"""Make docs/dock_fusion_pair.png: the Fusion dock after *fit to this pair* on a sensor no shipped network takes.

    NAPARI_INF3_CONFIG_DIR=$(mktemp -d) xvfb-run -a .venv/bin/python scripts/screenshot_pair.py [out.png] [--overwrite]

The pair: the 224-band AVIRIS Indian Pines cube of ``../shared/data/other_sensors`` (144 × 144, its nominal band
centres), as the ground truth; the LR-HSI simulated ×4 (the paper's protocol) and the HR-MSI through the packaged
Sentinel-2A 10 m response (4 bands). The dock fuses them as a *real* pair (no ground truth given to it) with only
*fit to this pair* and the SRF projection ticked and the HR-MSI response set to the packaged Sentinel-2A 10 m, as
a user with their own pair would; then the picture is taken with the dock's status (the fit's self-check) and
table in view.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "other_sensors"
sys.path.insert(0, str(ROOT / "scripts"))


def main() -> None:
    from napari_inf3.qt_default import prefer_default_binding

    prefer_default_binding()
    import napari
    from qtpy.QtCore import Qt
    from qtpy.QtWidgets import QApplication
    from screenshot import close_toasts, settle

    import napari_inf3 as ni
    from napari_inf3._napari.layers import cube_layer_kwargs

    args = [a for a in sys.argv[1:] if a != "--overwrite"]
    out = Path(args[0]) if args else ROOT / "docs" / "dock_fusion_pair.png"
    if out.exists() and "--overwrite" not in sys.argv:
        sys.exit(f"{out} exists; pass --overwrite to replace it")
    wl = np.loadtxt(DATA / "indian_pines_wavelengths_nominal.csv", delimiter=",", skiprows=1, usecols=-1)
    cube = ni.read_cube(DATA / "indian_pines_Ori_H.mat")
    gt = np.asarray(cube.data, np.float32)[:, :144, :144]
    srf = ni.load_srf("sentinel2a_10m", wavelengths=wl)
    lr, msi = ni.simulate(gt, 4, srf)

    viewer = napari.Viewer(title="napari-inf3: fit to this pair", show=True)
    viewer.window.resize(1500, 1000)
    viewer.add_image(lr, **cube_layer_kwargs("Indian Pines LR-HSI (224 bands)", wl, "gt"))
    viewer.add_image(msi, name="Sentinel-2 10 m HR-MSI (4 bands)")
    _, fusion = viewer.window.add_plugin_dock_widget("napari-inf3", "Fusion")
    fusion.mode.value = "real LR-HSI + HR-MSI"
    fusion.lr_combo.value = viewer.layers["Indian Pines LR-HSI (224 bands)"]
    fusion.msi_combo.value = viewer.layers["Sentinel-2 10 m HR-MSI (4 bands)"]
    fusion.pair_srf.value = "Sentinel-2A 10 m (4 bands)"  # the HR-MSI's sensor, as its user knows it
    for i in range(fusion.models.count()):
        item = fusion.models.item(i)
        item.setCheckState(Qt.Checked if item.data(Qt.UserRole) in ("pair", "projection") else Qt.Unchecked)
    if fusion.run() is None:
        sys.exit("the Fusion dock refused to run: " + fusion.status.text())
    while fusion.worker is not None:
        QApplication.processEvents()
        time.sleep(0.05)
    settle(1.0)
    fusion.fit_view()
    from qtpy.QtWidgets import QAbstractItemView

    ticked = [fusion.models.item(i) for i in range(fusion.models.count())
              if fusion.models.item(i).checkState() == Qt.Checked]
    fusion.models.scrollToItem(ticked[-1], QAbstractItemView.PositionAtBottom)  # the ticked entries in view
    close_toasts(viewer)
    settle(0.3)
    shot = Image.fromarray(viewer.screenshot(canvas_only=False, flash=False)).convert("RGB")
    shot.quantize(256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(out, optimize=True)
    print(f"wrote {out} {shot.size} {out.stat().st_size // 1024} KB; status: {fusion.status.text()!r}")
    viewer.close()


if __name__ == "__main__":
    main()
