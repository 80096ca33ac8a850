"""Small Qt helpers shared by the docks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QMessageBox, QPushButton, QWidget

from .layers import inf3_tag, is_cube_layer


def is_gt_candidate(layer) -> bool:
    """Cube layers that are not our own outputs (fused / bicubic)."""
    return is_cube_layer(layer) and inf3_tag(layer).get("role") not in ("fused", "bicubic", "lr")


def is_msi_candidate(layer) -> bool:
    """A 3-D (bands, y, x) layer or an RGB layer."""
    return getattr(layer, "rgb", False) or is_cube_layer(layer)


def confirm_overwrite(parent: QWidget, path) -> bool:
    """Ask before replacing a file the user owns."""
    answer = QMessageBox.question(parent, "Replace file?", f"{path} already exists. Replace it?",
                                  QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
    return answer == QMessageBox.Yes


def button_row(*buttons: tuple[str, Callable[[], Any]]) -> tuple[QHBoxLayout, list[QPushButton]]:
    """A row of push buttons from ``(label, slot)`` pairs; returns the layout and the buttons."""
    row = QHBoxLayout()
    made = []
    for label, slot in buttons:
        b = QPushButton(label)
        b.clicked.connect(slot)
        row.addWidget(b)
        made.append(b)
    return row, made


#: the item data roles a checkable list item keeps its kind and its value in (:func:`checkable_item`)
KIND_ROLE = Qt.ItemDataRole.UserRole
VALUE_ROLE = Qt.ItemDataRole.UserRole + 1


def list_items(widget: QListWidget) -> list[QListWidgetItem]:
    """The items of a list widget, in order."""
    return [item for i in range(widget.count()) if (item := widget.item(i)) is not None]


def is_checked(item: QListWidgetItem) -> bool:
    return item.checkState() == Qt.CheckState.Checked


def checkable_item(text: str, kind, value: str, checked: bool = True) -> QListWidgetItem:
    """A list item with a check box; ``kind`` (a string, or a model) and ``value`` are kept in its user roles."""
    item = QListWidgetItem(text)
    item.setData(KIND_ROLE, kind)
    item.setData(VALUE_ROLE, value)
    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
    item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
    return item


def output_path(parent: QWidget, path, title: str, default_name: str, file_filter: str):
    """Where to write an export: ``path`` if given (asking before replacing a file), else a save dialog
    (which asks itself). ``None`` when the user declines or cancels."""
    from pathlib import Path

    from qtpy.QtWidgets import QFileDialog

    if path is None:
        path, _ = QFileDialog.getSaveFileName(parent, title, default_name, file_filter)
        return path or None
    if Path(path).exists() and not confirm_overwrite(parent, path):
        return None
    return path


def device_choices() -> tuple[list[tuple[str, str]], str | None]:
    """The docks' device entries, ``(label, value)``: ``auto (<the device auto picks>)`` first, then
    every device torch sees; and, when torch cannot be used, why (the CPU is offered regardless)."""
    try:
        from ..models.device import available_devices

        names, problem = available_devices(), None
    except Exception as exc:  # noqa: BLE001 - torch missing or broken: say so, still show the dock
        names, problem = ["cpu"], f"torch is not usable: {exc}"
    return [(f"auto ({names[0]})", "auto"), *[(n, n) for n in names]], problem


#: What the first Fuse click imports besides torch (SciPy's optimisers for a camera or response fit, the engine's
#: fusion and camera modules): ~0.7 s on a 2-core CPU, loaded in the background while the user picks layers.
WARM_MODULES = ("scipy.optimize", "scipy.ndimage", "napari_inf3.fusion.pipeline", "napari_inf3.camera.fit",
                "napari_inf3.viz.composites")


def warm_imports() -> None:
    """Import :data:`WARM_MODULES` in a daemon thread (the import lock makes a Fuse click that comes first wait
    for the import in progress, never import twice)."""
    import importlib
    import threading

    def load() -> None:
        for name in WARM_MODULES:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - a warm-up only: the click imports again and says what is wrong
                return

    threading.Thread(target=load, name="napari-inf3 warm imports", daemon=True).start()
