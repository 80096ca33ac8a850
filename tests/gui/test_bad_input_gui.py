"""Broken files through napari's own viewer.open: a notification, no exception, no layer; docks survive faults."""

from __future__ import annotations

import pytest
from qtpy.QtCore import Qt

from tests.bad_inputs import CASES

PLUGIN = "napari-inf3"


@pytest.mark.parametrize("case", sorted(c for c in CASES if CASES[c][1] == "error" and c != "unknown_suffix"))
def test_viewer_open_bad_file(case, make_napari_viewer, tmp_path, monkeypatch):
    import napari_inf3._napari.reader as reader_mod

    shown = []
    monkeypatch.setattr("napari.utils.notifications.show_error", lambda msg: shown.append(msg))
    viewer = make_napari_viewer()
    path = CASES[case][0](tmp_path)
    assert reader_mod.get_reader(str(path)) is not None or path.is_dir()
    layers = viewer.open(path, plugin=PLUGIN)
    assert layers == [] and len(viewer.layers) == 0
    assert shown and "napari-inf3 could not read" in shown[0]


def test_fusion_worker_error_leaves_dock_usable(make_napari_viewer, qtbot, tmp_path, monkeypatch, rng):
    """A model that does not fit the data (20 bands vs 31): a notification, the dock stays usable."""

    from napari_inf3 import save_checkpoint
    from napari_inf3.models.infn import INFN

    errors = []
    monkeypatch.setattr("napari.utils.notifications.show_error", lambda msg: errors.append(msg))
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "superballs_crop")
    _, fusion = viewer.window.add_plugin_dock_widget(PLUGIN, "Fusion")
    for i in range(fusion.models.count()):
        fusion.models.item(i).setCheckState(Qt.Unchecked)
    bad = save_checkpoint(INFN(bands=20, preset="lite", n_resblocks=1), tmp_path / "b.pt")
    fusion.add_checkpoint(str(bad), "bad")
    n = len(viewer.layers)
    assert fusion.run() is not None
    qtbot.waitUntil(lambda: fusion.worker is None, timeout=60_000)
    assert errors and "20" in errors[-1] and "31" in errors[-1]
    assert len(viewer.layers) == n
    assert fusion.run_btn.isEnabled() and not fusion.cancel_btn.isEnabled()


def test_closing_viewer_stops_training(make_napari_viewer, qtbot, tmp_path):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "superballs_crop")
    _, train = viewer.window.add_plugin_dock_widget(PLUGIN, "Training")
    train.set_layer_checked("superballs (crop) GT")
    train.out.value = str(tmp_path / "c.pt")
    train.epochs.value = 100
    train.per_epoch.value = 64
    train.batch.value = 2
    worker = train.start()
    qtbot.waitUntil(lambda: len(train.losses) >= 1, timeout=60_000)
    with qtbot.waitSignal(worker.finished, timeout=60_000):
        viewer.close()
    assert (tmp_path / "c.pt").exists()


def test_export_asks_before_replacing_a_file(make_napari_viewer, tmp_path, monkeypatch):
    from types import SimpleNamespace

    from qtpy.QtWidgets import QMessageBox

    viewer = make_napari_viewer()
    _, fusion = viewer.window.add_plugin_dock_widget(PLUGIN, "Fusion")
    fusion.fill_table(SimpleNamespace(scores={"bicubic": {"psnr": 30.0, "sam": 5.0, "ergas": 9.0, "ssim": 0.9}}))
    target = tmp_path / "mine.csv"
    target.write_text("the user's own file")
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.No)
    assert fusion.export_csv(str(target)) is None
    assert target.read_text() == "the user's own file"
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    assert fusion.export_csv(str(target)) == str(target)
    assert target.read_text().startswith("method,PSNR")
