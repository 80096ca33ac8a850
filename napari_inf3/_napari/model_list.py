"""The Fusion dock's model list: the shipped checkpoints, their ensemble (:mod:`napari_inf3.models.ensemble`), the
SRF-projection baseline, a fit to the pair (:func:`napari_inf3.fit_pair`), the models fitted this session and any
checkpoint added, each with a check box; :meth:`ModelList.selected` is what the fusion runs."""

from __future__ import annotations

from pathlib import Path

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QFileDialog, QListWidget

from ._common import KIND_ROLE, VALUE_ROLE, checkable_item, is_checked, list_items


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
        # any sensor: a fusion fitted to the pair being fused (napari_inf3.fit_pair; seconds to minutes on a CPU)
        self.addItem(checkable_item("fit to this pair (any sensor, no training data; 10–90 s)", "pair", "pair",
                                    checked=False))
        self._fitted = 0

    def add_checkpoint(self, path: str, name: str | None = None) -> None:
        """A checkpoint file, ticked, shown as ``name`` (its file's stem by default)."""
        name = name or Path(path).stem
        self.addItem(checkable_item(f"{name} ({Path(path).name})", str(path), name))

    def add_fitted(self, model, source: str) -> str:
        """A model fitted to a pair this session (fuses other pairs of the same sensors), ticked in place of
        *fit to this pair* (fitting the same pair again would make the same model); its name."""
        self._fitted += 1
        name = f"pair {self._fitted}"
        self.addItem(checkable_item(f"{name} (fitted to {source} this session)", model, name))
        for item in list_items(self):
            if isinstance(item.data(KIND_ROLE), str) and item.data(KIND_ROLE) == "pair":
                item.setCheckState(Qt.CheckState.Unchecked)
        return name

    def browse(self) -> None:
        """Ask for a checkpoint file and add it."""
        path, _ = QFileDialog.getOpenFileName(self, "INFN checkpoint", "", "Checkpoints (*.pt *.pth);;All files (*)")
        if path:
            self.add_checkpoint(path)

    def selected(self) -> dict:
        """The ticked models: display name → spec (a pretrained name, ``'paper:<name>'``, ``'pair'``, a path, or a
        model fitted this session)."""
        return {item.data(VALUE_ROLE): item.data(KIND_ROLE) for item in list_items(self) if is_checked(item)}
