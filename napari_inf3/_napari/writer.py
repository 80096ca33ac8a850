"""npe2 writer: *File ▸ Save Selected Layers* saves a cube layer as ENVI ``.hdr``, ``.tif`` or ``.npz``
with its wavelengths (nm) and plain metadata, readable again by this plugin's reader; a layer read from, or
fused from, georeferenced files keeps its CRS and transform (GeoTIFF, ENVI ``map info``).

The writer just writes: an existing file is replaced. Confirming a replacement is the caller's job:
napari's save dialog asks before it calls the writer; a save from code,
``viewer.layers.save(path, plugin="napari-inf3")``, replaces the file without asking, as napari's own
writers do. Every write goes through :func:`napari_inf3.io.write_cube`, which writes under a temporary
name and moves the file into place: a failed write (disk full, ...) leaves the old file as it was and
no half-written file. Layers are saved as they are (negative values included: a layer may be unclipped
fusion output).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


class CubeWriteError(RuntimeError):
    """Why a layer was not written. Not a ValueError on purpose: napari swallows ValueErrors from a
    writer and reports only that the plugin "is not a valid writer", which hides the reason."""


#: Layer metadata kept in the file (our .npz keeps them as JSON; ENVI and TIFF keep the wavelengths).
PLAIN = (str, int, float, bool)


def _facts(meta: dict) -> dict:
    md = dict(meta.get("metadata") or {})
    tag = md.get("inf3") or {}
    facts = {k: v for k, v in md.items() if isinstance(v, PLAIN)}
    facts.update({k: v for k, v in tag.items() if isinstance(v, PLAIN)})
    facts["layer_name"] = str(meta.get("name", ""))
    return facts


def write_cube_layer(path: str, data: Any, meta: dict) -> list[str]:
    """Write one image layer ``(bands, y, x)`` to ``path``, replacing a file there; returns ``[path]``
    (napari's writer contract).

    Raises :class:`CubeWriteError` (napari shows it as a notification) for a layer that is not a 3-D
    cube, or a file that cannot be written (an existing file is then left as it was).
    """
    from ..data.cube import Cube, CubeError
    from ..io import write_cube

    p = Path(path)
    arr = np.asarray(data)
    if meta.get("rgb") or arr.ndim != 3:
        raise CubeWriteError(f"napari-inf3 saves hyperspectral cubes (bands, y, x); layer {meta.get('name')!r} "
                             f"has shape {arr.shape}{' (RGB)' if meta.get('rgb') else ''}")
    wl = (meta.get("metadata") or {}).get("wavelengths")
    geo = (meta.get("metadata") or {}).get("geo")
    try:  # write_cube checks the data first, and writes atomically: a failure leaves the old file as it was
        cube = Cube(arr, None if wl is None else np.asarray(wl, np.float64), meta=_facts(meta))
        if isinstance(geo, dict):  # a layer from (or fused from) georeferenced files: written with its grid
            from ..data.geo import GeoRef

            cube.geo = GeoRef.from_dict(geo)
        return [str(write_cube(cube, p, overwrite=True, allow_negative=True))]
    except (CubeError, ValueError, TypeError) as exc:
        raise CubeWriteError(f"{p}: {exc}" if str(p) not in str(exc) else str(exc)) from None
