"""The ablation grid: the plan (cells, folds, recipe guard), resumable runs that equal uninterrupted ones,
and the report's statistics (paired differences, Student-t intervals, seeds needed)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from napari_inf3.data.cube import CubeError
from napari_inf3.evaluation.ablation_grid import GridCell, GridRecipe, plan_grid, run_grid, scene_name
from napari_inf3.evaluation.ablation_report import paired_differences, report_markdown, seeds_needed

TINY = GridRecipe(preset="lite", steps=2, epoch_steps=1, batch_size=2, patch=32, folds=2, test_also=("held",))


@pytest.fixture()
def scenes(tmp_path):
    """Five smooth random 31-band scenes (48²) as .npy files, one of them named 'held'."""
    rng = np.random.default_rng(0)
    folder = tmp_path / "data"
    folder.mkdir()
    for name in ("a", "b", "c", "d", "held"):
        base = rng.random((31, 1, 1)) * 0.5 + 0.1
        ramp = np.linspace(0, 0.3, 48, dtype=np.float32)[None, None, :] * rng.random((31, 1, 1))
        cube = (base + ramp + 0.02 * rng.random((31, 48, 48))).astype(np.float32)
        np.save(folder / f"{name}.npy", cube)
    return folder


def test_plan_orders_cells_seed_by_seed_and_splits_folds(scenes, tmp_path):
    plan = plan_grid(scenes, tmp_path / "g", TINY, variants=["full", "no_hr:cosine", "up_bicubic"],
                     schemes=["area", "cosine"], seeds=[0, 1], run_folds=[1])
    names = [c.name for c in plan.cells]
    assert names[:4] == ["full-area-s0-f1", "full-cosine-s0-f1", "no_hr-cosine-s0-f1", "up_bicubic-none-s0-f1"]
    assert len(names) == 8 and names[4].endswith("s1-f1")
    held_out = [plan.fold_split(f)[1] for f in range(2)]
    pool = {scene_name(p) for p in plan.scenes}
    assert pool == {"a", "b", "c", "d"}  # 'held' is never trained on
    assert {scene_name(p) for h in held_out for p in h} == pool and not set(held_out[0]) & set(held_out[1])
    assert GridCell.parse("no_hr-cosine-s2-f3") == GridCell("no_hr", "cosine", 2, 3)


def test_plan_rejects_unknowns_and_another_recipe(scenes, tmp_path):
    with pytest.raises(ValueError, match="unknown variant"):
        plan_grid(scenes, tmp_path / "g", TINY, variants=["no_decoder"])
    with pytest.raises(ValueError, match="unknown scheme"):
        plan_grid(scenes, tmp_path / "g", TINY, variants=["full:bilinear"])
    with pytest.raises(CubeError, match="no scene named"):
        plan_grid(scenes, tmp_path / "g", GridRecipe(folds=2, test_also=("superballs_ms",)))
    out = tmp_path / "g"
    out.mkdir()
    (out / "grid.json").write_text(json.dumps({"recipe": {**TINY.to_dict(), "steps": 4}, "scenes": ["a"]}))
    with pytest.raises(CubeError, match="steps: 4 there, 2 here"):
        plan_grid(scenes, out, TINY)


def _state(path):
    return torch.load(path, map_location="cpu", weights_only=False)["state_dict"]


def test_a_stopped_and_resumed_cell_equals_an_uninterrupted_one(scenes, tmp_path):
    """max_minutes=0 stops at the first checkpoint; the rerun resumes there and ends with the same weights
    (the patch order depends only on seed and epoch) and scores every test scene it never trained on."""
    kw = {"variants": ["no_rel:net"], "seeds": [3], "run_folds": [0]}
    whole = plan_grid(scenes, tmp_path / "whole", TINY, **kw)
    kinds = [e.kind for e in run_grid(whole)]
    assert kinds == ["start", "epoch", "epoch", "scored"]
    parts = plan_grid(scenes, tmp_path / "parts", TINY, **kw)
    assert [e.kind for e in run_grid(parts, max_minutes=0)] == ["start", "epoch", "stopped"]
    assert not (parts.cell_dir(parts.cells[0]) / "scores.json").exists()
    assert [e.kind for e in run_grid(parts)] == ["start", "epoch", "scored"]
    a, b = _state(whole.cell_dir(whole.cells[0]) / "model.pt"), _state(parts.cell_dir(parts.cells[0]) / "model.pt")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    rec = json.loads((parts.cell_dir(parts.cells[0]) / "scores.json").read_text())
    trained_on = set(torch.load(parts.cell_dir(parts.cells[0]) / "model.pt", weights_only=False)["meta"]["scenes"])
    assert set(rec["scores"]) == {*rec["held_out"], "held"} and not trained_on & set(rec["scores"])
    assert rec["variant_words"] == "no relative coordinate" and rec["steps"] == 2
    assert [e.kind for e in run_grid(parts)] == ["skip"]  # done: nothing to do
    assert {"bicubic", "projection"} <= set(json.loads((tmp_path / "parts" / "baselines.json").read_text())["held"])


def _rec(variant, scheme, seed, scores):
    return {"cell": GridCell(variant, scheme, seed, 0), "scores": {k: {"psnr": v} for k, v in scores.items()},
            "params": 1}


def test_paired_differences_use_student_t_over_seeds():
    recs = []
    for seed, d in enumerate([1.0, 2.0, 3.0]):
        recs.append(_rec("full", "cosine", seed, {"x": 40.0 + d, "y": 30.0 + d, "sb": 45.0}))
        recs.append(_rec("full", "area", seed, {"x": 40.0, "y": 30.0, "sb": 45.0 - d}))
    (row,) = paired_differences(recs, {"sb"}, {0}, pairs=[(("full", "cosine"), ("full", "area"))])
    held = row["held_out"]
    assert held["mean"] == pytest.approx(2.0) and held["std"] == pytest.approx(1.0) and held["n"] == 3
    half = 4.302652729911275 / math.sqrt(3)  # t(0.975, 2)
    assert held["ci"] == pytest.approx((2.0 - half, 2.0 + half))
    assert row["sb"]["mean"] == pytest.approx(2.0) and row["sb"]["positive"] == 3


def test_seeds_needed_grows_with_noise_and_shrinks_with_the_effect():
    assert seeds_needed(0.1, 1.0) == 2
    assert seeds_needed(0.1, 0.05) > seeds_needed(0.1, 0.1) > seeds_needed(0.05, 0.1)
    n = seeds_needed(0.2, 0.1)
    from scipy.stats import t

    assert t.ppf(0.975, n - 1) * 0.2 / math.sqrt(n) <= 0.1 < t.ppf(0.975, n - 2) * 0.2 / math.sqrt(n - 1)
    assert seeds_needed(float("nan"), 0.1) is None


def test_report_has_rows_pairs_and_claims(scenes, tmp_path):
    plan = plan_grid(scenes, tmp_path / "g", TINY, variants=["full:cosine", "no_hr:cosine"], seeds=[0, 1],
                     run_folds=[0])
    list(run_grid(plan))
    md, summary = report_markdown(plan.out)
    assert "| full / cosine | 236,767 | 2 |" in md
    assert "| full / cosine − no_hr / cosine |" in md
    assert "Table 2: HR injection" in md and "SRF projection of bicubic (no learning)" in md
    assert summary["rows"]["no_hr / cosine"]["seeds"] == [0, 1]
    json.dumps(summary, default=list)  # JSON-safe apart from NaN


def test_cli_grid_shares_cells_between_jobs_and_reports(scenes, tmp_path, capsys):
    from napari_inf3.cli.main import main

    out = tmp_path / "g"
    args = ["grid", str(scenes), "--out", str(out), "--variants", "full:cosine", "--seeds", "0", "1", "--folds", "2",
            "--run-folds", "0", "--test-also", "held", "--steps", "2", "--epoch-steps", "1", "--batch-size", "2",
            "--patch", "32"]
    assert main([*args, "--jobs", "2"]) == 0
    assert sorted(p.parent.name for p in out.glob("cells/*/scores.json")) == ["full-cosine-s0-f0", "full-cosine-s1-f0"]
    capsys.readouterr()
    assert main(["grid", "--out", str(out), "--report"]) == 0
    md = capsys.readouterr().out
    assert "| full / cosine | 236,767 | 2 |" in md and "bicubic interpolation (no learning)" in md
    assert main([*args, "--steps", "4"]) == 2  # another recipe in the same folder: refused, by name
    assert "steps: 2 there, 4 here" in capsys.readouterr().err
    assert main(["grid", "--list-variants"]) == 0
    assert "| up_pixelshuffle | upsampler='pixelshuffle' | 827,359 | 5,154,207 (5.154 M) | 5 (7.722 M) |" in (
        capsys.readouterr().out)


def test_every_claim_names_a_variant_and_scheme_the_grid_makes():
    from napari_inf3.evaluation.ablation_grid import NO_SCHEME, SCHEMES, VARIANTS
    from napari_inf3.evaluation.ablation_report import CLAIMS

    for a, b, _, what in CLAIMS:
        for variant, scheme in (a, b):
            assert variant in VARIANTS, what
            upsampler = "upsampler" in VARIANTS[variant]
            assert scheme == NO_SCHEME if upsampler else scheme in SCHEMES, what
