"""The engine's typed seams: ``fuse`` returns one FusionResult whatever it is asked; a run takes a
SimulatedPair or a RealPair, frozen and checked when built."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

from napari_inf3.data.cube import CubeError
from napari_inf3.fusion.inference import fuse
from napari_inf3.fusion.pipeline import fusion_run, iter_fusion_run
from napari_inf3.fusion.types import FusionResult, RealPair, SimulatedPair

from .conftest import shifted_camera


def test_fuse_returns_a_result_with_weights_only_when_asked(tiny_model, rng):
    lr = rng.random((31, 8, 8)).astype(np.float32)
    msi = rng.random((3, 32, 32)).astype(np.float32)
    plain = fuse(tiny_model, lr, msi, "cpu")
    assert isinstance(plain, FusionResult)
    assert plain.cube.shape == (31, 32, 32) and plain.cube.dtype == np.float32
    assert plain.weights is None and plain.expected_error is None and plain.notes == ()
    assert plain.device == "cpu" and plain.seconds > 0
    np.testing.assert_array_equal(np.asarray(plain), plain.cube)  # array code keeps working
    with_w = fuse(tiny_model, lr, msi, "cpu", weights=True)
    assert isinstance(with_w, FusionResult) and with_w.weights is not None and with_w.weights.shape == (4, 32, 32)
    np.testing.assert_array_equal(with_w.cube, plain.cube)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plain.cube = with_w.cube  # type: ignore[misc]


def test_fuse_names_its_model_and_keeps_warnings_as_notes(rng):
    lr = rng.random((31, 8, 8)).astype(np.float32)
    msi = rng.random((3, 32, 32)).astype(np.float32)
    with pytest.warns(UserWarning, match="another spectral response"):
        res = fuse("cosine", lr, msi, "cpu", srf=shifted_camera(20))
    assert res.model == "cosine"
    assert len(res.notes) == 1 and "another spectral response" in res.notes[0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the caller's filters still apply to the re-issued warning
        with pytest.raises(UserWarning):
            fuse("cosine", lr, msi, "cpu", srf=shifted_camera(20))


@pytest.mark.parametrize("tile", [0, -3, None, "big", 2.5, True])
def test_tile_has_one_meaning_per_value(tiny_model, rng, tile):
    lr = rng.random((31, 8, 8)).astype(np.float32)
    msi = rng.random((3, 32, 32)).astype(np.float32)
    with pytest.raises(ValueError, match="tile must be"):
        fuse(tiny_model, lr, msi, "cpu", tile=tile)


def test_weights_out_needs_weights(tiny_model, rng):
    lr = rng.random((31, 8, 8)).astype(np.float32)
    msi = rng.random((3, 32, 32)).astype(np.float32)
    with pytest.raises(ValueError, match="weights=True"):
        fuse(tiny_model, lr, msi, "cpu", weights_out=np.zeros((4, 32, 32), np.float32))


def test_pairs_are_checked_when_built(rng):
    lr = rng.random((31, 8, 8)).astype(np.float32)
    msi = rng.random((3, 32, 32)).astype(np.float32)
    with pytest.raises(CubeError, match="not both"):
        RealPair(lr, msi, camera="estimate", pair_srf="estimate")
    with pytest.raises(CubeError, match=r"\(bands, rows, cols\)"):
        RealPair(lr[0], msi)
    with pytest.raises(CubeError, match="no such file"):
        RealPair(lr, msi, camera="missing_camera.json")
    with pytest.raises(CubeError, match="whole number"):
        SimulatedPair(msi, scale=0)
    pair = RealPair(lr, msi, align=True)
    assert pair.scale == 4 and pair.estimates and not RealPair(lr, msi).estimates
    with pytest.raises(dataclasses.FrozenInstanceError):
        pair.align = False  # type: ignore[misc]


def test_a_run_takes_a_pair_not_loose_keywords(tiny_model, rng):
    gt = rng.random((31, 32, 32)).astype(np.float32)
    with pytest.raises(TypeError):
        next(iter_fusion_run({"tiny": tiny_model}, gt=gt, scale=4))  # type: ignore[call-arg]
    with pytest.raises(CubeError, match="SimulatedPair or a RealPair"):
        next(iter_fusion_run({"tiny": tiny_model}, gt))  # type: ignore[arg-type]
    run = fusion_run({"tiny": tiny_model}, SimulatedPair(gt, scale=4, offset=1), device="cpu")
    assert run.offset == 1 and list(run.fused) == ["bicubic", "tiny"] and "psnr" in run.scores["tiny"]
