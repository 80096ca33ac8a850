"""The three schemes as an ensemble, and their disagreement as an expected-|error| map (issue 22)."""

from __future__ import annotations

import numpy as np
import pytest

import napari_inf3 as ni
from napari_inf3.data.cube import CubeError
from napari_inf3.data.sample import load_sample
from napari_inf3.evaluation.metrics import error_map, psnr
from napari_inf3.fusion.types import SimulatedPair
from napari_inf3.models.ensemble import Ensemble, combine
from napari_inf3.models.uncertainty import CUES, ErrorCalibration, error_cues, fit_calibration, spearman


@pytest.fixture(scope="module")
def crop():
    """A 96 × 96 corner of the sample (superballs, never trained on), simulated ×4 as the paper does."""
    gt = load_sample().data[:, :96, :96]
    lr, msi = ni.simulate(gt, 4)
    return gt, lr, msi


@pytest.fixture(scope="module")
def ens_result(crop):
    _, lr, msi = crop
    return ni.fuse("ensemble", lr, msi, "cpu", uncertainty=True)


def test_ensemble_is_the_mean_of_its_members_and_beats_each(crop, ens_result):
    gt, lr, msi = crop
    singles = {n: ni.fuse(n, lr, msi, "cpu").cube for n in ("area", "net", "cosine")}
    assert list(ens_result.members) == list(singles)
    for n, cube in singles.items():
        np.testing.assert_allclose(ens_result.members[n], cube, atol=1e-6)
    np.testing.assert_allclose(ens_result.cube, np.mean(list(singles.values()), axis=0), atol=1e-6)
    best = max(psnr(c, gt) for c in singles.values())
    assert psnr(ens_result.cube, gt) > best + 0.1
    assert ens_result.model == "ensemble" and ens_result.weights is None


def test_expected_error_follows_the_true_error(crop, ens_result):
    gt, _, _ = crop
    exp = ens_result.expected_error
    assert exp is not None and exp.shape == (96, 96) and exp.dtype == np.float32 and np.all(exp > 0)
    true = error_map(ens_result.cube, gt)
    # measured on this crop (superballs, never trained or calibrated on): 0.63 against the plain spread's 0.48,
    # predicted mean |error| 1.26 × the true one
    assert spearman(exp, true) > 0.55
    assert spearman(exp, true) > spearman(ens_result.spread, true) + 0.1
    assert 0.7 < exp.mean() / true.mean() < 1.6


def test_uncertainty_needs_an_ensemble_and_ensembles_have_no_weights(crop):
    _, lr, msi = crop
    with pytest.raises(ValueError, match="ensemble"):
        ni.fuse("cosine", lr, msi, "cpu", uncertainty=True)
    with pytest.raises(ValueError, match="neighbour weights"):
        ni.fuse("ensemble", lr, msi, "cpu", weights=True)
    no_cal = Ensemble(ni.pretrained("ensemble").members, None)
    with pytest.raises(CubeError, match="no error calibration"):
        ni.fuse(no_cal, lr, msi, "cpu", uncertainty=True)
    assert ni.fuse(no_cal, lr, msi, "cpu").expected_error is None


def test_names_resolve_to_ensembles():
    from napari_inf3.shipped import model_names, parse_spec

    assert parse_spec("ensemble") == ("ensemble", "lite") and parse_spec("paper:ensemble") == ("ensemble", "paper")
    assert {"ensemble", "paper:ensemble"} <= set(model_names())
    ens = ni.pretrained("ensemble", preset="paper")
    assert isinstance(ens, Ensemble) and ens.source == "paper:ensemble" and ens.calibration is not None
    assert [m.spec for m in ens.members.values()] == ["paper:area", "paper:net", "paper:cosine"]


def test_a_run_fuses_each_member_once(crop):
    gt, _, _ = crop
    run = ni.fusion_run(["cosine", "ensemble", "area"], SimulatedPair(gt, scale=4), device="cpu")
    assert list(run.fused) == ["bicubic", "cosine", "area", "net", "ensemble"]  # 'area' fused once, for both
    assert run.members["ensemble"] == ["area", "net", "cosine"]
    assert run.expected_error["ensemble"].shape == gt.shape[1:] and run.spread["ensemble"].shape == gt.shape[1:]
    np.testing.assert_allclose(run.fused["ensemble"],
                               np.mean([run.fused[k] for k in ("area", "net", "cosine")], axis=0), atol=1e-6)


def test_calibration_fits_a_known_law_and_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    scenes = []
    for _ in range(3):
        cues = {c: rng.uniform(0.001, 0.1, (40, 40)).astype(np.float32) for c in CUES}
        err = 3.0 * cues["spread"] ** 0.8 * cues["brightness"] ** 0.3
        scenes.append((cues, err))
    cal = fit_calibration(scenes, degree=1, eps=0.0, names=["a", "b", "c"])
    np.testing.assert_allclose(cal.coef[1:], [0.8, 0.0, 0.3, 0.0], atol=1e-6)
    quad = fit_calibration(scenes, eps=0.0)  # degree 2 holds the law too: its product terms come out 0
    assert len(quad.coef) == 15
    np.testing.assert_allclose(quad.coef[1:], [0.8, 0.0, 0.3, 0.0] + [0.0] * 10, atol=1e-5)
    np.testing.assert_allclose(cal.predict(scenes[0][0]), scenes[0][1], rtol=1e-4)
    path = cal.save(tmp_path / "cal.json")
    assert ErrorCalibration.load(path) == cal
    with pytest.raises(CubeError, match="already exists"):
        cal.save(path)
    (tmp_path / "bad.json").write_text('{"format": "something else"}')
    with pytest.raises(CubeError, match="not an error calibration"):
        ErrorCalibration.load(tmp_path / "bad.json")


def test_combine_and_cues_shapes():
    rng = np.random.default_rng(1)
    members = {k: rng.random((5, 8, 9)).astype(np.float32) for k in "abc"}
    proj = rng.random((5, 8, 9)).astype(np.float32)
    msi = rng.random((3, 8, 9)).astype(np.float32)
    cues = error_cues(list(members.values()), proj, msi)
    assert set(cues) == set(CUES) and all(c.shape == (8, 9) for c in cues.values())
    mean, spread, exp = combine(members, None, uncertainty=False)
    np.testing.assert_allclose(spread, np.stack(list(members.values())).std(0).mean(0), rtol=1e-5)
    assert exp is None and mean.shape == (5, 8, 9)


def test_cli_fuses_with_the_ensemble_and_writes_its_expected_error(tmp_path, crop, capsys):
    from napari_inf3 import read_cube, write_cube
    from napari_inf3.cli.main import main

    gt, _, _ = crop
    scene = write_cube(ni.Cube(gt, None), tmp_path / "gt.npz")
    rc = main(["fuse", "--gt", str(scene), "--model", "ensemble", "--out", str(tmp_path / "f.npz"),
               "--expected-error-out", str(tmp_path / "e.npz"), "--device", "cpu"])
    out = capsys.readouterr().out
    assert rc == 0 and "expected mean |error|" in out and "psnr=" in out
    e = read_cube(tmp_path / "e.npz")
    assert e.data.shape == (1, 96, 96) and np.all(e.data > 0)
    rc = main(["fuse", "--gt", str(scene), "--model", "cosine", "--out", str(tmp_path / "g.npz"),
               "--expected-error-out", str(tmp_path / "e2.npz"), "--device", "cpu"])
    assert rc == 2 and "needs --model ensemble" in capsys.readouterr().err


def test_a_checkpoint_named_like_a_member_is_not_overwritten(crop, tmp_path):
    """A user's checkpoint 'area.pt' (named 'area' in the run) and the ensemble: the shipped area member goes
    in under another name, the user's cube stays the user's."""
    import torch

    from napari_inf3 import save_checkpoint
    from napari_inf3.data.simulation import load_srf
    from napari_inf3.models.infn import INFN

    gt, _, _ = crop
    torch.manual_seed(0)
    mine = INFN(preset="lite", n_feats=8, n_resblocks=1, mlp_hidden=[16], out_dim=8, consistency="srf",
                srf=load_srf()).eval()
    path = save_checkpoint(mine, tmp_path / "area.pt")
    run = ni.fusion_run([path, "ensemble"], SimulatedPair(gt, scale=4), device="cpu")
    assert run.members["ensemble"] == ["ensemble·area", "net", "cosine"]
    np.testing.assert_array_equal(run.fused["area"], ni.fuse(path, *ni.simulate(gt, 4), "cpu").cube)
    assert run.scores["ensemble·area"]["psnr"] > run.scores["area"]["psnr"]


def test_a_photo_pair_gets_an_expected_error_map_through_its_camera(crop):
    """A real pair (an sRGB photo as the HR-MSI): the ensemble is fused through the fitted camera and its
    expected |error| is the run's error map; it still ranks the true error well."""
    from napari_inf3.fusion.types import RealPair
    from tests.conftest import photo_camera, photo_pair

    gt, _, _ = crop
    lr, photo, _ = photo_pair(gt, photo_camera())
    run = ni.fusion_run(["ensemble"], RealPair(lr, photo, camera="estimate"), device="cpu")
    exp = run.expected_error["ensemble"]
    assert exp.shape == gt.shape[1:] and run.gt is None and "ensemble" in run.pair_scores
    assert spearman(exp, error_map(run.fused["ensemble"], gt)) > 0.5


def test_a_poor_camera_fit_is_said_once_for_the_ensemble(crop):
    """The photograph is read through its camera once for all three members, so a poor fit is one note."""
    import warnings

    from napari_inf3.camera import CameraFit
    from napari_inf3.data.simulation import load_srf

    _, lr, msi = crop
    fit = CameraFit.linear(load_srf("nikon_d700"), scale=4, sigma=0.5, residual=np.array([0.3, 0.3, 0.3]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = ni.fuse("ensemble", lr, msi, "cpu", camera=fit, uncertainty=True)
    assert len(res.notes) == 1 and res.notes[0].startswith("the camera fit is poor")
    assert res.expected_error is not None and res.expected_error.shape == msi.shape[1:]
