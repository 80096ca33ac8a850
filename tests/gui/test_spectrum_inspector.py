"""The Spectrum inspector's plot: built when the dock opens so the first click only blits (issue 25), and its
legend under the axes, never over a curve, at the narrowest the dock gets and wider."""

from __future__ import annotations

import numpy as np

from napari_inf3._napari.layers import cube_layer_kwargs

WL = np.arange(400.0, 701.0, 10)


def _add_run(viewer, rng, size=48, weights=True):
    """GT, bicubic and three schemes (noisy GT), the schemes with neighbour weights (LR ×4): what a run adds."""
    y, x = np.mgrid[0:size, 0:size] / 9.0
    gt = (0.4 + 0.2 * np.sin(y) * np.cos(x))[None] * np.linspace(0.6, 1.2, 31)[:, None, None]
    viewer.add_image(gt.astype(np.float32), **cube_layer_kwargs("GT", WL, "gt"))
    for m in ("bicubic", "area", "net", "cosine"):
        extra = {"source_layer": "GT"}
        if weights and m != "bicubic":
            w = rng.random((4, size, size), dtype=np.float32)
            extra.update(neighbour_weights=w / w.sum(axis=0), lr_shape=(size // 4, size // 4), scale=4)
        noisy = (gt + 0.01 * rng.standard_normal(gt.shape)).astype(np.float32)
        viewer.add_image(noisy, **cube_layer_kwargs(m, WL, "bicubic" if m == "bicubic" else "fused", m, "run 1",
                                                      extra=extra))
    viewer.layers.selection.active = viewer.layers["GT"]
    return viewer.layers["GT"]


def test_first_click_only_blits_onto_the_plot_built_when_the_dock_opened(make_napari_viewer, qtbot, monkeypatch):
    from napari_inf3._napari.spectrum_widget import MARKS, SpectrumWidget

    viewer = make_napari_viewer()
    gt = _add_run(viewer, np.random.default_rng(0))
    spectrum = SpectrumWidget(viewer)
    viewer.window.add_dock_widget(spectrum, name="Spectrum inspector")
    # built already, and shown blank: only the figure's face colour until something is clicked
    assert spectrum.plot.layout is not None and spectrum.plot.has_background and not spectrum.curves
    pixels = np.asarray(spectrum.canvas.canvas.buffer_rgba()).reshape(-1, 4)
    assert len(np.unique(pixels, axis=0)) == 1
    # the neighbour markers' layer follows once the dock is up (a new layer is the slow part), hidden
    qtbot.waitUntil(lambda: MARKS in viewer.layers, timeout=10_000)
    assert not viewer.layers[MARKS].shown.any() and viewer.layers.selection.active is gt

    built = []
    monkeypatch.setattr(spectrum.plot, "build", lambda plan, ylim: built.append(plan))
    assert spectrum.click(gt.data_to_world((0, 30, 20))) == (30, 20)
    assert not built  # blitted onto the prebuilt plot
    ax = spectrum.canvas.figure.axes[0]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), gt.data[:, 30, 20])
    assert ax.get_title() == "row 30, col 20"
    sams = [t.get_text() for t in spectrum.plot.legend_texts]
    assert len(sams) == 4 and all("(SAM " in t for t in sams)
    marks = viewer.layers[MARKS]
    from napari_inf3.viz.compare import neighbour_positions

    np.testing.assert_allclose(marks.data, neighbour_positions(30, 20, 4, (12, 12)))
    assert marks.shown.all()
    # pinning a second pixel hides the markers (no single pixel's neighbours), keeping the layer and its colours
    monkeypatch.undo()
    spectrum.pin.setChecked(True)
    spectrum.click(gt.data_to_world((0, 5, 5)))
    assert not viewer.layers[MARKS].shown.any() and len(viewer.layers[MARKS].data) == 4
    # Clear: blank again, and built again for the next first click
    spectrum.clear()
    qtbot.waitUntil(lambda: spectrum.plot.layout is not None, timeout=10_000)
    assert not spectrum.pins and not spectrum.curves


def test_dock_opened_before_the_run_builds_once_its_layers_are_in(make_napari_viewer, qtbot):
    from napari_inf3._napari.spectrum_widget import SpectrumWidget

    viewer = make_napari_viewer()
    spectrum = SpectrumWidget(viewer)
    viewer.window.add_dock_widget(spectrum, name="Spectrum inspector")
    assert spectrum.plot.layout is None
    _add_run(viewer, np.random.default_rng(1), weights=False)
    qtbot.waitUntil(lambda: spectrum.plot.layout is not None and len(spectrum.plot.layout[0]) == 5, timeout=10_000)
    spectrum.zoom.setChecked(True)  # the zoom window is part of the plot: built again, still before any click
    qtbot.waitUntil(lambda: spectrum.plot.layout[1] == (18, 22), timeout=10_000)
    assert not spectrum.pins


def _legend_clear_of_the_axes(spectrum):
    fig = spectrum.canvas.figure
    renderer = spectrum.canvas.canvas.get_renderer()
    legend = fig.axes[0].get_legend()
    box = legend.get_window_extent(renderer)
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width + 0.5 and box.y0 >= 0
    for ax in fig.axes:
        assert box.y1 < ax.bbox.y0, (box, ax.bbox)  # under every axes: over no curve, no zoom window, no bar
        assert ax.bbox.height > 60
    return legend


def test_legend_sits_under_the_axes_in_a_narrow_and_a_wide_dock(make_napari_viewer, qtbot):
    from napari_inf3._napari.spectrum_widget import SpectrumWidget

    viewer = make_napari_viewer()
    gt = _add_run(viewer, np.random.default_rng(2))
    spectrum = SpectrumWidget(viewer)
    spectrum.zoom.setChecked(True)
    qtbot.addWidget(spectrum)
    spectrum.show()
    spectrum.resize(spectrum.minimumSizeHint().width(), 640)  # as narrow as the dock gets (~420 px)
    qtbot.waitExposed(spectrum)
    spectrum.click(gt.data_to_world((0, 24, 24)))
    qtbot.waitUntil(lambda: spectrum.canvas.canvas.width() < 450, timeout=5_000)
    narrow = _legend_clear_of_the_axes(spectrum)
    narrow_height = narrow.get_window_extent(spectrum.canvas.canvas.get_renderer()).height
    zoom = spectrum.canvas.figure.axes[1]
    assert zoom.get_title() == "bands 18–22" and zoom.bbox.width >= 45  # the zoom window stays readable
    spectrum.resize(900, 640)  # wider: more columns, fewer rows, and still under the axes
    qtbot.waitUntil(lambda: spectrum.canvas.canvas.width() > 800, timeout=5_000)
    spectrum.canvas.canvas.draw()
    wide = _legend_clear_of_the_axes(spectrum)
    # the wider dock's legend has more columns, so fewer rows
    assert wide.get_window_extent(spectrum.canvas.canvas.get_renderer()).height < narrow_height
    # the labels of the legend made again for the new width are the ones the next (blitted) click rewrites
    from napari_inf3.viz.plots import spectral_angle_deg

    spectrum.click(gt.data_to_world((0, 10, 30)))
    assert spectrum.canvas.figure.axes[0].get_legend() is wide
    assert len(spectrum.plot.legend_texts) == 4 and all(t in wide.get_texts() for t in spectrum.plot.legend_texts)
    for text in spectrum.plot.legend_texts:
        label, value = text.get_text().split(" (SAM ")
        assert value == f"{spectral_angle_deg(spectrum.curves[label], spectrum.curves['GT']):.2f}°)"
