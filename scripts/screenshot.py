"""Make docs/screenshot.png: the demo window (sample fused by the shipped checkpoints, three docks), or with
``--dock`` one dock's picture for its section of docs/DOCKS.md.

    NAPARI_INF3_CONFIG_DIR=$(mktemp -d) xvfb-run -a .venv/bin/python scripts/screenshot.py [out.png]
        [--dock fusion|spectrum|training] [--ablations] [--overwrite]
    NAPARI_INF3_CONFIG_DIR=$(mktemp -d) xvfb-run -a .venv/bin/python scripts/screenshot.py --pair [--overwrite]
    NAPARI_INF3_CONFIG_DIR=$(mktemp -d) xvfb-run -a .venv/bin/python scripts/screenshot.py --geo [--overwrite]
    NAPARI_INF3_CONFIG_DIR=$(mktemp -d) xvfb-run -a .venv/bin/python scripts/screenshot.py --photo [--overwrite]

Without ``--dock``: the whole demo window (``docs/screenshot.png``). With ``--dock NAME``: the same window
with only that dock open on the right and the layer list and controls closed (``docs/dock_NAME.png``). For
``training`` the dock first fine-tunes the shipped lite *cosine* model for six short epochs on the left part
of the sample, validated on the right part, so its loss curve and validation PSNR are real (about a minute on
two CPU cores); ``--ablations`` unfolds its *advanced: ablations* section (greyed: a fine-tune keeps its
model's architecture). The PNG is saved with a 256-colour palette, dithered (the window is flat UI colours and
colour-mapped images): a third of the bytes.

``--pair`` makes ``docs/dock_fusion_pair.png`` instead: the Fusion dock after *fit to this pair* on a sensor no
shipped network takes. The pair: the 224-band AVIRIS Indian Pines cube of ``../shared/data/other_sensors``
(144 × 144, its nominal band centres) as the truth, the LR-HSI simulated ×4 and the HR-MSI through the packaged
Sentinel-2A 10 m response (4 bands), fused as a *real* pair with *fit to this pair* and the SRF projection
ticked and the HR-MSI response set to the packaged Sentinel-2A 10 m, as a user with their own pair would.

``--geo`` makes ``docs/dock_geo.png``: two georeferenced GeoTIFFs opened in napari (the sample's LR-HSI at 40 m with
a nodata corner, its HR-MSI at 10 m on a footprint starting elsewhere), overlaid in map coordinates, fused by the
Fusion dock (projection and the shipped lite cosine) over their common footprint, and the Spectrum inspector
clicked on the fusion: the fused spectra and the 40 m LR-HSI's at the same map point; the status bar in map
coordinates.

``--photo`` makes ``docs/dock_photo.png``: a real pair whose HR-MSI is a photograph, superballs' LR-HSI (simulated
×4) and the CAVE database's own 8-bit sRGB rendering of the scene opened as an RGB layer; the Fusion dock on its
default for such a layer (*estimate the camera (a photo)*) fuses it with the shipped lite area, net and cosine:
the camera panel (tone curve and response) and the pair-only table with its verdicts.

``NAPARI_INF3_CONFIG_DIR`` pointing at an empty folder makes the docks show their defaults, not the choices
remembered on this machine.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

DOCS = Path(__file__).resolve().parents[1] / "docs"
DOCKS = ("fusion", "spectrum", "training")


def settle(seconds: float = 0.6) -> None:
    """Let Qt lay out, paint and run queued callbacks for a moment."""
    from qtpy.QtWidgets import QApplication

    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        QApplication.processEvents()
        time.sleep(0.02)


def close_toasts(viewer) -> None:
    """Close napari's notification pop-ups (e.g. a binding's deprecation notice) so none covers the canvas."""
    try:
        from napari._qt.dialogs.qt_notification import NapariQtNotification
    except ImportError:  # moved in a later napari: a toast may show, nothing breaks
        return
    for toast in viewer.window._qt_window.findChildren(NapariQtNotification):
        toast.close()


def dock_of(widget):
    """The QDockWidget holding ``widget``."""
    from qtpy.QtWidgets import QDockWidget

    w = widget
    while w is not None and not isinstance(w, QDockWidget):
        w = w.parentWidget()
    return w


def train_briefly(viewer, training, out_dir: Path) -> None:
    """Fine-tune the shipped lite cosine model on the sample's left 128 columns for a few short epochs at a
    low learning rate, validating on the right 64, and wait for the run to end."""
    from qtpy.QtWidgets import QApplication

    gt = viewer.layers["superballs (crop) GT"]
    meta = dict(gt.metadata)
    viewer.add_image(gt.data[:, :, :128], name="training part", metadata=meta, visible=False)
    viewer.add_image(gt.data[:, :, 128:], name="validation part", metadata=meta, visible=False)
    training.refresh_layers()
    training.set_layer_checked("training part")
    training.val_combo.value = viewer.layers["validation part"]
    training.init.value = "lite:cosine"
    training.epochs.value = 6
    training.per_epoch.value = 48
    training.lr.value = 5e-5
    training.batch.value = 8
    training.out.value = str(out_dir / "cosine_finetuned.pt")
    if training.start(confirm=False) is None:
        sys.exit("the Training dock refused to start")
    while training.worker is not None:
        QApplication.processEvents()
        time.sleep(0.05)
    training.draw()


def fuse_in_dock(fusion, models: tuple[str, ...]) -> None:
    """Tick exactly ``models`` in the Fusion dock's list, click Fuse, wait for the run and fit the view to it."""
    from qtpy.QtCore import Qt
    from qtpy.QtWidgets import QApplication

    for i in range(fusion.models.count()):
        item = fusion.models.item(i)
        item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in models
                           else Qt.CheckState.Unchecked)
    if fusion.run() is None:
        sys.exit("the Fusion dock refused to run: " + fusion.status.text())
    while fusion.worker is not None or (fusion.staged is not None and not fusion.staged.complete):
        QApplication.processEvents()  # the run, then its hidden layers (added a few per event-loop turn)
        time.sleep(0.05)
    settle(1.0)
    fusion.fit_view()


def save_palette_png(shot, out: Path) -> None:
    """``shot`` (RGB) as a 256-colour PNG, dithered: one median-cut palette for the whole window is mostly spent on
    the interface's greys, so undithered the images in it came out in flat bands (Pillow's ``quantize`` ignores
    ``dither`` unless it is given a palette)."""
    palette = shot.quantize(256, method=Image.Quantize.MEDIANCUT)
    shot.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG).save(out, optimize=True)


def save_window(viewer, out: Path, wait: float):
    """The whole window (notifications closed, ``wait`` seconds settled) as a 256-colour PNG; the RGB image."""
    close_toasts(viewer)
    settle(wait)
    shot = Image.fromarray(viewer.screenshot(canvas_only=False, flash=False)).convert("RGB")
    save_palette_png(shot, out)
    return shot


def pair_window(out: Path) -> None:
    """docs/dock_fusion_pair.png: the Fusion dock after *fit to this pair* (module docstring, ``--pair``)."""
    import napari
    from qtpy.QtCore import Qt

    import napari_inf3 as ni
    from napari_inf3._napari.layers import cube_layer_kwargs

    data = DOCS.parent.parent / "shared" / "data" / "other_sensors"
    wl = np.loadtxt(data / "indian_pines_wavelengths_nominal.csv", delimiter=",", skiprows=1, usecols=-1)
    cube = ni.read_cube(data / "indian_pines_Ori_H.mat")
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
    fuse_in_dock(fusion, ("pair", "projection"))
    from qtpy.QtWidgets import QAbstractItemView

    ticked = [fusion.models.item(i) for i in range(fusion.models.count())
              if fusion.models.item(i).checkState() == Qt.CheckState.Checked]
    fusion.models.scrollToItem(ticked[-1], QAbstractItemView.PositionAtBottom)  # the ticked entries in view
    shot = save_window(viewer, out, 0.3)
    print(f"wrote {out} {shot.size} {out.stat().st_size // 1024} KB; status: {fusion.status.text()!r}")
    viewer.close()


def geo_window(out: Path) -> None:
    """docs/dock_geo.png: two GeoTIFFs overlaid, fused and inspected (module docstring, ``--geo``)."""
    import napari
    import rasterio
    from rasterio.transform import Affine

    import napari_inf3 as ni
    from napari_inf3.data.sample import load_sample

    sample = load_sample()
    lr, msi = ni.simulate(np.asarray(sample.data, np.float32), 4)
    lr = np.array(lr, np.float32)
    ii, jj = np.mgrid[: lr.shape[1], : lr.shape[2]]
    lr[:, (ii + jj) < 14] = -9999  # a swath edge: the LR-HSI's north-west corner has no data
    d = Path(tempfile.mkdtemp())
    files = []
    for name, data, pixel, x0, y0, nodata in (("hsi_40m.tif", lr, 40.0, 500_120.0, 3_999_840.0, -9999),
                                              ("msi_10m.tif", np.asarray(msi)[:, 8:, 12:], 10.0, 500_240.0,
                                               3_999_760.0, None)):
        with rasterio.open(d / name, "w", driver="GTiff", width=data.shape[2], height=data.shape[1],
                           count=data.shape[0], dtype="float32", crs="EPSG:32633",
                           transform=Affine(pixel, 0, x0, 0, -pixel, y0), nodata=nodata) as ds:
            ds.write(data)
            if data.shape[0] == len(sample.wavelengths):  # band centres, as a GIS writes them
                ds.descriptions = tuple(f"{w:g} nm" for w in sample.wavelengths)
        files.append(d / name)
    viewer = napari.Viewer(title="napari-inf3: a georeferenced pair", show=True)
    viewer.window.resize(1600, 1000)
    lr_layer = viewer.open(str(files[0]), plugin="napari-inf3")[0]
    msi_layer = viewer.open(str(files[1]), plugin="napari-inf3")[0]
    _, fusion = viewer.window.add_plugin_dock_widget("napari-inf3", "Fusion")
    fusion.mode.value = "real LR-HSI + HR-MSI"
    fusion.lr_combo.value, fusion.msi_combo.value = lr_layer, msi_layer
    fuse_in_dock(fusion, ("projection", "cosine"))
    _, spectrum = viewer.window.add_plugin_dock_widget("napari-inf3", "Spectrum inspector")
    fused = next(lyr for lyr in viewer.layers if lyr.name.startswith("cosine ["))
    for layer in viewer.layers:  # the fused composite over the LR-HSI's own picture
        layer.visible = layer is lr_layer or layer.name.startswith("composite cosine")
    viewer.layers.selection.active = fused
    spectrum.click(fused.data_to_world((0, 100, 120)))
    viewer.reset_view()
    viewer.mouse_over_canvas = True
    viewer.cursor.position = tuple(fused.data_to_world((0, 100, 120)))
    viewer.update_status_from_cursor()
    shot = save_window(viewer, out, 0.5)
    print(f"wrote {out} {shot.size}; status: {viewer.status!r}; curves: {list(spectrum.curves)}")
    viewer.close()


def photo_window(out: Path) -> None:
    """docs/dock_photo.png: a real pair whose HR-MSI is a photograph (module docstring, ``--photo``)."""
    import napari

    import napari_inf3 as ni
    from napari_inf3._napari.layers import cube_layer_kwargs

    data = DOCS.parent.parent / "shared" / "data"
    gt = ni.read_cube(data / "cave" / "superballs_ms")
    lr, _ = ni.simulate(gt, 4)
    rgb = np.asarray(Image.open(data / "cave_rgb" / "superballs_RGB.png").convert("RGB"))
    viewer = napari.Viewer(title="napari-inf3: a photo as the HR-MSI", show=True)
    viewer.window.resize(1500, 1000)
    viewer.add_image(np.asarray(lr), **cube_layer_kwargs("superballs LR-HSI (×4)", gt.wavelengths, "gt"))
    viewer.add_image(rgb, name="superballs_RGB (8-bit sRGB)", rgb=True)
    _, fusion = viewer.window.add_plugin_dock_widget("napari-inf3", "Fusion")
    fusion.mode.value = "real LR-HSI + HR-MSI"
    fusion.lr_combo.value = viewer.layers["superballs LR-HSI (×4)"]
    fusion.msi_combo.value = viewer.layers["superballs_RGB (8-bit sRGB)"]  # the dock picks 'estimate the camera'
    fuse_in_dock(fusion, ("area", "net", "cosine"))
    shot = save_window(viewer, out, 0.3)
    print(f"wrote {out} {shot.size}; response choice {fusion.pair_srf.value!r}; status: {fusion.status.text()!r}")
    viewer.close()


#: The windows made by a flag of their own: flag -> (default file in docs/, the function that makes it).
WINDOWS = {"--pair": ("dock_fusion_pair.png", pair_window), "--geo": ("dock_geo.png", geo_window),
           "--photo": ("dock_photo.png", photo_window)}


def main() -> None:
    from napari_inf3.qt_default import prefer_default_binding

    prefer_default_binding()  # PyQt6, the default install's, also where PyQt5 is installed beside it
    import napari

    from napari_inf3._napari.demo_viewer import build_demo_viewer
    from napari_inf3.demo import compute

    argv = sys.argv[1:]
    for flag, (name, window) in WINDOWS.items():
        if flag in argv:
            rest = [a for a in argv if a not in (flag, "--overwrite")]
            out = Path(rest[0]) if rest else DOCS / name
            if out.exists() and "--overwrite" not in argv:
                sys.exit(f"{out} exists; pass --overwrite to replace it")
            return window(out)
    dock = None
    if "--dock" in argv:
        i = argv.index("--dock")
        dock = argv[i + 1] if i + 1 < len(argv) else ""
        del argv[i : i + 2]
        if dock not in DOCKS:
            sys.exit(f"--dock takes one of {', '.join(DOCKS)}")
    args = [a for a in argv if a not in ("--overwrite", "--ablations")]
    if "--ablations" in argv and dock != "training":
        sys.exit("--ablations unfolds a section of the Training dock: give --dock training too")
    default = DOCS / ("screenshot.png" if dock is None else f"dock_{dock}.png")
    out = Path(args[0]) if args else default
    if out.exists() and "--overwrite" not in sys.argv:
        sys.exit(f"{out} exists; pass --overwrite to replace it")
    viewer = napari.Viewer(title="napari-inf3 demo", show=True)
    viewer.window.resize(1600, 1000)
    _, fusion, spectrum, training = build_demo_viewer(compute(), viewer)
    # a fixed name: the Training dock shows the checkpoint's path
    tmp = Path(tempfile.gettempdir()) / "napari-inf3-screenshot"
    tmp.mkdir(exist_ok=True)
    try:
        if dock is not None:
            shown = {"fusion": fusion, "spectrum": spectrum, "training": training}[dock]
            for widget in (fusion, spectrum, training):
                if widget is not shown:
                    dock_of(widget).hide()
            dock_of(shown).raise_()
            # the canvas gets the room the layer list had: the dock and the images are the subject here
            qt_viewer = viewer.window._qt_viewer
            for left in (qt_viewer.dockLayerControls, qt_viewer.dockLayerList):
                left.hide()
            if dock == "training":
                train_briefly(viewer, training, tmp)
                training.ablations.set_expanded("--ablations" in argv)
            if dock == "fusion":  # what the canvas shows: the run made the weight maps and differences
                fusion.weight_maps.value = True
            settle()
            # the dock's minimum height wins over this; the Fusion dock's table shows all five rows
            viewer.window.resize(1500, 1080 if dock == "fusion" else 900)
            settle()
            fusion.fit_view()
        settle()
        close_toasts(viewer)
        settle(0.2)
        shot = Image.fromarray(viewer.screenshot(canvas_only=False, flash=False)).convert("RGB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    save_palette_png(shot, out)
    print(f"wrote {out} {shot.size} {out.stat().st_size // 1024} KB")
    viewer.close()


if __name__ == "__main__":
    main()
