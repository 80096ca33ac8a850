"""The Fusion dock with a photograph as the HR-MSI (issue 21): the camera estimated from the pair, plotted,
mapped, gated and saved; the Training dock fine-tunes a shipped model to that camera."""

from __future__ import annotations

import numpy as np

from napari_inf3.camera import CameraFit
from napari_inf3.data.sample import load_sample
from tests.conftest import photo_camera, photo_pair
from tests.gui.test_real_pair_gui import fine_tune_in_training_dock, real_pair_dock


def _photo_viewer(make_napari_viewer):
    lr, photo, _ = photo_pair(np.asarray(load_sample().data, np.float32), photo_camera())
    # as napari opens a PNG: an 8-bit RGB layer
    return real_pair_dock(make_napari_viewer, lr, np.round(np.moveaxis(photo, 0, -1) * 255).astype(np.uint8))


def _fuse(fusion, qtbot):
    assert fusion.run() is not None
    qtbot.waitUntil(lambda: fusion.worker is None, timeout=120_000)
    return fusion.last_run


def _table(fusion) -> dict[str, list[str]]:
    t = fusion.table
    return {t.item(r, 0).text(): [t.item(r, c).text() for c in range(1, t.columnCount())] for r in range(t.rowCount())}


def test_estimated_camera_is_plotted_mapped_gated_and_saved(make_napari_viewer, qtbot, tmp_path, monkeypatch):
    from qtpy.QtWidgets import QMessageBox

    viewer, fusion = _photo_viewer(make_napari_viewer)
    fusion.pair_srf.value = "estimate the camera (a photo)"
    assert not fusion.srf_file.native.isVisibleTo(fusion)
    run = _fuse(fusion, qtbot)
    assert run.camera.curve.kind == "srgb" and run.camera.signed
    # tone curve beside the response, in nm
    assert fusion.srf_canvas.isVisibleTo(fusion)
    curve_ax, srf_ax = fusion.srf_canvas.figure.axes[:2]
    assert curve_ax.get_xlabel() == "stored value" and srf_ax.get_xlabel() == "wavelength (nm)"
    # the residual map, the pair-only table (bicubic first), no gate finding
    assert any(layer.metadata.get("inf3", {}).get("role") == "camera_residual" for layer in viewer.layers)
    header = [fusion.table.horizontalHeaderItem(c).text() for c in range(fusion.table.columnCount())]
    assert header[:4] == ["method", "LR-HSI (dB)", "HR-MSI (dB)", "Δ bicubic"]
    rows = _table(fusion)
    assert list(rows)[0] == "bicubic" and set(rows) == {"bicubic", "projection", "cosine"}
    assert rows["cosine"][3] == "above bicubic" and float(rows["cosine"][2]) > 0
    assert "POOR" not in fusion.status.text()
    # saved as JSON, read back; an existing file only replaced when the user says so
    assert fusion.save_srf_btn.text() == "Save camera as JSON…"
    path = fusion.save_srf(tmp_path / "camera.json")
    assert CameraFit.load(path).curve.kind == "srgb"
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.No)
    assert fusion.save_srf(path) is None

    # the Training dock fine-tunes the shipped cosine to that camera
    from napari_inf3.models.checkpoint import read_checkpoint

    meta = read_checkpoint(fine_tune_in_training_dock(viewer, qtbot, "camera file", path, tmp_path / "c.pt"))["meta"]
    assert meta["srf"] == "camera" and meta["camera"]["curve"]["kind"] == "srgb"


def test_a_photo_taken_as_linear_is_flagged(make_napari_viewer, qtbot):
    """The path that used to pass silently: the photo's response fitted as if it were linear."""
    viewer, fusion = _photo_viewer(make_napari_viewer)
    fusion.pair_srf.value = "estimate from the pair"
    run = _fuse(fusion, qtbot)
    assert any(f.level == "poor" and "misfits" in f.message for f in run.findings)
    assert "POOR camera fit (channel R, G, B misfit)" in fusion.status.text()
    assert "tone-mapped" in fusion.status.toolTip()  # every finding in words
    rows = _table(fusion)
    assert list(rows)[0] == "bicubic" and len(rows) == 3
    worse = [name for name, cells in rows.items() if cells[3] == "worse than bicubic?"]
    base = run.pair_scores["bicubic"]["lr_psnr"]
    assert set(worse) == {n for n in ("projection", "cosine") if run.pair_scores[n]["lr_psnr"] < base}


def test_a_jpeg_opened_in_napari_is_fused_knowing_its_storage(make_napari_viewer, qtbot, tmp_path):
    """A photo saved as JPEG and opened with napari's own reader (File ▸ Open): the dock reads the file's tables
    from the layer's source, the estimated camera carries them, and the status says what the storage costs."""
    from PIL import Image

    lr, photo, _ = photo_pair(np.asarray(load_sample().data, np.float32), photo_camera())
    path = tmp_path / "photo.jpg"
    Image.fromarray(np.round(np.moveaxis(photo, 0, -1) * 255).astype(np.uint8)).save(path, quality=80)
    viewer, fusion = real_pair_dock(make_napari_viewer, lr, np.zeros((8, 8, 3), np.uint8))
    viewer.layers.remove("photo")
    layer = viewer.open(str(path), plugin="napari")[0]
    assert layer.rgb and str(layer.source.path) == str(path)
    fusion.msi_combo.value = layer
    fusion.pair_srf.value = "estimate the camera (a photo)"
    run = _fuse(fusion, qtbot)
    assert run.camera.jpeg is not None and run.camera.jpeg.quality == 80 and run.camera.jpeg.subsampling == "4:2:0"
    said = fusion.status.text() + fusion.status.toolTip()
    assert "stored as JPEG quality ≈ 80" in said, said


def test_an_8bit_rgb_layer_defaults_to_estimating_its_camera(make_napari_viewer):
    """Seen on screen (issue 34): a photo picked as the HR-MSI kept the Nikon default, read it as linear, and the
    fusion came out POOR, 12.7 dB below bicubic. An 8-bit RGB layer now sets the camera estimate; a response the
    user chose is left alone."""
    viewer, fusion = _photo_viewer(make_napari_viewer)
    assert fusion.pair_srf.value == "estimate the camera (a photo)"
    fusion.pair_srf.value = "estimate from the pair"
    viewer.add_image(np.zeros((16, 16, 3), np.uint8), rgb=True, name="another photo")
    fusion.msi_combo.value = viewer.layers["another photo"]
    assert fusion.pair_srf.value == "estimate from the pair"
