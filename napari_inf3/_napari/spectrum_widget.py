"""The "Spectrum inspector" dock: click a pixel, see GT, bicubic and each fusion's spectrum there (an
ensemble's with its members' spread as a band, :mod:`.ensemble_view`), or step through the pixels where the
schemes disagree most or where an ensemble expects the largest |error|."""

from __future__ import annotations

import time

import numpy as np
from qtpy.QtCore import QTimer
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ._common import button_row, output_path
from .canvas import ThemedCanvas
from .ensemble_view import (
    expected_error_layer,
    run_layer,
    top_pixels,
)
from .layers import inf3_tag, is_cube_layer, layer_wavelengths
from .neighbour_marks import MARKS, ensure_marks, mark_neighbours  # noqa: F401 - MARKS: the layer's name
from .spectrum_plot import SpectrumPlot
from .spectrum_query import (
    Picks,
    Plan,
    click_weights,
    curve_label,
    ensemble_spreads,
    newest_schemes,
    plotted,
    samples,
)

#: What the ◀ / ▶ buttons step through: ranking → (▶'s text, the buttons' tooltip).
RANKINGS = {
    "scheme disagreement": ("Where do they disagree? ▶",
                            "step through the pixels where the weighting schemes' fused cubes differ most "
                            "(largest spectral angle between two schemes; dark pixels and the border excluded)"),
    "expected |error|": ("Where is it likely wrong? ▶",
                         "step through the pixels of highest expected |error| of the newest run's ensemble "
                         "(its 'expected |error|' map; the selected ensemble's if one is selected), 8 px apart"),
}
#: After layers come or go (a fusion run adds dozens), the plot is prebuilt this long after the last change.
PREBUILD_DELAY_MS = 300


class SpectrumWidget(QWidget):
    """Click (not drag) on the image: spectra of every cube layer at that pixel.

    Curves come from the cube layers (``(bands, y, x)``) whose spatial shape matches the
    clicked position's; the ground truth (role ``gt``, or the layer a fusion was made from)
    is the reference for the per-curve spectral angle in the legend.
    """

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.pins: list[tuple[int, int]] = []
        self.curves: dict[str, np.ndarray] = {}
        self.last_draw_ms: float | None = None
        lay = QVBoxLayout(self)
        # fixed margins: a layout engine costs ~100 ms a click
        self.canvas = ThemedCanvas(self.viewer, self, layout=None)
        # the plot takes the dock's spare height (napari pads a dock without an expanding widget at the bottom):
        # the legend under the axes costs the curves some
        self.canvas.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        lay.addWidget(self.canvas)
        lay.addLayout(self._options())
        lay.addLayout(button_row(("Clear", self.clear), ("Export CSV…", lambda: self.export_csv()))[0])
        lay.addLayout(self._stepping())
        self.info = QLabel("click a pixel in the image")
        self.info.setWordWrap(True)
        lay.addWidget(self.info)
        self.plot = SpectrumPlot(self.canvas)  # the figure and its blit cache
        self._connect()
        # the plot for the cubes already open, now; the markers' layer just after the dock is up
        self.prebuild(marks=False)
        self._schedule_prebuild()

    def _options(self) -> QFormLayout:
        """Box size, pinning and the zoom window."""
        form = QFormLayout()
        self.box = QSpinBox()
        self.box.setRange(1, 31)
        self.box.setSingleStep(2)
        self.box.setValue(1)
        self.box.setToolTip("average the spectrum over a k × k box around the click")
        self.pin = QCheckBox("pin: keep earlier pixels in the plot")
        self.zoom = QCheckBox("zoom window on bands")
        self.zoom_lo, self.zoom_hi = QSpinBox(), QSpinBox()
        for s, v in ((self.zoom_lo, 18), (self.zoom_hi, 22)):
            s.setRange(1, 999)
            s.setValue(v)
        zrow = QHBoxLayout()
        zrow.addWidget(self.zoom)
        zrow.addWidget(self.zoom_lo)
        zrow.addWidget(QLabel("–"))
        zrow.addWidget(self.zoom_hi)
        form.addRow("box k × k", self.box)
        form.addRow(self.pin)
        form.addRow(zrow)
        return form

    def _stepping(self):
        """◀ [ranking] ▶ in one row: a row more would be taken from the plot's height."""
        row, (self.prev_btn, self.next_btn) = button_row(("◀", lambda: self.step(-1)), ("", lambda: self.step(1)))
        self.prev_btn.setMaximumWidth(self.prev_btn.fontMetrics().horizontalAdvance("◀") + 24)
        self.rank = QComboBox()
        self.rank.addItems(list(RANKINGS))
        self.rank.setToolTip("what ◀ / ▶ step through: the pixels where the schemes disagree most, or where the "
                             "ensemble expects the largest |error|")
        row.insertWidget(1, self.rank)
        self.rank.currentTextChanged.connect(self._ranking_changed)
        self.picks = Picks()  # what ◀ / ▶ step through, ranked once per run, ranking and map
        self._ranking_changed()
        return row

    def _connect(self) -> None:
        """Clicks on the canvas, the band slider, the options, and the layer list (a prebuild shortly after layers
        stop coming and going)."""
        self.viewer.mouse_drag_callbacks.append(self.on_mouse)
        self.viewer.dims.events.current_step.connect(lambda e: self.redraw() if self.pins else None)
        for w in (self.box, self.zoom_lo, self.zoom_hi):
            w.valueChanged.connect(lambda _=None: self.redraw() if self.pins else self._schedule_prebuild())
        self.zoom.toggled.connect(lambda _=None: self.redraw() if self.pins else self._schedule_prebuild())
        self._prebuild_timer = QTimer(self)
        self._prebuild_timer.setSingleShot(True)
        self._prebuild_timer.setInterval(PREBUILD_DELAY_MS)
        self._prebuild_timer.timeout.connect(self._prebuild_on_timer)
        for emitter in (self.viewer.layers.events.inserted, self.viewer.layers.events.removed,
                        self.viewer.layers.selection.events.active):
            emitter.connect(self._schedule_prebuild)

    def closeEvent(self, event):
        self._prebuild_timer.stop()
        if self.on_mouse in self.viewer.mouse_drag_callbacks:
            self.viewer.mouse_drag_callbacks.remove(self.on_mouse)
        super().closeEvent(event)

    # ---- events ----------------------------------------------------------------------------
    def on_mouse(self, viewer, event):
        """The viewer's mouse-drag callback: a click is a press and release without movement (plotted,
        :meth:`click`); a drag (pan) is ignored."""
        if event.type != "mouse_press" or getattr(event, "button", 1) != 1:
            return
        start = tuple(event.position)
        moved = False
        yield
        while event.type == "mouse_move":
            moved = True
            yield
        if not moved:
            self.click(start)

    def reference_layer(self):
        """The layer whose pixel grid a click is read on: the selected cube layer, else the first cube."""
        active = self.viewer.layers.selection.active
        if active is not None and is_cube_layer(active):
            return active
        cubes = [lyr for lyr in self.viewer.layers if is_cube_layer(lyr) and inf3_tag(lyr).get("role") != "lr"]
        return cubes[0] if cubes else None

    def click(self, world_position) -> tuple[int, int] | None:
        """Handle a click at a world position; returns the (row, col) plotted, or None."""
        ref = self.reference_layer()
        if ref is None:
            self.info.setText("open a hyperspectral cube first")
            return None
        data_pos = ref.world_to_data(world_position)
        row, col = int(round(data_pos[-2])), int(round(data_pos[-1]))
        h, w = ref.data.shape[-2:]
        if not (0 <= row < h and 0 <= col < w):
            self.info.setText(f"(row {row}, col {col}) is outside the image")
            return None
        if self.pin.isChecked():
            if (row, col) not in self.pins:
                self.pins.append((row, col))
        else:
            self.pins = [(row, col)]
        self.redraw()
        return row, col

    def cube_layers(self, shape) -> list:
        """The cubes plotted for a click on a grid of ``shape`` ``(rows, cols)`` (:func:`.spectrum_query.plotted`)."""
        return plotted(self.viewer.layers, shape)

    def collect(self) -> tuple[np.ndarray | None, dict[str, np.ndarray], str | None]:
        """``(wavelengths, {label: spectrum}, reference label)`` for the pinned pixels: the cubes on the clicked
        grid, and georeferenced cubes on other grids at the same map point (:mod:`.spectrum_query`)."""
        from ..viz.spectra import pixel_spectrum

        ref = self.reference_layer()
        if ref is None or not self.pins:
            return None, {}, None
        # pins clicked on another grid (the selection moved to a smaller cube) are not on this one: left out
        found = samples(self.viewer.layers, ref, self.pins)
        sources = {inf3_tag(s.layer).get("run") and s.layer.metadata.get("source_layer")
                   for _, pin in found for s in pin if s.same_grid}
        curves, reference, used = {}, None, []
        for (row, col), pin in found:
            suffix = f" @({row},{col})" if len(self.pins) > 1 else ""
            for s in pin:
                label = curve_label(s.layer)
                if s.same_grid and label != "GT" and s.layer.name in sources:
                    label = "GT"
                if label == "GT" and reference is None:
                    reference = "GT" + suffix
                curves[label + suffix] = pixel_spectrum(s.layer.data, s.row, s.col, self.box.value())
                used.append(s.layer)
        wl = next((layer_wavelengths(lyr) for lyr in used if layer_wavelengths(lyr) is not None), None)
        return wl, curves, reference

    def mark_neighbours(self) -> None:
        """Mark the single pinned pixel's four LR neighbours on the image (:mod:`.neighbour_marks`)."""
        mark_neighbours(self.viewer, self.reference_layer(), self.pins)

    def _ranking_changed(self, _=None) -> None:
        nxt, tip = RANKINGS[self.rank.currentText()]
        self.next_btn.setText(nxt)
        for b in (self.prev_btn, self.next_btn):
            b.setToolTip(tip)

    def step(self, step: int) -> tuple[int, int] | None:
        """◀ / ▶: the previous (−1) or next (1) pixel of the chosen ranking (:data:`RANKINGS`)."""
        if self.rank.currentText() == "expected |error|":
            return self.step_expected_error(step)
        return self.step_disagreement(step)

    def _go_to(self, layer, row: int, col: int) -> None:
        """Plot the spectra at ``(row, col)`` of ``layer`` (made the active layer) and centre the view there.
        Drawn afresh, not blitted: a jump lands anywhere, and the y range and legend place kept from the last
        click (:meth:`redraw`) would leave its curves small or under the legend; a step is no rapid click."""
        self.viewer.layers.selection.active = layer
        self.pins = [(row, col)]
        self.plot.forget()
        self.redraw()
        # napari ≥ 0.9 keeps the camera on viewer.scene (viewer.camera is deprecated there)
        camera = getattr(self.viewer, "scene", self.viewer).camera
        camera.center = layer.data_to_world((0, row, col))[-2:]

    def step_disagreement(self, step: int) -> tuple[int, int] | None:
        """Go to the next (``step`` = 1) or previous (−1) pixel where the schemes of the newest run disagree most
        (an ensemble, their mean, is left out of the ranking)."""
        from ..viz.compare import top_disagreements
        from ..viz.plots import spectral_angle_deg

        run, cubes = newest_schemes(self.viewer.layers)
        if len(cubes) < 2:
            self.info.setText("fuse with two or more weighting schemes first")
            return None
        picked = self.picks.next((run, "disagreement"), lambda: top_disagreements(
            {n: np.asarray(lyr.data) for n, lyr in cubes.items()}, k=20), step)
        if picked is None:
            self.info.setText("no pixel passed the ranking's brightness and border criteria")
            return None
        index, picks, criterion = picked
        p = picks[index]
        self._go_to(next(iter(cubes.values())), p.row, p.col)
        gt = next((c for label, c in self.curves.items() if label == "GT"), None)
        to_gt = ", ".join(f"{label.split(' [')[0]} {spectral_angle_deg(y, gt):.2f}°" for label, y in self.curves.items()
                          if gt is not None and label != "GT" and label.split(" [")[0] in cubes)
        between = ", ".join(f"{a}–{b} {v:.2f}°" for (a, b), v in p.pair_sam.items())
        self.info.setText(f"disagreement {index + 1}/{len(picks)} at (row {p.row}, col {p.col}): "
                          f"between schemes {between}" + (f"; to GT {to_gt}" if to_gt else "")
                          + f". Ranked by the {criterion}.")
        return p.row, p.col

    def step_expected_error(self, step: int) -> tuple[int, int] | None:
        """Go to the next (``step`` = 1) or previous (−1) of the 20 pixels of highest expected |error| (8 px
        apart) of an ensemble's map (the selected one, else the newest run's), plotting the ensemble there."""
        active = self.viewer.layers.selection.active
        emap = expected_error_layer(self.viewer.layers, prefer=active)
        if emap is None:
            self.info.setText("no expected |error| map: fuse with the ensemble (its shipped calibration gives one)")
            return None
        tag = inf3_tag(emap)
        cube = run_layer(self.viewer.layers, "fused", tag.get("method"), tag.get("run"))
        if cube is None:
            self.info.setText(f"the ensemble of {emap.name!r} is not open any more")
            return None
        picked = self.picks.next((tag.get("run"), "expected", emap.name), lambda: (
            top_pixels(np.asarray(emap.data), k=20, min_distance=8), emap.name), step)
        if picked is None:
            self.info.setText(f"{emap.name!r} has no finite value")
            return None
        index, picks, _ = picked
        row, col, value = picks[index]
        self._go_to(cube, row, col)
        true = run_layer(self.viewer.layers, "error", tag.get("method"), tag.get("run"))
        truth = f" (true {float(np.asarray(true.data)[row, col]):.3g})" if true is not None else ""
        # one line: a dock squeezed to its minimum takes each more line from the plot above
        self.info.setText(f"expected |error| {index + 1}/{len(picks)} at (row {row}, col {col}): {value:.3g}{truth}")
        self.info.setToolTip(f"the {len(picks)} highest pixels of {emap.name!r}, 8 px or more apart")
        return row, col

    def redraw(self) -> None:
        """Plot the spectra at the pinned pixels.

        A click that keeps the same set of curves is drawn by blitting: the axes, ticks, labels and the
        legend's keys are a cached background (the y range is fixed from the cubes' values), and only the
        curves, the legend's SAM labels, the band marker and the zoom window are redrawn (see
        bench/spectrum_click.py). Anything else rebuilds the figure; :meth:`prebuild` does that before the
        first click, so the first click blits too.
        """
        t = time.perf_counter()
        plan = self._plan()
        self.curves = plan.curves if plan is not None else {}
        if plan is None:
            self.plot.reset()
            return
        self.plot.preview = False
        if self.plot.reusable(plan):
            self.plot.blit(plan)
        else:
            self.plot.build(plan, self._value_range(plan.low, plan.peak))
        self.mark_neighbours()
        self.last_draw_ms = (time.perf_counter() - t) * 1000
        where = ", ".join(f"(row {r}, col {c})" for r, c in self.pins)
        self.info.setText(f"{len(plan.curves)} curve(s) at {where}; drawn in {self.last_draw_ms:.0f} ms")

    def _plan(self) -> Plan | None:
        """What :meth:`redraw` draws for the pinned pixels (None: no curve)."""
        wl, curves, reference = self.collect()
        if not curves:
            return None
        n = len(next(iter(curves.values())))
        zoom = self.zoom.isChecked() and 1 <= self.zoom_lo.value() < self.zoom_hi.value() <= n
        zoom_bands = (self.zoom_lo.value(), self.zoom_hi.value()) if zoom else None
        ndim = self.viewer.dims.ndim
        band = int(self.viewer.dims.current_step[max(ndim - 3, 0)]) if ndim >= 3 else None
        box = f", {self.box.value()}×{self.box.value()} mean" if self.box.value() > 1 else ""
        # short, over the narrow main axes: several pins are told apart in the legend (``@(row,col)``)
        where = f"row {self.pins[0][0]}, col {self.pins[0][1]}" if len(self.pins) == 1 else f"{len(self.pins)} pixels"
        ref = reference if len(self.pins) == 1 else None
        ref_layer, box_k = self.reference_layer(), self.box.value()
        weights = click_weights(self.viewer.layers, ref_layer, self.pins)
        spreads = ensemble_spreads(self.viewer.layers, ref_layer, self.pins, box_k)
        layout = (tuple(curves), zoom_bands, ref, None if wl is None else tuple(wl), tuple(weights), tuple(spreads))
        peak = max(float(np.max(c)) for c in [*curves.values(), *(b.high for b in spreads.values())])
        low = min(float(np.min(c)) for c in [*curves.values(), *(b.low for b in spreads.values())])
        return Plan(wl, curves, ref, zoom_bands, band, where + box, weights, spreads, layout, low, peak)

    def _prebuild_on_timer(self) -> None:
        self.prebuild()

    def prebuild(self, marks: bool = True) -> bool:
        """Build the plot the first click will show before it comes: figure, axes, legend and fonts, the cached
        background and the LR-neighbour markers' layer, for a pixel at the centre of the reference cube, kept off
        the screen (:meth:`.ThemedCanvas.blank`) until a click blits its own curves onto it. Runs when the dock
        opens and, with nothing clicked, shortly after layers come and go (:meth:`_schedule_prebuild`).
        ``marks=False`` leaves the markers' layer for later (a new layer is the slow part: ≈ 0.5 s with a run's
        layers open). Returns whether it built a plot (not when one is already built for the open cubes)."""
        if self.pins:
            return False
        ref = self.reference_layer()
        if ref is None:
            if self.plot.layout is not None:
                self.plot.reset()
            return False
        h, w = ref.data.shape[-2:]
        self.pins = [(h // 2, w // 2)]
        try:
            plan = self._plan()
            built = False
            if plan is not None and not (plan.layout == self.plot.layout and self.plot.has_background):
                built = True
                self.plot.preview = True
                self.plot.build(plan, self._value_range(plan.low, plan.peak))
            if marks:
                ensure_marks(self.viewer, self.reference_layer(), self.pins)
        finally:
            self.pins, self.curves = [], {}
        return built

    def _schedule_prebuild(self, event=None) -> None:
        """Prebuild once layers stop changing (a fusion run adds dozens), if nothing is clicked."""
        try:
            if not self.pins:
                self._prebuild_timer.start()
        except RuntimeError:  # the dock is gone (its Qt object deleted); the viewer's events outlive it
            pass

    def _value_range(self, low: float, peak: float) -> tuple[float, float]:
        """A y range kept while later clicks fit in it (so they reuse the cached axes): from
        min(0, lowest value) to the higher of this click's peak and the cubes' 99th percentile,
        plus 10 %, and below 0 by the same margin when a spectrum dips under 0 (noise), so the next
        slightly deeper dip still fits. A click whose spectra leave it rebuilds the axes with a new range."""
        ref = self.reference_layer()
        if ref is None:
            typical = peak
        elif ref.metadata.get("lazy"):  # on disk: never read the whole cube for a y range
            typical = float(ref.contrast_limits[1])
        else:
            typical = float(np.percentile(np.asarray(ref.data)[:, ::4, ::4], 99))
        hi = max(peak, typical)
        lo = min(0.0, low)
        margin = 0.1 * (hi - lo or 1.0)
        return (lo - margin if lo < 0 else 0.0), hi + margin

    def clear(self) -> None:
        self.pins = []
        self.curves = {}
        self.plot.reset()
        self.info.setText("click a pixel in the image")
        self._schedule_prebuild()  # the next first click is as quick as the first

    def export_csv(self, path: str | None = None) -> str | None:
        from ..viz.spectra import spectra_csv

        if not self.curves:
            return None
        path = output_path(self, path, "Export spectra", "spectra.csv", "CSV (*.csv)")
        if path is None:
            return None
        from napari.utils.notifications import show_error

        from ..io.atomic import WriteError, atomic_write_text

        wl, _, _ = self.collect()
        try:  # atomic: a failure (disk full, ...) leaves an existing file as it was
            atomic_write_text(path, spectra_csv(wl, self.curves))
        except WriteError as exc:
            show_error(str(exc))
            return None
        return path
