"""The "Training" dock: train INFN from layers or folders with a live loss curve and validation PSNR."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QFileDialog, QLabel, QListWidget, QProgressBar, QVBoxLayout, QWidget

from ..viz.plots import smoothed
from ._common import (
    KIND_ROLE,
    VALUE_ROLE,
    button_row,
    checkable_item,
    confirm_overwrite,
    device_choices,
    is_checked,
    is_gt_candidate,
    list_items,
)
from .ablation_form import AblationSection
from .canvas import ThemedCanvas
from .forms import RememberedForm, config_spin, layer_picker, offset_choices, offset_value
from .training_choices import CAMERA, FILE, NEW, describe_start, init_choices, picked_file, profile_defaults

if TYPE_CHECKING:
    from ..training.config import TrainConfig

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
        self._stop = {"requested": False}
        self.activity = None  # napari.utils.progress of the running job
        lay = QVBoxLayout(self)
        self._build_data(lay)
        self._build_form(lay)
        self._build_controls(lay)
        self.refresh_layers()
        self.draw()
        # closing the viewer (or the dock) mid-run stops the worker between steps; a checkpoint keeps
        # the work. A plain closure, not a bound method: the dock is being destroyed when it runs.
        stop_flag = self._stop
        self.destroyed.connect(lambda *_: stop_flag.update(requested=True))

    def _build_data(self, lay) -> None:
        """The training scenes: layers and folders, ticked."""
        self.data = QListWidget()
        self.data.setMaximumHeight(100)
        self.data.setToolTip("checked layers and folders are the training scenes")
        lay.addWidget(QLabel("training data (cube layers and folders of scenes)"))
        lay.addWidget(self.data)
        lay.addLayout(button_row(("Add folder…", self._browse_folder), ("Refresh layers", self.refresh_layers))[0])
        self.viewer.layers.events.inserted.connect(self.refresh_layers)
        self.viewer.layers.events.removed.connect(self.refresh_layers)

    def _build_form(self, lay) -> None:
        """Validation, the pair's simulation, the model, the schedule, device and output; remembered between
        sessions; the ablation switches folded below."""
        from magicgui.types import FileDialogMode
        from magicgui.widgets import ComboBox, Container, FileEdit, LineEdit

        # validation: the first scene layer open (if any) serves unless the user picks none
        self.val_combo = layer_picker(self.viewer, is_gt_candidate, "validation", "validation", nullable=True,
                                      tooltip="validation PSNR after every epoch, on a centre crop of this layer")
        devices = device_choices()[0]  # asked once: the profile and the device picker read the same list
        defaults = profile_defaults(devices)
        self.scale = config_spin(defaults, "scale", "scale")
        self.offset = ComboBox(name="offset", label="decimation offset", choices=offset_choices(self.scale),
                               tooltip="which pixel of each r×r block the simulated LR-HSI keeps; the paper's "
                               "protocol keeps r // 2")
        self.scale.changed.connect(self.offset.reset_choices)
        self._build_sources()
        self.weighting = ComboBox(name="weighting", label="weighting", choices=["cosine", "area", "net", "cosine_norm"])
        self.preset = ComboBox(name="preset", label="preset", choices=["lite", "paper"])
        self.consistency = ComboBox(
            name="consistency", label="consistency",
            choices=[("SRF projection (ours)", "srf"), ("none (paper)", "none")],
            tooltip="project the output onto the cubes the HR-MSI reproduces through the SRF: X̃ + P⁺(Y − P X̃); "
            "or leave it as the paper does")
        # values, ranges and steps from TrainConfig (its 'cpu' profile when no GPU is there)
        self.epochs = config_spin(defaults, "epochs", "epochs")
        self.per_epoch = config_spin(defaults, "patches_per_epoch", "patches / epoch",
                                     tooltip="patches per epoch; 0 = the whole patch grid")
        self.batch = config_spin(defaults, "batch_size", "batch size")
        self.lr = config_spin(defaults, "lr", "learning rate")
        self.device = ComboBox(name="device", label="device", choices=devices)
        self.out = FileEdit(name="out", label="checkpoint", mode=FileDialogMode.OPTIONAL_FILE, filter="*.pt",
                            value=Path.home() / "infn.pt")
        self.resume = LineEdit(name="resume", label="resume from", value="",
                               tooltip="(optional) a checkpoint to continue from")
        self.resume.changed.connect(self._ablations_apply)
        self.ablations = AblationSection()  # a new network's ablation switches, collapsed
        self.form = Container(widgets=[self.val_combo, self.scale, self.offset, self.init, self.init_file,
                                       self.init_info, self.srf, self.srf_file, self.weighting, self.preset,
                                       self.consistency, self.epochs, self.per_epoch, self.batch, self.lr,
                                       self.device, self.out, self.resume])
        self.remembered = RememberedForm("training", [self.val_combo, self.scale, self.offset, self.init,
                                                      self.srf, self.srf_file, self.weighting, self.preset,
                                                      self.consistency, self.epochs, self.per_epoch, self.batch,
                                                      self.lr, self.device, self.out, *self.ablations.fields])
        self.remembered.restore()
        self._init_changed()
        if self.ablations.options(self.scale.value):  # a remembered variant is in view, not folded away
            self.ablations.set_expanded(True)
        lay.addWidget(self.form.native)
        lay.addWidget(self.ablations.widget)

    def _build_sources(self) -> None:
        """Where the weights start (new, shipped, a file) and which response the training pairs are made with."""
        from magicgui.types import FileDialogMode
        from magicgui.widgets import ComboBox, FileEdit, Label

        self.init = ComboBox(name="init", label="start from", choices=init_choices(),
                             tooltip="a new network, or fine-tune trained weights (a shipped model or a checkpoint): "
                             "their weighting and preset are kept, the optimiser and schedule start afresh")
        self.init_file = FileEdit(name="init_file", label="init checkpoint", mode=FileDialogMode.EXISTING_FILE,
                                  filter="*.pt", value=None,
                                  visible=False)
        self.init_info = Label(name="init_info", label="model", value="", visible=False)
        self.init.changed.connect(self._init_changed)
        self.init_file.changed.connect(self._init_changed)
        self.srf = ComboBox(name="srf", label="HR-MSI response", choices=[("Nikon D700", "nikon_d700"),
                                                                         ("from CSV file…", FILE),
                                                                         ("camera from JSON file…", CAMERA)],
                            tooltip="the camera response the training pairs are simulated with (and the SRF "
                            "projection uses); a CSV such as the one the Fusion dock saves from a real pair, or a "
                            "photo's whole camera (JSON from the Fusion dock): training HR-MSIs then also go "
                            "through its tone curve, clipping and 8-bit storage")
        self.srf_file = FileEdit(name="srf_file", label="response CSV / camera JSON",
                                 mode=FileDialogMode.EXISTING_FILE, filter="*.csv *.json",
                                 value=None, visible=False)
        self.srf.changed.connect(self._init_changed)

    def _build_controls(self, lay) -> None:
        """Start / Pause / Stop, the progress bar, the status line and the loss curve."""
        row, (self.start_btn, self.pause_btn, self.stop_btn) = button_row(
            ("Start", lambda: self.start()), ("Pause", self.toggle_pause), ("Stop", self.stop))
        self.pause_btn.setEnabled(False)
        self.stop_btn.setEnabled(False)
        lay.addLayout(row)
        self.progress = QProgressBar()
        self.val_note = ""  # why this run has no validation, when it has none
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        self.canvas = ThemedCanvas(self.viewer, self, toolbar=False)
        lay.addWidget(self.canvas)

    def _init_changed(self, *_) -> None:
        """A fine-tuned model keeps its own weighting, preset, consistency and architecture: their pickers
        give way to a line saying what the model is, the ablation switches are disabled (also for a resumed
        run); the file pickers show when their choice needs them."""
        fresh = self.init.value == NEW
        self._ablations_apply()
        self.init_file.visible = self.init.value == FILE
        self.srf_file.visible = self.srf.value in (FILE, CAMERA)
        for w in (self.weighting, self.preset, self.consistency):
            w.visible = fresh
        self.init_info.visible = not fresh
        if not fresh:
            self.init_info.value = self._describe_init()

    def _ablations_apply(self, *_) -> None:
        """The ablation switches make a new network: off when starting from a model or resuming a run."""
        self.ablations.set_applies(self.init.value == NEW and not self.resume.value.strip())

    def _describe_init(self) -> str:
        """"cosine weighting, paper preset, SRF projection" for the chosen starting weights, read from
        the checkpoint's config (a shipped one's too)."""
        from ..models.checkpoint import CheckpointError, read_checkpoint

        try:
            if self.init.value == FILE:
                path = picked_file(self.init_file, "the checkpoint to start from")
            else:
                from ..shipped import checkpoint_path, parse_spec

                spec = parse_spec(self.init.value)
                if spec is None:
                    raise ValueError(f"no shipped model is called {self.init.value!r}")
                path = str(checkpoint_path(*spec))
            cfg = read_checkpoint(path)["config"]
        except (ValueError, CheckpointError, FileNotFoundError) as exc:
            return str(exc)
        return describe_start(cfg)

    def init_source(self) -> str | None:
        """What ``train(init=)`` gets: None, a shipped name (``'paper:cosine'``) or a checkpoint path."""
        if self.init.value == NEW:
            return None
        if self.init.value == FILE:
            return picked_file(self.init_file, "the checkpoint to start from")
        return self.init.value

    def srf_source(self) -> str:
        """What ``train(srf=)`` gets: a response name or a CSV path (the packaged default for a camera)."""
        if self.srf.value == CAMERA:
            return "nikon_d700"  # unused: the camera carries its response
        return picked_file(self.srf_file, "the response CSV") if self.srf.value == FILE else self.srf.value

    def camera_source(self) -> str | None:
        """What ``train(camera=)`` gets: the camera JSON's path, or None."""
        return picked_file(self.srf_file, "the camera JSON") if self.srf.value == CAMERA else None

    # ---- data -------------------------------------------------------------------------------
    def refresh_layers(self, event=None) -> None:
        items = list_items(self.data)
        checked = {item.text(): is_checked(item) for item in items}
        folders = [(f.data(VALUE_ROLE), is_checked(f)) for f in items if f.data(KIND_ROLE) == "folder"]
        self.data.clear()
        for layer in self.viewer.layers:
            if is_gt_candidate(layer):
                text = f"layer: {layer.name}"
                self.data.addItem(checkable_item(text, "layer", layer.name, checked.get(text, False)))
        for path, ticked in folders:
            self.add_folder(path, ticked)

    def add_folder(self, path: str, checked: bool = True) -> None:
        self.data.addItem(checkable_item(f"folder: {path}", "folder", str(path), checked))

    def set_layer_checked(self, name: str, checked: bool = True) -> None:
        for item in list_items(self.data):
            if item.data(KIND_ROLE) == "layer" and item.data(VALUE_ROLE) == name:
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def _browse_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Folder of scenes (or one CAVE scene)")
        if path:
            self.add_folder(path)

    def checked_layer_names(self) -> list[str]:
        """Names of the layers ticked as training data."""
        return [item.data(VALUE_ROLE) for item in list_items(self.data)
                if item.data(KIND_ROLE) == "layer" and is_checked(item)]

    def scenes(self) -> list:
        from ..data.cube import Cube
        from ..io import scene_paths

        out: list = []
        for item in filter(is_checked, list_items(self.data)):
            if item.data(KIND_ROLE) == "layer":
                layer = self.viewer.layers[item.data(VALUE_ROLE)]
                out.append(Cube(np.asarray(layer.data, np.float32), layer.metadata.get("wavelengths"), layer.name))
            else:
                out += scene_paths([item.data(VALUE_ROLE)])
        return out

    # ---- run ---------------------------------------------------------------------------------
    def train_config(self):
        """The :class:`~napari_inf3.training.config.TrainConfig` the form gives (the data aside); a ValueError
        says what is missing or contradictory. ``overwrite`` is on: :meth:`start` asks first."""
        from ..training.config import TrainConfig

        init, srf, camera = self.init_source(), self.srf_source(), self.camera_source()
        resume = self.resume.value.strip() or None
        if resume is not None and init is not None:
            raise ValueError("either resume a checkpoint or start from trained weights, not both")
        return TrainConfig(
            weighting=self.weighting.value, preset=self.preset.value,
            model_options=self.ablations.model_options(self.scale.value),
            consistency=self.consistency.value, scale=self.scale.value, offset=offset_value(self.offset.value),
            batch_size=self.batch.value, lr=self.lr.value, epochs=self.epochs.value,
            patches_per_epoch=self.per_epoch.value or None, device=self.device.value,
            out=Path(self.out.value).expanduser(), resume=resume, init=init, srf=srf, camera=camera,
            val_crop=256, overwrite=True,
        )

    def _inputs(self) -> tuple[list, list, TrainConfig]:
        """``(training scenes, validation scenes, TrainConfig)`` from the form; a ValueError says what is wrong."""
        from ..data.cube import Cube

        scenes = self.scenes()
        if not scenes:
            raise ValueError("check at least one training layer or folder")
        val_layer = self.val_combo.value
        self.val_note = ""
        if val_layer is not None and val_layer.name in self.checked_layer_names():
            # a PSNR on training data is not validation: leave it out, and say so (issue 25)
            self.val_note = (f"no validation: '{val_layer.name}' is also ticked as training data, so its PSNR "
                             "would measure the training scene; choose another layer to validate on")
            val_layer = None
        val = [] if val_layer is None else [Cube(np.asarray(val_layer.data, np.float32), None, val_layer.name)]
        return scenes, val, self.train_config()

    def start(self, confirm: bool = True):
        from napari.qt.threading import thread_worker
        from napari.utils.notifications import show_error

        from ..data.cube import CubeError
        from ..training.loop import train

        try:
            scenes, val, config = self._inputs()
        except (ValueError, CubeError) as exc:
            show_error(str(exc))
            return None
        out = None if config.out is None else Path(config.out)
        if out is not None and out.exists() and config.resume is None and confirm and not confirm_overwrite(self, out):
            return None

        self.remembered.save()
        self._stop["requested"] = False
        stop = self._stop
        running: dict = {}

        def close_engine():
            """Runs when napari quits the worker (viewer closing): the engine's generator writes a
            checkpoint as it closes. A plain function, not a method: the dock may be gone by then."""
            gen = running.pop("gen", None)
            if gen is not None:
                gen.close()

        @thread_worker(ignore_errors=True)  # errors go to our errored handler: a notification, no traceback dialog
        def job():
            gen = running["gen"] = train(scenes, config, val_scenes=val)
            for event in gen:
                yield event
                if stop["requested"]:
                    gen.close()  # the engine writes a checkpoint of the weights so far
                    return

        self.steps, self.losses, self.val = [], [], []
        self._close_activity()
        self.started = time.perf_counter()
        self.worker = job()
        self.worker.yielded.connect(self.on_event)
        self.worker.errored.connect(self._on_error)
        self.worker.aborted.connect(close_engine)
        self.worker.finished.connect(self._on_finished)
        self.start_btn.setEnabled(False)
        self.pause_btn.setEnabled(True)
        self.stop_btn.setEnabled(True)
        self.status.setText("loading scenes…" + (f" ({self.val_note})" if self.val_note else ""))
        if self.val_note:
            from napari.utils.notifications import show_warning

            show_warning(self.val_note)
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
            self._stop["requested"] = True
            if self.worker.is_paused:
                self.worker.resume()
            self.status.setText("stopping after this step; the checkpoint keeps the work so far")

    def _close_activity(self) -> None:
        if self.activity is not None:
            self.activity.close()
            self.activity = None

    def on_event(self, ev) -> None:
        from napari.utils import progress

        self.total_steps = ev.total_steps
        self.progress.setMaximum(max(ev.total_steps, 1))
        self.progress.setValue(ev.step)
        if self.activity is None and ev.kind != "done":  # napari's activity dock; Stop here cancels it
            self.activity = progress(total=max(ev.total_steps, 1), desc="napari-inf3 training (Stop in the dock)")
        if self.activity is not None:
            self.activity.n = min(ev.step, self.activity.total)
            self.activity.update(0)
        if ev.extra.get("start_val_psnr") is not None:  # fine-tuning: where the weights started
            self.val.append((0, ev.extra["start_val_psnr"]))
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
            self.status.setText(f"done: {ev.step} steps, checkpoint {ev.checkpoint}"
                                + (f"; {self.val_note}" if self.val_note else ""))
        if ev.kind != "step" or time.perf_counter() - self._last_draw > REDRAW_SECONDS:
            self.draw()

    def draw(self) -> None:
        self._last_draw = time.perf_counter()
        fig = self.canvas.figure
        fig.clear()
        ax = fig.subplots()
        if self.losses:
            ax.plot(self.steps, self.losses, color="tab:blue", lw=0.8, alpha=0.3, label="L1 loss (per step)")
            ax.plot(self.steps, smoothed(self.losses), color="tab:blue", lw=1.8, label="L1 loss (smoothed)")
            ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("L1 loss")
        if self.val:
            ax2 = ax.twinx()
            s, p = zip(*self.val, strict=True)
            ax2.plot(s, p, "o-", color="tab:red", label="validation PSNR")
            ax2.set_ylabel("validation PSNR (dB)")
            ax2.yaxis.label.set_color("tab:red")
        self.canvas.draw()

    def _on_error(self, exc) -> None:
        from napari.utils.notifications import show_error

        show_error(f"training stopped: {exc}")
        self.status.setText(f"stopped with an error: {exc}")

    def _on_finished(self) -> None:
        self._close_activity()
        self.start_btn.setEnabled(True)
        self.pause_btn.setEnabled(False)
        self.pause_btn.setText("Pause")
        self.stop_btn.setEnabled(False)
        self.worker = None
