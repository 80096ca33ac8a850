"""napari-inf3 in Jupyter: the desktop's views inline, a clickable spectrum explorer, napari on demand.

    import napari_inf3 as ni
    from napari_inf3 import notebook as nb
    run = nb.fuse_sample()                 # the sample, simulated ×4, fused by bicubic, area / net / cosine, ensemble
    nb.overview(run)                       # composites + error maps (a Figure, shown inline)
    nb.expected_error(run)                 # the ensemble's expected |error| beside the true one
    nb.metrics_table(run)                  # an HTML table in Jupyter, text in a terminal
    nb.spectra(run, 115, 75)               # the paper's Fig. 7 layout
    nb.explore(run)                        # with `%matplotlib widget` (ipympl): click a pixel to plot it
    nb.open_napari(run)                    # after `%gui qt`: the demo viewer with this run's layers
    run = nb.fuse_pair(lr, photo)          # a real pair (a photo as the HR-MSI): its camera estimated,
    nb.metrics(run)                        # scored on the pair itself, bicubic included, with the gate's findings

The figures come from :mod:`napari_inf3.viz.figures`, the demo's own drawing code. ``explore`` needs
the optional ``notebook`` extra (``ipympl``, ``ipywidgets``) to be clickable; without it, it shows a
static figure and says how to enable clicks. Progress bars use ``tqdm.auto`` (widgets in a
notebook, text in a terminal).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .viz.figures import (
    MetricsTable,
    RunFigure,
    composites_figure,
    draw_spectra,
    errors_figure,
    expected_error_figure,
    metrics_table,
    overview_figure,
    spectra_figure,
)

__all__ = ["fuse_sample", "fuse_pair", "overview", "composites", "errors", "expected_error", "spectra",
           "metrics_table", "explore", "Explorer", "open_napari", "progress_bar", "train_with_progress"]

composites = composites_figure
errors = errors_figure
expected_error = expected_error_figure
overview = overview_figure
spectra = spectra_figure


def __getattr__(name: str):
    """``nb.metrics`` was this table's name; ``napari_inf3.metrics`` is the metrics module, so it is
    ``nb.metrics_table`` now (the old name still works, with a FutureWarning)."""
    if name == "metrics":
        import warnings

        warnings.warn("napari_inf3.notebook.metrics is now metrics_table (napari_inf3.metrics is the metrics module)",
                      FutureWarning, stacklevel=2)
        return metrics_table
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def progress_bar(total: int, desc: str, unit: str = "it"):
    """A ``tqdm.auto`` bar: a widget in Jupyter (with ipywidgets), text elsewhere."""
    from .progress import progress_bar as bar

    return bar(total, desc, unit, disable=False)


def _ticker(bar):
    """The pipeline's ``progress(done, total, message)`` drawn on ``bar`` (a no-op without one)."""

    def tick(done, total, msg):
        if bar is not None:
            bar.total, bar.n = total, done
            bar.set_postfix_str(msg)
            bar.refresh()

    return tick


def fuse_sample(models: Mapping[str, Any] | Sequence | None = None, *, scale: int = 4, weights: bool = False,
                offset: int | None = None, device=None, progress=True):
    """The shipped sample (superballs crop) simulated ×``scale`` and fused by bicubic and ``models``
    (a mapping name → model, or a list such as ``["projection", "paper:cosine"]``; default the three
    shipped ``lite`` checkpoints and their ensemble); a :class:`~napari_inf3.fusion.pipeline.FusionRun`
    with a ``tqdm.auto`` progress bar."""
    from .data.sample import load_sample
    from .fusion.pipeline import fusion_run, named_models
    from .fusion.types import SimulatedPair

    models = named_models(models or ("area", "net", "cosine", "ensemble"))
    bar = progress_bar(len(models) + 2, "fusion") if progress else None
    tick = _ticker(bar)
    try:
        return fusion_run(models, SimulatedPair(load_sample(), scale=scale, offset=offset), progress=tick,
                          weights=weights, device=device)
    finally:
        if bar is not None:
            bar.close()


def fuse_pair(lr_hsi, hr_msi, models: Mapping[str, Any] | Sequence | None = None, *, camera="estimate",
              pair_srf=None, align: bool = False, wavelengths=None, device=None, progress=True):
    """A real pair fused by bicubic and ``models`` (default the SRF projection and the shipped ensemble, whose
    expected |error| map, ``run.expected_error``, is the error map a real pair can have; for a pair of any other
    sensor than the shipped networks' 31 bands and RGB, the projection and ``'pair'``, a fit to the pair itself),
    the HR-MSI's camera estimated from the pair (``camera='estimate'``; or a
    :class:`~napari_inf3.camera.CameraFit` or a saved one's path; ``None`` with ``pair_srf=`` for the linear
    path); a :class:`~napari_inf3.fusion.pipeline.FusionRun` whose ``pair_scores`` and ``findings`` say, without
    ground truth, how far to trust it (:func:`metrics` shows them)."""
    import numpy as np

    from .fusion.pipeline import fusion_run, named_models
    from .fusion.types import RealPair

    lr = getattr(lr_hsi, "data", lr_hsi)
    shipped_sensor = np.shape(lr)[0] == 31 and np.shape(getattr(hr_msi, "data", hr_msi))[0] == 3
    models = named_models(models or ("projection", "ensemble" if shipped_sensor else "pair"))
    bar = progress_bar(len(models) + 3, "fusion") if progress else None
    tick = _ticker(bar)
    wl = wavelengths if wavelengths is not None else getattr(lr_hsi, "wavelengths", None)
    try:
        run = fusion_run(models, RealPair(lr, getattr(hr_msi, "data", hr_msi), wavelengths=wl, camera=camera,
                                          pair_srf=pair_srf, align=align), progress=tick, device=device)
    finally:
        if bar is not None:
            bar.close()
    for finding in run.findings:
        if finding.level != "ok":
            import warnings

            warnings.warn(str(finding), UserWarning, stacklevel=2)
    return run


def train_with_progress(scenes, **train_kwargs):
    """Run :func:`napari_inf3.train` to the end with a ``tqdm.auto`` bar; returns ``(model, events)``
    (every event, so the loss curve can be plotted: ``[e.loss for e in events if e.kind == 'step']``)."""
    from .training.loop import train

    events, bar = [], None
    for ev in train(scenes, **train_kwargs):
        events.append(ev)
        if bar is None:
            bar = progress_bar(ev.total_steps, "train", "step")
        if ev.kind == "step":
            bar.n = ev.step
            bar.set_postfix_str(f"loss {ev.loss:.4f}")
            bar.refresh()
    if bar is not None:
        bar.close()
    return events[-1].extra["model"], events


def _interactive_backend() -> bool:
    import matplotlib

    backend = matplotlib.get_backend().lower()
    return "ipympl" in backend or "widget" in backend


class Explorer:
    """A composite and the spectra of the clicked pixel(s), the Spectrum inspector's behaviour:
    a click plots GT and every method there; ``box`` averages a k × k box; ``pin`` keeps earlier
    pixels. Call :meth:`click` from code, or click the picture with ipympl."""

    def __init__(self, run, row: int | None = None, col: int | None = None, *, box: int = 1, pin: bool = False,
                 zoom_bands=(18, 22), composite: Mapping[str, Any] | None = None):
        from .viz.spectra import default_pixel

        self.run, self.box, self.pin, self.zoom_bands = run, int(box), bool(pin), zoom_bands
        self.interactive = _interactive_backend()
        if self.interactive:
            import matplotlib.pyplot as plt

            with plt.ioff():
                self.figure = plt.figure(figsize=(11, 4), layout="constrained")
        else:
            self.figure = RunFigure(figsize=(11, 4), dpi=100, layout="constrained")
        left, right = self.figure.subfigures(1, 2, squeeze=False, width_ratios=[1, 2.4])[0]
        self.image_ax = left.subplots()
        self.spectra_fig = right
        comps = run.composites(**dict(composite or {}))
        name = "GT" if "GT" in comps else next(iter(comps))
        self.image_ax.imshow(comps[name])
        self.image_ax.set_title(f"{name}: click a pixel" if self.interactive else name, fontsize=9)
        self.image_ax.set_xticks([])
        self.image_ax.set_yticks([])
        self.markers = None
        if row is None or col is None:
            row, col = default_pixel(run.gt if run.gt is not None else run.hr_msi)
        self.pixels: list[tuple[int, int]] = []
        self.figure.canvas.mpl_connect("button_press_event", self.on_click)
        self.click(row, col)
        self.message = None if self.interactive else (
            "static figure: for clicks, `pip install napari-inf3[notebook]` and run `%matplotlib widget` first")

    def on_click(self, event) -> None:
        """A left click inside the picture plots that pixel."""
        if event.inaxes is not self.image_ax or getattr(event, "button", 1) not in (1, None):
            return
        if event.xdata is None or event.ydata is None:
            return
        self.click(int(round(event.ydata)), int(round(event.xdata)))

    def click(self, row: int, col: int) -> tuple[int, int] | None:
        """Plot the spectra at (row, col) (kept beside earlier pixels when ``pin``); None if outside."""
        h, w = self.run.hr_msi.shape[1:]
        if not (0 <= row < h and 0 <= col < w):
            return None
        self.pixels = (self.pixels if self.pin else []) + [(row, col)]
        self.redraw()
        return row, col

    def redraw(self) -> None:
        draw_spectra(self.spectra_fig, self.run, self.pixels, self.box, self.zoom_bands)
        if self.markers is not None:
            self.markers.remove()
        ys, xs = zip(*self.pixels, strict=True)
        self.markers = self.image_ax.scatter(xs, ys, s=40, facecolors="none", edgecolors="white")
        self.figure.canvas.draw_idle()

    def controls(self):
        """ipywidgets for the box size and pinning (None without ipywidgets)."""
        try:
            import ipywidgets as widgets
        except ImportError:
            return None
        box = widgets.IntSlider(value=self.box, min=1, max=15, step=2, description="box k × k")
        pin = widgets.Checkbox(value=self.pin, description="pin earlier pixels")

        def on_box(change):
            self.box = int(change["new"])
            self.redraw()

        def on_pin(change):
            self.pin = bool(change["new"])

        box.observe(on_box, names="value")
        pin.observe(on_pin, names="value")
        return widgets.HBox([box, pin])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        if self.interactive:
            ctl = self.controls()
            display(self.figure.canvas if ctl is None else __import__("ipywidgets").VBox([ctl, self.figure.canvas]))
        else:
            display(self.figure)
            print(self.message)


def explore(run, row: int | None = None, col: int | None = None, **kw) -> Explorer:
    """A clickable composite beside the spectra of the clicked pixel (see :class:`Explorer`)."""
    return Explorer(run, row, col, **kw)


def open_napari(run, name: str = "scene"):
    """Open napari with ``run``'s layers and the three docks (the demo viewer's builder); in Jupyter
    run ``%gui qt`` first so the window stays responsive. Returns the viewer."""
    from .demo import open_run_in_napari

    return open_run_in_napari(run, name)


__all__ += ["MetricsTable", "RunFigure"]
