"""Issue 14: the fuzzer finds no escape in CI's minute; memory bombs are refused before allocating;
a checkpoint's pickle payload never runs."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from napari_inf3 import CubeError, read_cube
from napari_inf3.testing import fuzz
from tests.bad_inputs import CASES


@pytest.mark.slow
def test_half_a_minute_of_fuzzing_finds_no_escape():
    """Every format for ~30 s, fixed seed (a failure reproduces with
    ``python -m napari_inf3.testing.fuzz --seed 0``)."""
    res = fuzz.run(30.0, list(fuzz.FORMATS), seed=0, log=lambda *a: None)
    assert res["escapes"] == [], res["escapes"][:5]
    for fmt, counts in res["counts"].items():
        assert sum(counts.values()) >= 50, (fmt, counts)  # each format really ran
        assert counts["error"] > 0, (fmt, counts)  # and its mutations really broke files


@pytest.mark.parametrize("case", ["npy_memory_bomb", "npz_memory_bomb", "tiff_memory_bomb", "envi_memory_bomb"])
def test_memory_bombs_are_refused_before_allocating(case, tmp_path):
    make, _, pattern = CASES[case]
    path = make(tmp_path)
    tracemalloc.start()
    try:
        with pytest.raises(CubeError, match=pattern):
            read_cube(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, peak  # the declared cube is 40 TB; nothing near it was asked for


def test_a_declared_cube_larger_than_memory_is_refused(tmp_path, monkeypatch):
    from napari_inf3.io import _common

    np.save(tmp_path / "c.npy", np.random.default_rng(0).random((31, 8, 8), dtype=np.float32))
    monkeypatch.setattr(_common, "available_memory", lambda: 1024)
    with pytest.raises(CubeError, match="more than the 0.0 GiB of memory available"):
        read_cube(tmp_path / "c.npy")


def test_a_checkpoint_pickle_payload_never_runs(tmp_path):
    """A .pt whose pickle would call os.system / write a file is refused and the payload never runs."""
    import pickle

    import torch

    from napari_inf3.models.checkpoint import CheckpointError, load_checkpoint

    marker = tmp_path / "payload_ran"

    class Payload:
        def __reduce__(self):
            return (Path.write_text, (marker, "pwned"))

    path = tmp_path / "evil.pt"
    torch.save({"format": "napari-inf3", "version": 1, "x": Payload()}, path)
    with pytest.raises(CheckpointError, match="evil.pt"):
        load_checkpoint(path)
    assert not marker.exists()
    # the same with a bare pickle file (not a torch zip archive)
    with open(tmp_path / "raw.pt", "wb") as fh:
        pickle.dump({"x": Payload()}, fh)
    with pytest.raises(CheckpointError, match="raw.pt"):
        load_checkpoint(tmp_path / "raw.pt")
    assert not marker.exists()
