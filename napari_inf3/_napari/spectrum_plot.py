"""The Spectrum inspector's plot (no layers, no widgets): a matplotlib figure on a :class:`.canvas.ThemedCanvas`
drawn from a :class:`~.spectrum_query.Plan`, with a cached background so a click that keeps the same curves only
moves them and blits (bench/spectrum_click.py measures it). The dock (:mod:`.spectrum_widget`) decides what to
plot; this draws it."""

from __future__ import annotations

import os

import numpy as np

from .ensemble_view import draw_spread_bands, move_spread_bands
from .spectrum_layout import legend_below
from .spectrum_query import Plan as _Plan


class SpectrumPlot:
    """The plot of one dock: :meth:`build` a new figure, :meth:`blit` a plan onto the cached one when
    :meth:`reusable`, :meth:`reset` to an empty one. ``preview``: a prebuilt plot nothing has clicked yet, kept off
    the screen. Read-only views for tests and callers: :attr:`layout`, :attr:`legend_texts`, :attr:`bars`,
    :attr:`animated`, :attr:`has_background`."""

    def __init__(self, canvas):
        self.canvas = canvas
        self._layout, self._animated, self._background, self._ylim, self._bars = None, [], None, None, []
        self._legend_texts: list = []
        self._legend_entries: tuple[list, list] = ([], [])  # the legend's (handles, labels) of the plot built
        self._band_polys: dict = {}  # ensemble curve label -> its spread band (and in the zoom window)
        self._zoom_polys: dict = {}
        self.preview = False
        canvas.canvas.mpl_connect("draw_event", self._on_canvas_draw)
        canvas.canvas.mpl_connect("resize_event", self._on_resize)
        self.print_bare = canvas.canvas.print_figure  # matplotlib's own: the per-click artists left out
        canvas.canvas.print_figure = self._print_everything  # the toolbar's Save: curves included

    @property
    def layout(self) -> tuple | None:
        """What the cached axes were built for (curves, zoom bands, reference, wavelengths, weights, spreads)."""
        return self._layout

    @property
    def legend_texts(self) -> list:
        """The legend's labels that carry a SAM (drawn per click, hidden in the background)."""
        return list(self._legend_texts)

    @property
    def bars(self) -> list:
        """The weight bars per scheme (matplotlib containers of four patches)."""
        return list(self._bars)

    @property
    def animated(self) -> list:
        """The artists redrawn on every click."""
        return list(self._animated)

    @property
    def has_background(self) -> bool:
        return self._background is not None

    def forget(self) -> None:
        """The next plan is built afresh (not blitted), with a y range and legend of its own."""
        self._layout, self._ylim = None, None

    def reusable(self, plan: _Plan) -> bool:
        """Whether ``plan`` can be blitted onto the cached background: same curves, axes and legend, values in range."""
        return (self._ylim is not None and self._ylim[0] <= plan.low and plan.peak <= self._ylim[1]
                and plan.layout == self._layout and self._background is not None)

    def blit(self, plan: _Plan) -> None:
        """Move the curves, labels, bands and bars of the cached plot to ``plan`` and blit them."""
        from ..viz.plots import spectral_angle_deg

        fig = self.canvas.figure
        ax = fig.axes[0]
        curves, ref, zoom_bands = plan.curves, plan.ref, plan.zoom_bands
        lines = ax.get_lines()
        texts = ax.get_legend().get_texts() if ax.get_legend() else []
        zlines = fig.axes[1].get_lines() if zoom_bands else []
        for i, (label, y) in enumerate(curves.items()):
            lines[i].set_ydata(y)
            if zoom_bands:
                zlines[i].set_ydata(np.asarray(y)[zoom_bands[0] - 1 : zoom_bands[1]])
            if ref is not None and label != ref and i < len(texts):
                texts[i].set_text(f"{label} (SAM {spectral_angle_deg(np.asarray(y), curves[ref]):.2f}°)")
        if plan.band is not None and len(lines) > len(curves):
            x = lines[0].get_xdata()
            lines[len(curves)].set_xdata([x[plan.band], x[plan.band]])
        ax.title.set_text(plan.title)
        move_spread_bands(self._band_polys, plan.spreads, lines[0].get_xdata())  # same ensembles: the layout matched
        if zoom_bands:
            move_spread_bands(self._zoom_polys, plan.spreads, zlines[0].get_xdata(), slice(zoom_bands[0] - 1,
                                                                                         zoom_bands[1]))
            fig.axes[1].relim()
            fig.axes[1].autoscale_view()
        for bars, wts in zip(self._bars, plan.weights.values(), strict=True):  # same schemes: the layout matched
            for patch, v in zip(bars, wts, strict=True):
                patch.set_height(v)
        canvas = self.canvas.canvas
        canvas.restore_region(self._background)
        self._draw_animated()
        # painted with the event loop's next paint, not at once (matplotlib's blit() repaints synchronously): the
        # window is composed once for the plot and the moved neighbour markers, and a click never waits for a
        # repaint of napari's canvas that happened to be pending
        canvas.update()

    def build(self, plan: _Plan, ylim: tuple[float, float]) -> None:
        """A new figure for ``plan``: axes, curves, bands, bars, the legend under the axes; drawn in full (the
        draw_event handler caches the background and draws the per-click artists)."""
        from ..viz.plots import plot_spectra

        fig = self.canvas.figure
        fig.clear()
        zoom_bands = plan.zoom_bands
        zoom_part = slice(zoom_bands[0] - 1, zoom_bands[1]) if zoom_bands else slice(None)
        ratios = [3] + ([1] if zoom_bands else []) + ([1] if plan.weights else [])
        axes = list(np.atleast_1d(fig.subplots(1, len(ratios), width_ratios=ratios)))
        ax = axes[0]
        zax = axes[1] if zoom_bands else None
        wax = axes[-1] if plan.weights else None
        plot_spectra(ax, plan.wl, plan.curves, title=plan.title, reference=plan.ref, current_band=plan.band,
                     zoom_ax=zax, zoom_bands=zoom_bands)
        self._bars = self.weight_bars(wax, plan.weights) if wax is not None else []
        self._band_polys = draw_spread_bands(ax, plan.spreads)  # before the legend below, which lists them
        self._zoom_polys = draw_spread_bands(zax, plan.spreads, zoom_part, legend=False) if zax is not None else {}
        gt_color = self.canvas.colors()["text"]  # black GT would vanish on napari's dark theme
        for a in fig.axes:
            for line in a.get_lines():
                if str(line.get_label()).startswith("GT"):
                    line.set_color(gt_color)
        self._legend_entries = ax.get_legend_handles_labels()
        self._ylim = ylim
        ax.set_ylim(*self._ylim)  # before the legend: the left margin is made for these limits' tick labels
        self.place_legend()
        self._animated = [*self._band_polys.values(), *ax.get_lines(), ax.title]  # the bands under the curves
        if zax is not None:
            self._animated.append(zax)
        self._animated += [patch for bars in self._bars for patch in bars]
        for artist in self._animated:
            artist.set_animated(True)
        self._layout = plan.layout
        self.canvas.style()
        self.canvas.canvas.draw()  # the draw_event handler caches the background and draws the curves

    def place_legend(self) -> None:
        """(Re)make the legend under the axes for the figure's current size (:func:`.spectrum_layout.legend_below`).
        Its keys and fixed labels go into the cached background; the labels with a SAM are drawn per click
        only: a whole legend is laid out again on every draw (≈ 40 ms a click)."""
        fig = self.canvas.figure
        if not fig.axes or not self._legend_entries[0]:
            self._legend_texts = []
            return
        legend = legend_below(fig, fig.axes[0], *self._legend_entries, self.canvas.canvas.get_renderer())
        self._legend_texts = [t for t in legend.get_texts() if "(SAM " in t.get_text()]  # GT's never changes
        for text in self._legend_texts:
            text.set_visible(False)  # drawn only by _draw_animated, never into the background

    def _on_resize(self, event=None) -> None:
        """A new size: the legend's columns and the margins again (keeping the labels of the last click); the
        full draw that follows caches the new background."""
        if not self._animated or not self.canvas.figure.axes:
            return
        legend = self.canvas.figure.axes[0].get_legend()
        if legend is not None:
            handles = self._legend_entries[0]
            self._legend_entries = (handles, [t.get_text() for t in legend.get_texts()])
        self.place_legend()
        self.canvas.style()

    def reset(self) -> None:
        """An empty figure, nothing cached."""
        self._layout, self._animated, self._background, self._legend_texts = None, [], None, []
        self._band_polys, self._zoom_polys, self._bars, self.preview = {}, {}, [], False
        self.canvas.figure.clear()
        self.canvas.draw()

    @staticmethod
    def weight_bars(ax, weights: dict[str, np.ndarray]) -> list:
        """Grouped bars: each scheme's four neighbour weights (NW, NE, SW, SE) in its curve colour."""
        from ..viz.compare import NEIGHBOURS
        from ..viz.plots import method_color

        n = max(len(weights), 1)
        width = 0.8 / n
        bars = []
        for k, (label, wts) in enumerate(weights.items()):
            x = np.arange(4) - 0.4 + width * (k + 0.5)
            bars.append(ax.bar(x, wts, width=width, color=method_color(label.split(" [")[0], k), label=label))
        ax.set_xticks(range(4), NEIGHBOURS, fontsize=7, rotation=90)  # side by side they run together in a narrow dock
        ax.set_ylim(0, 1)
        ax.set_title("weights", fontsize=9)
        ax.tick_params(labelsize=7)
        return bars

    def _on_canvas_draw(self, event) -> None:
        """After any full draw (a new plot, resize, theme): cache the background, then draw the per-click artists;
        a prebuilt plot (:meth:`.SpectrumWidget.prebuild`) is then wiped off the screen until the first click blits
        its own."""
        if not getattr(self, "_animated", None):
            self._background = None
            return
        self._background = self.canvas.canvas.copy_from_bbox(self.canvas.figure.bbox)
        self._draw_animated()  # also when prebuilt: the first click finds every font and tick ready
        if self.preview:
            self.canvas.blank()

    def _draw_animated(self) -> None:
        fig = self.canvas.figure
        for artist in self._animated:
            fig.draw_artist(artist)
        for text in self._legend_texts:
            text.set_visible(True)
            fig.draw_artist(text)
            text.set_visible(False)

    def _print_everything(self, *args, **kwargs):
        """The canvas's ``print_figure`` (toolbar Save, ``savefig``) with the per-click artists drawn too:
        matplotlib leaves animated artists out of a full draw; a prebuilt plot nothing has clicked yet saves as
        the blank it shows. The screen is redrawn afterwards, since the print's draw event would have cached a
        background from the wrong renderer."""
        hidden = list(self.canvas.figure.axes) if self.preview else []
        self._set_printing(True, hidden)
        try:
            if args and isinstance(args[0], (str, os.PathLike)):
                return self._print_to_file(*args, **kwargs)
            return self.print_bare(*args, **kwargs)
        finally:
            self._set_printing(False, hidden)
            self.canvas.canvas.draw()

    def _set_printing(self, printing: bool, hidden: list) -> None:
        """Printing: the per-click artists drawn as ordinary ones, the SAM labels shown, ``hidden`` axes off; and
        back to the screen's state."""
        for artist in self._animated:
            artist.set_animated(not printing)
        for text in self._legend_texts:
            text.set_visible(printing)
        for ax in hidden:
            ax.set_visible(not printing)

    def _print_to_file(self, filename, *args, **kwargs):
        """``print_figure`` into a file atomically (:mod:`napari_inf3.io.atomic`): a failed save (disk full,
        ...) leaves an existing file as it was. The format from ``format=`` or the suffix, as matplotlib."""
        from ..io.atomic import atomic_path, figure_target

        path, fmt = figure_target(filename, kwargs.pop("format", None))
        with atomic_path(path) as tmp:
            return self.print_bare(str(tmp), *args, format=fmt, **kwargs)
