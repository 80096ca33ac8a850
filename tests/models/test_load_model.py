"""One way to get a model (issue 34): ``napari_inf3.load_model`` for every kind of spec a door passes."""

from __future__ import annotations

import pytest

import napari_inf3 as ni
from napari_inf3.models.checkpoint import CheckpointError


def test_load_model_takes_every_spec(tmp_path):
    lite = ni.load_model("cosine", "cpu")
    assert lite.config["preset"] == "lite" and not lite.training
    assert ni.load_model("paper:net", "cpu").config["preset"] == "paper"
    assert ni.load_model("projection", "cpu").source == "projection"
    assert type(ni.load_model("ensemble", "cpu")).__name__ == "Ensemble"
    path = tmp_path / "mine.pt"
    ni.save_checkpoint(lite, path)
    from_file = ni.load_model(path, "cpu")
    assert from_file.source == str(path) and from_file.config == lite.config
    assert ni.load_model(str(path), "cpu").config == lite.config
    assert ni.load_model(lite, "cpu") is lite  # a model is moved to the device, not copied
    with pytest.raises(ni.CubeError, match="fitted to the pair"):
        ni.load_model("pair")
    with pytest.raises(CheckpointError, match="not a pretrained name"):
        ni.load_model("no-such-model")
