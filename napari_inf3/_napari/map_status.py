"""The status bar in map coordinates over georeferenced layers (issue 35).

napari's status bar prints the cursor's world position. A layer read from a georeferenced file is placed with
world ``x`` = easting and world ``y`` = −northing (:func:`.layers.geo_placement`: napari's y axis points down),
so the numbers napari prints are neither the map's nor the file's pixel. While the active layer carries a map
grid (``metadata['geo']``), the status shows instead ``E 500 130.0  N 4 199 850.0 m (EPSG:32633) · row 12,
col 40: value`` (longitude / latitude in degrees for a geographic CRS), the pixel being the active layer's.
"""

from __future__ import annotations

import weakref
from functools import lru_cache
from typing import Any

import numpy as np

from .layers import pixel_of

_CONNECTED: weakref.WeakSet = weakref.WeakSet()


@lru_cache(maxsize=32)
def crs_label(crs: str | None) -> tuple[str, bool]:
    """``(short name, geographic)`` of a CRS given as WKT: ``('EPSG:32633', False)``; the WKT's own name when
    rasterio is missing or finds no code; ``('no CRS', False)`` for a map transform without one."""
    if not crs:
        return "no CRS", False
    text = crs.strip()
    geographic = text.upper().startswith(("GEOGCS", "GEOGCRS", "GEODCRS"))
    name = text.split('"')[1] if text.count('"') >= 2 else text[:40]
    try:
        from rasterio.crs import CRS

        c = CRS.from_user_input(text)
        geographic = bool(c.is_geographic)
        epsg = c.to_epsg()
        if epsg is not None:
            name = f"EPSG:{epsg}"
    except Exception:  # noqa: BLE001 - rasterio missing (the `geo` extra) or text it cannot parse: the WKT's name
        pass
    return name, geographic


def map_text(geo: dict[str, Any], world_yx) -> str:
    """The map position of world point ``(y, x)`` of a layer placed by :func:`.layers.geo_placement`."""
    easting, northing = float(world_yx[1]), -float(world_yx[0])
    name, geographic = crs_label(geo.get("crs"))
    if geographic:
        return f"lon {easting:.6f}°  lat {northing:.6f}° ({name})"
    return f"E {easting:,.1f}  N {northing:,.1f} ({name})".replace(",", " ")


def map_status(layer, status, world_position) -> Any:
    """``status`` (napari's dict or text) with its coordinates in map units, for a georeferenced ``layer``;
    ``status`` unchanged for any other layer."""
    geo = getattr(layer, "metadata", {}).get("geo") if layer is not None else None
    if not isinstance(geo, dict) or world_position is None or len(world_position) < 2:
        return status
    pos = np.asarray(world_position, float)
    where = map_text(geo, pos[-2:])
    pixel = pixel_of(layer, pos)
    if pixel is not None:
        where += f" · row {pixel[0]}, col {pixel[1]}"
    if isinstance(status, dict):
        out = dict(status)
        value = status.get("value", "")
        out["coordinates"] = f"{where}: {value}" if value != "" else where
        out["coords"] = where
        return out
    return f"{where} » {status}" if status else where


def connect_map_status(viewer) -> None:
    """Rewrite the viewer's status in map coordinates while a georeferenced layer is active (once per viewer).

    The rewrite is set just after napari's own status, from the Qt event loop: setting the status from inside its
    change event re-enters napari's evented model, which then compares and emits without end."""
    from qtpy.QtCore import QTimer

    if viewer is None or viewer in _CONNECTED:
        return
    _CONNECTED.add(viewer)

    def apply(seen, new) -> None:
        # nothing newer came meanwhile (napari may set an equal status again, which it does not announce)
        if viewer.status == seen:
            viewer.status = new

    def rewrite(event=None) -> None:
        status = viewer.status
        if isinstance(status, dict) and str(status.get("coords", "")).startswith(("E ", "lon ")):
            return  # already ours
        new = map_status(viewer.layers.selection.active, status, viewer.cursor.position)
        if new is not status:
            QTimer.singleShot(0, lambda: apply(status, new))

    viewer.events.status.connect(rewrite)
