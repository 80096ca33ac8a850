"""The Fusion dock's "fit to this pair" on a sensor no shipped network takes (60 bands, a 4-channel HR-MSI): fitted in
the worker with progress and Cancel, shown like any other method (layers, table, Spectrum inspector), kept in the
model list for the session, saved as a checkpoint."""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import Qt

import napari_inf3 as ni
from napari_inf3._napari.layers import cube_layer_kwargs
from tests.pair.test_pair import gaussian_response, mixed_scene

PLUGIN = "napari-inf3"


def _pair_dock(make_napari_viewer, size=64):
    """A viewer with a 60-band LR cube and a 4-channel HR-MSI cube, and the Fusion dock set to fuse them as a
    real pair with only 'fit to this pair' ticked. ``(viewer, fusion, gt)``."""
    gt, wl = mixed_scene(60, size, seed=2)
    lr, msi = ni.simulate(gt, 4, gaussian_response(wl, [450, 600, 750, 900], 120.0))
    viewer = make_napari_viewer()
    viewer.add_image(lr, **cube_layer_kwargs("LR scene", wl, "gt"))
    viewer.add_image(msi, name="4-band image")
    _, fusion = viewer.window.add_plugin_dock_widget(PLUGIN, "Fusion")
    fusion.mode.value = "real LR-HSI + HR-MSI"
    fusion.lr_combo.value = viewer.layers["LR scene"]
    fusion.msi_combo.value = viewer.layers["4-band image"]
    for i in range(fusion.models.count()):
        item = fusion.models.item(i)
        item.setCheckState(Qt.Checked if item.data(Qt.UserRole) == "pair" else Qt.Unchecked)
    return viewer, fusion, gt


def test_fit_to_the_pair_in_the_dock(make_napari_viewer, qtbot, tmp_path):
    viewer, fusion, gt = _pair_dock(make_napari_viewer)
    messages = []
    assert fusion.run() is not None
    fusion.worker.yielded.connect(lambda step: messages.append(step[2]) if isinstance(step, tuple) else None)
    qtbot.waitUntil(lambda: fusion.worker is None, timeout=180_000)
    run = fusion.last_run
    assert "pair" in run.fused and isinstance(run.fitted["pair"], ni.pair.PairModel)
    assert any(m.startswith("fitting pair to the pair") for m in messages)
    assert "held-out LR pixels reconstructed" in fusion.status.text()
    assert fusion.progress.value() == fusion.progress.maximum()  # a finished run shows 100 %, not 89 %
    assert any(layer.name.startswith("pair") for layer in viewer.layers)
    # in the list for the session, ticked, and savable
    names = [fusion.models.item(i).data(Qt.UserRole + 1) for i in range(fusion.models.count())]
    assert "pair 1" in names and fusion.save_model_btn.isEnabled()
    assert set(fusion.models.selected()) == {"pair 1"}  # ticked in place of fitting the same pair again
    saved = fusion.save_model(tmp_path / "fitted.pt")
    model = ni.load_checkpoint(saved)
    assert model.config["kind"] == "pair" and model.bands == 60
    # the session model fuses the pair again, without fitting
    for i in range(fusion.models.count()):
        item = fusion.models.item(i)
        item.setCheckState(Qt.Checked if item.data(Qt.UserRole + 1) == "pair 1" else Qt.Unchecked)
    assert fusion.run() is not None
    qtbot.waitUntil(lambda: fusion.worker is None, timeout=60_000)
    np.testing.assert_allclose(fusion.last_run.fused["pair 1"], run.fused["pair"], atol=1e-5)
    assert not fusion.last_run.fitted


def test_the_spectrum_inspector_plots_the_fit(make_napari_viewer, qtbot):
    from napari_inf3._napari.spectrum_widget import SpectrumWidget

    viewer, fusion, gt = _pair_dock(make_napari_viewer, size=48)
    assert fusion.run() is not None
    # every layer in (the hidden ones come a few per event-loop turn, and keep the run's active layer active)
    qtbot.waitUntil(lambda: fusion.worker is None and (fusion.staged is None or fusion.staged.complete),
                    timeout=180_000)
    spectrum = SpectrumWidget(viewer)
    viewer.window.add_dock_widget(spectrum, name="Spectrum inspector")
    layer = next(lyr for lyr in viewer.layers if lyr.name.startswith("pair"))
    viewer.layers.selection.active = layer  # a click reads the selected cube's grid (the LR cube's is smaller)
    assert spectrum.click(layer.data_to_world((0, 20, 20))) == (20, 20)
    assert any(label.startswith("pair") for label in spectrum.curves)
    np.testing.assert_allclose(spectrum.curves[next(k for k in spectrum.curves if k.startswith("pair"))],
                               fusion.last_run.fused["pair"][:, 20, 20], rtol=1e-5)
    # Compare schemes lays the fit out beside bicubic, like any other method
    run_id = fusion.last_run_id
    composite = viewer.layers[f"composite pair [{run_id}]"]
    bicubic = viewer.layers[f"composite bicubic [{run_id}]"]
    fusion.compare()
    assert composite.visible and bicubic.visible and composite.translate[1] != bicubic.translate[1]
    fusion.compare()
    assert composite.translate[1] == bicubic.translate[1]


def test_cancel_while_fitting_adds_nothing(make_napari_viewer, qtbot):
    viewer, fusion, gt = _pair_dock(make_napari_viewer, size=128)
    before = len(viewer.layers)
    assert fusion.run() is not None
    qtbot.waitUntil(lambda: "fitting" in fusion.status.text(), timeout=60_000)
    job = fusion.running_job
    fusion.cancel()
    qtbot.waitUntil(lambda: fusion.worker is None, timeout=60_000)
    assert "cancelled" in fusion.status.text() and job.cancel.is_set()
    # the fit itself stops (its thread), not only the worker's loop
    import threading

    qtbot.waitUntil(lambda: not any(t.name == "napari-inf3 fit_pair" for t in threading.enumerate()), timeout=30_000)
    assert not any(layer.name.startswith("pair") for layer in viewer.layers)
    assert len(viewer.layers) == before and not fusion.save_model_btn.isEnabled()
