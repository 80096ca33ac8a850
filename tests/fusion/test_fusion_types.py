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
from tests.conftest import shifted_camera


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


def test_a_run_keeps_one_immutable_result_per_method(tiny_model, rng):
    from napari_inf3.fusion.pipeline import score_ssim
    from napari_inf3.fusion.run import MethodResult

    gt = rng.random((31, 32, 32)).astype(np.float32)
    steps = iter_fusion_run({"tiny": tiny_model}, SimulatedPair(gt, scale=4), device="cpu", weights=True, ssim=False)
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            run = stop.value
            break
    tiny = run.results["tiny"]
    assert isinstance(tiny, MethodResult) and list(run.results) == ["bicubic", "tiny"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        tiny.cube = gt  # type: ignore[misc]
    with pytest.raises(TypeError):  # the per-method views are read-only: a result changes only as a whole
        run.fused["tiny"] = gt  # type: ignore[index]
    with pytest.raises(TypeError):  # its scores too
        run.scores["tiny"]["psnr"] = 99.0  # type: ignore[index]
    assert run.results["bicubic"].device is None and list(run.devices) == ["tiny"]  # bicubic is numpy
    # the views read the results: cube, scores, maps, weights, size of the same method agree
    assert run.fused["tiny"] is tiny.cube and run.scores["tiny"] is tiny.scores and run.weights["tiny"] is tiny.weights
    assert "bicubic" not in run.weights and "bicubic" not in run.params and run.params["tiny"] > 0
    errors, _ = run.error_maps()
    assert tiny.maps is not None and errors["tiny"] is tiny.maps[0]
    before = run.results["tiny"]
    score_ssim(run)  # adding a score makes a new result; the one read before is unchanged
    assert "ssim" not in before.scores and 0 < run.results["tiny"].scores["ssim"] <= 1
    assert run.results["tiny"].cube is before.cube


def test_a_fused_cube_keeps_the_lr_hsis_wavelengths(tiny_model, rng):
    from napari_inf3 import Cube

    wl = np.arange(400.0, 701.0, 10)
    lr = rng.random((31, 8, 8)).astype(np.float32)
    msi = rng.random((3, 32, 32)).astype(np.float32)
    result = fuse(tiny_model, Cube(lr, wl), msi, "cpu")
    np.testing.assert_array_equal(result.wavelengths, wl)
    cube = result.as_cube()
    assert isinstance(cube, Cube) and cube.data is result.cube and cube.meta["model"] == result.model
    np.testing.assert_array_equal(cube.wavelengths, wl)
    assert fuse(tiny_model, lr, msi, "cpu").wavelengths is None  # an array says nothing of its bands
