"""The Fusion dock's model list: the shipped checkpoints, their ensemble (:mod:`napari_inf3.ensemble`), the
SRF-projection baseline and any checkpoint added, each with a check box; :meth:`ModelList.selected` is what
the fusion runs."""

from __future__ import annotations

from pathlib import Path

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QFileDialog, QListWidget

from ._common import checkable_item


class ModelList(QListWidget):
    def __init__(self):
        super().__init__()
        self.setMaximumHeight(110)
        from ..shipped import ENSEMBLE, PRETRAINED, available

        lite, paper = available("lite"), available("paper")
        for name in lite:
            self.addItem(checkable_item(f"{name} (pretrained)", name, name))
        # the mean of the three ticked above (a run reuses their cubes: it costs an average) and, with the
        # shipped calibration, an expected-|error| map from their disagreement
        if len(lite) == len(PRETRAINED):
            self.addItem(checkable_item(f"{ENSEMBLE} (mean of {', '.join(PRETRAINED)}; expected |error|)", ENSEMBLE,
                                        ENSEMBLE))
        for name in paper:  # 2.8 M parameters: ≈ 9 s a 512² scene on a 2-core CPU, so opt-in
            self.addItem(checkable_item(f"{name} (pretrained, paper preset)", f"paper:{name}", f"paper {name}",
                                        checked=False))
        if len(paper) == len(PRETRAINED):
            self.addItem(checkable_item(f"{ENSEMBLE} (paper preset)", f"paper:{ENSEMBLE}", f"paper {ENSEMBLE}",
                                        checked=False))
        self.addItem(checkable_item("SRF projection of bicubic (baseline, no learning)", "projection", "projection",
                                    checked=False))

    def add_checkpoint(self, path: str, name: str | None = None) -> None:
        """A checkpoint file, ticked, shown as ``name`` (its file's stem by default)."""
        name = name or Path(path).stem
        self.addItem(checkable_item(f"{name} ({Path(path).name})", str(path), name))

    def browse(self) -> None:
        """Ask for a checkpoint file and add it."""
        path, _ = QFileDialog.getOpenFileName(self, "INFN checkpoint", "", "Checkpoints (*.pt *.pth);;All files (*)")
        if path:
            self.add_checkpoint(path)

    def selected(self) -> dict[str, str]:
        """The ticked models: display name → spec (a pretrained name, ``'paper:<name>'``, a path ...)."""
        out = {}
        for i in range(self.count()):
            item = self.item(i)
            if item.checkState() == Qt.Checked:
                out[item.data(Qt.UserRole + 1)] = item.data(Qt.UserRole)
        return out
