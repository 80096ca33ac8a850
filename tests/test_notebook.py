"""The notebook half: figures that show themselves inline, the metrics table, the clickable explorer."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from napari_inf3 import notebook as nb
from napari_inf3.viz.figures import RunFigure

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def run():
    return nb.fuse_sample(progress=False)


def test_fuse_sample_runs_the_three_shipped_checkpoints_and_their_ensemble(run):
    assert list(run.fused) == ["bicubic", "area", "net", "cosine", "ensemble"]
    assert all(run.scores[m]["psnr"] > run.scores["bicubic"]["psnr"] + 10 for m in ("area", "net", "cosine"))
    assert run.scores["ensemble"]["psnr"] > max(run.scores[m]["psnr"] for m in ("area", "net", "cosine"))
    assert run.members["ensemble"] == ["area", "net", "cosine"] and "ensemble" in run.expected_error


def test_expected_error_beside_the_true_one(run):
    fig = nb.expected_error(run)
    images = [ax for ax in fig.axes if ax.get_images()]
    assert len(images) == 2 and len({ax.get_images()[0].get_clim() for ax in images}) == 1  # one scale
    assert "Spearman" in images[1].get_title()


@pytest.mark.parametrize("draw", [nb.overview, nb.composites, nb.errors, nb.spectra])
def test_each_view_is_an_inline_figure(run, draw):
    fig = draw(run)
    assert isinstance(fig, RunFigure) and fig.axes
    assert fig._repr_png_().startswith(PNG)  # what Jupyter shows without plt.show()


def test_overview_is_the_demo_layout(run):
    fig = nb.overview(run)
    images = [ax for ax in fig.axes if ax.get_images()]
    assert len(images) == (len(run.fused) + 1) + len(run.fused)  # GT + 4 composites, 4 error maps
    titles = [ax.get_title() for ax in fig.axes]
    assert any(t.startswith("cosine\n") and "dB" in t for t in titles)


def test_error_maps_share_one_scale(run):
    fig = nb.errors(run)
    clims = {tuple(ax.get_images()[0].get_clim()) for ax in fig.axes[: len(run.fused)] if ax.get_images()}
    assert len(clims) == 1


def test_spectra_has_the_fig7_zoom_and_sam_labels(run):
    fig = nb.spectra(run, 115, 75)
    main, zoom = fig.axes[:2]
    labels = [t.get_text() for t in main.get_legend().get_texts()]
    assert labels[0] == "GT" and all("SAM" in t for t in labels[1:])
    assert zoom.get_title() == "bands 18–22"


def test_metrics_table_is_html_in_jupyter_and_text_elsewhere(run):
    table = nb.metrics_table(run)
    html = table._repr_html_()
    assert html.startswith("<table>") and html.count("<tr>") == len(run.scores) + 1 and "PSNR (dB)" in html
    text = str(table)
    assert text.splitlines()[0].split()[:2] == ["method", "PSNR"] and len(text.splitlines()) == len(run.scores) + 2


def test_explorer_clicks_pins_and_averages(run):
    ex = nb.explore(run, 20, 30)
    assert not ex.interactive and "%matplotlib widget" in ex.message  # Agg here: a static figure, and how to click
    assert ex.pixels == [(20, 30)]
    ex.on_click(SimpleNamespace(inaxes=ex.image_ax, button=1, xdata=60.2, ydata=40.7))
    assert ex.pixels == [(41, 60)]
    ex.on_click(SimpleNamespace(inaxes=None, button=1, xdata=1, ydata=1))  # outside the picture: nothing
    assert ex.pixels == [(41, 60)]
    ex.pin = True
    ex.click(100, 100)
    assert ex.pixels == [(41, 60), (100, 100)]
    spectra_ax = ex.spectra_fig.axes[0]
    assert len(spectra_ax.get_lines()) == 2 * (len(run.fused) + 1)
    ex.box = 5
    ex.redraw()
    one = ex.spectra_fig.axes[0].get_lines()[0].get_ydata()
    from napari_inf3.viz.spectra import pixel_spectrum

    np.testing.assert_allclose(one, pixel_spectrum(run.gt, 41, 60, 5), rtol=1e-6)
    assert ex.click(10_000, 5) is None


def test_train_with_progress_returns_the_model_and_events(tmp_path):
    from napari_inf3.data.sample import sample_path

    model, events = nb.train_with_progress([sample_path()], preset="lite", epochs=1, patches_per_epoch=4,
                                           batch_size=2, out=tmp_path / "m.pt")
    assert events[-1].kind == "done" and sum(e.kind == "step" for e in events) == 2
    assert model.num_parameters() > 0


def test_explorer_clicks_through_ipympl():
    """With ipympl (what `%matplotlib widget` selects) a real canvas click plots that pixel."""
    import os
    import subprocess
    import sys

    pytest.importorskip("ipympl")
    code = (
        "from napari_inf3 import notebook as nb\n"
        "from matplotlib.backend_bases import MouseEvent\n"
        "run = nb.fuse_sample({'cosine': 'cosine'}, progress=False)\n"
        "ex = nb.explore(run, 10, 10)\n"
        "assert ex.interactive and ex.message is None\n"
        "x, y = ex.image_ax.transData.transform((50, 60))\n"
        "ex.figure.canvas.callbacks.process('button_press_event',\n"
        "    MouseEvent('button_press_event', ex.figure.canvas, x, y, button=1))\n"
        "assert ex.pixels == [(60, 50)], ex.pixels\n"
        "ctl = ex.controls(); ctl.children[1].value = True; ctl.children[0].value = 5\n"
        "assert ex.pin and ex.box == 5\n"
        "print('ok')\n"
    )
    env = {**os.environ, "MPLBACKEND": "module://ipympl.backend_nbagg"}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and res.stdout.strip().endswith("ok"), res.stderr[-3000:]


def test_models_may_be_a_list_of_names(tmp_path):
    """``fuse_sample(["projection", "cosine"])`` (what a notebook user types) names each model;
    it used to fail inside dict() with a message about sequence lengths."""
    from pathlib import Path

    from napari_inf3.fusion.pipeline import named_models

    assert named_models(["projection", "paper:cosine", Path("runs/my_net.pt"), "x/cosine.pt", "cosine"]) == {
        "projection": "projection", "paper:cosine": "paper:cosine", "my_net": Path("runs/my_net.pt"),
        "cosine": "x/cosine.pt", "cosine (2)": "cosine"}
    assert named_models("cosine") == {"cosine": "cosine"}
    assert named_models({"mine": "cosine"}) == {"mine": "cosine"}
    run = nb.fuse_sample(["projection"], progress=False)
    assert list(run.fused) == ["bicubic", "projection"] and run.scores["projection"]["psnr"] > 45


def test_the_table_is_metrics_table_and_the_old_name_warns():
    """``nb.metrics`` read like ``ni.metrics`` (the module): the table is ``nb.metrics_table``; the old name works
    with a FutureWarning."""
    from napari_inf3 import notebook as nb

    assert "metrics" not in nb.__all__ and nb.metrics_table is not None
    with pytest.warns(FutureWarning, match="metrics_table"):
        assert nb.metrics is nb.metrics_table
