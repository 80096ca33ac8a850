"""Add a fusion run's layers in two stages: what the user sees at once, the hidden rest while Qt stays live.

napari spends ≈ 70 ms of the GUI thread per ``add_image`` at 512² (a vispy visual, a layer-controls
widget, a selection change; docs/PERFORMANCE.md), and a run with three models and the ensemble has 23
layers. The visible ones (the composites) are added at once; the hidden ones (cubes, error and SAM maps,
weight maps) follow a few per event-loop turn, each at the place in the layer list it would have had, so
the window answers clicks between batches and the final list is the one a single pass makes. The active
layer becomes the run's top visible layer once, not every new layer in turn (:func:`insert_quietly`).
"""

from __future__ import annotations

from collections.abc import Callable

from qtpy.QtCore import QTimer

from .layers import LayerData

#: hidden layers added per event-loop turn (≈ 3 × 70 ms: clicks are answered within a quarter second)
BATCH = 3


def _visible(item: LayerData) -> bool:
    return bool(item[1].get("visible", True))


def insert_quietly(layers, pos: int, layer) -> None:
    """``layers.insert(pos, layer)`` without making ``layer`` the selected, active one: napari selects every
    layer it inserts, and each selection change switches the layer-controls panel (≈ 20–50 ms at 512², and a
    flicker). The selection's events are held back during the insert and the selection put back as it was,
    so nothing listening sees a change (napari's public ``EmitterGroup.blocker_all``)."""
    sel = layers.selection
    before, active = set(sel), sel.active
    with sel.events.blocker_all():
        layers.insert(pos, layer)
        sel.clear(keep_current=True)
        sel.update(before)
        sel.active = active


def add_quietly(viewer, layer_data: list[LayerData]) -> list:
    """Add ``layer_data`` on top of the layer list, in order, none of them made active (:func:`insert_quietly`)."""
    from napari.layers import Layer

    out = []
    for data, kwargs, kind in layer_data:
        layer = Layer.create(data, kwargs, kind)
        insert_quietly(viewer.layers, len(viewer.layers), layer)
        out.append(layer)
    return out


class StagedLayers:
    """``StagedLayers(viewer, layer_data, on_done).start()``: adds the visible layers now (returns them),
    the hidden ones in later event-loop turns; ``on_done(layers)`` gets every layer, in ``layer_data``'s
    order, when the last is in. ``finish()`` adds what is left at once (tests; a closing window).
    ``added``: ``{name: layer}`` of items already in the viewer (the composites the Fusion dock shows
    before the scores), kept where they are."""

    def __init__(self, viewer, layer_data: list[LayerData], on_done: Callable[[list], None] | None = None, *,
                 added: dict | None = None, run_id: str | None = None):
        self.viewer = viewer
        self.run_id = run_id  # the fusion run these layers belong to (the Fusion dock's bookkeeping)
        self.items = list(layer_data)
        self.on_done = on_done
        # index in layer_data -> layer; ``added``: layers of these items already in the viewer, by name
        self.added: dict[int, object] = {i: (added or {})[item[1]["name"]] for i, item in enumerate(self.items)
                                         if item[1].get("name") in (added or {})}
        self.pending = [i for i, item in enumerate(self.items) if not _visible(item) and i not in self.added]
        self.active = None
        self._reported = False

    def start(self) -> list:
        for i, item in enumerate(self.items):
            if _visible(item) and i not in self.added:
                self._add(i)
        shown = [self.added[i] for i in sorted(self.added) if _visible(self.items[i])]
        if shown:  # the top visible layer of the run becomes the active one, once
            self.viewer.layers.selection.active = shown[-1]
        self.active = self.viewer.layers.selection.active
        if self.pending:
            QTimer.singleShot(0, self._next_batch)
        else:
            self._done()
        return [self.added[i] for i in sorted(self.added)]

    def finish(self) -> None:
        while self.pending:
            self._add(self.pending.pop(0))
        if not self._reported:
            self._done()

    @property
    def complete(self) -> bool:
        return not self.pending

    def _next_batch(self) -> None:
        if not self.pending:
            return
        try:
            for _ in range(min(BATCH, len(self.pending))):
                self._add(self.pending.pop(0))
        except RuntimeError:  # the window was closed while layers were still coming: nothing left to add to
            self.pending.clear()
            return
        if self.pending:
            QTimer.singleShot(0, self._next_batch)
        else:
            self._done()

    def _add(self, i: int) -> None:
        """Layer ``i`` just above the nearest earlier layer of this run still in the viewer (or below the
        nearest later one), so the layer list ends as one pass in order would leave it."""
        from napari.layers import Layer

        data, kwargs, kind = self.items[i]
        layer = Layer.create(data, kwargs, kind)
        layers = self.viewer.layers
        below = [j for j in self.added if j < i and self.added[j] in layers]
        above = [j for j in self.added if j > i and self.added[j] in layers]
        if below:
            pos = layers.index(self.added[max(below)]) + 1
        elif above:
            pos = layers.index(self.added[min(above)])
        else:
            pos = len(layers)
        insert_quietly(layers, pos, layer)
        self.added[i] = layer

    def _restore_active(self) -> None:
        if self.active is not None and self.active in self.viewer.layers:
            self.viewer.layers.selection.active = self.active

    def _done(self) -> None:
        self._reported = True
        self._restore_active()
        if self.on_done is not None:
            self.on_done([self.added[i] for i in sorted(self.added)])
