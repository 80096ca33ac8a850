"""The shipped checkpoints: present, self-describing, trained under the paper's protocol on the 19
training scenes (never superballs), and better than bicubic and than their untrained start."""

from __future__ import annotations

import numpy as np
import pytest

from napari_inf3 import fuse, pretrained, simulate
from napari_inf3.data.sample import load_sample
from napari_inf3.evaluation.metrics import evaluate
from napari_inf3.shipped import PRESETS, PRETRAINED, available, checkpoint_path, pretrained_info

ALL = [(n, p) for p in PRESETS for n in PRETRAINED]
#: measured when shipped (docs/REPRODUCTION.md), on the sample crop: the SRF projection of bicubic
#: scores 49.38 dB; lite 51.08-51.25, paper 51.54-51.96. The bars leave room for platform rounding.
GAIN_OVER_PROJECTION = {"lite": 1.2, "paper": 1.8}


def test_all_shipped_and_small():
    for preset in PRESETS:
        assert available(preset) == list(PRETRAINED)
    assert sum(checkpoint_path(n, "lite").stat().st_size for n in PRETRAINED) <= 3e6
    assert sum(checkpoint_path(n, "paper").stat().st_size for n in PRETRAINED) <= 20e6


def test_unknown_names_list_what_is_shipped():
    with pytest.raises(ValueError, match=r"no pretrained preset 'huge'; shipped: 'area' \(preset 'lite'\)"):
        pretrained("cosine", preset="huge")
    with pytest.raises(ValueError, match=r"no pretrained model 'bilinear'.*'cosine' \(preset 'paper'\)"):
        pretrained("bilinear")


@pytest.mark.parametrize("name,preset", ALL)
def test_metadata(name, preset):
    info = pretrained_info(name, preset)
    assert info["config"]["weighting"] == name and info["config"]["preset"] == preset
    assert len(info["scenes"]) == 19 and not any("superballs" in s for s in info["scenes"])
    assert any("superballs" in s for s in info["val_scenes"])
    assert info["offset"] == 2 and info["scale"] == 4  # the paper's protocol: pixel r // 2 of each block
    for key in ("epochs", "steps", "wall_seconds", "device", "val_psnr", "history"):
        assert info[key] is not None
    # the three of a preset were trained alike: same steps, data and seed
    other = pretrained_info("cosine", preset)
    assert (info["steps"], info["seed"], info["scenes"]) == (other["steps"], other["seed"], other["scenes"])


@pytest.mark.parametrize("name", ["area", "net", "cosine"])
def test_jpeg_tuned_networks_record_their_lineage_and_camera(name):
    """The JPEG-tuned lite networks (issue 33) are the shipped ones fine-tuned through the generic JPEG camera on
    the same 19 scenes, validated on superballs; their metadata says so. The paper preset has none."""
    from napari_inf3.camera import CameraFit
    from napari_inf3.models.checkpoint import read_checkpoint
    from napari_inf3.shipped import JPEG_TUNED, jpeg_tuned

    assert sorted(JPEG_TUNED) == [("area", "lite"), ("cosine", "lite"), ("net", "lite")]
    model = jpeg_tuned(pretrained(name))
    meta = read_checkpoint(model.source)["meta"]
    parent = pretrained_info(name, "lite")
    assert model.config["weighting"] == name and model.config["preset"] == "lite"
    assert meta["init"]["from"] == name and meta["init"]["steps"] == parent["steps"]
    assert sorted(meta["scenes"]) == sorted(parent["scenes"]) and any("superballs" in s for s in meta["val_scenes"])
    assert meta["offset"] == 2 and meta["scale"] == 4
    camera = CameraFit.from_dict(meta["camera"])
    generic = CameraFit.generic_jpeg(85)
    assert camera.jpeg is not None and camera.jpeg.quality == 85 and camera.jpeg.subsampling == "4:2:0"
    np.testing.assert_allclose(camera.srf, generic.srf, atol=1e-6)
    assert jpeg_tuned(pretrained(name, preset="paper")) is None


@pytest.fixture(scope="module")
def sample_pair():
    gt = load_sample()
    lr, msi = simulate(gt, 4)
    return gt.data, lr, msi


@pytest.fixture(scope="module")
def projection_psnr(sample_pair):
    """The untrained start of every shipped model: the SRF projection of bicubic."""
    from napari_inf3.models.load import projection_model

    gt, lr, msi = sample_pair
    return evaluate(fuse(projection_model(), lr, msi, "cpu").cube, gt)["psnr"]


@pytest.mark.parametrize("name,preset", ALL)
def test_beats_bicubic_and_its_projection_on_the_held_out_sample(name, preset, sample_pair, projection_psnr):
    from napari_inf3.fusion.inference import bicubic

    gt, lr, msi = sample_pair
    base = evaluate(bicubic(lr, gt.shape[1:]), gt)
    model = pretrained(name, device="cpu", preset=preset)
    assert model.config["consistency"] == "srf"
    ours = evaluate(fuse(model, lr, msi, "cpu").cube, gt)
    assert ours["psnr"] >= base["psnr"] + 10.0
    assert ours["sam"] < base["sam"] and ours["ergas"] < base["ergas"] and ours["ssim"] > base["ssim"]
    assert ours["psnr"] > projection_psnr + GAIN_OVER_PROJECTION[preset]


def test_pretrained_names_resolve_with_a_preset_prefix():
    from napari_inf3.models.load import load_model

    assert load_model("paper:net", "cpu").config["preset"] == "paper"
    assert load_model("net", "cpu").config["preset"] == "lite"
