"""What napari users expect of docks: last choices remembered, a scene open serves as validation,
a smoothed loss curve, napari's activity progress while training, layer pickers that follow the list."""

from __future__ import annotations

import json

import numpy as np
from qtpy.QtCore import Qt

from napari_inf3.viz.plots import smoothed

PLUGIN = "napari-inf3"
GT = "superballs (crop) GT"


def test_smoothed_is_a_bias_corrected_moving_average():
    assert smoothed([3.0])[0] == 3.0
    np.testing.assert_allclose(smoothed([2.0] * 50), 2.0)
    noisy = 1.0 + 0.5 * np.random.default_rng(0).standard_normal(400)
    s = smoothed(noisy)
    assert s.shape == noisy.shape
    assert np.std(s[50:]) < 0.3 * np.std(noisy[50:])
    assert abs(np.mean(s[50:]) - 1.0) < 0.05


def test_fusion_dock_remembers_its_choices(make_napari_viewer, qtbot, scheme_checkpoints):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "superballs_crop")
    _, fusion = viewer.window.add_plugin_dock_widget(PLUGIN, "Fusion")
    fusion.scale.value = 2
    fusion.offset.value = 1
    fusion.composite.value = "three wavelengths (nm)"
    fusion.wavelengths.value = "640, 540, 440"
    fusion.weight_maps.value = True
    for i in range(fusion.models.count()):
        fusion.models.item(i).setCheckState(Qt.Unchecked)
    fusion.add_checkpoint(str(scheme_checkpoints["area"]), "area")
    assert fusion.run() is not None  # a run saves the choices
    qtbot.waitUntil(lambda: fusion.worker is None, timeout=120_000)
    saved = json.loads(fusion.remembered.path.read_text())["fusion"]
    assert saved["scale"] == 2 and saved["offset"] == 1 and saved["gt"] == {"layer": GT}

    viewer2 = make_napari_viewer()
    viewer2.open_sample(PLUGIN, "superballs_crop")
    _, again = viewer2.window.add_plugin_dock_widget(PLUGIN, "Fusion")
    assert again.scale.value == 2 and again.offset.value == 1
    assert again.composite.value == "three wavelengths (nm)" and again.wavelengths.value == "640, 540, 440"
    assert again.weight_maps.value is True
    assert again.gt_combo.value is viewer2.layers[GT]


def test_a_damaged_settings_file_is_ignored(make_napari_viewer):
    from napari_inf3._napari.forms import config_dir

    config_dir().mkdir(parents=True, exist_ok=True)
    (config_dir() / "docks.json").write_text('{"fusion": {"scale": "not a number", "offset": 99}, "training": 3')
    viewer = make_napari_viewer()
    _, fusion = viewer.window.add_plugin_dock_widget(PLUGIN, "Fusion")
    assert fusion.scale.value == 4 and fusion.offset.value == -1


def test_layer_pickers_follow_the_layer_list(make_napari_viewer):
    viewer = make_napari_viewer()
    _, fusion = viewer.window.add_plugin_dock_widget(PLUGIN, "Fusion")
    assert fusion.gt_combo.value is None
    viewer.open_sample(PLUGIN, "superballs_crop")
    assert fusion.gt_combo.value is viewer.layers[GT]
    viewer.layers[GT].name = "renamed"
    assert "renamed" in [fusion.gt_combo.native.itemText(i) for i in range(fusion.gt_combo.native.count())]
    viewer.add_image(np.zeros((8, 8, 3), np.uint8), rgb=True, name="photo")
    assert "photo" not in [fusion.gt_combo.native.itemText(i) for i in range(fusion.gt_combo.native.count())]
    assert "photo" in [fusion.msi_combo.native.itemText(i) for i in range(fusion.msi_combo.native.count())]
    viewer.layers.remove("renamed")
    assert fusion.gt_combo.value is None


def test_offset_choices_follow_the_scale(make_napari_viewer):
    viewer = make_napari_viewer()
    _, fusion = viewer.window.add_plugin_dock_widget(PLUGIN, "Fusion")
    fusion.scale.value = 3
    values = [fusion.offset.native.itemText(i) for i in range(fusion.offset.native.count())]
    assert values == ["r // 2 (paper)", "0", "1", "2"]
    fusion.offset.value = 2
    fusion.scale.value = 2  # offset 2 is no longer possible
    offsets = [fusion.offset.native.itemText(i) for i in range(fusion.offset.native.count())]
    assert offsets == ["r // 2 (paper)", "0", "1"]
    fusion.scale.value = 5
    assert fusion.offset.native.itemText(5) == "4"


def test_training_validates_on_an_open_scene_with_activity_progress(make_napari_viewer, qtbot, tmp_path, monkeypatch):
    from napari.utils import notifications, progress

    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "superballs_crop")
    _, train = viewer.window.add_plugin_dock_widget(PLUGIN, "Training")
    assert train.val_combo.value is viewer.layers[GT]  # defaults to the scene that is open
    train.set_layer_checked(GT)
    train.out.value = str(tmp_path / "v.pt")
    train.epochs.value, train.per_epoch.value, train.batch.value = 2, 4, 2
    warned = []
    with monkeypatch.context() as patch:  # a scene that is also training data is not validated on, and it is said
        patch.setattr(notifications, "show_warning", warned.append)  # start() imports it when it runs
        assert train.start() is not None
        qtbot.waitUntil(lambda: train.worker is None, timeout=120_000)
    assert warned and "also ticked as training data" in warned[0] and not train.val
    assert "no validation" in train.status.text()
    train.set_layer_checked(GT, False)
    viewer.add_image(viewer.layers[GT].data[:, :96, :96], name="training part")
    train.set_layer_checked("training part")
    train.out.value = str(tmp_path / "v2.pt")
    seen = []
    train.worker = None
    assert train.start() is not None
    qtbot.waitUntil(lambda: train.activity is not None or train.worker is None, timeout=60_000)
    seen.append(train.activity is not None and isinstance(train.activity, progress))
    qtbot.waitUntil(lambda: train.worker is None, timeout=120_000)
    assert seen == [True] and train.activity is None  # shown while running, closed at the end
    assert len(train.val) == 2 and all(np.isfinite(p) for _, p in train.val)
    lines = train.canvas.figure.axes[0].get_lines()
    assert [ln.get_label() for ln in lines][:2] == ["L1 loss (per step)", "L1 loss (smoothed)"]
    assert lines[0].get_alpha() < lines[1].get_alpha() if lines[1].get_alpha() else True


def test_training_dock_defaults_and_ranges_come_from_train_config(make_napari_viewer):
    """No GPU here: the dock offers TrainConfig's 'cpu' profile, each spin box limited to the option's bounds."""
    from napari_inf3.training.config import TrainConfig

    viewer = make_napari_viewer()
    _, train = viewer.window.add_plugin_dock_widget("napari-inf3", "Training")
    cpu = TrainConfig.profile("cpu")
    assert (train.batch.value, train.lr.value, train.per_epoch.value) == (cpu.batch_size, cpu.lr, cpu.patches_per_epoch)
    assert train.epochs.value == cpu.epochs and train.scale.value == cpu.scale
    assert (train.batch.min, train.batch.max) == (1, 4096) and train.lr.min == TrainConfig.bounds("lr").low
    config = train.train_config()
    assert (config.batch_size, config.lr, config.patches_per_epoch) == (16, 2e-4, 512)
