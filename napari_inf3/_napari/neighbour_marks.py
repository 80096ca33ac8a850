"""The clicked pixel's four LR neighbours (whose weights the Spectrum inspector shows) marked on the image: a points
layer, one colour per neighbour, hidden rather than removed when there is nothing to mark (no Qt)."""

from __future__ import annotations

import numpy as np

from .layers import inf3_metadata

#: The layer of the clicked pixel's four LR neighbours (its weights' sources), made by the first prebuild.
MARKS = "LR neighbours"


def neighbour_world(viewer, ref, pins) -> tuple[np.ndarray, float] | None:
    """The single pinned pixel's four LR neighbours (LR pixel centres) in world coordinates, and the LR
    scale, when a cube on the reference's grid kept its neighbour weights; else None."""
    from ..viz.compare import neighbour_positions

    layer = next((lyr for lyr in viewer.layers if lyr.metadata.get("neighbour_weights") is not None
                  and tuple(lyr.data.shape[-2:]) == tuple(ref.data.shape[-2:])), None) if ref else None
    if layer is None or len(pins) != 1:
        return None
    row, col = pins[0]
    pos = neighbour_positions(row, col, layer.metadata["scale"], layer.metadata["lr_shape"])
    world = np.array([ref.data_to_world((0, y, x))[-2:] if ref.ndim == 3 else ref.data_to_world((y, x))
                      for y, x in pos])
    return world, float(layer.metadata["scale"])


def mark_neighbours(viewer, ref, pins) -> None:
    """Mark the clicked pixel's four LR neighbours (LR pixel centres, in HR coordinates) on the image; hidden,
    not removed (the four keep their colours), without a single pinned pixel or without weights."""
    found = neighbour_world(viewer, ref, pins)
    marks = next((lyr for lyr in viewer.layers if lyr.name == MARKS), None)
    if found is None:
        if marks is not None and marks.shown.any():
            marks.shown = False
        return
    world, scale = found
    if marks is None:  # a new layer costs ≈ 0.5 s with a run's layers open: prebuild() makes it beforehand
        add_marks(viewer, ref, world, scale, shown=True)
        return
    if marks.data.shape != world.shape:
        marks.data = world  # the setter re-derives every point property: ≈ 20 ms
    elif not np.allclose(marks.data, world):
        marks.data[:] = world  # four points stay four: moved in place and redrawn, ≈ 5 ms
        marks.refresh()
    if not marks.shown.all():
        marks.shown = True


def add_marks(viewer, ref, world: np.ndarray, scale: float, shown: bool):
    """The LR-neighbour markers' points layer (one colour per neighbour), the active layer kept."""
    from ..viz.composites import NEIGHBOUR_COLORS

    active = viewer.layers.selection.active
    marks = viewer.add_points(world, name=MARKS, size=max(2.0, scale * 0.6), symbol="x",
                                   face_color=[np.asarray(c) / 255 for c in NEIGHBOUR_COLORS], border_width=0,
                                   shown=np.full(len(world), shown), metadata=inf3_metadata("neighbours"))
    viewer.layers.selection.active = active or ref  # keep clicks on the cube
    return marks


def ensure_marks(viewer, ref, pins) -> None:
    """Make the markers' layer, hidden, for the (prebuilt) pinned pixel, if weights are open and it is not."""
    found = neighbour_world(viewer, ref, pins)
    if found is not None and MARKS not in viewer.layers:
        add_marks(viewer, ref, *found, shown=False)
