"""The CUDA paths: device selection, tiled = untiled, autocast, training steps, CUDA → CPU checkpoints.

Skipped where torch sees no GPU (this project's CI); ``tools/gpu_run.py`` runs them on a lent
GPU machine (``pytest -m cuda tests/models/test_cuda.py``). TF32 is switched off for the equality
checks, so float32 there means float32.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device"),
]


@pytest.fixture
def no_tf32():
    old = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def _cube_and_weights(result):
    return result.cube, result.weights


def _pair(rng, h=24, w=20, r=4):
    from napari_inf3.data.simulation import simulate

    y, x = np.mgrid[0 : h * r, 0 : w * r] / 9.0
    base = 0.4 + 0.2 * np.sin(y) * np.cos(1.3 * x)
    gt = np.clip(base[None] * np.linspace(0.7, 1.2, 31)[:, None, None]
                 + 0.02 * rng.standard_normal((31, h * r, w * r)), 0, 1).astype(np.float32)
    lr, msi = simulate(gt, r)
    return gt, lr, msi


def _model(weighting="cosine"):
    from napari_inf3.data.simulation import load_srf
    from napari_inf3.models.infn import INFN

    torch.manual_seed(0)
    m = INFN(weighting=weighting, preset="lite", n_feats=16, n_resblocks=2, mlp_hidden=[32, 32], out_dim=16,
             consistency="srf", srf=load_srf())
    with torch.no_grad():  # a non-trivial decoder, so the network's part shows in the output
        m.decoder[-1].weight.normal_(0, 0.02)
    return m.eval()


def test_device_selection():
    from napari_inf3.models.device import available_devices, select_device

    assert available_devices()[0] == "cuda:0"
    assert select_device(None) == torch.device("cuda:0")
    assert select_device("cuda") == torch.device("cuda:0")
    with pytest.raises(ValueError, match="available"):
        select_device(f"cuda:{torch.cuda.device_count()}")


@pytest.mark.parametrize("weighting", ["area", "net", "cosine"])
def test_tiled_equals_untiled_and_cpu(no_tf32, rng, weighting):
    from napari_inf3.fusion.inference import fuse

    _, lr, msi = _pair(rng)
    m = _model(weighting)
    whole = fuse(m, lr, msi, "cuda", tile="off").cube
    tiled = fuse(m, lr, msi, "cuda", tile=7).cube
    np.testing.assert_allclose(tiled, whole, atol=1e-5, rtol=0)
    cpu = fuse(m, lr, msi, "cpu", tile="off").cube
    np.testing.assert_allclose(whole, cpu, atol=1e-4, rtol=0)


@pytest.mark.parametrize("weighting", ["area", "net", "cosine"])
def test_neighbour_weights_tiled_equal_untiled_and_cpu(no_tf32, rng, weighting):
    from napari_inf3.fusion.inference import fuse

    _, lr, msi = _pair(rng)
    m = _model(weighting)
    _, whole = _cube_and_weights(fuse(m, lr, msi, "cuda", tile="off", weights=True))
    _, tiled = _cube_and_weights(fuse(m, lr, msi, "cuda", tile=7, weights=True))
    np.testing.assert_allclose(tiled, whole, atol=1e-5, rtol=0)
    np.testing.assert_allclose(whole.sum(axis=0), 1.0, atol=1e-5)
    _, cpu = _cube_and_weights(fuse(m, lr, msi, "cpu", tile="off", weights=True))
    np.testing.assert_allclose(whole, cpu, atol=1e-4, rtol=0)


def test_autocast_bf16_and_fp16_close_to_fp32(rng):
    from napari_inf3.evaluation.metrics import psnr
    from napari_inf3.fusion.inference import fuse

    gt, lr, msi = _pair(rng)
    m = _model()
    ref = fuse(m, lr, msi, "cuda").cube
    for prec in ("bf16", "fp16"):
        low, weights = _cube_and_weights(fuse(m, lr, msi, "cuda", precision=prec, weights=True))
        assert low.dtype == np.float32
        np.testing.assert_allclose(weights.sum(axis=0), 1.0, atol=1e-5)
        assert abs(psnr(low, gt) - psnr(ref, gt)) < 0.05


def test_sampler_on_cuda_equals_cpu(rng):
    from napari_inf3.data.simulation import load_srf
    from napari_inf3.training.data import PatchSampler
    from napari_inf3.training.sampling import epoch_order, patch_grid

    scenes = [rng.random((31, 48, 48), dtype=np.float32) for _ in range(2)]
    grid = patch_grid([s.shape for s in scenes], 16, 8)
    idx, aug = epoch_order(len(grid), 32, 0, 0)
    cpu = PatchSampler(scenes, grid, 16, 4, None, load_srf(), "cpu").batch(idx, aug)
    gpu = PatchSampler(scenes, grid, 16, 4, None, load_srf(), "cuda").batch(idx, aug)
    for a, b in zip(cpu, gpu, strict=True):
        np.testing.assert_allclose(b.cpu().numpy(), a.numpy(), atol=1e-6, rtol=0)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_training_steps_and_checkpoint_cuda_to_cpu(tmp_path, rng, precision, no_tf32):
    from napari_inf3 import load_checkpoint, train
    from napari_inf3.fusion.inference import fuse
    from napari_inf3.models.checkpoint import read_checkpoint

    gt, lr, msi = _pair(rng, 16, 16)
    out = tmp_path / "m.pt"
    events = list(train([gt, gt[:, ::-1].copy()], weighting="cosine", preset="lite", epochs=1,
                        patches_per_epoch=24, batch_size=8, device="cuda", out=out, precision=precision,
                        model_options={"n_feats": 8, "n_resblocks": 1, "mlp_hidden": [16], "out_dim": 8}))
    steps = [e for e in events if e.kind == "step"]
    assert len(steps) == 3 and all(np.isfinite(e.loss) for e in steps)
    model = events[-1].extra["model"]
    assert next(model.parameters()).device.type == "cuda"
    cpu_model, ckpt = load_checkpoint(out, device="cpu"), read_checkpoint(out)
    assert ckpt["meta"]["device"] == "cuda:0" and ckpt["meta"]["precision"] == precision
    assert ckpt["meta"]["offset"] == 2
    np.testing.assert_allclose(fuse(cpu_model, lr, msi, "cpu").cube, fuse(model, lr, msi, "cuda").cube,
                               atol=1e-4, rtol=0)


def test_fine_tuning_a_shipped_model_on_cuda(rng, no_tf32):
    """``train(init=...)`` on the GPU: the shipped weights move there with this run's response, and
    with lr 0 the fine-tuned model fuses as the shipped one does on the CPU."""
    from napari_inf3 import pretrained, train
    from napari_inf3.fusion.inference import fuse

    gt, lr, msi = _pair(rng, 16, 16)
    events = list(train([gt], init="cosine", epochs=1, patches_per_epoch=16, batch_size=8, lr=0.0, device="cuda"))
    model = events[-1].extra["model"]
    assert next(model.parameters()).device.type == "cuda" and model.srf.device.type == "cuda"
    np.testing.assert_allclose(fuse(model, lr, msi, "cuda").cube, fuse(pretrained("cosine"), lr, msi, "cpu").cube,
                               atol=1e-4, rtol=0)
