"""magicgui pieces shared by the docks: layer pickers that follow the layer list, and remembered choices.

A dock's parameter form is a :class:`magicgui.widgets.Container`; :class:`RememberedForm` saves the
values of the widgets it is given to a small JSON file in the user's config folder when a job starts
(``NAPARI_INF3_CONFIG_DIR`` overrides the folder, e.g. in tests) and puts them back when the dock
opens again. Layer pickers remember the layer's name and pick it again only if such a layer is open.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from magicgui.widgets import ComboBox
from magicgui.widgets.bases import ValueWidget

CONFIG_ENV = "NAPARI_INF3_CONFIG_DIR"


def config_dir() -> Path:
    """Where the docks keep their last choices: ``$NAPARI_INF3_CONFIG_DIR`` or the platform's user config folder."""
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    from platformdirs import user_config_dir

    return Path(user_config_dir("napari-inf3", appauthor=False))


def layer_picker(viewer, accept: Callable, name: str, label: str, nullable: bool = False,
                 tooltip: str | None = None) -> ComboBox:
    """A magicgui ComboBox of the viewer's layers that pass ``accept(layer)``; ``.value`` is the layer
    (or ``None``). Its choices follow the layer list (insert, remove, reorder, rename)."""

    def choices(_widget=None):
        return [(layer.name, layer) for layer in viewer.layers if accept(layer)]

    box = ComboBox(name=name, label=label, choices=choices, nullable=nullable, tooltip=tooltip)

    def refresh(event=None) -> None:
        box.reset_choices()

    def watch(event) -> None:  # a renamed layer: its entry's text follows
        refresh()
        layer = getattr(event, "value", None)
        if layer is not None and hasattr(layer, "events"):
            layer.events.name.connect(refresh)

    viewer.layers.events.inserted.connect(watch)
    viewer.layers.events.removed.connect(refresh)
    viewer.layers.events.moved.connect(refresh)
    for layer in viewer.layers:
        layer.events.name.connect(refresh)
    if nullable and box.choices:  # magicgui starts a nullable box at None; a layer that can serve is better
        box.value = box.choices[-1] if box.choices[-1] is not None else None
    return box


class Remembered(Protocol):
    """A form widget whose value a :class:`RememberedForm` keeps (a magicgui value widget, or a FileEdit)."""

    name: str
    value: Any


class RememberedForm:
    """Save and restore the values of ``widgets`` (by widget name) under ``key`` in ``docks.json``."""

    def __init__(self, key: str, widgets: Iterable[Remembered]):
        self.key = key
        self.widgets = {w.name: w for w in widgets}

    @property
    def path(self) -> Path:
        return config_dir() / "docks.json"

    def _all(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def values(self) -> dict:
        out = {}
        for name, w in self.widgets.items():
            v = w.value
            if hasattr(v, "events") and hasattr(v, "name"):  # a layer: remember its name
                v = {"layer": v.name}
            elif isinstance(v, Path):
                v = str(v)
            if v is None or isinstance(v, (bool, int, float, str, dict)):
                out[name] = v
        return out

    def save(self) -> None:
        """Write the current values (errors writing the file are ignored: it is only a convenience)."""
        data = self._all()
        data[self.key] = self.values()
        from ..io.atomic import atomic_write_text

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.path, json.dumps(data, indent=1))
        except OSError:  # WriteError is one too
            pass

    def restore(self) -> None:
        """Put back what :meth:`save` wrote; a value a widget no longer accepts is skipped."""
        saved = self._all().get(self.key, {})
        if not isinstance(saved, dict):
            return
        for name, v in saved.items():
            w = self.widgets.get(name)
            if w is None:
                continue
            try:
                if isinstance(v, dict) and "layer" in v:
                    match = [c for c in getattr(w, "choices", ()) if getattr(c, "name", None) == v["layer"]]
                    if match:
                        w.value = match[0]
                else:
                    w.value = v
            except (ValueError, TypeError, KeyError):
                continue


#: The offset ComboBox's value for "the paper's r // 2" (magicgui would move a None choice to the end).
PAPER_OFFSET = -1


def offset_choices(scale_widget) -> Callable:
    """Choices of a decimation-offset ComboBox that follow a scale SpinBox: ``r // 2 (paper)``
    (value :data:`PAPER_OFFSET`, the default) and every integer 0 … r − 1, so an offset ≥ r cannot be
    chosen. :func:`offset_value` turns the value into the engine's ``offset=``."""

    def choices(_widget=None):
        r = int(scale_widget.value)
        # one fixed label: magicgui keeps entries whose label survives a reset and appends new ones
        return [("r // 2 (paper)", PAPER_OFFSET)] + [(str(i), i) for i in range(r)]

    return choices


def offset_value(value: int) -> int | None:
    """The engine's ``offset=`` for an offset ComboBox value (``None``: the paper's r // 2)."""
    return None if value == PAPER_OFFSET else int(value)


def config_spin(config, name: str, label: str, tooltip: str | None = None) -> ValueWidget:
    """A spin box for numeric :class:`~napari_inf3.training.config.TrainConfig` option ``name``: its value from
    ``config`` (a profile's defaults), its range and step from the option's own bounds, so the form and the engine
    have one source of both (``None`` shows as 0)."""
    from magicgui.widgets import FloatSpinBox, SpinBox

    b = type(config).bounds(name)
    value = getattr(config, name)
    if isinstance(value, float) or isinstance(b.step, float) and b.step < 1:
        import math

        box = FloatSpinBox(name=name, label=label, value=float(value), max=b.high, step=b.step, tooltip=tooltip)
        # enough decimals for the lower bound too (Qt rounds a bound to the shown decimals: 1e-6 at 5 is 0)
        smallest = min(v for v in (b.low, b.step) if v > 0)
        box.native.setDecimals(max(2, math.ceil(-math.log10(smallest))))
        box.min = b.low
        box.value = float(value)
        return box
    return SpinBox(name=name, label=label, value=int(value or 0), min=int(b.low), max=int(b.high), tooltip=tooltip)
