"""The Fusion dock adds a run's visible layers at once and the hidden ones a few per event-loop turn
(napari_inf3/_napari/staged_layers.py): the final layer list is the one a single pass makes, the active
layer stays the last visible one, and the window gets event-loop turns between the batches."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("napari")


def _data(n: int, visible: set[int]) -> list:
    return [(np.full((8, 8), float(i), np.float32), {"name": f"L{i}", "visible": i in visible}, "image")
            for i in range(n)]


def test_visible_first_hidden_later_in_the_one_pass_order(make_napari_viewer, qtbot):
    from napari_inf3._napari.staged_layers import BATCH, StagedLayers

    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((8, 8), np.float32), name="before")
    done = []
    data = _data(11, visible={4, 5, 6})
    staged = StagedLayers(viewer, data, done.append)
    first = staged.start()
    assert [lyr.name for lyr in first] == ["L4", "L5", "L6"]
    assert [lyr.name for lyr in viewer.layers] == ["before", "L4", "L5", "L6"]  # nothing hidden yet
    assert not staged.complete and not done
    from qtpy.QtWidgets import QApplication

    QApplication.processEvents()  # one turn of the event loop: one batch, not the rest
    assert len(viewer.layers) == 4 + BATCH
    qtbot.waitUntil(lambda: staged.complete and bool(done), timeout=10_000)
    assert [lyr.name for lyr in viewer.layers] == ["before", *[f"L{i}" for i in range(11)]]
    assert [lyr.name for lyr in done[0]] == [f"L{i}" for i in range(11)]
    assert viewer.layers.selection.active.name == "L6"  # the last visible layer, as the first stage left it


def test_finish_adds_the_rest_at_once_and_survives_a_removed_layer(make_napari_viewer):
    from napari_inf3._napari.staged_layers import StagedLayers

    viewer = make_napari_viewer()
    staged = StagedLayers(viewer, _data(6, visible={0, 3}))
    staged.start()
    viewer.layers.remove("L0")  # the user deletes a layer before the rest is in
    staged.finish()
    assert [lyr.name for lyr in viewer.layers] == ["L1", "L2", "L3", "L4", "L5"]
    assert staged.complete
