"""How cubes, composites and maps become napari layers: one place for names, roles and metadata.

Every layer this plugin adds carries ``metadata["inf3"] = {"role": ..., "method": ..., "run": ...}``
(written by :func:`inf3_metadata` only): ``role`` is one of :data:`ROLES`, ``method`` the model or
pair of models (``'area'``, ``'area vs net'`` ...) and ``run`` an id shared by the layers of one fusion
run; cubes also carry ``metadata["wavelengths"]`` (nm). The spectrum inspector and *Compare schemes*
find layers by these tags, never by layer names. :func:`run_layer_data` builds every layer a fusion run
adds, as napari ``(data, kwargs, layer_type)`` tuples; the Fusion dock, the demo viewer and the
notebook's ``open_napari`` add what it returns (:func:`add_layer_data`). No Qt here.
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any

import numpy as np

#: Every role a layer of this plugin has: cubes (ground truth, bicubic, fused, any opened cube, the
#: LR-HSI), a run's pictures and maps (an ensemble's expected |error| among them), the real-pair camera's
#: residual map, the Spectrum inspector's neighbour marks and the *Compare schemes* labels.
ROLES = ("gt", "bicubic", "fused", "cube", "lr", "composite", "error", "expected_error", "sam", "weight_entropy",
         "winning_neighbour", "scheme_sam", "scheme_mad", "camera_residual", "neighbours", "labels")
CUBE_ROLES = ("gt", "bicubic", "fused", "cube")
_LABELLED: weakref.WeakSet = weakref.WeakSet()  # viewers whose band slider we label
_RUN_IDS = itertools.count(1)


def next_run_id() -> str:
    """A new run id (``'run 3'``), shared by the layers of one fusion run; one counter per session."""
    return f"run {next(_RUN_IDS)}"


def inf3_metadata(role: str, method: str | None = None, run: str | None = None, **extra) -> dict[str, Any]:
    """A layer's ``metadata``: ``{"inf3": {"role", "method", "run"}}`` and any ``extra`` keys."""
    if role not in ROLES:
        raise ValueError(f"unknown layer role {role!r}; one of {ROLES}")
    return {"inf3": {"role": role, "method": method, "run": run}, **extra}


def cube_layer_kwargs(name: str, wavelengths, role: str = "cube", method: str | None = None, run: str | None = None,
                      source: str | None = None, extra: dict | None = None) -> dict[str, Any]:
    """Image-layer keywords for a ``(bands, y, x)`` cube."""
    wl = None if wavelengths is None else [float(w) for w in wavelengths]
    meta = inf3_metadata(role, method, run, wavelengths=wl)
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
    """A napari LayerData tuple for a :class:`~napari_inf3.data.cube.Cube`."""
    from pathlib import Path

    label = name or (Path(cube.source).name if cube.source else "cube")
    kw = cube_layer_kwargs(label, cube.wavelengths, role, source=cube.source,
                           extra={"format": cube.meta.get("format")})
    if getattr(cube, "geo", None) is not None:  # on its map grid, and the grid kept for the Fusion dock
        kw.update(geo_placement(cube.geo))
        kw["metadata"]["geo"] = cube.geo.to_dict()
        if cube.meta.get("nodata_mask") is not None:
            kw["metadata"]["nodata_mask"] = cube.meta["nodata_mask"]
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


LayerData = tuple  # napari's LayerDataTuple: (data, kwargs, layer_type)


def geo_placement(geo, leading: int = 1) -> dict[str, tuple]:
    """napari ``scale`` / ``translate`` putting a layer on its map grid (a :class:`~napari_inf3.data.geo.GeoRef`):
    world ``x`` is the easting, world ``y`` minus the northing (napari's y axis points down), in map units, of
    pixel centres, so layers from different files overlay; ``leading`` axes (the band axis) keep scale 1."""
    a, _, c, _, e, f = geo.transform
    # napari puts a pixel's centre at its integer data coordinate: the translate is the first pixel's centre
    return {"scale": (1.0,) * leading + (abs(e), a), "translate": (0.0,) * leading + (-(f + e / 2), c + a / 2)}


def spatial_shape(layer) -> tuple[int, int]:
    """A layer's ``(rows, cols)``: the last two axes of a cube or a map, the first two of an RGB image."""
    shape = layer.data.shape[:2] if getattr(layer, "rgb", False) else layer.data.shape[-2:]
    return int(shape[0]), int(shape[1])


def pixel_of(layer, world) -> tuple[int, int] | None:
    """The ``(row, col)`` of ``layer`` holding world point ``world`` (its last two axes), or None outside it."""
    lead = (0,) * (layer.ndim - 2)
    data = np.asarray(layer.world_to_data(np.concatenate([lead, np.asarray(world, float)[-2:]])))
    row, col = int(np.round(data[-2])), int(np.round(data[-1]))
    h, w = spatial_shape(layer)
    return (row, col) if 0 <= row < h and 0 <= col < w else None


def place_on_map(layer_data: list[LayerData], grids: dict[tuple[int, int], Any]) -> None:
    """Give each layer whose spatial shape ``(rows, cols)`` is a key of ``grids`` that grid's placement
    (:func:`geo_placement`), in place: a run's HR layers on the HR-MSI's grid, its LR layers on the LR-HSI's."""
    for data, kw, _ in layer_data:
        rgb = bool(kw.get("rgb"))
        shape = tuple(data.shape[:2]) if rgb else tuple(data.shape[-2:])
        geo = grids.get(shape)
        if geo is not None:
            kw.update(geo_placement(geo, 0 if rgb else data.ndim - 2))
            kw.setdefault("metadata", {})["geo"] = geo.to_dict()  # the napari writer writes it back


def gt_layer_data(run, name: str) -> LayerData:
    """A run's ground truth as a hidden cube layer named ``name`` (the demo viewer adds it; in the dock the
    ground truth is a layer already)."""
    kw = cube_layer_kwargs(name, run.wavelengths, "gt")
    return (run.gt, {**kw, "contrast_limits": (0.0, float(run.gt.max()) or 1.0), "visible": False}, "image")


def run_layer_data(run, run_id: str, source: str, composite_options: dict | None = None, *,
                   composites: dict | None = None) -> list[LayerData]:
    """Every layer a fusion run adds, in the order they are added: the LR-HSI, the fused cubes (with the
    neighbour weights the Spectrum inspector reads), the composites (``composite_options`` as
    :meth:`~napari_inf3.fusion.pipeline.FusionRun.composites` takes them; only those without GT are shown),
    the error and SAM maps (with a GT), the camera fit's residual map (a real pair with a camera), and
    with neighbour weights the weight-entropy / winning-neighbour maps per network and the pairwise
    scheme SAM and |a − b| maps. ``source`` is the layer the run was made from; names end ``[run_id]``.
    ``composites``: the run's composites made already (:meth:`~napari_inf3.fusion.pipeline.FusionRun.composites`)."""
    wl, tag = run.wavelengths, f"[{run_id}]"
    # each LR pixel over the HR pixel it was taken from (the block's centre for a real pair)
    o = (run.scale - 1) / 2 if run.offset is None else run.offset
    out = [(run.lr_hsi, {"scale": (1, run.scale, run.scale), "translate": (0, o, o), "visible": False,
                         **cube_layer_kwargs(f"LR-HSI {tag}", wl, "lr", run=run_id,
                                             extra={"decimation_offset": run.offset})}, "image")]
    limits = display_limits(run.reference)  # one contrast for every fused cube of the run
    for name, cube in run.fused.items():
        extra: dict[str, Any] = {"source_layer": source}
        if name in run.weights:  # the Spectrum inspector reads a click's four weights and neighbours from here
            extra.update(neighbour_weights=run.weights[name], lr_shape=tuple(run.lr_hsi.shape[1:]),
                         scale=int(round(run.scale)))
        if name in run.members:  # an ensemble: the Spectrum inspector draws its members' spread around it
            extra["ensemble_members"] = [f"{m} {tag}" for m in run.members[name]]
        kw = cube_layer_kwargs(f"{name} {tag}", wl, "bicubic" if name == "bicubic" else "fused", name, run_id,
                               extra=extra)
        out.append((cube, {"contrast_limits": limits, "visible": False, **kw}, "image"))
    out += composite_layer_data(run_id, run.composites(**(composite_options or {})) if composites is None
                                else composites)
    if run.gt is not None:
        errs, emax = run.error_maps()
        sams, smax = run.sam_maps()
        for name in run.fused:
            out.append(_map(errs[name], f"|error| {name} {tag}", "error", name, run_id, colormap="jet",
                            contrast_limits=(0.0, emax)))
            if name in run.expected_error:  # beside the true one, on its scale: how good the prediction is
                out.append(_map(run.expected_error[name], f"expected |error| {name} {tag}", "expected_error", name,
                                run_id, colormap="jet", contrast_limits=(0.0, emax)))
            out.append(_map(sams[name], f"SAM° {name} {tag}", "sam", name, run_id, colormap="jet",
                            contrast_limits=(0.0, smax)))
    else:
        out += expected_error_layer_data(run, run_id)
        out += camera_layer_data(run, run_id)
    if run.weights:
        out += weight_layer_data(run, run_id)
    return out


def composite_layer_data(run_id: str, composites: dict) -> list[LayerData]:
    """A run's composites ``{name: (H, W, 3)}`` as layers: every one but the GT's shown."""
    return [_map(rgb, f"composite {name} [{run_id}]", "composite", name, run_id, rgb=True, visible=name != "GT")
            for name, rgb in composites.items()]


def _map(data, name: str, role: str, method: str | None, run_id: str, visible: bool = False, **kw) -> LayerData:
    return (data, {"name": name, "visible": visible, "metadata": inf3_metadata(role, method, run_id), **kw}, "image")


def expected_error_layer_data(run, run_id: str) -> list[LayerData]:
    """Without ground truth, an ensemble's expected |error| (mean over bands, the cube's units) is the error
    map: one layer per ensemble, shown, one scale for all."""
    from ..viz.composites import shared_error_limit

    maps = run.expected_error
    if not maps:
        return []
    top = shared_error_limit(list(maps.values()))
    return [_map(m, f"expected |error| {name} [{run_id}]", "expected_error", name, run_id, visible=True,
                 colormap="jet", contrast_limits=(0.0, top)) for name, m in maps.items()]


def camera_layer_data(run, run_id: str) -> list[LayerData]:
    """A real pair's camera fit: its residual map (LR grid, placed over the HR pixels it covers); none
    without a camera or when the pair does not match it."""
    cam = run.camera
    if cam is None:
        return []
    try:
        res = cam.residual_map(run.lr_hsi, run.hr_msi)
    except ValueError:
        return []  # the pair does not match the camera (nothing to map)
    o = (run.scale - 1) / 2
    top = float(np.percentile(res, 99)) or 1.0
    return [_map(res, f"camera fit |residual| (relative) [{run_id}]", "camera_residual", None, run_id,
                 colormap="magma", contrast_limits=(0.0, top), scale=(run.scale, run.scale), translate=(o, o))]


def weight_layer_data(run, run_id: str) -> list[LayerData]:
    """Weight entropy and winning-neighbour maps per network (one scale), and with two or more networks
    the pairwise scheme-difference maps (SAM and |a − b|, one scale each)."""
    from ..viz.compare import LN4, NEIGHBOURS
    from ..viz.composites import ENTROPY_CMAP, NEIGHBOUR_COLOR_NAMES, NEIGHBOUR_COLORS, colorize_winner

    tag = f"[{run_id}]"
    legend = ", ".join(f"{n} {c}" for n, c in zip(NEIGHBOURS, NEIGHBOUR_COLOR_NAMES, strict=True))
    ent, win = run.weight_maps()
    out = []
    for name in run.weights:
        out.append(_map(ent[name], f"weight entropy {name} {tag}", "weight_entropy", name, run_id,
                        colormap=ENTROPY_CMAP, contrast_limits=(0.0, LN4)))
        win_meta = inf3_metadata("winning_neighbour", name, run_id,
                                 legend=dict(zip(NEIGHBOURS, NEIGHBOUR_COLORS, strict=True)))
        out.append((colorize_winner(win[name]), {"rgb": True, "name": f"winning neighbour {name} ({legend}) {tag}",
                                                 "visible": False, "metadata": win_meta}, "image"))
    if len(run.weights) >= 2:
        sams, smax, mads, mmax = run.scheme_differences()
        for pair in sams:
            out.append(_map(sams[pair], f"SAM° {pair} {tag}", "scheme_sam", pair, run_id, colormap="jet",
                            contrast_limits=(0.0, smax)))
            out.append(_map(mads[pair], f"|a − b| {pair} {tag}", "scheme_mad", pair, run_id, colormap="jet",
                            contrast_limits=(0.0, mmax)))
    return out


def add_layer_data(viewer, layer_data: list[LayerData]) -> list:
    """Add ``(data, kwargs, layer_type)`` tuples to ``viewer`` in order (``viewer.add_image`` ...); returns
    the layers."""
    return [getattr(viewer, f"add_{kind}")(data, **kw) for data, kw, kind in layer_data]


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
