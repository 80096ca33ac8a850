"""The Training dock's "advanced: ablations" section (issue 26): collapsed by default, its switches become
the TrainConfig's model_options for a new network only, δc only with INF³'s upsampler, remembered."""

from __future__ import annotations

import pytest

PLUGIN = "napari-inf3"
GT = "superballs (crop) GT"


def _training_dock(viewer):
    _, train = viewer.window.add_plugin_dock_widget(PLUGIN, "Training")
    return train


def test_switches_become_model_options_of_a_new_network(make_napari_viewer, tmp_path):
    from napari_inf3._napari.ablation_form import UPSAMPLER_CHOICES
    from napari_inf3.models.infn.upsamplers import UPSAMPLERS

    train = _training_dock(make_napari_viewer())
    abl = train.ablations
    train.out.value = str(tmp_path / "a.pt")
    assert not abl.expanded and not abl.form.native.isVisibleTo(train)  # folded away until asked for
    assert abl.toggle.text() == "advanced: ablations"
    assert train.train_config().model_options is None  # the full network, as before
    abl.toggle.click()
    assert abl.expanded and abl.hr_injection.native.isVisibleTo(train)
    assert [w.value for w in abl.fields] == [True, True, True, "inf3"]
    assert tuple(v for _, v in UPSAMPLER_CHOICES) == UPSAMPLERS  # spelled out in the dock: it must follow the model

    abl.hr_injection.value = False
    abl.rel_coord.value = False
    assert train.train_config().model_options == {"hr_injection": False, "rel_coord": False}
    assert abl.toggle.text() == "advanced: ablations (training no HR injection, no relative coordinate)"

    abl.upsampler.value = "bilinear"  # δc belongs to INF³: ticked again, and cannot be unticked
    assert abl.rel_coord.value is True and not abl.rel_coord.enabled
    assert "bilinear upsampler has no relative coordinate" in abl.rel_coord.tooltip
    abl.rel_coord.value = False
    assert abl.rel_coord.value is True
    assert train.train_config().model_options == {"hr_injection": False, "upsampler": "bilinear"}

    train.scale.value = 2
    abl.upsampler.value = "pixelshuffle"  # its fixed ratio is the dock's scale
    assert train.train_config().model_options == {"hr_injection": False, "upsampler": "pixelshuffle",
                                                  "upsampler_scale": 2}
    abl.upsampler.value = "inf3"
    assert abl.rel_coord.enabled


def test_switches_are_off_when_starting_from_a_model(make_napari_viewer, tmp_path):
    train = _training_dock(make_napari_viewer())
    abl = train.ablations
    train.out.value = str(tmp_path / "a.pt")
    abl.lr_injection.value = False
    assert train.train_config().model_options == {"lr_injection": False}
    shipped = [v for v in train.init.choices if ":" in str(v)]  # "lite:cosine" etc.
    if not shipped:
        pytest.skip("no shipped checkpoint in this checkout")
    train.init.value = shipped[0]
    assert not any(w.enabled for w in abl.fields)
    assert "keeps its own architecture" in abl.hr_injection.tooltip and "keeps its own" in abl.toggle.toolTip()
    assert abl.toggle.text() == "advanced: ablations"
    assert train.train_config().model_options is None  # the shipped model's architecture is kept
    train.init.value = "new"
    assert all(w.enabled for w in abl.fields) and train.train_config().model_options == {"lr_injection": False}
    train.resume.value = str(tmp_path / "run.pt")  # a resumed run continues its checkpoint's network
    assert not abl.upsampler.enabled and train.train_config().model_options is None
    train.resume.value = ""
    assert abl.upsampler.enabled


def test_a_variant_trains_and_is_remembered(make_napari_viewer, qtbot, tmp_path):
    from napari_inf3.models.checkpoint import read_checkpoint

    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "superballs_crop")
    viewer.add_image(viewer.layers[GT].data[:, :64, :64], name="training part")
    train = _training_dock(viewer)
    train.set_layer_checked("training part")
    train.out.value = str(tmp_path / "v.pt")
    train.epochs.value, train.per_epoch.value, train.batch.value = 1, 4, 2
    train.ablations.lr_injection.value = False
    train.ablations.upsampler.value = "bicubic"
    assert train.start() is not None
    qtbot.waitUntil(lambda: train.worker is None, timeout=120_000)
    ck = read_checkpoint(tmp_path / "v.pt")
    assert ck["config"]["upsampler"] == "bicubic" and ck["config"]["lr_injection"] is False
    assert ck["meta"]["train_config"]["model_options"] == {"lr_injection": False, "upsampler": "bicubic"}
    train.init.value = "file"  # a variant to start from says what it is
    train.init_file.value = str(tmp_path / "v.pt")
    assert train.init_info.value.endswith("bicubic upsampler, no LR injection (kept)")

    again = _training_dock(make_napari_viewer())  # the run saved the choices: back, and in view
    assert again.ablations.lr_injection.value is False and again.ablations.upsampler.value == "bicubic"
    assert again.ablations.expanded
