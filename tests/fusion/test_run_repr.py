"""A run or a fusion result shown in a notebook cell (or printed) is a summary, not pages of array digits."""

from __future__ import annotations

import numpy as np

from napari_inf3.fusion.run import FusionRun, MethodResult
from napari_inf3.fusion.types import FusionResult


def _run(scored: bool) -> FusionRun:
    rng = np.random.default_rng(0)
    cube = rng.random((31, 64, 64), dtype=np.float32)
    run = FusionRun(rng.random((31, 16, 16), dtype=np.float32), rng.random((3, 64, 64), dtype=np.float32), 4,
                    gt=cube, offset=2, notes=["cosine: trained with another response"])
    scores = {"psnr": 41.234, "sam": 2.0, "ergas": 1.0, "ssim": 0.99} if scored else {}
    run.add("bicubic", MethodResult(cube, scores=scores))
    run.add("cosine", MethodResult(cube, seconds=0.5, device="cpu", params=10, weights=np.ones((4, 64, 64)),
                                   scores=scores))
    return run


def test_run_repr_is_a_summary():
    text = repr(_run(True))
    assert len(text) < 600 and "[[" not in text and "array(" not in text
    assert text.splitlines()[0].startswith("FusionRun: simulated ×4 (LR pixel at index 2")
    assert "31 × 16 × 16" in text and "  cosine: PSNR 41.23 dB, 0.50 s on cpu" in text
    assert "note: cosine: trained with another response" in text
    assert "array(" not in repr(_run(True).results["cosine"])  # a MethodResult leaves its arrays out too


def test_run_html_is_the_metrics_table_once_scored():
    assert _run(True)._repr_html_().startswith("<table>") and "41.234" in _run(True)._repr_html_()
    assert _run(False)._repr_html_().startswith("<pre>FusionRun: ")  # nothing to tabulate yet
    assert "cosine: not scored" in repr(_run(False))


def test_fusion_result_repr_names_shapes():
    r = FusionResult(np.zeros((31, 8, 8), np.float32), weights=np.zeros((4, 8, 8)), seconds=1.234, model="cosine",
                     notes=("a",))
    assert repr(r) == ("FusionResult(cube (31, 8, 8) float32, model 'cosine', 1.23 s on cpu, weights (4, 8, 8), "
                       "1 note)")
