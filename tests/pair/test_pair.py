"""fit_pair: a fusion fitted to the user's own pair, for any band count and camera, without ground truth.

Scenes here are synthetic mixtures (a few smooth endmember spectra, abundances that vary in space with edges), so a
fit to the pair has something to learn and ground truth to be scored against. Fits use ``seconds=1`` (the spectral
map's MLP trains for its minimum of steps) to keep each test to a second or two.
"""

from __future__ import annotations

import numpy as np
import pytest

import napari_inf3 as ni
from napari_inf3 import CubeError
from napari_inf3.evaluation.metrics import psnr
from napari_inf3.fusion.upsampling import bicubic
from napari_inf3.pair import PairFitWarning, PairModel, fit_pair, pair_report
from napari_inf3.pair.psf import Degradation, estimate_degradation


def mixed_scene(bands: int, size: int = 64, seed: int = 0, endmembers: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """``(cube (bands, size, size) in [0, 1], wavelengths nm)``: smooth endmember spectra mixed by abundances with
    sharp and soft edges, under a little shading."""
    rng = np.random.default_rng(seed)
    wl = np.linspace(400.0, 2500.0 if bands > 100 else 1000.0, bands)
    t = np.linspace(0, 1, bands)
    spectra = np.stack([0.2 + 0.6 * rng.random() + 0.15 * np.sin(2 * np.pi * (rng.random() * 2 * t + rng.random()))
                        for _ in range(endmembers)])
    y, x = np.mgrid[0:size, 0:size] / size
    logits = np.stack([3 * np.sin(2 * np.pi * (rng.random() * 2 * x + rng.random() * 2 * y + rng.random()))
                       + 6 * (((x - rng.random()) ** 2 + (y - rng.random()) ** 2) < 0.05)
                       for _ in range(endmembers)])
    ab = np.exp(logits) / np.exp(logits).sum(0)
    shade = 0.8 + 0.2 * np.cos(3 * x + 2 * y)
    cube = np.einsum("eb,ehw->bhw", spectra, ab) * shade
    return np.clip(cube / cube.max(), 0, 1).astype(np.float32), wl


def gaussian_response(wl: np.ndarray, centres, fwhm: float = 60.0) -> np.ndarray:
    """An ``(s, B)`` response of Gaussian channels, rows summing to 1."""
    p = np.stack([np.exp(-0.5 * ((wl - c) / (fwhm / 2.355)) ** 2) for c in centres])
    return (p / p.sum(1, keepdims=True)).astype(np.float32)


def pair_of(bands: int, channels: int = 4, size: int = 64, seed: int = 0):
    """``(gt, lr, msi, response, wavelengths)``: a mixed scene seen by ``channels`` Gaussian channels (broad enough
    to mix neighbouring bands of a 4-band cube; one panchromatic channel for ``channels=1``), ×4, the protocol."""
    gt, wl = mixed_scene(bands, size, seed)
    fwhm = 400.0 if channels == 1 else max(60.0, 1.5 * (wl[-1] - wl[0]) / channels)
    p = gaussian_response(wl, np.linspace(wl[0] + 40, wl[-1] - 40, channels) if channels > 1 else [wl.mean()], fwhm)
    lr, msi = ni.simulate(gt, 4, p)
    return gt, lr, msi, p, wl


@pytest.mark.parametrize("bands", [4, 31, 103, 300])
def test_any_band_count_beats_bicubic_and_the_projection(bands):
    from napari_inf3.camera.fusion import project

    channels = 3 if bands == 4 else 4
    gt, lr, msi, p, _ = pair_of(bands, channels)
    model = fit_pair(lr, msi, srf=p, seconds=1)
    fused = ni.fuse(model, lr, msi).cube
    assert fused.shape == gt.shape and fused.dtype == np.float32 and fused.min() >= 0
    up = bicubic(lr, msi.shape[1:])
    assert psnr(fused, gt) > psnr(up, gt) + 3
    assert psnr(fused, gt) > psnr(np.maximum(project(up, p, msi), 0), gt) + 1
    assert model.bands == bands and model.msi_bands == channels and model.meta["projection"]


def test_unknown_response_is_fitted_from_the_pair():
    gt, lr, msi, p, _ = pair_of(60, channels=5)
    model = fit_pair(lr, msi, seconds=1)
    assert model.meta["srf"] == "fitted from the pair"
    assert max(model.meta["srf_residual"]) < 0.01  # a linear camera: explained
    known = ni.fuse(fit_pair(lr, msi, srf=p, seconds=1), lr, msi).cube
    assert psnr(ni.fuse(model, lr, msi).cube, gt) > psnr(known, gt) - 0.5


def test_one_channel_hr_msi():
    """A panchromatic HR-MSI: one channel, a broad response."""
    gt, lr, msi, p, _ = pair_of(40, channels=1)
    assert msi.shape[0] == 1
    model = fit_pair(lr, msi, seconds=1)
    fused = ni.fuse(model, lr, msi).cube
    assert psnr(fused, gt) > psnr(bicubic(lr, msi.shape[1:]), gt) + 1


def test_a_pair_too_small_is_refused_or_warned():
    gt, lr, msi, p, _ = pair_of(20, size=20)  # LR 5 × 5
    with pytest.raises(CubeError, match="too few"):
        fit_pair(lr, msi)
    gt, lr, msi, p, _ = pair_of(20, size=48)  # LR 12 × 12: fitted, with a warning and a finding
    with pytest.warns(PairFitWarning, match="only 12×12"):
        model = fit_pair(lr, msi, srf=p, seconds=1)
    assert any(f.kind == "small" for f in pair_report(model)[1])
    with pytest.raises(CubeError, match="whole-number upscale"):
        fit_pair(lr, msi[:, :-1, :-1])


def test_cancel_mid_fit():
    """``should_stop`` is polled between steps and inside the spectral map's training."""
    gt, lr, msi, p, _ = pair_of(20)
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(InterruptedError):
        fit_pair(lr, msi, srf=p, should_stop=stop)
    seen = []
    model = fit_pair(lr, msi, srf=p, seconds=1, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (100, 100) and [d for d, _ in seen] == sorted(d for d, _ in seen)
    with pytest.raises(InterruptedError):
        ni.fuse(model, lr, msi, tile=4, should_stop=lambda: True)


def test_saved_checkpoint_reloads_to_equal_outputs(tmp_path):
    gt, lr, msi, p, wl = pair_of(50)
    model = fit_pair(ni.Cube(lr, wl), msi, srf=p, seconds=1)
    path = ni.save_checkpoint(model, tmp_path / "pair.pt", meta=model.meta)
    again = ni.load_checkpoint(path)
    assert isinstance(again, PairModel) and again.config["kind"] == "pair"
    assert again.meta["self_check"] == model.meta["self_check"]
    assert again.meta["wavelengths"] == pytest.approx(list(wl))
    a = ni.fuse(model, lr, msi).cube
    np.testing.assert_array_equal(ni.fuse(path, lr, msi).cube, a)
    np.testing.assert_array_equal(ni.fuse(again, lr, msi).cube, a)


def test_tiled_equals_untiled_and_fills_out(tmp_path):
    from napari_inf3.io.envi import create

    gt, lr, msi, p, wl = pair_of(30, size=96)
    model = fit_pair(lr, msi, srf=p, seconds=1)
    whole = ni.fuse(model, lr, msi, tile="off").cube
    np.testing.assert_allclose(ni.fuse(model, lr, msi, tile=5).cube, whole, atol=1e-5)
    out = create(tmp_path / "f.hdr", whole.shape, wl)
    res = ni.fuse(model, lr, msi, tile=7, out=out)
    assert res.cube is out
    np.testing.assert_allclose(np.asarray(out), whole, atol=1e-5)


def test_pair_as_a_model_name_in_fuse_and_a_run():
    gt, lr, msi, p, wl = pair_of(25)
    res = ni.fuse("pair", lr, msi, srf=p)
    assert res.model == "pair" and psnr(res.cube, gt) > psnr(bicubic(lr, msi.shape[1:]), gt) + 3
    with pytest.raises(CubeError, match="fitted to the pair being fused"):
        from napari_inf3.models.load import load_model

        load_model("pair")
    run = ni.fusion_run(["pair", "projection"], ni.SimulatedPair(ni.Cube(gt, wl), scale=4, srf=p))
    assert set(run.fused) == {"bicubic", "pair", "projection"} and isinstance(run.fitted["pair"], PairModel)
    assert run.scores["pair"]["psnr"] > run.scores["projection"]["psnr"]
    with pytest.raises(ValueError, match="no neighbour weights"):
        ni.fuse(run.fitted["pair"], lr, msi, weights=True)


def test_report_says_when_the_hr_msi_does_not_explain_the_pair():
    gt, lr, msi, p, _ = pair_of(30)
    good = fit_pair(lr, msi, srf=p, seconds=1)
    scores, found = pair_report(good)
    assert [f.level for f in found] == ["ok"] and scores["held_out_db"] > scores["interpolation_db"]
    rng = np.random.default_rng(0)
    scrambled = msi[:, rng.permutation(msi.shape[1])][:, :, rng.permutation(msi.shape[2])]  # another scene
    with pytest.warns(PairFitWarning):
        bad = fit_pair(lr, scrambled, seconds=1)
    found = pair_report(bad)[1]
    assert found[0].level == "poor" and not bad.config["projection"]


def test_psf_estimate_tells_the_protocol_from_a_block_mean():
    gt, wl = mixed_scene(40, 64, seed=3)
    p = gaussian_response(wl, [450, 600, 750, 900])
    msi = np.einsum("sb,bhw->shw", p, gt)
    protocol, _ = estimate_degradation(Degradation(4).degrade(gt), msi, 4)
    box, scores = estimate_degradation(Degradation(4, "box").degrade(gt), msi, 4)
    assert protocol == Degradation(4) and box.kind == "box"
    assert box.origin == 1.5 and protocol.origin == 2.0


def test_a_photo_through_its_camera():
    """An 8-bit sRGB photo as the HR-MSI: fitted through its (given) camera, the projection stays on."""
    from tests.conftest import photo_camera, photo_pair

    gt, _ = mixed_scene(31, 64, seed=5)
    cam = photo_camera()
    lr, photo, _ = photo_pair(gt, cam)
    model = fit_pair(lr, photo, camera=cam, seconds=1)
    assert model.meta["projection"] and "camera" in model.meta
    fused = ni.fuse(model, lr, photo).cube  # the photo as stored: the model linearises it
    assert psnr(fused, gt) > psnr(bicubic(lr, photo.shape[1:]), gt) + 3


def test_same_call_same_model():
    gt, lr, msi, p, _ = pair_of(20)
    a = ni.fuse(fit_pair(lr, msi, srf=p, seconds=1, seed=3), lr, msi).cube
    b = ni.fuse(fit_pair(lr, msi, srf=p, seconds=1, seed=3), lr, msi).cube
    np.testing.assert_array_equal(a, b)


def test_the_dock_says_which_to_prefer_only_for_the_shipped_sensor():
    """A 31-band pair with a 3-channel HR-MSI is one the shipped networks take too: the Fusion dock's status says
    which to prefer, from the superballs measurement; for any other pair it says nothing of the kind."""
    from napari_inf3._napari.fusion_choices import done_text

    texts = {}
    for bands, channels in [(31, 3), (25, 4)]:
        gt, _, _, p, wl = pair_of(bands, channels, size=48)
        run = ni.fusion_run(["pair"], ni.SimulatedPair(ni.Cube(gt, wl), scale=4, srf=p))
        texts[bands] = done_text(run)
    text, details, _ = texts[31]
    assert "prefer 'pair' for quality" in text and "52.11 dB" in details
    assert "prefer" not in texts[25][0] + texts[25][1]


def test_another_sensor_without_a_response_gets_one_estimated_for_the_projection():
    """A real pair of another sensor with the default response (the Nikon D700, 31 bands × 3 channels) fuses with
    a response estimated from the pair, and says so; a packaged sensor's name is resampled to the wavelengths."""
    gt, lr, msi, p, wl = pair_of(40, 4, size=48)
    run = ni.fusion_run(["projection"], ni.RealPair(lr, msi, wavelengths=wl))
    assert "projection" in run.fused and any("estimated from the pair" in n for n in run.notes)
    wl_vnir = np.linspace(450, 900, 40)
    run = ni.fusion_run(["projection"], ni.RealPair(lr, msi, wavelengths=wl_vnir, pair_srf="ikonos"))
    np.testing.assert_allclose(run.srf, ni.load_srf("ikonos", wavelengths=wl_vnir))
