"""INFN: parameter count, shapes for any size and scale, the three weightings."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from napari_inf3.models.infn import INFN
from napari_inf3.models.infn.fusion import axis_neighbours, make_coord
from napari_inf3.models.infn.weighting import area_weights

PAPER_PARAMS = 2.902e6


@pytest.mark.parametrize("weighting", ["area", "net", "cosine"])
def test_paper_parameter_count_within_5_percent(weighting):
    n = INFN(weighting=weighting, preset="paper").num_parameters()
    assert abs(n - PAPER_PARAMS) / PAPER_PARAMS < 0.05, n


def test_exact_counts_documented():
    assert INFN(weighting="cosine", preset="paper").num_parameters() == 2_793_375
    assert INFN(weighting="net", preset="paper").num_parameters() == 2_793_375 + 257  # one extra logit


def test_cosine_and_area_are_parameter_free():
    base = INFN(weighting="area", preset="lite")
    cos = INFN(weighting="cosine", preset="lite")
    assert [p.shape for p in base.parameters()] == [p.shape for p in cos.parameters()]


def test_coordinates_eq2():
    c = make_coord(4)
    np.testing.assert_allclose(c.numpy(), [-0.75, -0.25, 0.25, 0.75])


@pytest.mark.parametrize("weighting", ["area", "net", "cosine", "cosine_norm"])
@pytest.mark.parametrize("lr_size,hr_size", [((8, 10), (32, 40)), ((7, 5), (21, 15)), ((6, 6), (15, 15))])
def test_forward_shapes_and_weights_sum_to_one(weighting, lr_size, hr_size):
    torch.manual_seed(0)
    m = INFN(weighting=weighting, preset="lite", n_resblocks=1).eval()
    x = torch.rand(2, 31, *lr_size)
    y = torch.rand(2, 3, *hr_size)
    with torch.no_grad():
        out, w = m(x, y, return_weights=True)
    assert out.shape == (2, 31, *hr_size)
    assert w.shape == (2, 4, *hr_size)
    torch.testing.assert_close(w.sum(dim=1), torch.ones(2, *hr_size))
    assert (w >= 0).all()


def test_untrained_model_starts_as_bicubic():
    m = INFN(preset="lite", n_resblocks=1).eval()
    x, y = torch.rand(1, 31, 8, 8), torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(m(x, y), F.interpolate(x, size=(32, 32), mode="bicubic", align_corners=False))


def test_area_weights_equal_bilinear_in_interior():
    """Area weights applied to an LR image = bilinear interpolation (align_corners=False) away from the border."""
    h, w, r = 6, 7, 4
    H, W = h * r, w * r
    img = torch.rand(1, 1, h, w, dtype=torch.float64)
    rows = {s: axis_neighbours(h, H, s) for s in (-1, 1)}
    cols = {s: axis_neighbours(w, W, s) for s in (-1, 1)}
    rels, vals = [], []
    for dy, dx in ((-1, -1), (-1, 1), (1, -1), (1, 1)):
        ry, rx = rows[dy], cols[dx]
        rels.append(torch.stack([ry.rel[:, None].expand(H, W), rx.rel[None, :].expand(H, W)])[None])
        vals.append(img[0, 0][ry.index][:, rx.index])
    wts = area_weights(rels)[0]
    interp = sum(wts[i] * vals[i] for i in range(4))
    ref = F.interpolate(img, size=(H, W), mode="bilinear", align_corners=False)[0, 0]
    inner = (slice(r // 2, H - r // 2), slice(r // 2, W - r // 2))
    torch.testing.assert_close(interp[inner], ref[inner], atol=1e-6, rtol=0)


def test_neighbours_are_the_2x2_nearest_lr_pixels():
    h, H = 5, 20
    lo, hi = axis_neighbours(h, H, -1), axis_neighbours(h, H, 1)
    centre_lr = make_coord(h).numpy()
    c = make_coord(H).numpy()
    for i in range(2, H - 2):
        a, b = int(lo.index[i]), int(hi.index[i])
        assert b == a + 1
        assert centre_lr[a] <= c[i] <= centre_lr[b]
    near = axis_neighbours(h, H, 0).index.numpy()
    np.testing.assert_array_equal(near, np.arange(H) // 4)


def test_cosine_weights_follow_paper_formula():
    """logit = ‖a‖‖b‖cos(a, b) = a·b between F¹ at q̂ and at each neighbour; softmax over 4."""
    from napari_inf3.models.infn.weighting import cosine_weights

    torch.manual_seed(1)
    f = [torch.randn(1, 6, 3, 3) for _ in range(4)]
    hat = f[0]
    w = cosine_weights(f, hat)
    a = hat[0, :, 1, 2]
    logits = torch.stack([torch.linalg.norm(a) * torch.linalg.norm(fi[0, :, 1, 2]) *
                          F.cosine_similarity(a, fi[0, :, 1, 2], dim=0) for fi in f])
    torch.testing.assert_close(w[0, :, 1, 2], torch.softmax(logits, 0), atol=1e-6, rtol=1e-5)


def test_net_weights_come_from_the_mlp():
    torch.manual_seed(0)
    m = INFN(weighting="net", preset="lite", n_resblocks=1).eval()
    x, y = torch.rand(1, 31, 6, 6), torch.rand(1, 3, 24, 24)
    with torch.no_grad():
        _, w1 = m(x, y, return_weights=True)
        m.inf3.mlp.layers[-1].bias[-1] += 5.0  # the logit channel: same shift for all 4 → same weights
        _, w2 = m(x, y, return_weights=True)
        m.inf3.mlp.layers[-1].weight[-1].mul_(3.0)
        _, w3 = m(x, y, return_weights=True)
    torch.testing.assert_close(w1, w2, atol=1e-6, rtol=0)
    assert not torch.allclose(w1, w3)


def test_bad_inputs_are_named():
    m = INFN(preset="lite", n_resblocks=1)
    with pytest.raises(ValueError, match="31-band"):
        m(torch.rand(1, 30, 4, 4), torch.rand(1, 3, 16, 16))
    with pytest.raises(ValueError, match="3-band"):
        m(torch.rand(1, 31, 4, 4), torch.rand(1, 4, 16, 16))


@pytest.mark.parametrize("weighting", ["area", "net", "cosine", "cosine_norm"])
def test_split_first_layer_equals_straightforward(weighting):
    """The optimised INF3 (first MLP layer split into LR, HR and coordinate parts) = the formulas as written."""
    torch.manual_seed(5)
    m = INFN(weighting=weighting, preset="lite", n_resblocks=1).eval()
    x, y = torch.rand(2, 31, 9, 7), torch.rand(2, 3, 36, 28)
    with torch.no_grad():
        _, s_pe, s_pa_d, s_pa = m.encode(x, y)
        fast, wf = m.inf3(s_pe, s_pa_d, s_pa, return_weights=True)
        slow, ws = m.inf3(s_pe, s_pa_d, s_pa, return_weights=True, straightforward=True)
    torch.testing.assert_close(fast, slow, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(wf, ws, atol=1e-5, rtol=1e-5)
    assert (fast - slow).abs().max() < 1e-4


@pytest.mark.parametrize("weighting", ["area", "net", "cosine", "cosine_norm"])
def test_training_path_equals_straightforward_with_gradients(weighting):
    """The autograd path (one batched MLP, LR-grid cosine logits) = the formulas as written: E, the
    weights and every gradient (MLP weights and the three feature maps), at an odd size with edges."""
    torch.manual_seed(7)
    m = INFN(weighting=weighting, preset="lite", n_resblocks=1).double()
    x, y = torch.rand(2, 31, 7, 5, dtype=torch.float64), torch.rand(2, 3, 28, 20, dtype=torch.float64)
    with torch.no_grad():
        _, s_pe, s_pa_d, s_pa = m.encode(x, y)
    results = []
    for straight in (False, True):
        m.zero_grad()
        ins = [t.detach().clone().requires_grad_(True) for t in (s_pe, s_pa_d, s_pa)]
        e, wts = m.inf3(*ins, return_weights=True, straightforward=straight)
        (e.square().mean() + (wts * torch.arange(4.0, dtype=wts.dtype)[:, None, None]).mean()).backward()
        grads = [p.grad.clone() for p in m.inf3.parameters()] + [t.grad for t in ins]
        results.append((e.detach(), wts.detach(), grads))
    torch.testing.assert_close(results[0][0], results[1][0], atol=1e-10, rtol=1e-9)
    torch.testing.assert_close(results[0][1], results[1][1], atol=1e-10, rtol=1e-9)
    for g_fast, g_slow in zip(results[0][2], results[1][2], strict=True):
        torch.testing.assert_close(g_fast, g_slow, atol=1e-10, rtol=1e-8)


def test_split_first_layer_gradients_match():
    torch.manual_seed(6)
    m = INFN(weighting="net", preset="lite", n_resblocks=1)
    x, y = torch.rand(1, 31, 6, 6), torch.rand(1, 3, 24, 24)
    _, s_pe, s_pa_d, s_pa = m.encode(x, y)
    g = []
    for straight in (False, True):
        m.zero_grad()
        m.inf3(s_pe.detach(), s_pa_d.detach(), s_pa.detach(), straightforward=straight).square().mean().backward()
        g.append(m.inf3.mlp.layers[0].weight.grad.clone())
    torch.testing.assert_close(g[0], g[1], atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("weighting,options", [("area", {}), ("net", {}),
                                               ("area", {"hr_injection": False, "rel_coord": False}),
                                               ("net", {"lr_injection": False}),
                                               ("area", {"upsampler": "pixelshuffle"})])
def test_straightforward_flop_count_matches_torch_counter(weighting, options):
    """bench/fuse.py's analytic FLOPs = what torch counts for the formulas as written (convs + matmuls),
    also for the ablation variants (tests/models/test_ablation_switches.py)."""
    from torch.utils.flop_counter import FlopCounterMode

    from napari_inf3.models.infn.flops import straightforward_flops

    m = INFN(weighting=weighting, preset="lite", **options).eval()
    x, y = torch.rand(1, 31, 8, 8), torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        _, s_pe, s_pa_d, s_pa = m.encode(x, y)
        with FlopCounterMode(display=False) as counter:
            m.spectral(x)
            m.spatial(torch.rand(1, 34, 32, 32))
            e = m.inf3(s_pe, s_pa_d, s_pa, **({"straightforward": True} if m.has_weights else {}))
            m.decoder(e)
    counted = counter.get_total_flops() / (32 * 32)
    assert straightforward_flops(m.config, 4)["total"] == pytest.approx(counted, rel=0.01)


def test_srf_projection_makes_the_output_agree_with_the_msi():
    """consistency='srf': X̃ + P⁺(Y − P X̃) reproduces the HR-MSI through P exactly, trained or not."""
    from napari_inf3.data.simulation import load_srf

    p = load_srf("nikon_d700", bands=31)
    torch.manual_seed(2)
    m = INFN(preset="lite", n_resblocks=1, consistency="srf", srf=p).eval()
    x, y = torch.rand(1, 31, 6, 5), torch.rand(1, 3, 24, 20)
    with torch.no_grad():
        out = m(x, y)
        x_up = F.interpolate(x, size=(24, 20), mode="bicubic", align_corners=False)
    pt = torch.as_tensor(p, dtype=torch.float32)
    torch.testing.assert_close(torch.einsum("sb,nbhw->nshw", pt, out), y, atol=1e-5, rtol=1e-5)
    # and it moved X^U only along P⁺'s 3 directions: the part of X^U that P cannot see is kept
    null = torch.eye(31) - torch.linalg.pinv(pt) @ pt
    torch.testing.assert_close(torch.einsum("ab,nbhw->nahw", null, out), torch.einsum("ab,nbhw->nahw", null, x_up),
                               atol=1e-5, rtol=1e-5)
    # a trained decoder adds only what P cannot see: the projection removes the rest
    torch.nn.init.normal_(m.decoder[-1].weight, std=0.05)
    with torch.no_grad():
        out2 = m(x, y)
    torch.testing.assert_close(torch.einsum("sb,nbhw->nshw", pt, out2), y, atol=1e-5, rtol=1e-5)
    assert (out2 - out).abs().max() > 1e-3
    with pytest.raises(ValueError, match="SRF is"):
        INFN(preset="lite", consistency="srf", srf=np.ones((3, 30)))
    with pytest.raises(ValueError, match="unknown consistency"):
        INFN(preset="lite", consistency="guided")
