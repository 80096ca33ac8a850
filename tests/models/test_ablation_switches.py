"""The paper's ablations as INFN constructor switches (Tables 2, 3 and 5): what each one removes,
that the fast paths still equal the formulas, that checkpoints rebuild the variant, and that fusion
and tiling work for each."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from napari_inf3.models.infn import INFN
from napari_inf3.models.infn.infn import build_model

SWITCHES = [
    {"hr_injection": False},
    {"lr_injection": False},
    {"rel_coord": False},
    {"hr_injection": False, "lr_injection": False, "rel_coord": False},
]
UPSAMPLERS = ["bilinear", "bicubic", "pixelshuffle"]


def _live(m: INFN) -> INFN:
    """The decoder's last conv starts at zero (output = X^U); make the output depend on E."""
    torch.manual_seed(1)
    torch.nn.init.normal_(m.decoder[-1].weight, std=0.05)
    return m


def _inputs(n: int = 2, h: int = 6, r: int = 4):
    g = torch.Generator().manual_seed(0)
    return torch.rand(n, 31, h, h, generator=g), torch.rand(n, 3, h * r, h * r, generator=g)


@pytest.mark.parametrize("switch", SWITCHES)
def test_each_switch_removes_its_mlp_inputs_only(switch):
    full = INFN(preset="lite", weighting="cosine")
    m = INFN(preset="lite", weighting="cosine", **switch)
    d2, hidden = full.config["n_feats"], full.config["mlp_hidden"][0]
    removed = (d2 if not switch.get("hr_injection", True) else 0) + (d2 if not switch.get("lr_injection", True) else 0)
    removed += 2 if not switch.get("rel_coord", True) else 0
    assert m.inf3.in_dim == full.inf3.in_dim - removed
    assert full.num_parameters() - m.num_parameters() == removed * hidden  # the first layer's columns, nothing else
    for key, value in switch.items():
        assert m.config[key] is value


@pytest.mark.parametrize("weighting", ["area", "net", "cosine"])
@pytest.mark.parametrize("switch", SWITCHES)
def test_fast_paths_equal_the_formulas_for_each_switch(weighting, switch):
    """Inference (chunked, last layer after the sum) and training (split first layer) paths vs eq. 10–17 as
    written, with the switch's inputs left out of F³."""
    m = _live(INFN(preset="lite", weighting=weighting, **switch))
    x, y = _inputs()
    with torch.no_grad():
        _, s_pe, s_pa_d, s_pa = m.encode(x, y)
        ref, w_ref = m.inf3(s_pe, s_pa_d, s_pa, return_weights=True, straightforward=True)
        fast, w_fast = m.inf3(s_pe, s_pa_d, s_pa, return_weights=True)
    with torch.enable_grad():
        train = m.inf3(s_pe, s_pa_d, s_pa)
    torch.testing.assert_close(fast, ref, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(train.detach(), ref, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(w_fast, w_ref, atol=1e-6, rtol=1e-5)


def test_without_hr_injection_the_output_ignores_hr_detail_within_a_block():
    """Table 2's first row: with no S_pa(C_q), HR-MSI detail reaches E only through its r×r block means
    (S_pa^D). Two HR-MSIs with the same block means then give the same E; with the injection they do not."""
    x, y = _inputs(n=1)
    r = 4
    # a zero-mean pattern inside every 4×4 block: the block means do not change ...
    pattern = torch.tensor([[1.0, -1.0, 1.0, -1.0]] * 2 + [[-1.0, 1.0, -1.0, 1.0]] * 2).repeat(6, 6)
    y2 = y + 0.01 * pattern
    for hr, differs in ((False, False), (True, True)):
        m = _live(INFN(preset="lite", weighting="area", hr_injection=hr))
        with torch.no_grad():
            feats = []
            for msi in (y, y2):
                _, s_pe, _, s_pa = m.encode(x, msi)
                # ... but S_pa^D is the block mean of S_pa, which is not linear in Y: feed the same S_pa^D
                s_pa_d = torch.nn.functional.avg_pool2d(m.encode(x, y)[3], r)
                feats.append(m.inf3(s_pe, s_pa_d, s_pa))
        assert (not torch.allclose(feats[0], feats[1], atol=1e-7)) is differs


def test_without_rel_coord_the_mlp_cannot_tell_positions_inside_an_lr_pixel():
    """Table 3: with δc removed and nothing varying at HR (no HR injection), 'cosine' (weights from LR
    features only) gives one E for all HR pixels that share their four neighbours; δc separates them."""
    m = _live(INFN(preset="lite", weighting="cosine", rel_coord=False, hr_injection=False))
    x, y = _inputs(n=1)
    with torch.no_grad():
        _, s_pe, s_pa_d, s_pa = m.encode(x, y)
        e = m.inf3(s_pe, s_pa_d, torch.zeros_like(s_pa))
    # one quadrant of an LR pixel (HR rows/cols 0–1 of the 4×4 block) shares its four neighbours
    inner = e[0, :, 4:6, 4:6]
    torch.testing.assert_close(inner, inner[:, :1, :1].expand_as(inner))
    with_coord = _live(INFN(preset="lite", weighting="cosine", hr_injection=False))
    with torch.no_grad():
        e = with_coord.inf3(s_pe, s_pa_d, torch.zeros_like(s_pa))
    assert not torch.allclose(e[0, :, 4, 4], e[0, :, 5, 5])  # δc tells them apart


@pytest.mark.parametrize("upsampler", UPSAMPLERS)
def test_upsampler_variants_fuse_and_train(upsampler):
    m = _live(INFN(preset="lite", upsampler=upsampler))
    x, y = _inputs()
    out = m(x, y)
    assert out.shape == (2, 31, 24, 24)
    out.mean().backward()
    assert all(p.grad is not None for p in m.inf3.parameters())
    assert not m.has_weights
    with pytest.raises(ValueError, match="no neighbour weights"):
        m(x, y, return_weights=True)


def test_upsampler_parameters_against_the_paper_table5():
    """Bilinear / bicubic: INF³'s MLP without δc's two inputs; pixel shuffle adds one conv3×3 to (D1+D2)·r²
    channels. (Paper, Table 5: 3.003 M / 3.003 M / 7.722 M against INF³'s 2.902 M; docs/REPRODUCTION.md.)"""
    full = INFN(preset="paper").num_parameters()
    hidden = 256
    assert INFN(preset="paper", upsampler="bilinear").num_parameters() == full - 2 * hidden
    assert INFN(preset="paper", upsampler="bicubic").num_parameters() == full - 2 * hidden
    d12 = 128
    conv = 9 * d12 * d12 * 16 + d12 * 16
    assert INFN(preset="paper", upsampler="pixelshuffle").num_parameters() == full - 2 * hidden + conv


def test_pixelshuffle_has_a_fixed_ratio():
    m = INFN(preset="lite", upsampler="pixelshuffle", upsampler_scale=4)
    x, _ = _inputs()
    with pytest.raises(ValueError, match="×4"):
        m(x, torch.rand(2, 3, 12, 12))
    with pytest.raises(ValueError, match="unknown upsampler"):
        INFN(preset="lite", upsampler="nearest")
    with pytest.raises(ValueError, match="rel_coord"):
        INFN(preset="lite", upsampler="bicubic", rel_coord=False)


@pytest.mark.parametrize("options", [*SWITCHES, {"upsampler": "pixelshuffle"}, {"upsampler": "bicubic"}])
def test_checkpoint_rebuilds_the_variant(tmp_path, options):
    from napari_inf3.models.checkpoint import load_checkpoint, save_checkpoint

    m = _live(INFN(preset="lite", weighting="net", **options))
    save_checkpoint(m, tmp_path / "v.pt")
    back = load_checkpoint(tmp_path / "v.pt", device="cpu")
    assert back.config == m.config
    assert back.variant() == m.variant() != "full"
    x, y = _inputs()
    with torch.no_grad():
        torch.testing.assert_close(back(x, y), m.eval()(x, y))


def test_old_configs_rebuild_the_full_network():
    """A checkpoint written before the switches existed has none of their keys: it is the full INF³."""
    cfg = dict(INFN(preset="lite").config)
    for key in ("hr_injection", "lr_injection", "rel_coord", "upsampler", "upsampler_scale"):
        cfg.pop(key)
    m = build_model(cfg)
    assert m.variant() == "full" and m.has_weights


@pytest.mark.parametrize("options", [{"upsampler": "bicubic"}, {"upsampler": "pixelshuffle"},
                                     {"hr_injection": False, "rel_coord": False}])
def test_tiled_fusion_equals_untiled_for_variants(options):
    from napari_inf3 import fuse

    rng = np.random.default_rng(0)
    lr, msi = rng.random((31, 30, 30), dtype=np.float32), rng.random((3, 120, 120), dtype=np.float32)
    m = _live(INFN(preset="lite", **options))
    whole = fuse(m, lr, msi, "cpu", tile="off").cube
    tiled = fuse(m, lr, msi, "cpu", tile=11).cube
    np.testing.assert_allclose(tiled, whole, atol=2e-6)


def test_fuse_asks_for_weights_of_a_variant_without_them():
    from napari_inf3 import fuse

    rng = np.random.default_rng(0)
    lr, msi = rng.random((31, 8, 8), dtype=np.float32), rng.random((3, 32, 32), dtype=np.float32)
    with pytest.raises(ValueError, match="bilinear upsampler.*no neighbour weights"):
        fuse(INFN(preset="lite", upsampler="bilinear"), lr, msi, "cpu", weights=True)
