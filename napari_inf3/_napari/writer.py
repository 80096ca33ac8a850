"""npe2 writer: *File ▸ Save Selected Layers* saves a cube layer as ENVI ``.hdr``, ``.tif`` or ``.npz``
with its wavelengths (nm) and plain metadata, readable again by this plugin's reader.

napari's save dialog asks before replacing an existing file, so by the time napari calls the writer
the user has confirmed: the file is replaced then. Saving from code,
``viewer.layers.save(path, plugin="napari-inf3")``, refuses an existing path instead. Every write goes
through :func:`napari_inf3.io.write_cube`, which writes under a temporary name and moves the file into
place: a failed write (disk full, ...) leaves the old file as it was and no half-written file. Layers
are saved as they are (negative values included: a layer may be unclipped fusion output).
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
    """Write one image layer ``(bands, y, x)`` to ``path``; returns ``[path]`` (napari's writer contract).

    Raises :class:`CubeWriteError` (napari shows it as a notification) for a layer that is not a 3-D
    cube, an existing file outside napari's confirming save dialog, or a file that cannot be written.
    """
    from ..cube import Cube, CubeError
    from ..io import write_cube

    p = Path(path)
    arr = np.asarray(data)
    if meta.get("rgb") or arr.ndim != 3:
        raise CubeWriteError(f"napari-inf3 saves hyperspectral cubes (bands, y, x); layer {meta.get('name')!r} "
                         f"has shape {arr.shape}{' (RGB)' if meta.get('rgb') else ''}")
    wl = (meta.get("metadata") or {}).get("wavelengths")
    confirmed = p.exists() and _called_from_save_dialog()
    if p.exists() and not confirmed:
        raise CubeWriteError(f"{p}: already exists; napari-inf3 replaces a file only after napari's Save dialog "
                             "(File ▸ Save Selected Layers…) has asked you. Choose a new name, or save from the menu.")
    try:  # write_cube checks the data first, and writes atomically: a failure leaves the old file as it was
        cube = Cube(arr, None if wl is None else np.asarray(wl, np.float64), meta=_facts(meta))
        return [str(write_cube(cube, p, overwrite=confirmed, allow_negative=True))]
    except (CubeError, ValueError, TypeError) as exc:
        raise CubeWriteError(f"{p}: {exc}" if str(p) not in str(exc) else str(exc)) from None


def _called_from_save_dialog() -> bool:
    """Whether napari's own save dialog (which asks before replacing a file) is the caller."""
    import inspect

    return any(f.function in ("_save_layers_dialog",) and "napari" in f.filename for f in inspect.stack()[2:40])
