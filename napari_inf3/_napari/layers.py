"""How cubes, composites and maps become napari layers: one place for names and metadata.

Every layer this plugin adds carries ``metadata["inf3"]``: ``role`` (``'gt'``, ``'bicubic'``,
``'fused'``, ``'lr'``, ``'msi'``, ``'composite'``, ``'error'``, ``'sam'``, ``'cube'``),
``method`` (``'area'`` ...) and ``run`` (an id shared by the layers of one fusion run), and
cubes carry ``metadata["wavelengths"]`` (nm). The spectrum inspector finds its curves by
these tags, never by layer names.
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np

CUBE_ROLES = ("gt", "bicubic", "fused", "cube")
_LABELLED: "weakref.WeakSet" = weakref.WeakSet()  # viewers whose band slider we label


def cube_layer_kwargs(name: str, wavelengths, role: str = "cube", method: str | None = None, run: str | None = None,
                      source: str | None = None, extra: dict | None = None) -> dict[str, Any]:
    """Image-layer keywords for a ``(bands, y, x)`` cube."""
    meta = {"inf3": {"role": role, "method": method, "run": run}, "wavelengths": None if wavelengths is None else
            [float(w) for w in wavelengths]}
    if source:
        meta["source"] = source
    meta.update(extra or {})
    return {"name": name, "metadata": meta, "axis_labels": ("band", "y", "x"), "colormap": "gray"}


def display_limits(data) -> tuple[float, float]:
    """Contrast limits for a ``(bands, y, x)`` cube: 0 to the 99.5th percentile of its middle band."""
    mid = np.asarray(data[data.shape[0] // 2])  # one band plane: a lazy cube reads only that
    hi = float(np.percentile(mid, 99.5)) if mid.size else 1.0
    return 0.0, max(hi, 1e-6)


def cube_layer_data(cube, name: str | None = None, role: str = "cube") -> tuple:
    """A napari LayerData tuple for a :class:`~napari_inf3.cube.Cube`."""
    from pathlib import Path

    label = name or (Path(cube.source).name if cube.source else "cube")
    kw = cube_layer_kwargs(label, cube.wavelengths, role, source=cube.source,
                           extra={"format": cube.meta.get("format")})
    from ..io.lazy import is_lazy

    if is_lazy(cube.data):
        # too big to load: a dask array that reads what napari draws (one band plane) and what a
        # click needs (one 512² block per band), never the whole cube
        import dask.array as da

        b, h, w = cube.data.shape
        data = da.from_array(cube.data, chunks=(1, min(h, 512), min(w, 512)), asarray=False, fancy=False)
        kw["contrast_limits"] = display_limits(cube.data)
        kw["metadata"]["lazy"] = True
        return (data, kw, "image")
    data = np.asarray(cube.data)
    kw["contrast_limits"] = display_limits(data)
    return (data, kw, "image")


def inf3_tag(layer) -> dict:
    return layer.metadata.get("inf3", {}) if hasattr(layer, "metadata") else {}


def is_cube_layer(layer) -> bool:
    return getattr(layer, "ndim", 0) == 3 and not getattr(layer, "rgb", False) and layer.data.ndim == 3


def layer_wavelengths(layer) -> np.ndarray | None:
    wl = layer.metadata.get("wavelengths") if hasattr(layer, "metadata") else None
    return None if wl is None else np.asarray(wl, float)


def band_label(index: int, wavelengths) -> str:
    """Slider label for band ``index`` (0-based): ``'band 12 · 510 nm'``."""
    if wavelengths is None or index >= len(wavelengths):
        return f"band {index + 1}"
    return f"band {index + 1} · {wavelengths[index]:g} nm"


def connect_band_label(viewer) -> None:
    """Keep the band slider's label showing the current band's wavelength in nm (once per viewer)."""
    if viewer in _LABELLED:
        return
    _LABELLED.add(viewer)

    def update(event=None):
        cubes = [lyr for lyr in viewer.layers if is_cube_layer(lyr) and layer_wavelengths(lyr) is not None]
        if not cubes or viewer.dims.ndim < 3:
            return
        axis = viewer.dims.ndim - 3
        idx = int(viewer.dims.current_step[axis])
        labels = list(viewer.dims.axis_labels)
        labels[axis] = band_label(idx, layer_wavelengths(cubes[0]))
        if tuple(labels) != tuple(viewer.dims.axis_labels):
            viewer.dims.axis_labels = labels

    viewer.dims.events.current_step.connect(update)
    viewer.layers.events.inserted.connect(update)
    update()
