"""Training on 2 processes with torch.distributed (DDP, gloo) = training on 1 with the same global batch."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

from napari_inf3.models.checkpoint import read_checkpoint

pytestmark = pytest.mark.slow


def _scenes(tmp_path, rng) -> list[str]:
    paths = []
    y, x = np.mgrid[0:48, 0:48] / 6.0
    for i in range(2):
        spec = np.linspace(0.4 + 0.1 * i, 1.0, 31)[:, None, None]
        cube = (0.4 + 0.2 * np.sin(y + i)[None] * np.cos(x)[None]) * spec
        cube = np.clip(cube + 0.02 * rng.standard_normal(cube.shape), 0, 1).astype(np.float32)
        p = tmp_path / f"scene{i}.npy"
        np.save(p, cube)
        paths.append(str(p))
    return paths


def _train(cmd_prefix: list[str], scenes: list[str], out, tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    cmd = [*cmd_prefix, "-m", "napari_inf3", "train", *scenes, "--out", str(out), "--preset", "lite",
           "--patch", "32", "--batch-size", "4", "--epochs", "2", "--patches-per-epoch", "8", "--lr", "1e-3",
           "--device", "cpu"]
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    if res.returncode != 0 and _aborted_in_teardown(res):
        # Seen once in CI (2026-11-26): after training had finished and the checkpoint was written, rank 1
        # aborted at exit inside torch's C++ teardown ("terminate called without an active exception").
        # Not reproduced in 40 local runs, with or without CPU load; shutdown() now meets at a barrier and
        # drops DDP before destroying the group. Run it once more; a second abort, or any other failure, fails.
        warnings.warn("torchrun: a rank aborted in process teardown after training; running it again", stacklevel=1)
        res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-4000:]
    return res


def _aborted_in_teardown(res: subprocess.CompletedProcess) -> bool:
    """The job finished its work (checkpoint printed), no rank raised in our code, and a rank then died of
    SIGABRT in C++ teardown (torchrun's own traceback names only torch's files)."""
    return ("checkpoint:" in res.stdout and "terminate called without an active exception" in res.stderr
            and "napari_inf3/" not in res.stderr)


def test_two_processes_match_one_with_the_same_global_batch(tmp_path, rng):
    scenes = _scenes(tmp_path, rng)
    _train([sys.executable], scenes, tmp_path / "one.pt", tmp_path)
    two = _train([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"],
                 scenes, tmp_path / "two.pt", tmp_path)
    a, b = read_checkpoint(tmp_path / "one.pt"), read_checkpoint(tmp_path / "two.pt")
    assert a["step"] == b["step"] == 4  # 2 epochs × 8 patches / global batch 4
    assert b["meta"]["processes"] == 2 and a["meta"]["processes"] == 1
    la = [h["loss"] for h in a["meta"]["history"]]
    lb = [h["loss"] for h in b["meta"]["history"]]
    np.testing.assert_allclose(lb, la, rtol=1e-5)
    # Adam divides by √v: where a gradient is ~0, float summation order (2 ranks vs 1) can move a
    # weight by up to one step (lr 1e-3). Nearly all weights must agree far closer than that.
    diff = torch.cat([(b["state_dict"][k].float() - w.float()).abs().flatten() for k, w in a["state_dict"].items()])
    moved = torch.cat([w.float().flatten() for w in a["state_dict"].values()]).abs().max()
    assert moved > 0
    assert float(diff.max()) < 1e-3
    assert float((diff > 1e-5).float().mean()) < 1e-3  # a wrong data split moves most by ~lr
    # only rank 0 printed: one "training ..." line, one "checkpoint:" line
    assert two.stdout.count("training cosine/lite") == 1
    assert two.stdout.count("checkpoint:") == 1


def test_global_batch_must_split_evenly(tmp_path, rng, monkeypatch):
    from napari_inf3 import distributed
    from napari_inf3.training.loop import train

    monkeypatch.setattr(distributed, "context_from_env",
                        lambda device=None: (distributed.DistContext(0, 3, 0, "gloo"), torch.device("cpu")))
    cube = rng.random((31, 32, 32)).astype(np.float32)
    with pytest.raises(ValueError, match="not divisible by the 3 processes"):
        next(train([cube], batch_size=4, patch=16, epochs=1, device="cpu"))
