"""The training config is one frozen value (issue 23): built by the CLI, the dock and a notebook, stored in
every checkpoint and read back."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import napari_inf3 as ni
from napari_inf3.data.sample import load_sample
from napari_inf3.training.config import TrainConfig


def test_config_is_frozen_and_checks_names():
    cfg = TrainConfig(epochs=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.epochs = 4
    assert cfg.replace(lr=2e-4).lr == 2e-4 and cfg.lr == 1e-4
    with pytest.raises(TypeError, match="unknown training option.*bogus"):
        cfg.replace(bogus=1)
    d = TrainConfig(srf=np.ones((3, 31)), init="cosine", out="x.pt").to_dict()
    assert d["srf"] == "custom" and d["init"] == "cosine" and d["out"] == "x.pt"
    assert TrainConfig.from_dict(d).srf == "nikon_d700"  # an array is not stored: the default stands in


def test_checkpoint_stores_the_config_and_keywords_override(tmp_path):
    gt = np.asarray(load_sample().data[:, :96, :96], np.float32)
    cfg = TrainConfig(epochs=1, batch_size=2, patches_per_epoch=2, lr=3e-4, out=tmp_path / "a.pt")
    events = list(ni.train([gt], cfg, seed=7))  # keywords replace the config's fields
    assert events[-1].kind == "done"
    back = TrainConfig.from_checkpoint(tmp_path / "a.pt")
    assert (back.lr, back.seed, back.batch_size, back.out) == (3e-4, 7, 2, str(tmp_path / "a.pt"))
    with pytest.raises(TypeError, match="unknown training option"):
        list(ni.train([gt], cfg, epoch=2))


def test_write_functions_take_the_data_first(tmp_path, tiny_model):
    """One argument order for every write / save function: what is written, then where (issue 23)."""
    from napari_inf3.data.simulation import write_srf_csv
    from napari_inf3.models.checkpoint import save_checkpoint

    assert save_checkpoint(tiny_model, tmp_path / "m.pt").is_file()
    with pytest.raises(TypeError, match="the model comes first"):
        save_checkpoint(tmp_path / "n.pt", tiny_model)
    srf = ni.load_srf("nikon_d700", bands=31)
    assert write_srf_csv(srf, tmp_path / "r.csv", np.arange(400, 701, 10)).is_file()
    with pytest.raises(TypeError, match="the response comes first"):
        write_srf_csv(tmp_path / "s.csv", srf, np.arange(400, 701, 10))
    assert not (tmp_path / "n.pt").exists() and not (tmp_path / "s.csv").exists()


def test_profiles_and_bounds_are_the_one_source_of_defaults_and_ranges():
    """The Training dock starts from a named profile and takes each spin box's range from the option's bounds
    (issue 34): the CPU profile is the default config with a smaller batch, a sampled epoch and a larger step."""
    from napari_inf3.training.config import PROFILES, TrainConfig

    cpu = TrainConfig.profile("cpu")
    assert (cpu.batch_size, cpu.lr, cpu.patches_per_epoch) == (16, 2e-4, 512)
    assert TrainConfig.profile("default").to_dict() == TrainConfig().to_dict()
    assert TrainConfig.profile("cpu", epochs=3).epochs == 3 and set(PROFILES) >= {"default", "cpu"}
    assert TrainConfig.bounds("lr").low == 1e-6 and TrainConfig.bounds("scale").high == 16
    with pytest.raises(KeyError):
        TrainConfig.bounds("weighting")
    with pytest.raises(ValueError, match="no training profile"):
        TrainConfig.profile("gpu-farm")
