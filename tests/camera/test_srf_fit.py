"""Real pairs: the HR-MSI camera's response, blur and shift estimated from the pair (issue 15)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_inf3 import fuse, load_srf, simulate
from napari_inf3.camera.srf_fit import align_msi, estimate_shift, estimate_srf
from napari_inf3.data.cube import CubeError
from napari_inf3.data.sample import load_sample
from napari_inf3.data.simulation import parse_srf_csv, write_srf_csv
from napari_inf3.evaluation.metrics import psnr
from tests.conftest import shifted_camera


@pytest.fixture(scope="module")
def gt():
    return np.asarray(load_sample().data, np.float32)  # the shipped 192² superballs crop


def test_nikon_pair_gives_back_the_nikon_response(gt):
    lr, msi = simulate(gt, 4)
    fit = estimate_srf(lr, msi, 4)
    true = load_srf("nikon_d700", bands=31)
    for k in range(3):
        assert np.corrcoef(fit.srf[k], true[k])[0, 1] >= 0.99
    assert fit.mean_residual < 1e-2 and np.all(fit.srf >= 0)
    with_true = psnr(fuse("cosine", lr, msi).cube, gt)
    with_estimate = psnr(fuse("cosine", lr, msi, srf=fit.srf).cube, gt)
    assert abs(with_estimate - with_true) <= 0.2


def test_another_camera_fuses_better_with_the_estimate(gt):
    other = shifted_camera(20)
    lr, msi = simulate(gt, 4, other)
    fit = estimate_srf(lr, msi, 4)
    for k in range(3):
        assert np.corrcoef(fit.srf[k], other[k])[0, 1] >= 0.99
    with pytest.warns(UserWarning, match="another spectral response"):
        with_estimate = psnr(fuse("cosine", lr, msi, srf=fit.srf).cube, gt)
    with_nikon = psnr(fuse("cosine", lr, msi).cube, gt)
    assert with_estimate >= with_nikon + 1.0, (with_estimate, with_nikon)


def test_blur_search_finds_the_simulation_sigma(gt):
    lr, msi = simulate(gt, 4, sigma=1.0, kernel_size=5)
    fit = estimate_srf(lr, msi, 4, estimate_blur=True)
    assert abs(fit.sigma - 1.0) <= 0.1
    assert fit.sigma_scan and min(r for _, r in fit.sigma_scan) == pytest.approx(fit.mean_residual)


@pytest.mark.parametrize("shift", [(2.0, 2.0), (0.0, 0.0), (-1.5, 0.75)])
def test_shift_is_found_within_a_quarter_hr_pixel(gt, shift):
    lr, msi = simulate(gt, 4)
    moved = np.roll(msi, (2, 2), axis=(1, 2)) if shift == (2.0, 2.0) else align_msi(msi, (-shift[0], -shift[1]))
    found = estimate_shift(lr, moved, 4, warn_above=None)
    assert abs(found[0] - shift[0]) <= 0.25 and abs(found[1] - shift[1]) <= 0.25, found
    if shift == (2.0, 2.0):  # 2 HR px is half an LR pixel at ×4: not yet a warning; 3 is
        with pytest.warns(UserWarning, match="displaced"):
            estimate_shift(lr, np.roll(msi, (3, 0), axis=(1, 2)), 4)


def test_a_shifted_pair_fuses_better_aligned(gt):
    lr, msi = simulate(gt, 4)
    moved = np.roll(msi, (2, -2), axis=(1, 2))
    fit = estimate_srf(lr, moved, 4, shift=True)
    assert fit.shift == pytest.approx((2.0, -2.0), abs=0.25)
    aligned = align_msi(moved, fit.shift)
    inner = np.s_[:, 8:-8, 8:-8]  # the rolled-in border is not the scene
    aligned_psnr = psnr(fuse("cosine", lr, aligned).cube[inner], gt[inner])
    assert aligned_psnr > psnr(fuse("cosine", lr, moved).cube[inner], gt[inner]) + 1


def test_srf_csv_round_trip_and_bad_file(tmp_path):
    p = load_srf("nikon_d700", bands=31)
    path = write_srf_csv(p, tmp_path / "cam.csv", np.arange(400, 701, 10), ["R", "G", "B"])
    np.testing.assert_allclose(load_srf(path, bands=31), p)
    m, nm = parse_srf_csv(path.read_text())
    assert nm[0] == 400 and nm[-1] == 700 and m.shape == (3, 31)
    bad = tmp_path / "bad.csv"
    bad.write_text("channel,400,410\nR,0.1\n")
    with pytest.raises(CubeError, match="bad.csv.*every row needs 2 values"):
        load_srf(bad)


def test_srf_needs_the_projection_and_the_right_shape(gt):
    from napari_inf3.models.infn import INFN

    lr, msi = simulate(gt, 4)
    plain = INFN(preset="lite", n_resblocks=1, consistency="none")
    with pytest.raises(CubeError, match="no SRF projection"):
        fuse(plain, lr, msi, srf="nikon_d700")
    with pytest.raises(CubeError, match="columns"):
        fuse("cosine", lr, msi, srf=np.ones((3, 30)))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the projection baseline has no learned inputs: no warning
        fuse("projection", lr, msi, srf=shifted_camera(20))


def test_cli_estimates_aligns_and_saves_the_response(gt, tmp_path, capsys):
    from napari_inf3 import Cube, read_cube, write_cube
    from napari_inf3.cli.main import main

    lr, msi = simulate(gt, 4, shifted_camera(20))
    write_cube(Cube(lr, np.arange(400, 701, 10.0)), tmp_path / "lr.npz")
    write_cube(Cube(np.roll(msi, (2, 0), axis=(1, 2))), tmp_path / "msi.npz")
    rc = main(["fuse", "--lr-hsi", str(tmp_path / "lr.npz"), "--hr-msi", str(tmp_path / "msi.npz"),
               "--model", "projection", "--srf", "estimate", "--align", "--srf-out", str(tmp_path / "cam.csv"),
               "--out", str(tmp_path / "fused.npz")])
    out = capsys.readouterr().out
    assert rc == 0 and "HR-MSI shift (dy, dx) = (+2.00, +0.00)" in out and "estimated spectral response" in out
    est = load_srf(tmp_path / "cam.csv", bands=31)
    assert min(np.corrcoef(est[k], shifted_camera(20)[k])[0, 1] for k in range(3)) > 0.99
    inner = np.s_[:, 8:-8, 8:-8]
    assert psnr(read_cube(tmp_path / "fused.npz").data[inner], gt[inner]) > 45
    rc = main(["fuse", "--lr-hsi", str(tmp_path / "lr.npz"), "--hr-msi", str(tmp_path / "msi.npz"),
               "--model", "projection", "--srf", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "f2.npz")])
    assert rc == 2 and "missing.csv" in capsys.readouterr().err


def test_cli_trains_with_another_camera_response(tmp_path):
    from napari_inf3 import load_checkpoint
    from napari_inf3.cli.main import main
    from napari_inf3.data.sample import sample_path
    from napari_inf3.models.checkpoint import read_checkpoint

    csv = write_srf_csv(shifted_camera(20), tmp_path / "cam.csv", np.arange(400, 701, 10), ["R", "G", "B"])
    rc = main(["train", str(sample_path()), "--srf", str(csv), "--out", str(tmp_path / "m.pt"), "--epochs", "1",
               "--patches-per-epoch", "2", "--batch-size", "2", "--preset", "lite"])
    assert rc == 0
    model, ckpt = load_checkpoint(tmp_path / "m.pt"), read_checkpoint(tmp_path / "m.pt")
    np.testing.assert_allclose(model.srf.numpy(), shifted_camera(20), rtol=1e-6)
    assert ckpt["meta"]["srf"] == str(csv)
