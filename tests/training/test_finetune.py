"""Fine-tuning (``train(init=...)``, ``napari-inf3 train --init``): start from trained weights,
take this run's spectral response, keep the parent's metadata."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_inf3 import fuse, load_checkpoint, pretrained, read_cube, train
from napari_inf3.cli.main import main as cli_main
from napari_inf3.data.cube import CubeError
from napari_inf3.data.simulation import simulate
from napari_inf3.evaluation.metrics import psnr
from napari_inf3.models.checkpoint import read_checkpoint
from napari_inf3.training.start import lineage
from tests.conftest import cave_scene, shifted_camera

KW = {"batch_size": 4, "patches_per_epoch": 8, "patch": 32, "device": "cpu", "val_crop": 96}


@pytest.fixture(scope="module")
def crops():
    face = read_cube(cave_scene("face_ms")).data[:, 128:224, 128:224].copy()
    balls = read_cube(cave_scene("superballs_ms")).data[:, 200:296, 200:296].copy()
    return face, balls


def test_zero_learning_rate_keeps_the_parent_exactly(crops, tmp_path):
    face, balls = crops
    parent_path = tmp_path / "parent.pt"
    list(train([face], epochs=1, lr=1e-3, out=parent_path, preset="lite", weighting="area", **KW))
    child = tmp_path / "child.pt"
    events = list(train([face], val_scenes=[balls], init=parent_path, epochs=1, lr=0.0, out=child, **KW))
    parent = load_checkpoint(parent_path, device="cpu")
    model, ckpt = load_checkpoint(child, device="cpu"), read_checkpoint(child)
    assert model.weighting == "area"  # the parent's, not train()'s default
    for (k, a), b in zip(parent.state_dict().items(), model.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=k)
    meta = ckpt["meta"]
    assert meta["init"]["from"] == str(parent_path) and meta["init"]["steps"] == 2
    assert [m["steps"] for m in lineage(meta)] == [2, 2]
    assert ckpt["step"] == 2 and ckpt["epoch"] == 1  # the new run's own count
    first = next(e for e in events if e.kind == "step")
    assert first.extra["start_val_psnr"] == pytest.approx(events[-1].val_psnr, abs=1e-9) == meta["start_val_psnr"]


def test_shipped_model_takes_this_runs_response(crops):
    face, balls = crops
    p = shifted_camera(20)
    events = list(train([face], val_scenes=[balls], init="cosine", srf=p, epochs=1, lr=0.0, **KW))
    model = events[-1].extra["model"]
    np.testing.assert_array_equal(model.srf.cpu().numpy(), p)
    lr, msi = simulate(balls[None], 4, srf=p)
    # the starting score is the shipped weights with the new response in the projection
    shipped = pretrained("cosine")
    from napari_inf3.models.load import with_srf

    with pytest.warns(UserWarning, match="another spectral response"):
        expect = float(psnr(fuse(with_srf(shipped, p), lr[0], msi[0], "cpu", tile="off").cube, balls))
    got = events[0].extra["start_val_psnr"]
    assert got == pytest.approx(expect, abs=0.05)  # _validate crops to val_crop centred; here it is the whole crop


def test_init_refusals(crops, tmp_path):
    face, _ = crops
    with pytest.raises(ValueError, match="either resume"):
        list(train([face], init="cosine", resume=tmp_path / "x.pt", epochs=1, **KW))
    with pytest.raises(ValueError, match="no weights"):
        list(train([face], init="projection", epochs=1, **KW))
    with pytest.raises(CubeError, match="takes 31 bands"):
        list(train([face[:20]], init="cosine", srf=np.full((3, 20), 0.05, np.float32), epochs=1, **KW))
    with pytest.raises(ValueError, match="not a pretrained name .* nor a checkpoint file"):
        list(train([face], init=str(tmp_path / "missing.pt"), epochs=1, **KW))


def test_cli_fine_tunes_a_shipped_model(crops, tmp_path, capsys):
    face, balls = crops
    np.save(tmp_path / "face.npy", face)
    np.save(tmp_path / "balls.npy", balls)
    out = tmp_path / "tuned.pt"
    rc = cli_main(["train", str(tmp_path / "face.npy"), "--val", str(tmp_path / "balls.npy"), "--init", "cosine",
                   "--out", str(out), "--epochs", "1", "--patches-per-epoch", "8", "--batch-size", "4",
                   "--patch", "32", "--device", "cpu"])
    text = capsys.readouterr()
    assert rc == 0, text.err
    assert "training from cosine" in text.out and "starting from cosine: validation PSNR" in text.out + text.err
    ckpt = read_checkpoint(out)
    assert ckpt["config"]["preset"] == "lite" and ckpt["meta"]["init"]["from"] == "cosine"
    assert len(lineage(ckpt["meta"])) == 2
    rc = cli_main(["train", str(tmp_path / "face.npy"), "--init", "cosine", "--resume", str(out),
                   "--out", str(out), "--epochs", "2", "--device", "cpu"])
    assert rc == 2 and "either resume" in capsys.readouterr().err
