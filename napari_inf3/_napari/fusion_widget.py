"""The "Fusion" dock: simulate or take a real pair, fuse with checkpoints, add composites, error maps, metrics."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QLabel,
    QListWidget,
    QProgressBar,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ._common import button_row, checkable_item, device_choices, is_gt_candidate, is_msi_candidate, output_path
from .canvas import ThemedCanvas
from .forms import RememberedForm, layer_picker, offset_choices, offset_value
from .layers import connect_band_label, cube_layer_kwargs, display_limits, inf3_tag

COMPOSITES = ("bands 31-20-10 (paper)", "true colour (SRF)", "three wavelengths (nm)")
MODES = ("simulate from ground truth", "real LR-HSI + HR-MSI")
#: The HR-MSI response choices of a real pair: label → what the pipeline's ``pair_srf`` gets.
PAIR_SRF = {"Nikon D700 (as trained)": None, "from file…": "file", "estimate from the pair": "estimate",
            "estimate the camera (a photo)": "camera", "camera from file…": "camera_file"}
_RUN_IDS = itertools.count(1)


def msi_array(layer) -> np.ndarray:
    """An HR-MSI layer's data as ``(bands, y, x)`` float32 (RGB layers are ``(y, x, 3)``)."""
    data = np.asarray(layer.data)
    if getattr(layer, "rgb", False):
        data = np.moveaxis(data[..., :3], -1, 0)
        if data.dtype == np.uint8:
            return data.astype(np.float32) / 255.0
    return data.astype(np.float32)


class FusionWidget(QWidget):
    """Dock widget; see the plugin docs in the README for what each control does."""

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.worker = None
        self.last_run = None
        self.last_run_id: str | None = None
        self.comparing = False
        connect_band_label(self.viewer)
        lay = QVBoxLayout(self)

        from magicgui.widgets import CheckBox, ComboBox, Container, FileEdit, LineEdit, SpinBox

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
                               tooltip="decimation offset: the LR-HSI keeps pixel (offset, offset) of each r×r block; "
                               "the paper's protocol keeps r // 2")
        self.scale.changed.connect(self.offset.reset_choices)
        # a real pair: the HR-MSI camera's response for the SRF projection, and its alignment
        self.pair_srf = ComboBox(name="pair_srf", label="HR-MSI response", choices=list(PAIR_SRF),
                                 tooltip="the response the SRF projection uses for a real pair: the Nikon D700 the "
                                 "checkpoints were trained with, a CSV (header channel,<nm>,...; a row per band), "
                                 "one fitted from the pair itself, or, for a photograph (PNG / JPEG, gamma-encoded), "
                                 "its whole camera: tone curve, gain, response (saved as JSON)")
        self.srf_file = FileEdit(name="srf_file", label="response CSV / camera JSON", mode="r", filter="*.csv *.json")
        self.align = CheckBox(name="align", text="align the HR-MSI to the LR-HSI (estimate its shift)", value=False)
        self.pair_srf.changed.connect(self._mode_changed)
        self.input_form = Container(widgets=[self.mode, self.gt_combo, self.lr_combo, self.msi_combo, self.scale,
                                             self.srf, self.offset, self.pair_srf, self.srf_file, self.align])
        self.mode.changed.connect(self._mode_changed)
        v.addWidget(self.input_form.native)
        self.srf_canvas = ThemedCanvas(self.viewer, self, figsize=(4, 2.4), toolbar=False)
        self.srf_canvas.setVisible(False)  # shown once a response has been estimated from a pair
        v.addWidget(self.srf_canvas)
        # the estimate as a CSV: for fusing later pairs of the same cameras, or for fine-tuning a model
        # to this camera in the Training dock (its "spectral response" from file)
        self.srf_fit, self.srf_fit_wavelengths = None, None
        self.camera = None  # a camera fitted from (or loaded for) the last real pair
        row, (self.save_srf_btn,) = button_row(("Save response as CSV…", lambda: self.save_srf()))
        self.save_srf_btn.setVisible(False)
        v.addLayout(row)
        lay.addWidget(box)

        box = QGroupBox("Models")
        v = QVBoxLayout(box)
        self.models = QListWidget()
        self.models.setMaximumHeight(110)
        v.addWidget(self.models)
        row, _ = button_row(("Add checkpoint…", self._browse_checkpoint))
        self.device = QComboBox()
        row.addWidget(QLabel("device"))
        row.addWidget(self.device)
        v.addLayout(row)
        lay.addWidget(box)
        self._fill_models()
        torch_problem = self._fill_devices()

        box = QGroupBox("Pictures")
        v = QVBoxLayout(box)
        self.composite = ComboBox(name="composite", label="composite", choices=list(COMPOSITES))
        self.wavelengths = LineEdit(name="wavelengths", label="R, G, B (nm)", value="650, 550, 450",
                                    tooltip="R, G, B wavelengths in nm for the 'three wavelengths' composite")
        self.weight_maps = CheckBox(
            name="weight_maps", text="weight maps and scheme differences", value=False,
            tooltip="per network: the entropy of its four neighbour weights (0 = one neighbour takes all, ln 4 = all "
            "equal) and the winning neighbour; per pair of networks: SAM and mean |a − b| between their cubes")
        self.pictures_form = Container(widgets=[self.composite, self.wavelengths, self.weight_maps])
        v.addWidget(self.pictures_form.native)
        lay.addWidget(box)
        self.remembered = RememberedForm("fusion", [self.mode, self.gt_combo, self.lr_combo, self.msi_combo,
                                                    self.scale, self.srf, self.offset, self.pair_srf, self.srf_file,
                                                    self.align, self.composite, self.wavelengths, self.weight_maps])
        self.remembered.restore()

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

        self.table = QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["method", "PSNR (dB)", "SAM (°)", "ERGAS", "SSIM"])
        self.table.setMinimumHeight(150)
        lay.addWidget(self.table)
        lay.addLayout(button_row(("Copy table", self.copy_table), ("Export CSV…", lambda: self.export_csv()))[0])
        lay.addStretch(1)
        self._mode_changed()

    # ---- setup helpers -------------------------------------------------------------------
    def _fill_models(self) -> None:
        from ..shipped import available

        for name in available("lite"):
            self.models.addItem(checkable_item(f"{name} (pretrained)", name, name))
        for name in available("paper"):  # 2.8 M parameters: ≈ 9 s a 512² scene on a 2-core CPU, so opt-in
            self.models.addItem(checkable_item(f"{name} (pretrained, paper preset)", f"paper:{name}",
                                               f"paper {name}", checked=False))
        self.models.addItem(checkable_item("SRF projection of bicubic (baseline, no learning)", "projection",
                                           "projection", checked=False))

    def add_checkpoint(self, path: str, name: str | None = None) -> None:
        name = name or Path(path).stem
        self.models.addItem(checkable_item(f"{name} ({Path(path).name})", str(path), name))

    def _browse_checkpoint(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "INFN checkpoint", "", "Checkpoints (*.pt *.pth);;All files (*)")
        if path:
            self.add_checkpoint(path)

    def _fill_devices(self) -> str | None:
        """Fill the device picker; returns why torch is unusable, if it is (for the status line)."""
        choices, problem = device_choices()
        for label, value in choices:
            self.device.addItem(label, value)
        return problem

    @property
    def simulate_mode(self) -> bool:
        return self.mode.value == MODES[0]

    def _mode_changed(self, value=None) -> None:
        sim = self.simulate_mode
        for w in (self.gt_combo, self.srf, self.offset, self.scale):
            w.enabled = sim
        for w in (self.lr_combo, self.msi_combo, self.pair_srf, self.align):
            w.enabled = not sim
        self.srf_file.visible = not sim and PAIR_SRF[self.pair_srf.value] in ("file", "camera_file")

    def selected_models(self) -> dict[str, str]:
        out = {}
        for i in range(self.models.count()):
            item = self.models.item(i)
            if item.checkState() == Qt.Checked:
                out[item.data(Qt.UserRole + 1)] = item.data(Qt.UserRole)
        return out

    def composite_options(self) -> dict:
        choice = COMPOSITES.index(self.composite.value)
        if choice == 1:
            return {"srf": self.srf.value}
        if choice == 2:
            try:
                wl = [float(v) for v in self.wavelengths.value.replace(";", ",").split(",")]
            except ValueError:
                raise ValueError(f"R, G, B wavelengths must be three numbers in nm, got {self.wavelengths.value!r}")
            if len(wl) != 3:
                raise ValueError(f"give three wavelengths (R, G, B) in nm, got {len(wl)}")
            return {"wavelengths_nm": wl}
        return {}

    # ---- running -------------------------------------------------------------------------
    def job_kwargs(self) -> dict:
        """What the engine needs, read from the controls (raises ValueError with a message)."""
        kw = {"device": self.device.currentData(), "scale": self.scale.value, "srf": self.srf.value,
              "weights": self.weight_maps.value}
        if self.simulate_mode:
            kw["offset"] = offset_value(self.offset.value)
            layer = self.gt_combo.value
            if layer is None:
                raise ValueError("choose a ground-truth cube layer (open a cube, or File ▸ Open Sample ▸ napari-inf3)")
            kw["gt"] = np.asarray(layer.data, np.float32)
            kw["wavelengths"] = layer.metadata.get("wavelengths")
            kw["source_layer"] = layer.name
        else:
            lr, msi = self.lr_combo.value, self.msi_combo.value
            if lr is None or msi is None:
                raise ValueError("choose an LR-HSI layer and an HR-MSI layer")
            kw["lr_hsi"] = np.asarray(lr.data, np.float32)
            kw["hr_msi"] = msi_array(msi)
            kw["wavelengths"] = lr.metadata.get("wavelengths")
            kw["source_layer"] = lr.name
            choice = PAIR_SRF[self.pair_srf.value]
            if choice in ("file", "camera_file"):
                path = Path(self.srf_file.value)
                if not path.is_file():
                    what = "response CSV (header channel,<nm>,...)" if choice == "file" else "camera JSON"
                    raise ValueError(f"choose the {what}, got {str(path)!r}")
                kw["pair_srf" if choice == "file" else "camera"] = str(path)
            elif choice == "camera":
                kw["camera"] = "estimate"
            else:
                kw["pair_srf"] = choice
            kw["align"] = bool(self.align.value)
        return kw

    def run(self):
        """Start a fusion in a worker thread; returns the worker (tests wait on it)."""
        from napari.qt.threading import thread_worker
        from napari.utils.notifications import show_error

        from ..pipeline import iter_fusion_run

        try:
            kw = self.job_kwargs()
            self.composite_options()
        except ValueError as exc:
            show_error(str(exc))
            return None
        models = self.selected_models()
        source = kw.pop("source_layer")
        self.remembered.save()

        # napari's activity progress bar counts the generator's yields; errors go to our errored
        # handler (a notification), not to a traceback dialog
        # one yield per model, bicubic and scoring, and one before a real pair's alignment / response fit
        steps = len(models) + 2 + int(bool(kw.get("align")) or "estimate" in (kw.get("pair_srf"), kw.get("camera")))

        @thread_worker(ignore_errors=True, progress={"total": steps, "desc": "napari-inf3 fusion"})
        def job():
            return (yield from iter_fusion_run(models, **kw))

        self.worker = job()
        self.worker.yielded.connect(self._on_progress)
        self.worker.returned.connect(lambda run: self._on_done(run, source))
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
            self.status.setText("cancelling after the current step…")

    def _on_progress(self, step) -> None:
        done, total, msg = step
        self.progress.setMaximum(total)
        self.progress.setValue(done)
        self.status.setText(msg)

    def _on_error(self, exc) -> None:
        from napari.utils.notifications import show_error

        show_error(f"fusion failed: {exc}")
        self.status.setText(f"failed: {exc}")

    def _on_finished(self) -> None:
        self.run_btn.setEnabled(True)
        self.cancel_btn.setEnabled(False)
        if self.worker is not None and self.worker.abort_requested:
            self.status.setText("cancelled; no layers were added")
            self.progress.setValue(0)
        self.worker = None

    def _on_done(self, run, source: str) -> None:
        from napari.utils.notifications import show_error

        try:
            self.add_run_layers(run, source)
        except (ValueError, IndexError) as exc:
            show_error(f"could not show the fusion: {exc}")
            return
        self.fill_table(run)
        times = ", ".join(f"{k} {v:.1f} s" for k, v in run.seconds.items() if k != "bicubic")
        text = f"done ({times})" + (f" on {next(iter(run.devices.values()))}" if run.devices else "")
        if run.shift is not None:
            text += f"; HR-MSI moved back by (dy, dx) = ({run.shift[0]:+.2f}, {run.shift[1]:+.2f}) HR px"
        from .real_pair import findings_text

        gate, details = findings_text(run)
        self.status.setText(text + (f"\n{gate}" if gate else ""))
        self.status.setToolTip(details)
        self.show_srf_fit(run)
        notes = list(run.notes) + [f"{f.level}: {f.message}" for f in run.findings if f.level != "ok"]
        if notes:
            from napari.utils.notifications import show_warning

            for note in dict.fromkeys(notes):
                show_warning(note)

    def show_srf_fit(self, run) -> None:
        """Plot a response estimated from the pair beside the Nikon D700's, in nm, with the fit residual."""
        from .real_pair import fitted_camera, plot_camera

        fit, self.camera = run.srf_fit, fitted_camera(run)
        self.srf_canvas.setVisible(fit is not None or self.camera is not None)
        self.save_srf_btn.setVisible(fit is not None or self.camera is not None)
        self.save_srf_btn.setText("Save camera as JSON…" if self.camera is not None else "Save response as CSV…")
        self.srf_fit = fit
        if self.camera is not None:
            plot_camera(self.srf_canvas.figure, self.camera, run.wavelengths)
            self.srf_canvas.draw()
            return
        if fit is None:
            return
        from ..plots import plot_srf
        from ..simulation import load_srf, srf_wavelengths

        bands = fit.srf.shape[1]
        wl = run.wavelengths if run.wavelengths is not None and len(run.wavelengths) == bands else None
        if wl is None and bands == 31:
            wl = srf_wavelengths()
        fig = self.srf_canvas.figure
        fig.clear()
        ax = fig.subplots()
        ref = load_srf("nikon_d700") if bands == 31 and fit.srf.shape[0] == 3 else None
        plot_srf(ax, fit.srf, wl if wl is not None else np.arange(bands), reference=ref, residual=fit.residual)
        if wl is None:
            ax.set_xlabel("band")
        ax.set_title(f"HR-MSI response from the pair (blur σ {fit.sigma:.2f} HR px)", fontsize=8)
        self.srf_canvas.draw()
        self.srf_fit_wavelengths = wl if wl is not None else np.arange(bands, dtype=float)

    def save_srf(self, path=None):
        """Write the response estimated from the last real pair as a CSV (the layout ``load_srf`` reads).

        Without ``path`` a save dialog asks (it confirms a replacement itself); with one, an existing
        file is replaced only after a question. Returns the path written, or None."""
        from napari.utils.notifications import show_error, show_info

        from ..simulation import write_srf_csv

        if self.camera is not None:
            return self.save_camera(path)
        if self.srf_fit is None:
            show_error("no response has been estimated yet: fuse a real pair with 'estimate from the pair'")
            return None
        path = output_path(self, path, "Save the estimated response", "hr_msi_response.csv", "CSV (*.csv)")
        if path is None:
            return None
        try:
            out = write_srf_csv(path, self.srf_fit.srf, self.srf_fit_wavelengths)
        except OSError as exc:
            show_error(f"{path}: cannot write the response: {exc}")
            return None
        show_info(f"response saved to {out}")
        return out

    def save_camera(self, path=None):
        """Write the camera fitted from the last real pair as JSON (``CameraFit.load`` and the Training
        dock read it back); asks before replacing a file. Returns the path written, or None."""
        from napari.utils.notifications import show_error, show_info

        from ..cube import CubeError

        path = output_path(self, path, "Save the camera", "hr_msi_camera.json", "camera JSON (*.json)")
        if path is None:
            return None
        try:
            out = self.camera.save(path, overwrite=True)  # output_path asked already
        except CubeError as exc:
            show_error(str(exc))
            return None
        show_info(f"camera saved to {out}")
        return out

    def _add_weight_layers(self, run, run_id: str) -> None:
        """Weight entropy and winning-neighbour layers per network (one scale), and the pairwise
        scheme-difference maps (SAM and |a − b|, one scale each)."""
        from ..compare import LN4, NEIGHBOURS
        from ..render import ENTROPY_CMAP, NEIGHBOUR_COLOR_NAMES, NEIGHBOUR_COLORS, colorize_winner

        v, tag = self.viewer, f"[{run_id}]"
        legend = ", ".join(f"{n} {c}" for n, c in zip(NEIGHBOURS, NEIGHBOUR_COLOR_NAMES))
        ent, win = run.weight_maps()
        for name in run.weights:
            meta = {"inf3": {"role": "weight_entropy", "method": name, "run": run_id}}
            v.add_image(ent[name], name=f"weight entropy {name} {tag}", colormap=ENTROPY_CMAP,
                        contrast_limits=(0.0, LN4), visible=False, metadata=meta)
            v.add_image(colorize_winner(win[name]), rgb=True, name=f"winning neighbour {name} ({legend}) {tag}",
                        visible=False, metadata={"inf3": {"role": "winning_neighbour", "method": name, "run": run_id},
                                                 "legend": dict(zip(NEIGHBOURS, NEIGHBOUR_COLORS))})
        if len(run.weights) >= 2:
            sams, smax, mads, mmax = run.scheme_differences()
            for pair in sams:
                v.add_image(sams[pair], name=f"SAM° {pair} {tag}", colormap="jet", contrast_limits=(0.0, smax),
                            visible=False, metadata={"inf3": {"role": "scheme_sam", "method": pair, "run": run_id}})
                v.add_image(mads[pair], name=f"|a − b| {pair} {tag}", colormap="jet", contrast_limits=(0.0, mmax),
                            visible=False, metadata={"inf3": {"role": "scheme_mad", "method": pair, "run": run_id}})

    def add_run_layers(self, run, source: str) -> str:
        """Add fused cubes, composites, error and SAM maps of ``run``; returns the run id."""
        run_id = f"run {next(_RUN_IDS)}"
        wl = run.wavelengths
        v = self.viewer
        tag = f"[{run_id}]"
        # each LR pixel over the HR pixel it was taken from (the block's centre for a real pair)
        o = (run.scale - 1) / 2 if run.offset is None else run.offset
        v.add_image(run.lr_hsi, scale=(1, run.scale, run.scale), translate=(0, o, o),
                    visible=False, **cube_layer_kwargs(f"LR-HSI {tag}", wl, "lr", run=run_id,
                                                       extra={"decimation_offset": run.offset}))
        limits = display_limits(run.reference)  # one contrast for every fused cube of the run
        for name, cube in run.fused.items():
            role = "bicubic" if name == "bicubic" else "fused"
            extra = {"source_layer": source}
            if name in run.weights:  # the Spectrum inspector reads a click's four weights and neighbours from here
                extra["neighbour_weights"] = run.weights[name]
                extra["lr_shape"] = tuple(run.lr_hsi.shape[1:])
                extra["scale"] = int(round(run.scale))
            kw = cube_layer_kwargs(f"{name} {tag}", wl, role, name, run_id, extra=extra)
            v.add_image(cube, contrast_limits=limits, visible=False, **kw)
        comps = run.composites(**self.composite_options())
        for name, rgb in comps.items():
            v.add_image(rgb, rgb=True, name=f"composite {name} {tag}", visible=name != "GT",
                        metadata={"inf3": {"role": "composite", "method": name, "run": run_id}})
        if run.gt is not None:
            errs, emax = run.error_maps()
            sams, smax = run.sam_maps()
            for name in run.fused:
                v.add_image(errs[name], name=f"|error| {name} {tag}", colormap="jet", contrast_limits=(0.0, emax),
                            visible=False, metadata={"inf3": {"role": "error", "method": name, "run": run_id}})
                v.add_image(sams[name], name=f"SAM° {name} {tag}", colormap="jet", contrast_limits=(0.0, smax),
                            visible=False, metadata={"inf3": {"role": "sam", "method": name, "run": run_id}})
        if run.gt is None:
            from .real_pair import add_camera_layers

            add_camera_layers(v, run, run_id)
        if len(run.weights) >= 1:
            self._add_weight_layers(run, run_id)
        self.last_run, self.last_run_id = run, run_id
        self.comparing = False
        self.fit_view()  # the new layers may not be where the view was (a real pair's LR layer is small)
        self.compare_btn.setText("Compare schemes")
        self.compare_btn.setEnabled(True)
        return run_id

    #: What *Compare schemes* lays out, one row each (rows a run does not have are left out).
    COMPARE_ROWS = ("composite", "error", "weight_entropy", "winning_neighbour", "scheme_sam")

    def compare(self) -> None:
        """Side by side: the last run's composites in one row, their error maps below (shared scale), and
        with weight maps the weight entropy, winning neighbour and pairwise scheme-SAM rows.

        Layers are laid out with ``translate`` (not grid mode, which would give hidden layers
        cells too), so clicks still map to pixels through ``world_to_data``. Calling it again
        puts everything back on top of each other.
        """
        if self.last_run_id is None:
            return
        if self.comparing:
            for layer in self.viewer.layers:
                t = inf3_tag(layer)
                if t.get("run") == self.last_run_id and t.get("role") in self.COMPARE_ROWS:
                    layer.translate = (0,) * layer.ndim
                    layer.visible = t["role"] == "composite" and t.get("method") != "GT"
            label_layer = f"scheme labels [{self.last_run_id}]"
            if label_layer in self.viewer.layers:
                self.viewer.layers.remove(label_layer)
            self.comparing = False
            self.compare_btn.setText("Compare schemes")
            self.fit_view()
            return
        h, w = self.last_run.hr_msi.shape[1:]
        gap = max(4, w // 20)
        columns = (["GT"] if self.last_run.gt is not None else []) + list(self.last_run.fused)
        mine = [lyr for lyr in self.viewer.layers
                if inf3_tag(lyr).get("run") == self.last_run_id and inf3_tag(lyr).get("role") in self.COMPARE_ROWS]
        rows = [r for r in self.COMPARE_ROWS if any(inf3_tag(lyr)["role"] == r for lyr in mine)]
        pairs = [inf3_tag(lyr)["method"] for lyr in mine if inf3_tag(lyr)["role"] == "scheme_sam"]
        first_net = min((columns.index(m) for m in self.last_run.weights), default=1)
        for layer in self.viewer.layers:
            layer.visible = False
        places, texts = [], list(columns)  # PSNR etc. are in the table: long labels would overlap
        for i in range(len(columns)):
            places.append((-gap / 2, i * (w + gap)))
        for layer in mine:
            t = inf3_tag(layer)
            row = rows.index(t["role"])
            col = first_net + pairs.index(t["method"]) if t["role"] == "scheme_sam" else columns.index(t["method"])
            layer.translate = (row * (h + gap), col * (w + gap))
            layer.visible = True
        if pairs:  # the pair maps' columns are not the methods': label them where they are
            row = rows.index("scheme_sam")
            for k, pair in enumerate(pairs):
                places.append((row * (h + gap) - gap / 2, (first_net + k) * (w + gap)))
                texts.append(pair.replace(" vs ", "–"))  # short: long labels run into the next cell
        self.viewer.add_points(
            places, name=f"scheme labels [{self.last_run_id}]",
            size=0.1, face_color="transparent", border_width=0,
            text={"string": texts, "color": "white", "anchor": "lower_left", "size": 10},
            metadata={"inf3": {"role": "labels", "run": self.last_run_id}},
        )
        self.comparing = True
        self.compare_btn.setText("Back to overlay")
        self.fit_view()

    def fit_view(self) -> None:
        """Fit the view to the layers now, and once more when Qt has laid the window out: a dock that
        appears or grows in the same event-loop turn shrinks the canvas after the first fit."""
        from qtpy.QtCore import QTimer

        self.viewer.reset_view()
        viewer = self.viewer
        QTimer.singleShot(0, viewer.reset_view)
        QTimer.singleShot(100, viewer.reset_view)

    # ---- metrics table -------------------------------------------------------------------
    def fill_table(self, run) -> None:
        from ..metrics import METRICS

        self.table.setRowCount(0)
        if not run.scores:
            if run.pair_scores:  # a real pair: what can be measured on the pair itself, bicubic included
                from .real_pair import fill_pair_table

                fill_pair_table(self.table, run)
            return
        self.table.setColumnCount(5)
        self.table.setHorizontalHeaderLabels(["method", "PSNR (dB)", "SAM (°)", "ERGAS", "SSIM"])
        for name, s in run.scores.items():
            r = self.table.rowCount()
            self.table.insertRow(r)
            self.table.setItem(r, 0, QTableWidgetItem(name))
            for c, k in enumerate(METRICS, start=1):
                self.table.setItem(r, c, QTableWidgetItem(f"{s[k]:.4f}" if k == "ssim" else f"{s[k]:.3f}"))
        self.table.resizeColumnsToContents()

    def table_text(self, sep: str = "\t") -> str:
        rows = [sep.join(self.table.horizontalHeaderItem(c).text() for c in range(self.table.columnCount()))]
        for r in range(self.table.rowCount()):
            rows.append(sep.join(self.table.item(r, c).text() for c in range(self.table.columnCount())))
        return "\n".join(rows) + "\n"

    def copy_table(self) -> None:
        QApplication.clipboard().setText(self.table_text())

    def export_csv(self, path: str | None = None) -> str | None:
        path = output_path(self, path, "Export metrics", "metrics.csv", "CSV (*.csv)")
        if path is None:
            return None
        from ..io.atomic import atomic_write_text  # atomic: a failure leaves an existing file as it was

        atomic_write_text(path, self.table_text(sep=","))
        return path
