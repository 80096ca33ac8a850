"""The "Fusion" dock: simulate or take a real pair, fuse with checkpoints, add composites, error maps, metrics.

The layers a run adds come from :func:`.layers.run_layer_data`; *Compare schemes* is :mod:`.compare_layout`;
what the choices mean to the engine is :mod:`.fusion_choices`; the real-pair views are :mod:`.real_pair`.
"""

from __future__ import annotations

import numpy as np
from qtpy.QtWidgets import QComboBox, QGroupBox, QLabel, QProgressBar, QVBoxLayout, QWidget

from ..data.cube import CubeError
from ..fusion.types import PairInput
from . import compare_layout
from ._common import button_row, device_choices, is_gt_candidate, is_msi_candidate, warm_imports
from .forms import RememberedForm, layer_picker, offset_choices, offset_value
from .fusion_choices import (
    COMPOSITES,
    FROM_FILE,
    MODES,
    PAIR_SRF,
    PHOTO_CHOICE,
    SIMULATE,
    TIPS,
    FusionJob,
    LayersReady,
    composite_options,
    done_text,
    fits,
    photo_layer,
    real_pair_job,
    run_job,
)
from .layers import add_layer_data, connect_band_label, next_run_id, run_layer_data
from .map_status import connect_map_status
from .metrics_table import MetricsTable
from .model_list import ModelList
from .real_pair import FitPanel
from .staged_layers import StagedLayers, add_quietly


class FusionWidget(QWidget):
    """Dock widget; see the plugin docs in the README for what each control does."""

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.worker = None
        self.failed = False  # the last run ended in an error
        self.shown: str | None = None  # the run id whose layers the last run added
        self.staged: StagedLayers | None = None  # the last run's layers, being added
        self._first: dict = {}  # the last run's layers added before its scores (the composites), by name
        self.last_run = None
        self.last_run_id: str | None = None
        self.last_source: str | None = None  # the layer the last run's pair came from
        self.fitted: tuple[str, object] | None = None  # (name in the list, model) last fitted to a pair
        self.running_job = None  # the running job (its cancel event)
        self.comparing = False
        connect_band_label(self.viewer)
        connect_map_status(self.viewer)
        lay = QVBoxLayout(self)
        lay.addWidget(self._input_box())
        torch_problem = self._models_box(lay)
        lay.addWidget(self._pictures_box())
        self.remembered = RememberedForm("fusion", [*self.input_form, *self.pictures_form])  # every choice
        self.remembered.restore()
        self._run_controls(lay, torch_problem)
        self._mode_changed()
        warm_imports()

    def _input_box(self) -> QGroupBox:
        """Input: simulate from a ground truth or a real pair, the layers, scale, responses, alignment; the panel
        of what was fitted from a real pair."""
        from magicgui.types import FileDialogMode
        from magicgui.widgets import CheckBox, ComboBox, Container, FileEdit, SpinBox

        box = QGroupBox("Input")
        v = QVBoxLayout(box)
        self.mode = ComboBox(name="mode", label="mode", choices=list(MODES))
        self.gt_combo = layer_picker(self.viewer, is_gt_candidate, "gt", "ground truth")
        self.lr_combo = layer_picker(self.viewer, is_gt_candidate, "lr_hsi", "LR-HSI")
        self.msi_combo = layer_picker(self.viewer, is_msi_candidate, "hr_msi", "HR-MSI")
        self.scale = SpinBox(name="scale", label="scale", value=4, min=2, max=32)
        self.srf = ComboBox(name="srf", label="spectral response", choices=["nikon_d700"])
        # advanced: which pixel of each r × r block the simulated LR-HSI keeps
        self.offset = ComboBox(name="offset", label="decimation offset", choices=offset_choices(self.scale),
                               tooltip=TIPS["offset"])
        self.scale.changed.connect(self.offset.reset_choices)
        # a real pair: the HR-MSI camera's response for the SRF projection, and its alignment
        self.pair_srf = ComboBox(name="pair_srf", label="HR-MSI response", choices=list(PAIR_SRF),
                                 tooltip=TIPS["pair_srf"])
        self.srf_file = FileEdit(name="srf_file", label="response CSV / camera JSON", mode=FileDialogMode.EXISTING_FILE,
                                 filter="*.csv *.json")
        self.align = CheckBox(name="align", text="align the HR-MSI to the LR-HSI (estimate its shift)", value=False)
        self.pair_srf.changed.connect(self._mode_changed)
        self.msi_combo.changed.connect(self._msi_changed)
        self.input_form = Container(widgets=[self.mode, self.gt_combo, self.lr_combo, self.msi_combo, self.scale,
                                             self.srf, self.offset, self.pair_srf, self.srf_file, self.align])
        self.mode.changed.connect(self._mode_changed)
        v.addWidget(self.input_form.native)
        self.fit_panel = FitPanel(self.viewer, self)  # shown once a camera or response was fitted from a pair
        self.srf_canvas, self.save_srf_btn = self.fit_panel.canvas, self.fit_panel.button
        v.addWidget(self.fit_panel)
        return box

    def _models_box(self, lay) -> str | None:
        """Models: the list to fuse with, Add checkpoint / Save model, the device; returns why torch is unusable,
        if it is (for the status line)."""
        box = QGroupBox("Models")
        v = QVBoxLayout(box)
        self.models = ModelList()
        v.addWidget(self.models)
        row, (_, self.save_model_btn) = button_row(("Add checkpoint…", self.models.browse),
                                                   ("Save model…", lambda: self.save_model()))
        self.save_model_btn.setEnabled(False)
        self.save_model_btn.setToolTip("save the model the last run fitted to its pair (a checkpoint: napari-inf3 "
                                       "fuse --model FILE, or add it back here with Add checkpoint…)")
        self.device = QComboBox()
        row.addWidget(QLabel("device"))
        row.addWidget(self.device)
        v.addLayout(row)
        lay.addWidget(box)
        devices, torch_problem = device_choices()  # and why torch is unusable, if it is (for the status line)
        for label, value in devices:
            self.device.addItem(label, value)
        return torch_problem

    def _pictures_box(self) -> QGroupBox:
        """Pictures: the composite's bands and whether to make the weight maps and scheme differences."""
        from magicgui.widgets import CheckBox, ComboBox, Container, LineEdit

        box = QGroupBox("Pictures")
        v = QVBoxLayout(box)
        self.composite = ComboBox(name="composite", label="composite", choices=list(COMPOSITES))
        self.wavelengths = LineEdit(name="wavelengths", label="R, G, B (nm)", value="650, 550, 450",
                                    tooltip=TIPS["wavelengths"])
        self.weight_maps = CheckBox(name="weight_maps", text="weight maps and scheme differences", value=False,
                                    tooltip=TIPS["weight_maps"])
        self.pictures_form = Container(widgets=[self.composite, self.wavelengths, self.weight_maps])
        v.addWidget(self.pictures_form.native)
        return box

    def _run_controls(self, lay, torch_problem: str | None) -> None:
        """Fuse / Cancel / Compare schemes, the progress bar, the status line and the metrics table."""
        row, (self.run_btn, self.cancel_btn, self.compare_btn) = button_row(
            ("Fuse", self.run), ("Cancel", self.cancel), ("Compare schemes", self.compare))
        self.cancel_btn.setEnabled(False)
        self.compare_btn.setEnabled(False)
        lay.addLayout(row)
        self.progress = QProgressBar()
        self.status = QLabel(torch_problem or "")
        self.status.setWordWrap(True)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)

        self.table = MetricsTable()
        lay.addWidget(self.table)
        lay.addLayout(button_row(("Copy table", self.table.copy), ("Export CSV…", lambda: self.export_csv()))[0])
        lay.addStretch(1)

    # ---- setup helpers -------------------------------------------------------------------
    def add_checkpoint(self, path: str, name: str | None = None) -> None:
        self.models.add_checkpoint(path, name)

    @property
    def simulate_mode(self) -> bool:
        return self.mode.value == SIMULATE

    def _mode_changed(self, value=None) -> None:
        sim = self.simulate_mode
        for w in (self.gt_combo, self.srf, self.offset, self.scale):
            w.enabled = sim
        for real in (self.lr_combo, self.msi_combo, self.pair_srf, self.align):
            real.enabled = not sim
        self.srf_file.visible = not sim and PAIR_SRF[self.pair_srf.value] in FROM_FILE

    def _msi_changed(self, layer=None) -> None:
        """An 8-bit RGB layer picked as the HR-MSI is a photograph: its camera is estimated, unless the user chose
        a response already (the Nikon default read a photo as linear: POOR, 12.7 dB below bicubic on superballs)."""
        if photo_layer(layer) and PAIR_SRF.get(self.pair_srf.value, "x") is None:
            self.pair_srf.value = PHOTO_CHOICE

    def selected_models(self) -> dict[str, str]:
        return self.models.selected()

    def composite_options(self) -> dict:
        return composite_options(self.composite.value, self.srf.value, self.wavelengths.value)

    # ---- running -------------------------------------------------------------------------
    def job(self) -> FusionJob:
        """What the engine needs, read from the controls (raises ValueError with a message)."""
        from ..fusion.types import SimulatedPair

        if self.simulate_mode:
            layer = self.gt_combo.value
            if layer is None:
                raise ValueError("choose a ground-truth cube layer (open a cube, or File ▸ Open Sample ▸ napari-inf3)")
            pair: PairInput = SimulatedPair(np.asarray(layer.data, np.float32), scale=self.scale.value,
                                            srf=self.srf.value, offset=offset_value(self.offset.value),
                                            wavelengths=layer.metadata.get("wavelengths"))
            return FusionJob(pair, device=self.device.currentData(), weights=bool(self.weight_maps.value),
                             source_layer=layer.name)
        return real_pair_job(self.lr_combo.value, self.msi_combo.value, align=bool(self.align.value),
                             response=self.pair_srf.value, response_file=self.srf_file.value,
                             device=self.device.currentData(), weights=bool(self.weight_maps.value))

    def run(self):
        """Start a fusion in a worker thread; returns the worker (tests wait on it)."""
        from napari.qt.threading import thread_worker
        from napari.utils.notifications import show_error

        try:
            todo, pictures = self.job(), self.composite_options()
        except (ValueError, CubeError) as exc:
            show_error(str(exc))
            return None
        models = self.selected_models()
        self.remembered.save()
        self.last_source, self.running_job = todo.source_layer, todo

        # napari's activity bar counts the yields; errors go to _on_error (a notification, not a traceback).
        # The layers' data is made in the worker (run_job): the GUI thread only adds the layers
        total = todo.steps(len(models), fits(models))

        @thread_worker(ignore_errors=True, progress={"total": total, "desc": "napari-inf3 fusion"})
        def work():
            return (yield from run_job(todo, models, pictures))

        self.worker, self.shown, self.failed = work(), None, False
        self.worker.yielded.connect(self._on_progress)
        self.worker.returned.connect(self._on_done)
        self.worker.errored.connect(self._on_error)
        self.worker.finished.connect(self._on_finished)
        self.run_btn.setEnabled(False)
        self.cancel_btn.setEnabled(True)
        self.status.setText("starting…")
        self.worker.start()
        return self.worker

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.quit()
            if self.running_job is not None:
                self.running_job.cancel.set()  # a fit to the pair stops too, not only the worker's loop
            self.status.setText("cancelling after the current step…")

    def _on_progress(self, step) -> None:
        if isinstance(step, LayersReady):
            self._show(step)
            return
        done, total, msg = step
        self.progress.setMaximum(total)
        self.progress.setValue(done)
        self.status.setText(msg)

    def _on_error(self, exc) -> None:
        from napari.utils.notifications import show_error

        show_error(f"fusion failed: {exc}")
        self.status.setText(f"failed: {exc}")
        self.failed = True
        self._discard_partial()

    def _on_finished(self) -> None:
        self.run_btn.setEnabled(True)
        self.cancel_btn.setEnabled(False)
        if self.worker is not None and self.worker.abort_requested:
            self._discard_partial()
            self.status.setText("cancelled; no layers were added" if self.shown is None else "cancelled before SSIM")
            self.progress.setValue(0)
        elif not self.failed:  # the step count is an estimate (a fit reports as it goes): a finished run is 100 %
            self.progress.setValue(self.progress.maximum())
        self.worker = None

    def _discard_partial(self) -> None:
        """A run that failed or was cancelled before its last layers: take its early composites away again."""
        if self.shown is None or (self.staged is not None and self.staged.run_id == self.shown):
            return
        for layer in self._first.values():
            if layer in self.viewer.layers:
                self.viewer.layers.remove(layer)
        self._first, self.shown = {}, None

    def _show(self, ready: LayersReady) -> None:
        """The composites first (before the scores), then the visible rest and the hidden layers a few per
        event-loop turn (staged_layers.py); the worker's SSIM waits until every layer is in."""
        from napari.utils.notifications import show_error

        def complete(layers: list) -> None:
            ready.shown.set()
            self._layers_complete(layers)

        try:
            if not ready.final:  # a result's composite, while the next model runs
                if self.shown != ready.run_id:
                    self._first = {}
                self._first.update({lyr.name: lyr for lyr in add_quietly(self.viewer, ready.layer_data)})
                self.shown = ready.run_id
                ready.shown.set()
                return
            self.staged = StagedLayers(self.viewer, ready.layer_data, complete, added=self._first,
                                       run_id=ready.run_id)
            self.staged.start()
        except (ValueError, IndexError) as exc:
            ready.shown.set()
            return show_error(f"could not show the fusion: {exc}")
        self.show_run(ready.run, ready.run_id)
        self.fill_table(ready.run)

    def _on_done(self, run) -> None:
        from napari.utils.notifications import show_warning

        if self.shown is None:
            return
        if self.staged is not None:
            self.staged.finish()  # a finished run has all its layers in
        self.fill_table(run)
        text, details, notes = done_text(run)
        self.status.setText(text)
        self.status.setToolTip(details)
        self.fit_panel.show_fit(run)
        for model in run.fitted.values():  # fitted this run: in the list for the session, and savable
            self.fitted = (self.models.add_fitted(model, self.last_source or "the pair"), model)
        self.save_model_btn.setEnabled(self.fitted is not None)
        for note in notes:
            show_warning(note)

    def save_model(self, path=None):
        """Write the model last fitted to a pair as a checkpoint (asks where, and before replacing a file);
        returns the path, or None."""
        from napari.utils.notifications import show_error, show_info

        from ..io.atomic import WriteError
        from ..models.checkpoint import save_checkpoint
        from ._common import output_path

        if self.fitted is None:
            return None
        name, model = self.fitted
        path = output_path(self, path, "Save the fitted model", f"{name.replace(' ', '_')}.pt",
                           "Checkpoints (*.pt)")
        if path is None:
            return None
        try:
            saved = save_checkpoint(model, path, meta=model.meta)
        except (WriteError, OSError) as exc:
            show_error(f"could not save the model: {exc}")
            return None
        show_info(f"saved {name} to {saved}")
        return saved

    def save_srf(self, path=None):
        """Write the camera (JSON) or response (CSV) fitted from the last real pair; returns the path, or None."""
        return self.fit_panel.save(path)

    def add_run_layers(self, run, source: str) -> str:
        """Add ``run``'s layers (:func:`.layers.run_layer_data`; ``source``: the layer it was made from) and
        make it the run *Compare schemes* lays out; returns the run id."""
        run_id = next_run_id()
        add_layer_data(self.viewer, run_layer_data(run, run_id, source, self.composite_options()))
        self.show_run(run, run_id)
        return run_id

    def _layers_complete(self, layers: list) -> None:
        """Every layer of the last run is in (the benchmark times this)."""

    def show_run(self, run, run_id: str) -> None:
        """Make ``run``, whose layers (tagged ``run_id``) are in the viewer, the last run: *Compare schemes*
        lays it out. The demo viewer adds a run's layers itself and calls this."""
        self.last_run, self.last_run_id, self.shown = run, run_id, run_id
        self.comparing = False
        self.fit_view()  # the new layers may not be where the view was (a real pair's LR layer is small)
        self.compare_btn.setText("Compare schemes")
        self.compare_btn.setEnabled(True)

    def compare(self) -> None:
        """Side by side (:func:`.compare_layout.side_by_side`): the last run's composites in one row, their
        error maps below, and with weight maps the weight entropy, winning neighbour and scheme-SAM rows.
        Calling it again puts everything back on top of each other."""
        if self.last_run_id is None:
            return
        if self.comparing:
            compare_layout.overlay(self.viewer, self.last_run_id)
        else:
            compare_layout.side_by_side(self.viewer, self.last_run, self.last_run_id)
        self.comparing = not self.comparing
        self.compare_btn.setText("Back to overlay" if self.comparing else "Compare schemes")
        self.fit_view()

    def fit_view(self) -> None:
        """Fit the view to the layers now, and once more when Qt has laid the window out: a dock that
        appears or grows in the same event-loop turn shrinks the canvas after the first fit."""
        from qtpy.QtCore import QTimer

        self.viewer.reset_view()
        viewer = self.viewer
        QTimer.singleShot(0, viewer.reset_view)
        QTimer.singleShot(100, viewer.reset_view)

    def fill_table(self, run) -> None:
        self.table.fill(run)

    def export_csv(self, path: str | None = None) -> str | None:
        return self.table.export_csv(path)
