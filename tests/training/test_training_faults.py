"""Training under faults: SIGKILL mid-epoch then resume, divergence, and property tests of the pieces."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from napari_inf3 import Cube, read_cube, train, write_cube
from napari_inf3.models.checkpoint import read_checkpoint
from napari_inf3.training.loop import TrainingDiverged

OPTS = {"preset": "lite", "model_options": {"n_feats": 8, "n_resblocks": 1, "mlp_hidden": [16], "out_dim": 8},
        "batch_size": 2, "patches_per_epoch": 8, "patch": 32, "lr": 1e-3, "seed": 3, "device": "cpu", "num_threads": 1,
        "epochs": 6}

CHILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    from napari_inf3 import train
    opts = json.loads(sys.argv[3])
    for ev in train([np.load(sys.argv[1])], out=sys.argv[2], **opts):
        if ev.kind == "step":
            print(json.dumps({"step": ev.step, "epoch": ev.epoch, "loss": ev.loss}), flush=True)
""")


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    from tests.conftest import cave_scene

    d = tmp_path_factory.mktemp("scene")
    data = read_cube(cave_scene("face_ms")).data[:, 200:264, 200:264].copy()
    np.save(d / "face.npy", data)
    return d / "face.npy", data


def test_sigkill_mid_epoch_then_resume(tmp_path, scene):
    path, data = scene
    reference = [e.loss for e in train([data], **OPTS) if e.kind == "step"]  # uninterrupted, same seed
    out = tmp_path / "run.pt"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(out), json.dumps(OPTS)],
                             stdout=subprocess.PIPE, text=True)
    seen = []
    for line in child.stdout:
        seen.append(json.loads(line))
        if seen[-1]["step"] == 10:  # steps 9-12 are epoch 3 (4 steps per epoch)
            os.kill(child.pid, signal.SIGKILL)
            break
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    np.testing.assert_allclose([s["loss"] for s in seen], reference[:10], rtol=1e-4, atol=1e-6)
    ck = read_checkpoint(out)  # never a half-written file
    assert ck["epoch"] >= 2  # at most the epoch in progress is lost
    resumed = [e.loss for e in train([data], out=out, resume=out, **OPTS) if e.kind == "step"]
    done = ck["step"]
    np.testing.assert_allclose(resumed, reference[done:], rtol=1e-4, atol=1e-6)


def test_divergence_stops_and_keeps_last_good_checkpoint(tmp_path, scene, monkeypatch):
    _, data = scene
    out = tmp_path / "d.pt"
    calls = {"n": 0}
    real_l1 = torch.nn.functional.l1_loss

    def l1_that_blows_up(pred, target):
        calls["n"] += 1
        loss = real_l1(pred, target)
        return loss * float("nan") if calls["n"] == 6 else loss

    monkeypatch.setattr(torch.nn.functional, "l1_loss", l1_that_blows_up)
    events = []
    with pytest.raises(TrainingDiverged, match="loss became nan at step 6 .* last epoch checkpoint is kept"):
        for ev in train([data], out=out, **OPTS):
            events.append(ev)
    ck = read_checkpoint(out)
    assert ck["epoch"] == 1 and ck["step"] == 4
    assert all(torch.isfinite(v).all() for v in ck["state_dict"].values())


def test_grad_clip_runs(scene):
    _, data = scene
    evs = [e for e in train([data], grad_clip=0.1, **{**OPTS, "epochs": 1}) if e.kind == "step"]
    assert len(evs) == 4 and all(np.isfinite(e.loss) for e in evs)


@settings(max_examples=25, deadline=None)
@given(bands=st.integers(1, 12), h=st.integers(2, 20), w=st.integers(2, 20),
       fmt=st.sampled_from([".npz", ".tif", ".hdr"]), seed=st.integers(0, 2**16))
def test_writer_reader_roundtrip_property(tmp_path_factory, bands, h, w, fmt, seed):
    rng = np.random.default_rng(seed)
    data = rng.random((bands, h, w)).astype(np.float32) + 0.01
    wl = np.sort(rng.uniform(350, 2500, bands))
    d = tmp_path_factory.mktemp("rt")
    back = read_cube(write_cube(Cube(data, wl), d / f"c{fmt}"))
    np.testing.assert_array_equal(back.data, data)
    np.testing.assert_allclose(back.wavelengths, wl, rtol=1e-5)


@settings(max_examples=25, deadline=None)
@given(scale=st.integers(1, 6), hb=st.integers(1, 6), wb=st.integers(1, 6), bands=st.integers(1, 8),
       seed=st.integers(0, 2**16))
def test_simulation_properties(scale, hb, wb, bands, seed):
    from napari_inf3 import simulate

    rng = np.random.default_rng(seed)
    h, w = max(hb * scale, 2), max(wb * scale, 2)
    h, w = h - h % scale, w - w % scale
    gt = rng.random((bands, h, w)).astype(np.float32)
    srf = rng.random((3, bands)).astype(np.float32)
    srf /= srf.sum(axis=1, keepdims=True)
    lr, msi = simulate(gt, scale, srf)
    assert lr.shape == (bands, h // scale, w // scale) and msi.shape == (3, h, w)
    # the blur is an average: values stay in the input's range; a constant image stays constant
    assert lr.min() >= gt.min() - 1e-6 and lr.max() <= gt.max() + 1e-6
    flat_lr, flat_msi = simulate(np.full((bands, h, w), 0.3, np.float32), scale, srf)
    np.testing.assert_allclose(flat_lr, 0.3, rtol=1e-5)
    np.testing.assert_allclose(flat_msi, 0.3, rtol=1e-5)
