"""Neighbour weights out of fuse() and the maps that compare weighting schemes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from napari_inf3.viz.compare import (
    LN4,
    NEIGHBOURS,
    mean_abs_difference,
    sam_between,
    top_disagreements,
    weight_entropy,
    winning_neighbour,
)


def _cube_and_weights(result):
    return result.cube, result.weights


def test_entropy_and_winner_bounds():
    w = np.zeros((4, 2, 3), np.float32)
    w[2] = 1.0  # one neighbour takes all
    w[:, 1, :] = 0.25  # row 1: all equal
    ent = weight_entropy(w)
    np.testing.assert_allclose(ent[0], 0.0, atol=1e-7)
    np.testing.assert_allclose(ent[1], LN4, rtol=1e-6)
    assert math.isclose(LN4, math.log(4))
    assert winning_neighbour(w)[0].tolist() == [2, 2, 2] and NEIGHBOURS[2] == "SW"
    with pytest.raises(ValueError, match=r"\(4, H, W\)"):
        weight_entropy(np.ones((3, 2, 2)))


def test_pairwise_maps_and_top_disagreements_skip_dark_pixels_and_borders(rng):
    h = w = 40
    a = np.full((31, h, w), 0.5, np.float32)
    b = a.copy()
    b[:5, 20, 30] = 0.9  # a bright interior pixel where the two differ
    b[:5, 12, 10] = 0.8  # a second one, far from the first
    b[:5, 21, 31] = 0.85  # next to the first: must not be picked as well (spacing)
    a[:, 2, 2] = b[:, 2, 2] = 1e-4  # a dark pixel on the border ...
    b[:3, 2, 2] = 5e-4  # ... with a huge angle, which must not win
    a[:, 30, 5] = b[:, 30, 5] = 1e-4  # and an interior dark one
    b[:3, 30, 5] = 5e-4
    assert sam_between(a, b)[2, 2] > sam_between(a, b)[20, 30] > 5  # the dark pixel has the larger angle
    assert mean_abs_difference(a, b)[20, 30] == pytest.approx(5 * 0.4 / 31)
    picks, criterion = top_disagreements({"area": a, "cosine": b}, k=3, min_distance=4)
    where = [(p.row, p.col) for p in picks]
    assert where[:2] == [(20, 30), (12, 10)] or where[:2] == [(12, 10), (20, 30)]
    assert (21, 31) not in where and (2, 2) not in where and (30, 5) not in where
    assert picks[0].score >= picks[1].score and ("area", "cosine") in picks[0].pair_sam
    assert "quantile" in criterion and "border" in criterion
    with pytest.raises(ValueError, match="two or more"):
        top_disagreements({"area": a})


@pytest.mark.parametrize("weighting", ["area", "net", "cosine"])
def test_fuse_returns_weights_tiled_equal_untiled(rng, weighting):
    import torch

    from napari_inf3 import fuse, simulate
    from napari_inf3.data.simulation import load_srf
    from napari_inf3.models.infn import INFN

    gt = np.clip(0.4 + 0.1 * rng.standard_normal((31, 48, 40)), 0, 1).astype(np.float32)
    lr, msi = simulate(gt, 4)
    torch.manual_seed(0)
    m = INFN(weighting=weighting, preset="lite", n_feats=8, n_resblocks=1, mlp_hidden=[16], out_dim=8,
             consistency="srf", srf=load_srf()).eval()
    fused0, w0 = _cube_and_weights(fuse(m, lr, msi, "cpu", tile="off", weights=True))
    fused1, w1 = _cube_and_weights(fuse(m, lr, msi, "cpu", tile=5, weights=True))
    assert w0.shape == (4, 48, 40) and w0.dtype == np.float32
    np.testing.assert_allclose(w0.sum(axis=0), 1.0, atol=1e-5)
    np.testing.assert_allclose(w1, w0, atol=1e-5)
    np.testing.assert_allclose(fused1, fused0, atol=1e-5)
    np.testing.assert_array_equal(fuse(m, lr, msi, "cpu", tile="off").cube, fused0)  # weights change nothing else
    if weighting == "area":  # LIIF: bilinear weights; in the interior each is the opposite rectangle's area
        y, x = 21, 18  # HR pixel; its centre lies (y + 0.5) / 4 − 0.5 LR pixels down the LR grid
        fy, fx = (y + 0.5) / 4 - 0.5, (x + 0.5) / 4 - 0.5
        dy, dx = fy - math.floor(fy), fx - math.floor(fx)
        expect = [(1 - dy) * (1 - dx), (1 - dy) * dx, dy * (1 - dx), dy * dx]  # NW, NE, SW, SE
        np.testing.assert_allclose(w0[:, y, x], expect, atol=1e-5)
    out = np.zeros((4, 48, 40), np.float32)
    _, w2 = _cube_and_weights(fuse(m, lr, msi, "cpu", tile=7, weights=True, weights_out=out))
    assert w2 is out and np.allclose(out, w0, atol=1e-5)


def test_cli_weights_out(tmp_path, tiny_model, capsys):
    from napari_inf3 import read_cube, save_checkpoint
    from napari_inf3.cli.main import main
    from napari_inf3.data.sample import sample_path

    ck = save_checkpoint(tiny_model, tmp_path / "t.pt")
    rc = main(["fuse", "--gt", str(sample_path()), "--model", str(ck), "--out", str(tmp_path / "f.npz"),
               "--weights-out", str(tmp_path / "w.npz"), "--device", "cpu"])
    assert rc == 0 and "neighbour weights" in capsys.readouterr().out
    w = read_cube(tmp_path / "w.npz")
    assert w.data.shape == (4, 192, 192) and w.meta["neighbours"] == "NW,NE,SW,SE"
    np.testing.assert_allclose(w.data.sum(axis=0), 1.0, atol=1e-5)
    rc = main(["fuse", "--gt", str(sample_path()), "--model", str(ck), "--out", str(tmp_path / "g.npz"),
               "--weights-out", str(tmp_path / "w.npz"), "--device", "cpu"])
    assert rc == 2  # the weights file exists: not overwritten without --overwrite


def test_neighbour_positions_follow_the_engine_and_the_winner():
    """The markers sit where the engine takes the neighbours from: torch's axis_neighbours, and on a
    synthetic cube built so one LR pixel must win, the argmax of the area weights points at it."""
    import torch

    from napari_inf3.models.infn.fusion import SHIFTS, axis_neighbours
    from napari_inf3.viz.compare import neighbour_positions

    h, w, r = 6, 7, 4
    for row, col in [(0, 0), (9, 14), (23, 27), (13, 2)]:
        pos = neighbour_positions(row, col, r, (h, w))
        for k, (dy, dx) in enumerate(SHIFTS):
            iy = int(axis_neighbours(h, h * r, dy).index[row])
            ix = int(axis_neighbours(w, w * r, dx).index[col])
            assert tuple(pos[k]) == ((iy + 0.5) * r - 0.5, (ix + 0.5) * r - 0.5)
    # HR pixel (9, 14) lies in LR pixel (2, 3) near its NW corner: with area weights the nearest LR centre wins
    from napari_inf3.models.infn.fusion import INF3

    f = INF3(2, 2, [4], 2, "area")
    with torch.no_grad():
        _, wts = f(torch.zeros(1, 2, h, w), torch.zeros(1, 2, h, w), torch.zeros(1, 2, h * r, w * r),
                   return_weights=True)
    pos = neighbour_positions(9, 14, r, (h, w))
    win = int(wts[0, :, 9, 14].argmax())
    nearest = int(np.argmin(((pos - np.array([9, 14])) ** 2).sum(axis=1)))
    assert win == nearest
