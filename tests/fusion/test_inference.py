"""Tiled fusion equals untiled fusion; the device helper; pair checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_inf3 import CubeError, fuse, select_device
from napari_inf3.fusion.inference import bicubic
from napari_inf3.fusion.tiling import auto_tile


@pytest.mark.parametrize("tile", [8, 12, 16])
def test_tiled_equals_untiled(tiny_model, rng, tile):
    lr = rng.random((31, 40, 36)).astype(np.float32)
    msi = rng.random((3, 160, 144)).astype(np.float32)
    full = fuse(tiny_model, lr, msi, "cpu", tile="off").cube
    tiled = fuse(tiny_model, lr, msi, "cpu", tile=tile).cube
    assert np.abs(full - tiled).max() <= 1e-5


def test_tiled_equals_untiled_lite_preset(rng):
    from napari_inf3.models.infn import INFN

    torch.manual_seed(3)
    m = INFN(preset="lite", weighting="cosine").eval()
    for p in m.decoder[-1].parameters():  # not the bicubic start: make the network's part visible
        torch.nn.init.normal_(p, std=0.05)
    lr = rng.random((31, 60, 52)).astype(np.float32)
    msi = rng.random((3, 240, 208)).astype(np.float32)
    full = fuse(m, lr, msi, "cpu", tile="off").cube
    tiled = fuse(m, lr, msi, "cpu", tile=24).cube
    assert np.abs(full - bicubic(lr, (240, 208))).max() > 1e-3
    assert np.abs(full - tiled).max() <= 1e-5


def test_progress_and_cancel(tiny_model, rng):
    lr = rng.random((31, 32, 32)).astype(np.float32)
    msi = rng.random((3, 128, 128)).astype(np.float32)
    seen = []
    fuse(tiny_model, lr, msi, "cpu", tile=16, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (4, 4)
    with pytest.raises(InterruptedError):
        fuse(tiny_model, lr, msi, "cpu", tile=16, should_stop=lambda: True)


def test_pair_checks(tiny_model, rng):
    lr = rng.random((31, 8, 8)).astype(np.float32)
    with pytest.raises(CubeError, match="HR-MSI has 4 bands"):
        fuse(tiny_model, lr, rng.random((4, 32, 32)).astype(np.float32))
    with pytest.raises(CubeError, match="not a uniform upscale"):
        fuse(tiny_model, lr, rng.random((3, 32, 24)).astype(np.float32))
    with pytest.raises(CubeError, match="LR-HSI has 30 bands"):
        fuse(tiny_model, lr[:30], rng.random((3, 32, 32)).astype(np.float32))


def test_auto_tile_fits_budget(tiny_model):
    from napari_inf3.fusion.tiling import encoder_bytes_per_hr_pixel

    budget = 64 << 20
    t = auto_tile(tiny_model, 4, torch.device("cpu"), budget_bytes=budget)
    side_hr = (t + 2 * tiny_model.spatial_halo(4)) * 4
    assert t >= 8
    assert side_hr**2 * encoder_bytes_per_hr_pixel(tiny_model.config) <= budget
    assert (side_hr + 8) ** 2 * encoder_bytes_per_hr_pixel(tiny_model.config) > budget  # and uses it


def test_tile_edges_are_near_equal():
    from napari_inf3.fusion.inference import tile_edges

    assert tile_edges(128, 88) == [0, 64, 128]
    assert tile_edges(10, 100) == [0, 10]
    e = tile_edges(509, 60)
    sizes = np.diff(e)
    assert e[0] == 0 and e[-1] == 509 and len(sizes) == 9 and sizes.max() - sizes.min() <= 1


def test_chunked_inf3_equals_straightforward_across_chunks(monkeypatch):
    """The inference path's chunks of HR rows (here 7 rows each, ragged last) change nothing."""
    from napari_inf3.models.infn import INFN
    from napari_inf3.models.infn.fusion import INF3

    torch.manual_seed(8)
    for weighting in ("area", "net", "cosine"):
        m = INFN(weighting=weighting, preset="lite", n_resblocks=1).eval()
        x, y = torch.rand(1, 31, 10, 9), torch.rand(1, 3, 40, 36)
        with torch.no_grad():
            _, s_pe, s_pa_d, s_pa = m.encode(x, y)
            monkeypatch.setattr(INF3, "chunk_pixels", 7 * 36)
            fast, wf = m.inf3(s_pe, s_pa_d, s_pa, return_weights=True)
            slow, ws = m.inf3(s_pe, s_pa_d, s_pa, return_weights=True, straightforward=True)
        assert (fast - slow).abs().max() < 1e-4
        assert (wf - ws).abs().max() < 1e-5


def test_select_device():
    assert select_device("cpu").type == "cpu"
    assert select_device(None).type in ("cpu", "cuda", "mps")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="not available here"):
            select_device("cuda:3")


@pytest.mark.parametrize("scale", [2, 3, 8])
def test_tiled_equals_untiled_other_scales(tiny_model, rng, scale):
    lr = rng.random((31, 21, 17)).astype(np.float32)
    msi = rng.random((3, 21 * scale, 17 * scale)).astype(np.float32)
    full = fuse(tiny_model, lr, msi, "cpu", tile="off").cube
    tiled = fuse(tiny_model, lr, msi, "cpu", tile=8).cube
    assert np.abs(full - tiled).max() <= 1e-5


def test_srf_projection_tiled_equals_untiled_and_survives_a_half_checkpoint(rng, tmp_path):
    from napari_inf3 import load_checkpoint, save_checkpoint
    from napari_inf3.data.simulation import load_srf
    from napari_inf3.models.checkpoint import read_checkpoint
    from napari_inf3.models.infn import INFN

    torch.manual_seed(4)
    m = INFN(preset="lite", n_feats=8, n_resblocks=1, mlp_hidden=[16], out_dim=8, consistency="srf",
             srf=load_srf("nikon_d700", bands=31)).eval()
    torch.nn.init.normal_(m.decoder[-1].weight, std=0.05)
    lr = rng.random((31, 24, 20)).astype(np.float32)
    msi = rng.random((3, 96, 80)).astype(np.float32)
    full = fuse(m, lr, msi, "cpu", tile="off").cube
    assert np.abs(full - fuse(m, lr, msi, "cpu", tile=8).cube).max() <= 1e-5
    path = save_checkpoint(m, tmp_path / "h.pt", half=True)
    back, ckpt = load_checkpoint(path, device="cpu"), read_checkpoint(path)
    assert back.config["consistency"] == "srf" and ckpt["state_dict"]["srf"].dtype == torch.float32
    assert torch.equal(back.srf, m.srf)


def test_bf16_autocast_keeps_the_metrics(rng):
    """precision='bf16' (autocast; on CUDA the same with fp16) moves PSNR by far less than 0.05 dB, weights sum to 1."""
    from napari_inf3 import pretrained, simulate
    from napari_inf3.data.sample import load_sample
    from napari_inf3.evaluation.metrics import psnr

    gt = load_sample().data[:, :96, :96]
    lr, msi = simulate(gt, 4)
    for name in ("net", "cosine"):
        m = pretrained(name, device="cpu")
        full = psnr(fuse(m, lr, msi, "cpu").cube, gt)
        res = fuse(m, lr, msi, "cpu", precision="bf16", weights=True)
        fused, weights = res.cube, res.weights
        low = psnr(fused, gt)
        assert abs(full - low) < 0.05, (name, full, low)
        # the weights buffer stays float32 under autocast: the four still sum to 1 (in bf16 they were off by ~3e-3)
        assert weights.dtype == np.float32
        np.testing.assert_allclose(weights.sum(axis=0), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="fp16 fusion needs a CUDA device"):
        fuse(m, lr, msi, "cpu", precision="fp16")
    with pytest.raises(ValueError, match="unknown precision"):
        fuse(m, lr, msi, "cpu", precision="fp8")
