"""The Fusion dock with a real pair from another camera: response estimated from the pair, HR-MSI aligned."""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import Qt

from napari_inf3 import load_srf, simulate
from napari_inf3.data.sample import load_sample
from napari_inf3.data.simulation import write_srf_csv
from tests.conftest import shifted_camera

PLUGIN = "napari-inf3"


def other_camera() -> np.ndarray:
    return shifted_camera(20)  # the Nikon curves 20 nm to the red


def real_pair_dock(make_napari_viewer, lr, msi_rgb, models=("cosine", "projection")):
    """A viewer with an LR cube and an RGB HR-MSI layer (``(H, W, 3)``), and the Fusion dock set to fuse
    them as a real pair with ``models`` ticked. Returns ``(viewer, fusion)``."""
    viewer = make_napari_viewer()
    viewer.add_image(lr, name="LR cube", metadata={"wavelengths": list(map(float, load_sample().wavelengths))})
    viewer.add_image(msi_rgb, rgb=True, name="photo")
    _, fusion = viewer.window.add_plugin_dock_widget(PLUGIN, "Fusion")
    fusion.mode.value = "real LR-HSI + HR-MSI"
    fusion.lr_combo.value = viewer.layers["LR cube"]
    fusion.msi_combo.value = viewer.layers["photo"]
    for i in range(fusion.models.count()):
        item = fusion.models.item(i)
        item.setCheckState(Qt.Checked if item.data(Qt.UserRole) in models else Qt.Unchecked)
    return viewer, fusion


def fine_tune_in_training_dock(viewer, qtbot, srf_choice: str, srf_file, out):
    """Fine-tune the shipped lite cosine in the Training dock for two patches of a sample crop, with the
    HR-MSI response ``srf_choice`` (``'file'``: a CSV; ``'camera file'``: a camera JSON) read from
    ``srf_file``; returns ``out``, the checkpoint written."""
    viewer.add_image(load_sample().data[:, :96, :96], name="scene")
    _, train = viewer.window.add_plugin_dock_widget(PLUGIN, "Training")
    train.set_layer_checked("scene")
    train.init.value = "lite:cosine"
    train.srf.value = srf_choice
    assert train.srf_file.native.isVisibleTo(train)
    train.srf_file.value = str(srf_file)
    train.out.value = str(out)
    train.epochs.value, train.per_epoch.value, train.batch.value = 1, 2, 2
    assert train.start() is not None
    qtbot.waitUntil(lambda: train.worker is None, timeout=120_000)
    return out


def _pair_viewer(make_napari_viewer, shift=(0, 0)):
    lr, msi = simulate(load_sample(), 4, other_camera())
    return real_pair_dock(make_napari_viewer, lr, np.moveaxis(np.roll(msi, shift, axis=(1, 2)), 0, -1))


def _estimated_run(make_napari_viewer, qtbot):
    viewer, fusion = _pair_viewer(make_napari_viewer, shift=(2, -2))
    fusion.pair_srf.value = "estimate from the pair"
    fusion.align.value = True
    assert not fusion.srf_file.native.isVisibleTo(fusion)
    assert fusion.run() is not None
    qtbot.waitUntil(lambda: fusion.worker is None, timeout=120_000)
    run = fusion.last_run
    assert run.srf_fit is not None and run.shift == (2.0, -2.0)
    for k in range(3):
        assert np.corrcoef(run.srf[k], other_camera()[k])[0, 1] > 0.99
    assert fusion.srf_canvas.isVisibleTo(fusion)
    ax = fusion.srf_canvas.figure.axes[0]
    assert ax.get_xlabel() == "wavelength (nm)" and len(ax.get_lines()) == 6  # 3 Nikon + 3 estimated
    assert "moved back by (dy, dx) = (+2.00, -2.00)" in fusion.status.text()
    assert any("another spectral response" in n for n in run.notes)  # the Nikon-trained checkpoint warns
    return viewer, fusion


def test_estimated_response_is_plotted_and_used(make_napari_viewer, qtbot):
    _estimated_run(make_napari_viewer, qtbot)


def test_saved_response_fine_tunes_a_shipped_model(make_napari_viewer, qtbot, tmp_path, monkeypatch):
    """The workflow docs/REAL_PAIRS.md gives: estimate the response in the Fusion dock, save it as a
    CSV, fine-tune the shipped cosine to it in the Training dock."""
    from qtpy.QtWidgets import QMessageBox

    from napari_inf3.models.checkpoint import read_checkpoint

    viewer, fusion = _estimated_run(make_napari_viewer, qtbot)
    assert fusion.save_srf_btn.isVisibleTo(fusion)
    csv = fusion.save_srf(tmp_path / "camera.csv")
    np.testing.assert_allclose(load_srf(csv), fusion.last_run.srf_fit.srf, rtol=1e-6)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.No)
    assert fusion.save_srf(csv) is None  # an existing file is replaced only when the user says so

    ck = read_checkpoint(fine_tune_in_training_dock(viewer, qtbot, "file", csv, tmp_path / "camera.pt"))
    np.testing.assert_allclose(ck["state_dict"]["srf"].numpy(), load_srf(csv), rtol=1e-6)
    assert ck["meta"]["srf"] == str(csv) and ck["meta"]["init"]["from"] == "lite:cosine"


def test_response_from_a_csv_file(make_napari_viewer, qtbot, tmp_path):
    viewer, fusion = _pair_viewer(make_napari_viewer)
    path = write_srf_csv(other_camera(), tmp_path / "camera.csv", np.arange(400, 701, 10), ["R", "G", "B"])
    fusion.pair_srf.value = "from file…"
    assert fusion.srf_file.native.isVisibleTo(fusion)
    fusion.srf_file.value = str(path)
    assert fusion.run() is not None
    qtbot.waitUntil(lambda: fusion.worker is None, timeout=120_000)
    np.testing.assert_allclose(fusion.last_run.srf, other_camera(), rtol=1e-6)
    assert not fusion.srf_canvas.isVisibleTo(fusion)  # nothing was estimated
