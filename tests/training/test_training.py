"""Training on a real CAVE scene: the loss falls, checkpoints round-trip, resume continues exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_inf3 import load_checkpoint, read_cube, train
from napari_inf3.models.checkpoint import read_checkpoint
from napari_inf3.training.sampling import epoch_order, patch_grid
from tests.conftest import cave_scene

SMALL = {"n_feats": 16, "n_resblocks": 1, "mlp_hidden": [32], "out_dim": 16}


@pytest.fixture(scope="module")
def face_crop():
    return read_cube(cave_scene("face_ms")).data[:, 128:320, 128:320].copy()


def _run(scenes, **kw):
    opts = {"preset": "lite", "model_options": SMALL, "batch_size": 4, "patches_per_epoch": 16, "lr": 1e-3, "seed": 0,
            "device": "cpu", "patch": 32}
    opts.update(kw)
    return list(train(scenes, **opts))


def test_training_lowers_the_loss_on_a_real_scene(face_crop):
    """L1 on a real 64×64 region, simulated ×4, falls well below where training starts (bicubic)."""
    from napari_inf3.data.simulation import simulate
    from napari_inf3.models.infn import INFN

    region = np.ascontiguousarray(face_crop[:, 72:136, 72:136])
    lr, msi = simulate(region[None], 4)

    def l1(model):
        with torch.no_grad():
            out = model(torch.from_numpy(lr), torch.from_numpy(msi))
            return float((out - torch.from_numpy(region[None])).abs().mean())

    torch.manual_seed(0)
    before = l1(INFN(preset="lite", **SMALL))
    events = _run([region], epochs=12)
    after = l1(events[-1].extra["model"])
    assert events[-1].kind == "done" and events[-1].step == 48
    assert after < 0.85 * before, (before, after)


def test_epoch_order_deterministic():
    a = epoch_order(100, 40, seed=5, epoch=3)
    b = epoch_order(100, 40, seed=5, epoch=3)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], epoch_order(100, 40, seed=5, epoch=4)[0])


def test_patch_grid_covers_scene():
    g = patch_grid([(31, 512, 512)], 64, 34)
    # stride 34 as the paper (14 positions per axis, its 196 patches per scene), plus one row
    # and column flush with the far border so no pixel is left out
    assert len(g) == 15 * 15
    assert sorted(set(g[:, 1]))[:3] == [0, 34, 68]
    assert g[:, 1].max() == 448 and g[:, 2].max() == 448


def test_checkpoint_roundtrip_and_resume(tmp_path, face_crop):
    out = tmp_path / "m.pt"
    full = _run([face_crop], epochs=4, out=out, val_scenes=[face_crop[:, :64, :64]], val_crop=64)
    ckpt = read_checkpoint(out)
    assert ckpt["epoch"] == 4 and ckpt["meta"]["steps"] == 16
    assert len(ckpt["meta"]["history"]) == 4 and ckpt["meta"]["val_psnr"] is not None
    model = load_checkpoint(out)
    assert model.config["n_feats"] == 16

    # stop after epoch 2, resume to epoch 4: same losses as the uninterrupted run
    part = tmp_path / "part.pt"
    _run([face_crop], epochs=2, out=part)
    resumed = _run([face_crop], epochs=4, out=part, resume=part)
    full_losses = [e.loss for e in full if e.kind == "step"][8:]
    res_losses = [e.loss for e in resumed if e.kind == "step"]
    np.testing.assert_allclose(res_losses, full_losses, rtol=1e-4, atol=1e-6)
    m1 = load_checkpoint(out)
    m2 = load_checkpoint(part)
    for a, b in zip(m1.state_dict().values(), m2.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
