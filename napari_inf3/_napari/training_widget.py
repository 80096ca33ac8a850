"""The "Training" dock: train INFN from layers or folders with a live loss curve and validation PSNR."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ._common import LayerCombo, button_row, checkable_item, confirm_overwrite, is_gt_candidate
from .canvas import ThemedCanvas

REDRAW_SECONDS = 0.5


class TrainingWidget(QWidget):
    """Pick data and settings, Start / Pause / Stop; the engine's training generator runs in a worker."""

    def __init__(self, napari_viewer):
        super().__init__()
        self.viewer = napari_viewer
        self.worker = None
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.val: list[tuple[int, float]] = []
        self.total_steps = 0
        self.started = 0.0
        self._last_draw = 0.0
        self.last_checkpoint: str | None = None
        self._stop_requested = False
        lay = QVBoxLayout(self)

        self.data = QListWidget()
        self.data.setMaximumHeight(100)
        self.data.setToolTip("checked layers and folders are the training scenes")
        lay.addWidget(QLabel("training data (cube layers and folders of scenes)"))
        lay.addWidget(self.data)
        lay.addLayout(button_row(("Add folder…", self._browse_folder), ("Refresh layers", self.refresh_layers))[0])
        self.viewer.layers.events.inserted.connect(self.refresh_layers)
        self.viewer.layers.events.removed.connect(self.refresh_layers)

        form = QFormLayout()
        self.val_combo = LayerCombo(self.viewer, is_gt_candidate, allow_none=True)
        self.scale = QSpinBox()
        self.scale.setRange(2, 16)
        self.scale.setValue(4)
        self.offset = QSpinBox()  # advanced: the simulation's decimation offset, stored in the checkpoint
        self.offset.setRange(-1, 15)
        self.offset.setSpecialValueText("r // 2 (paper)")
        self.offset.setValue(-1)
        self.offset.setToolTip("which pixel of each r×r block the simulated LR-HSI keeps; the paper's protocol "
                               "keeps r // 2")
        self.weighting = QComboBox()
        self.weighting.addItems(["cosine", "area", "net", "cosine_norm"])
        self.preset = QComboBox()
        self.preset.addItems(["lite", "paper"])
        self.consistency = QComboBox()
        self.consistency.addItem("SRF projection (ours)", "srf")
        self.consistency.addItem("none (paper)", "none")
        self.consistency.setToolTip("project the output onto the cubes the HR-MSI reproduces through the SRF: "
                                    "X̃ + P⁺(Y − P X̃); or leave it as the paper does")
        self.epochs = QSpinBox()
        self.epochs.setRange(1, 100000)
        self.epochs.setValue(10)
        self.per_epoch = QSpinBox()
        self.per_epoch.setRange(0, 10_000_000)
        self.per_epoch.setValue(512)
        self.per_epoch.setToolTip("patches per epoch; 0 = the whole patch grid")
        self.batch = QSpinBox()
        self.batch.setRange(1, 4096)
        self.batch.setValue(16)
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(6)
        self.lr.setRange(1e-6, 1.0)
        self.lr.setSingleStep(1e-4)
        self.lr.setValue(2e-4)  # 1e-3 switched the decoder off with the SRF projection (docs/METHOD.md)
        self.device = QComboBox()
        try:
            from ..device import available_devices

            devs = available_devices()
        except Exception:  # noqa: BLE001 - torch unusable: still show the dock
            devs = ["cpu"]
        self.device.addItem(f"auto ({devs[0]})", "auto")
        for d in devs:
            self.device.addItem(d, d)
        self.out = QLineEdit(str(Path.home() / "infn.pt"))
        out_btn = QPushButton("…")
        out_btn.clicked.connect(self._browse_out)
        out_row = QHBoxLayout()
        out_row.addWidget(self.out)
        out_row.addWidget(out_btn)
        self.resume = QLineEdit("")
        self.resume.setPlaceholderText("(optional) checkpoint to resume")
        form.addRow("validation", self.val_combo)
        form.addRow("scale", self.scale)
        form.addRow("decimation offset", self.offset)
        form.addRow("weighting", self.weighting)
        form.addRow("preset", self.preset)
        form.addRow("consistency", self.consistency)
        form.addRow("epochs", self.epochs)
        form.addRow("patches / epoch", self.per_epoch)
        form.addRow("batch size", self.batch)
        form.addRow("learning rate", self.lr)
        form.addRow("device", self.device)
        form.addRow("checkpoint", out_row)
        form.addRow("resume from", self.resume)
        lay.addLayout(form)

        row, (self.start_btn, self.pause_btn, self.stop_btn) = button_row(
            ("Start", lambda: self.start()), ("Pause", self.toggle_pause), ("Stop", self.stop))
        self.pause_btn.setEnabled(False)
        self.stop_btn.setEnabled(False)
        lay.addLayout(row)
        self.progress = QProgressBar()
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        self.canvas = ThemedCanvas(self.viewer, self, toolbar=False)
        lay.addWidget(self.canvas)
        self.refresh_layers()
        self.draw()
        try:  # closing the viewer mid-run stops the worker between steps (a checkpoint keeps the work)
            self.viewer.window._qt_window.destroyed.connect(self.stop)
        except AttributeError:
            pass

    # ---- data -------------------------------------------------------------------------------
    def refresh_layers(self, event=None) -> None:
        checked = {self.data.item(i).text(): self.data.item(i).checkState() for i in range(self.data.count())}
        folders = [self.data.item(i) for i in range(self.data.count()) if self.data.item(i).data(Qt.UserRole) == "folder"]
        folder_items = [(f.text(), f.data(Qt.UserRole + 1), f.checkState()) for f in folders]
        self.data.clear()
        for layer in self.viewer.layers:
            if is_gt_candidate(layer):
                text = f"layer: {layer.name}"
                self.data.addItem(checkable_item(text, "layer", layer.name, checked.get(text) == Qt.Checked))
        for text, path, state in folder_items:
            self.add_folder(path, state)

    def add_folder(self, path: str, state=Qt.Checked) -> None:
        self.data.addItem(checkable_item(f"folder: {path}", "folder", str(path), state == Qt.Checked))

    def set_layer_checked(self, name: str, checked: bool = True) -> None:
        for i in range(self.data.count()):
            item = self.data.item(i)
            if item.data(Qt.UserRole) == "layer" and item.data(Qt.UserRole + 1) == name:
                item.setCheckState(Qt.Checked if checked else Qt.Unchecked)

    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder of scenes (or one CAVE scene)")
        if path:
            self.add_folder(path)

    def _browse_out(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Checkpoint", self.out.text(), "Checkpoints (*.pt)")
        if path:
            self.out.setText(path)

    def scenes(self) -> list:
        from ..cli import _scene_list
        from ..cube import Cube

        out = []
        for i in range(self.data.count()):
            item = self.data.item(i)
            if item.checkState() != Qt.Checked:
                continue
            if item.data(Qt.UserRole) == "layer":
                layer = self.viewer.layers[item.data(Qt.UserRole + 1)]
                out.append(Cube(np.asarray(layer.data, np.float32), layer.metadata.get("wavelengths"), layer.name))
            else:
                out += _scene_list([item.data(Qt.UserRole + 1)])
        return out

    # ---- run ---------------------------------------------------------------------------------
    def start(self, confirm: bool = True):
        from napari.qt.threading import thread_worker
        from napari.utils.notifications import show_error

        from ..cube import Cube, CubeError
        from ..training import train

        try:
            scenes = self.scenes()
            if not scenes:
                raise ValueError("check at least one training layer or folder")
            if self.offset.value() >= self.scale.value():
                raise ValueError(f"the decimation offset must be below the scale ({self.scale.value()})")
            val_layer = self.val_combo.layer() if self.val_combo.currentText() != "(none)" else None
            val = [] if val_layer is None else [Cube(np.asarray(val_layer.data, np.float32), None, val_layer.name)]
        except (ValueError, CubeError) as exc:
            show_error(str(exc))
            return None
        out = Path(self.out.text()).expanduser()
        resume = self.resume.text().strip() or None
        if out.exists() and resume is None and confirm and not confirm_overwrite(self, out):
            return None
        kwargs = dict(
            val_scenes=val, weighting=self.weighting.currentText(), preset=self.preset.currentText(),
            consistency=self.consistency.currentData(), scale=self.scale.value(),
            offset=None if self.offset.value() < 0 else self.offset.value(), batch_size=self.batch.value(),
            lr=self.lr.value(), epochs=self.epochs.value(),
            patches_per_epoch=self.per_epoch.value() or None, device=self.device.currentData(), out=out, resume=resume,
            val_crop=256, overwrite=True,  # the user confirmed above
        )

        self._stop_requested = False
        running: dict = {}

        def close_engine():
            """Runs when napari quits the worker (viewer closing): the engine's generator writes a
            checkpoint as it closes. A plain function, not a method: the dock may be gone by then."""
            gen = running.pop("gen", None)
            if gen is not None:
                gen.close()

        @thread_worker(ignore_errors=True)  # errors go to our errored handler: a notification, no traceback dialog
        def job():
            gen = running["gen"] = train(scenes, **kwargs)
            for event in gen:
                yield event
                if self._stop_requested:
                    gen.close()  # the engine writes a checkpoint of the weights so far
                    return

        self.steps, self.losses, self.val = [], [], []
        self.started = time.perf_counter()
        self.worker = job()
        self.worker.yielded.connect(self.on_event)
        self.worker.errored.connect(self._on_error)
        self.worker.aborted.connect(close_engine)
        self.worker.finished.connect(self._on_finished)
        self.start_btn.setEnabled(False)
        self.pause_btn.setEnabled(True)
        self.stop_btn.setEnabled(True)
        self.status.setText("loading scenes…")
        self.worker.start()
        return self.worker

    def toggle_pause(self) -> None:
        if self.worker is None:
            return
        if self.worker.is_paused:
            self.worker.resume()
            self.pause_btn.setText("Pause")
        else:
            self.worker.pause()
            self.pause_btn.setText("Resume")
            self.status.setText("paused")

    def stop(self) -> None:
        if self.worker is not None:
            self._stop_requested = True
            if self.worker.is_paused:
                self.worker.resume()
            self.status.setText("stopping after this step; the checkpoint keeps the work so far")

    def on_event(self, ev) -> None:
        self.total_steps = ev.total_steps
        self.progress.setMaximum(max(ev.total_steps, 1))
        self.progress.setValue(ev.step)
        if ev.kind == "step":
            self.steps.append(ev.step)
            self.losses.append(ev.loss)
            rate = ev.step / max(time.perf_counter() - self.started, 1e-6)
            eta = (ev.total_steps - ev.step) / max(rate, 1e-9)
            self.status.setText(f"epoch {ev.epoch + 1}, step {ev.step}/{ev.total_steps}, loss {ev.loss:.5f}, "
                                f"ETA {eta / 60:.1f} min")
        elif ev.kind == "epoch":
            if ev.val_psnr is not None:
                self.val.append((ev.step, ev.val_psnr))
            self.last_checkpoint = ev.checkpoint
        elif ev.kind == "done":
            self.last_checkpoint = ev.checkpoint
            self.status.setText(f"done: {ev.step} steps, checkpoint {ev.checkpoint}")
        if ev.kind != "step" or time.perf_counter() - self._last_draw > REDRAW_SECONDS:
            self.draw()

    def draw(self) -> None:
        self._last_draw = time.perf_counter()
        fig = self.canvas.figure
        fig.clear()
        ax = fig.subplots()
        if self.losses:
            ax.plot(self.steps, self.losses, color="tab:blue", lw=1, label="L1 loss")
            ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("L1 loss")
        if self.val:
            ax2 = ax.twinx()
            s, p = zip(*self.val)
            ax2.plot(s, p, "o-", color="tab:red", label="validation PSNR")
            ax2.set_ylabel("validation PSNR (dB)")
            ax2.yaxis.label.set_color("tab:red")
        self.canvas.draw()

    def _on_error(self, exc) -> None:
        from napari.utils.notifications import show_error

        show_error(f"training stopped: {exc}")
        self.status.setText(f"stopped with an error: {exc}")

    def _on_finished(self) -> None:
        self.start_btn.setEnabled(True)
        self.pause_btn.setEnabled(False)
        self.pause_btn.setText("Pause")
        self.stop_btn.setEnabled(False)
        self.worker = None
