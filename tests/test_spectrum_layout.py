"""The Spectrum inspector's legend goes under its axes (napari_inf3/_napari/spectrum_layout.py): never over a
curve, in as many columns as the figure's width holds. Plain matplotlib (Agg), no Qt."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

LABELS = ["GT", "bicubic [run 1] (SAM 4.11°)", "area [run 1] (SAM 1.14°)", "net [run 1] (SAM 1.61°)",
          "cosine [run 1] (SAM 1.14°)", "ensemble [run 1] (SAM 1.28°)", "ensemble ± std of area/net/cosine"]


def test_legend_columns_split_as_matplotlib_does():
    from napari_inf3._napari.spectrum_layout import legend_columns

    assert legend_columns([40.0] * 6, 10_000, 10) == 6
    assert legend_columns([40.0] * 6, 10, 10) == 1  # nothing fits: one column still
    # two columns of 100 px labels need 2 × (100 + key 20 px) + spacing 16 px + padding 4 px = 260 px
    assert legend_columns([100.0] * 4, 260, 10) == 2
    assert legend_columns([100.0] * 4, 259, 10) == 1
    # one wide label widens only its own column (array_split: [a, b] [c])
    assert legend_columns([30.0, 30.0, 200.0], 30 + 200 + 2 * 20 + 16 + 4, 10) == 2


@pytest.mark.parametrize(("width", "height", "dpi"), [(330, 300, 100), (420, 260, 100), (520, 330, 100),
                                                  (900, 400, 100), (840, 660, 200)])  # 200: a high-density screen
def test_legend_under_the_axes_never_covers_them(width, height, dpi):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from napari_inf3._napari.spectrum_layout import MIN_AXES_PX, legend_below

    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    ax, zoom = fig.subplots(1, 2, width_ratios=[3, 1])
    x = np.linspace(400, 700, 31)
    for i, label in enumerate(LABELS[:-1]):
        ax.plot(x, np.sin(x / 50 + i), label=label)
        zoom.plot(x[17:22], np.sin(x[17:22] / 50 + i))
    ax.fill_between(x, -0.1, 0.1, label=LABELS[-1])
    ax.set_xlabel("wavelength (nm)")
    ax.set_title("row 157, col 45")
    renderer = canvas.get_renderer()
    legend = legend_below(fig, ax, *ax.get_legend_handles_labels(), renderer)
    canvas.draw()
    box = legend.get_window_extent(renderer)
    assert [t.get_text() for t in legend.get_texts()] == LABELS
    assert box.x0 >= 0 and box.x1 <= width and box.y0 >= 0  # inside the figure, so nothing is cut off
    for a in (ax, zoom):
        assert box.y1 < a.bbox.y0, (box, a.bbox)  # under the axes: over no curve
        assert a.xaxis.get_tightbbox(renderer).y0 >= box.y1 - 1  # nor over the tick labels, the x label
        assert a.bbox.height >= MIN_AXES_PX * dpi / 100 - 1
    assert zoom.bbox.width >= 50 * dpi / 100  # the zoom window stays readable
    assert ax.title.get_window_extent(renderer).y1 <= height


@pytest.mark.parametrize(("ylim", "dpi"), [((0.0, 0.9), 100), ((0.0, 0.021), 100), ((0.0, 0.9), 200),
                                           ((0.0, 12000.0), 100)])
def test_y_axis_label_never_cut_off(ylim, dpi):
    """Tick labels wider than the default margin ('0.75', '0.005', '10000': the docs' ensemble picture had
    'reflectance' cut off at the figure's edge) widen the margin."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from napari_inf3._napari.spectrum_layout import legend_below
    from napari_inf3.viz.plots import plot_spectra

    fig = Figure(figsize=(3.6, 2.8), dpi=dpi)
    canvas = FigureCanvasAgg(fig)
    ax, zoom = fig.subplots(1, 2, width_ratios=[3, 1])
    x = np.linspace(400, 700, 31)
    plot_spectra(ax, x, {"GT": ylim[1] * (0.5 + 0.4 * np.sin(x / 50))}, title="row 79, col 99")
    ax.set_ylim(*ylim)
    renderer = canvas.get_renderer()
    legend_below(fig, ax, *ax.get_legend_handles_labels(), renderer)
    canvas.draw()
    assert ax.yaxis.label.get_text() == "reflectance"
    assert ax.yaxis.get_tightbbox(renderer).x0 >= 0  # tick labels and 'reflectance' inside the figure
    assert ax.bbox.width > 0.4 * fig.bbox.width  # the margin grew, not the axes vanished
