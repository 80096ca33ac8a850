"""Fusing a whole LR-HSI / HR-MSI pair with a trained INFN, tile by tile.

Memory stays bounded for any image size: the LR grid is cut into near-equal tiles; each
encoder runs on its tile plus its own receptive field (the spectral trunk, cheap on the LR
grid, with a wide halo; the spatial trunk, where the time goes, with a narrow one), and INF³
and the decoder on the tile plus a 2-pixel halo (:meth:`INFN.forward_box`), so the tiled
result equals the untiled one (to float rounding, ≤ 1e-5). The tile size is chosen from the
memory available on the device unless given.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from itertools import pairwise
from pathlib import Path

import numpy as np

from ..data.cube import CubeError
from ..models.load import PAIR, is_pair_model, load_model, model_name, with_srf
from .tiling import as_array as _as_array
from .tiling import auto_tile, tile_edges
from .tiling import read_crop as _read_crop
from .types import FusionResult
from .upsampling import bicubic

__all__ = ["fuse", "bicubic"]

ProgressFn = Callable[[int, int], None]


def check_pair(lr: np.ndarray, msi: np.ndarray, model) -> float:
    """Validate an LR-HSI ``(S, h, w)`` / HR-MSI ``(s, H, W)`` pair for ``model``; returns r."""
    if lr.shape[0] != model.bands:
        raise CubeError(
            f"the LR-HSI has {lr.shape[0]} bands but the model was trained for {model.bands}"
        )
    if msi.shape[0] != model.msi_bands:
        raise CubeError(
            f"the HR-MSI has {msi.shape[0]} bands but the model was trained for {model.msi_bands}"
        )
    ry, rx = msi.shape[1] / lr.shape[1], msi.shape[2] / lr.shape[2]
    if abs(ry - rx) > 1e-6 or ry < 1:
        raise CubeError(
            f"the HR-MSI ({msi.shape[1]}×{msi.shape[2]}) is not a uniform upscale ≥ 1 of the "
            f"LR-HSI ({lr.shape[1]}×{lr.shape[2]}): ratios {ry:.4g} and {rx:.4g}"
        )
    return ry


TILE_AUTO, TILE_OFF = "auto", "off"


def fuse(model_or_checkpoint, lr_hsi, hr_msi, device=None, *, tile: int | str = TILE_AUTO,
         progress: ProgressFn | None = None, should_stop: Callable[[], bool] | None = None, out=None,
         precision: str = "fp32", clip: bool = True, weights: bool = False, weights_out=None, srf=None,
         camera=None, uncertainty: bool = False) -> FusionResult:
    """Fuse an LR-HSI with an HR-MSI into an HR-HSI: a :class:`~napari_inf3.FusionResult` whose ``.cube`` is
    the fused ``(S, H, W)`` float32 cube (the ``out`` array when given; ``np.asarray(result)`` gives it too).

    - ``model_or_checkpoint``: anything :func:`napari_inf3.load_model` takes (a model, a checkpoint path, a
      pretrained name, ``'projection'``), or ``'pair'``: a model fitted to this pair first
      (:func:`napari_inf3.fit_pair`).
    - ``lr_hsi`` ``(S, h, w)``, ``hr_msi`` ``(s, H, W)`` with ``H / h = W / w = r``: arrays or Cubes, values in
      [0, 1]; either may be lazy (an ENVI memory map read with ``lazy=True``): only each tile's crop is read.
    - ``device``: ``None``/``'auto'`` (GPU when present), ``'cpu'``, ``'cuda:N'``.
    - ``tile``: LR tile side in pixels, ``'auto'`` (picked from free memory) or ``'off'`` (one pass); tiled
      equals untiled to float rounding. ``progress(done_tiles, total_tiles)``; ``should_stop()`` is polled
      between tiles and aborts with ``InterruptedError``.
    - ``precision``: ``'fp32'``; ``'bf16'`` / ``'fp16'`` (CUDA only) run the network under autocast.
    - ``clip``: clip at 0 (the raw output holds a few slightly negative voxels, 0.2–0.5 % on CAVE scenes).
    - ``weights``: keep INF³'s neighbour weights ``(4, H, W)`` in ``result.weights`` (NW, NE, SW, SE, summing
      to 1); ``weights_out``, with it, is a ``(4, H, W)`` array (e.g. a memory map) to fill.
    - ``srf``: the HR-MSI camera's response for the SRF projection when it is not the model's (a packaged
      name, a CSV path, an ``(s, S)`` array, :func:`napari_inf3.estimate_srf`'s ``.srf``; :func:`with_srf`).
    - ``camera``: a :class:`~napari_inf3.camera.CameraFit` for an HR-MSI that is a photograph's stored values:
      linearised, moved back by its shift, projected with its response; a network trained with another
      response sees the HR-MSI it knows (camera transfer); saturated pixels fall back to what they measured.
      Excludes ``srf``.
    - ``out``: an ``(S, H, W)`` writable array filled tile by tile (e.g. :func:`napari_inf3.io.envi.create`'s
      memory map, so the result never has to fit in RAM).

    - ``uncertainty``: with an ensemble (``'ensemble'``, ``'paper:ensemble'``), also the expected-|error| map
      ``result.expected_error`` ``(H, W)`` from the members' disagreement (:mod:`napari_inf3.models.uncertainty`).

    Warnings raised on the way (e.g. a checkpoint trained with another response) are issued and kept in
    ``result.notes``.
    """
    import time
    import warnings

    _check_tile(tile)
    if weights_out is not None and not weights:
        raise ValueError("weights_out= is where the neighbour weights go: pass weights=True with it")
    if camera is not None and srf is not None:
        raise CubeError("give either srf= or camera= (a camera carries its own response), not both")
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)  # each fusion keeps its notes, however often they repeat
        if isinstance(model_or_checkpoint, str) and model_or_checkpoint == PAIR:
            model_or_checkpoint, srf, camera = _fit_here(lr_hsi, hr_msi, srf, camera, device, should_stop)
        model = load_model(model_or_checkpoint, device)
        run = _Tiling(tile=tile, progress=progress, should_stop=should_stop, precision=precision)
        fields = _dispatch(model, lr_hsi, hr_msi, run, srf=srf, camera=camera, out=out, clip=clip, weights=weights,
                           weights_out=weights_out, uncertainty=uncertainty)
    notes = tuple(_reissue(caught))
    return FusionResult(**fields, seconds=time.perf_counter() - start, device=str(next(model.parameters()).device),
                        notes=notes, model=model_name(model_or_checkpoint, model),
                        wavelengths=getattr(lr_hsi, "wavelengths", None))


def _dispatch(model, lr_hsi, hr_msi, run: _Tiling, *, weights: bool, weights_out, **options) -> dict:
    """The FusionResult's fields from the path ``model`` takes: a pair fit, an ensemble or one network."""
    from ..models.ensemble import Ensemble  # torch: imported with the model anyway

    if is_pair_model(model):
        return _fuse_pair_model(model, lr_hsi, hr_msi, run, weights=weights, **options)
    if isinstance(model, Ensemble):
        if weights:
            raise ValueError("an ensemble has no one set of neighbour weights: fuse with its members for those")
        return _fuse_ensemble(model, lr_hsi, hr_msi, run, **options)
    return _fuse_network(model, lr_hsi, hr_msi, run, weights_out=weights_out, weights=weights, **options)


def _fit_here(lr_hsi, hr_msi, srf, camera, device, should_stop):
    """``fuse('pair', ...)``: the model fitted to this pair (:func:`napari_inf3.fit_pair`) with the response or camera
    given; returns ``(model, None, None)``: the model carries them."""
    from ..pair import fit_pair

    return fit_pair(lr_hsi, hr_msi, srf=srf, camera=camera, device=device, should_stop=should_stop), None, None


def _fuse_pair_model(model, lr_hsi, hr_msi, run: _Tiling, *, srf, camera, out, clip: bool, weights: bool,
                     uncertainty: bool) -> dict:
    """A :class:`~napari_inf3.pair.PairModel`: its own tiling (:meth:`~napari_inf3.pair.PairModel.fuse_array`);
    an HR-MSI that was a photo when the model was fitted goes through the same camera first."""
    import copy

    if weights or uncertainty:
        raise ValueError("a model fitted to the pair has no neighbour weights to return nor an expected-|error| map "
                         "(that is an ensemble's): fuse it without weights= / uncertainty=")
    if camera is not None:
        raise CubeError("camera= is fitted into a pair model: give it to fit_pair (or fuse('pair', ..., camera=))")
    lr, lr_src = _as_array(lr_hsi, "LR-HSI")
    msi, _ = _as_array(hr_msi, "HR-MSI")
    if lr.shape[0] != model.bands or msi.shape[0] != model.msi_bands:
        raise CubeError(f"this pair model was fitted to a {model.bands}-band LR-HSI and a {model.msi_bands}-channel "
                        f"HR-MSI; got {lr.shape[0]} bands and {msi.shape[0]} channels", lr_src)
    if model.meta.get("camera"):
        from ..camera import CameraFit

        msi = CameraFit.from_dict(model.meta["camera"]).prepare(msi)[0]
    if srf is not None:
        import torch

        from ..data.simulation import load_srf

        model = copy.deepcopy(model)
        model.srf.copy_(torch.as_tensor(load_srf(srf, bands=model.bands)))
        model.config["projection"] = True
    tile = run.tile if run.tile != TILE_OFF else "off"
    cube = model.fuse_array(lr, msi, out=out, tile=tile, progress=run.progress, should_stop=run.should_stop,
                            clip=clip)
    return {"cube": cube, "weights": None}


def _fuse_network(model, lr_hsi, hr_msi, run: _Tiling, *, uncertainty: bool, **options) -> dict:
    """One network (not an ensemble): the FusionResult's ``cube`` and ``weights``."""
    if uncertainty:
        raise ValueError("an expected-|error| map comes from an ensemble's disagreement: fuse with "
                         "'ensemble' or 'paper:ensemble' (uncertainty=True)")
    if options.get("weights") and not getattr(model, "has_weights", True):
        raise ValueError(f"this network ({model.variant()}) has no neighbour weights: only INF³ weighs four "
                         "neighbours")
    cube, wts = _fuse_single(model, lr_hsi, hr_msi, run, **options)
    return {"cube": cube, "weights": wts}


def _fuse_single(model, lr_hsi, hr_msi, run: _Tiling, *, srf, camera,
                 **options) -> tuple[np.ndarray, np.ndarray | None]:
    """One network, through the camera (``camera``), another response (``srf``) or as trained."""
    if camera is not None:
        return _fuse_photo(model, _camera_pair(lr_hsi, hr_msi, camera), camera, run, **options)
    return _fuse_model(with_srf(model, srf) if srf is not None else model, lr_hsi, hr_msi, run, **options)


def _fuse_photo(model, photo, camera, run: _Tiling, *, member: str | None = None,
                **options) -> tuple[np.ndarray, np.ndarray | None]:
    """One network through the camera; for an 8-bit photo and a shipped network with JPEG-tuned weights, both
    weights, the result reproducing the LR-HSI better kept (:mod:`napari_inf3.fusion.jpeg_choice`; ``member``
    names an ensemble's member in the note)."""
    from .jpeg_choice import fuse_keeping_the_better, tuned_alternative

    tuned = tuned_alternative(model, camera)
    if tuned is None:
        return _fuse_with_camera(model, photo, camera, run, **options)
    return fuse_keeping_the_better(lambda m, r, **o: _fuse_with_camera(m, photo, camera, r, **o), model, tuned,
                                   photo.lr, camera, run, member=member, **options)


def _fuse_ensemble(ens, lr_hsi, hr_msi, run: _Tiling, *, srf, camera, out, clip: bool,
                   uncertainty: bool) -> dict:
    """Each member fused as a single network would be, then averaged (:func:`napari_inf3.models.ensemble.combine`);
    progress counts all members' tiles together. The FusionResult's fields."""
    # a photograph is linearised, aligned and upsampled once for all members (and its fit judged once)
    photo = _camera_pair(lr_hsi, hr_msi, camera) if camera is not None else None
    members = {}
    n = len(ens.members)
    for i, (name, member) in enumerate(ens.members.items()):
        progress = run.progress
        step = None if progress is None else (lambda d, t, i=i, p=progress: p(i * t + d, n * t))
        member_run = replace(run, progress=step)
        members[name], _ = (_fuse_photo(member, photo, camera, member_run, clip=clip, member=name) if photo is not None
                            else _fuse_model(with_srf(member, srf) if srf is not None else member, lr_hsi, hr_msi,
                                             member_run, clip=clip))
    return ensemble_of(ens, members, lr_hsi, hr_msi, srf=srf, camera=camera, photo=photo, uncertainty=uncertainty,
                       out=out)


def ensemble_of(ens, members: dict, lr_hsi, hr_msi, *, srf=None, camera=None, photo=None, uncertainty: bool,
                out=None) -> dict:
    """The ensemble fusion from its members' fused cubes ``{name: (S, H, W)}``, however they were made (fused here
    one by one, or already in a fusion run): their mean, spread and, with ``uncertainty``, the expected |error|
    (:func:`napari_inf3.models.ensemble.combine`, fed the pair's SRF projection and linear HR-MSI as the
    calibration's other cues). The FusionResult's fields."""
    from ..models.ensemble import combine

    cues: dict = {}
    if uncertainty:  # what the calibration reads besides the members: the pair's projection and linear HR-MSI
        cues["projection"], cues["msi"] = (_photo_projection(photo, camera) if photo is not None
                                           else pair_projection(lr_hsi, hr_msi, srf=srf, camera=camera,
                                                                model=ens.first))
    cube, spread, expected = combine(members, ens.calibration, uncertainty=uncertainty, out=out, **cues)
    return {"cube": cube, "spread": spread, "expected_error": expected, "members": members}


def pair_projection(lr_hsi, hr_msi, *, srf=None, camera=None, model=None) -> tuple[np.ndarray, np.ndarray]:
    """``(SRF projection of bicubic (S, H, W) clipped at 0, linear HR-MSI (s, H, W))`` of a pair as a fusion
    reads it: through ``camera`` (linearised, moved back, its response), with ``srf``, or with ``model``'s
    own response (the Nikon D700 when it has none)."""
    from ..camera.fusion import model_response, project
    from ..data.simulation import load_srf

    if camera is not None:
        return _photo_projection(_camera_pair(lr_hsi, hr_msi, camera, warn=False), camera)
    lr = np.asarray(_as_array(lr_hsi, "LR-HSI")[0], np.float32)
    msi = np.asarray(_as_array(hr_msi, "HR-MSI")[0], np.float32)
    own = model_response(model) if model is not None else None
    p = load_srf(srf, bands=lr.shape[0]) if srf is not None else (
        own if own is not None else load_srf("nikon_d700", bands=lr.shape[0]))
    return np.maximum(project(bicubic(lr, msi.shape[1:]), p, msi), 0.0), msi


def _photo_projection(photo: _Photo, camera) -> tuple[np.ndarray, np.ndarray]:
    """:func:`pair_projection` of a photograph already read through its camera."""
    from ..camera.fusion import project

    return np.maximum(project(photo.x_up, camera.srf, photo.lin), 0.0), photo.lin


def _check_tile(tile) -> None:
    if tile in (TILE_AUTO, TILE_OFF):
        return
    if isinstance(tile, bool) or not isinstance(tile, (int, np.integer)) or tile < 1:
        raise ValueError(f"tile must be a side in LR pixels (≥ 1), {TILE_AUTO!r} or {TILE_OFF!r}; got {tile!r}")


def _reissue(caught) -> list[str]:
    """Issue again the warnings recorded around a fusion (so the caller's filters apply); their texts."""
    import warnings

    for w in caught:
        path = Path(w.filename).with_suffix("")
        parts = path.parts
        # the dotted module name, so filters such as 'error::DeprecationWarning:napari_inf3' still match
        module = ".".join(parts[len(parts) - 1 - parts[::-1].index("napari_inf3"):]) if "napari_inf3" in parts \
            else path.name
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, module=module)
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)]


@dataclass(frozen=True)
class _Tiling:
    """How one fusion walks the image (the options of :func:`fuse` that do not change the result)."""

    tile: int | str = TILE_AUTO
    progress: ProgressFn | None = None
    should_stop: Callable[[], bool] | None = None
    precision: str = "fp32"


def _target(out, shape: tuple[int, ...], what: str) -> np.ndarray:
    """``out`` checked against ``shape``, or a new float32 array."""
    if out is None:
        return np.empty(shape, dtype=np.float32)
    if tuple(out.shape) != shape:
        raise CubeError(f"the {what} array is {tuple(out.shape)}, the fusion's is {shape}")
    return out


def _fuse_model(model, lr_hsi, hr_msi, run: _Tiling, *, out=None, weights_out=None, weights: bool = False,
                clip: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """One INFN over the whole pair, tiled as ``run`` says: ``(cube (S, H, W), weights (4, H, W) or None)``."""
    import torch

    dev = next(model.parameters()).device
    lr, lr_src = _as_array(lr_hsi, "LR-HSI")
    msi, msi_src = _as_array(hr_msi, "HR-MSI")
    r = check_pair(lr, msi, model)
    h, w = lr.shape[1:]
    H, W = msi.shape[1:]
    integer = float(r).is_integer()
    tile = run.tile
    if tile == TILE_AUTO:
        tile = auto_tile(model, int(round(r)), dev) if integer else 0
    out = _target(out, (lr.shape[0], H, W), "output")
    weights_out = _target(weights_out, (4, H, W), "weights") if weights else None
    # one normaliser for the whole image, so tiles agree: the LR-HSI's mean, from its band means
    means = lr.band_means() if hasattr(lr, "band_means") else lr.mean(axis=(1, 2), dtype=np.float64)
    with torch.inference_mode(), _autocast(dev, run.precision):
        norm = model.brightness(torch.from_numpy(means.astype(np.float32)).view(1, -1, 1, 1)).to(dev)
        if tile == TILE_OFF or not integer or (tile >= h and tile >= w):
            boxes = [(0, h, 0, w)]
            halo = 0
        else:
            halo = model.lr_halo(int(r))
            boxes = [(ya, yb, xa, xb) for ya, yb in pairwise(tile_edges(h, int(tile)))
                     for xa, xb in pairwise(tile_edges(w, int(tile)))]
        if run.progress:
            run.progress(0, len(boxes))
        for k, box in enumerate(boxes):
            if len(boxes) > 1 and run.should_stop is not None and run.should_stop():
                raise InterruptedError("fusion cancelled")
            _fuse_box(model, (lr, lr_src), (msi, msi_src), norm, box, halo, r, out, weights_out, clip)
            if run.progress:
                run.progress(k + 1, len(boxes))
    return out, weights_out


def _fuse_box(model, lr_in, msi_in, norm, box, halo: int, r: float, out, weights_out, clip: bool) -> None:
    """Fuse the LR box ``(y0, y1, x0, x1)`` (read with ``halo`` LR pixels around it) into ``out``
    (and ``weights_out``). ``halo == 0`` and the whole image as the box: one untiled forward pass."""
    import torch

    (lr, lr_src), (msi, msi_src) = lr_in, msi_in
    dev = norm.device
    h, w = lr.shape[1:]
    y0, y1, x0, x1 = box
    if halo == 0 and box == (0, h, 0, w):  # untiled: also the path for a non-integer scale
        lr_c = _read_crop(lr, "LR-HSI", lr_src, np.s_[:, 0:h, 0:w])
        msi_c = _read_crop(msi, "HR-MSI", msi_src, np.s_[:, :, :])
        res = model(torch.from_numpy(lr_c)[None].to(dev), torch.from_numpy(msi_c)[None].to(dev), norm=norm,
                    return_weights=weights_out is not None)
        dest = np.s_[:, :, :]
    else:
        r = int(round(r))
        cy0, cx0, cy1, cx1 = max(0, y0 - halo), max(0, x0 - halo), min(h, y1 + halo), min(w, x1 + halo)
        lr_c = _read_crop(lr, "LR-HSI", lr_src, np.s_[:, cy0:cy1, cx0:cx1])
        msi_c = _read_crop(msi, "HR-MSI", msi_src, np.s_[:, cy0 * r : cy1 * r, cx0 * r : cx1 * r])
        res = model.forward_box(torch.from_numpy(lr_c)[None], torch.from_numpy(msi_c)[None], norm,
                                (y0 - cy0, y1 - cy0, x0 - cx0, x1 - cx0), return_weights=weights_out is not None)
        dest = np.s_[:, y0 * r : y1 * r, x0 * r : x1 * r]
    if weights_out is not None:
        res, wts = res
        weights_out[dest] = wts[0].float().cpu().numpy()
    part = res[0].float()
    out[dest] = (part.clamp_min_(0) if clip else part).cpu().numpy()


@dataclass(frozen=True)
class _Photo:
    """A photograph as the HR-MSI, read once: the LR-HSI ``lr`` (S, h, w), the linearised, aligned HR-MSI
    ``lin`` (s, H, W), its ``saturated`` pixels and the bicubic upsampling ``x_up`` (S, H, W)."""

    lr: np.ndarray
    lin: np.ndarray
    saturated: np.ndarray
    x_up: np.ndarray


def _camera_pair(lr_hsi, hr_msi, camera, *, warn: bool = True) -> _Photo:
    """``hr_msi`` (the photograph's stored values) through ``camera``; a poor fit warns here (``warn``), once."""
    from ..camera import CameraFit
    from ..camera.gate import warn_if_poor

    if not isinstance(camera, CameraFit):
        raise CubeError(f"camera= takes a CameraFit (estimate_camera or CameraFit.load), got {type(camera).__name__}")
    if warn:
        warn_if_poor(camera, stacklevel=4)
    lin, saturated = camera.prepare(hr_msi)
    lr = np.asarray(_as_array(lr_hsi, "LR-HSI")[0], np.float32)
    return _Photo(lr, lin, saturated, bicubic(lr, lin.shape[1:]))


def _fuse_with_camera(model, photo: _Photo, camera, run: _Tiling, *, out=None, weights_out=None,
                      weights: bool = False, clip: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """``fuse(model, lr_hsi, hr_msi, camera=camera)`` on the pair :func:`_camera_pair` read.

    A network trained with this camera's response takes the linearised HR-MSI directly; any other is
    shown the HR-MSI it knows and its output projected onto the photograph (camera transfer,
    :mod:`napari_inf3.camera.fusion`). Then half a back-projection onto the LR-HSI, and saturated pixels fall
    back to what the other channels measured.
    """
    from ..camera.fusion import back_project, learned_camera, project, transfer_input
    from ..camera.model import fall_back_saturated

    if model.msi_bands != camera.srf.shape[0] or model.bands != camera.srf.shape[1]:
        raise CubeError(f"the camera is {camera.srf.shape[0]} × {camera.srf.shape[1]} (channels × bands); the model "
                        f"takes {model.msi_bands} channels and {model.bands} bands")
    lr, lin, x_up = photo.lr, photo.lin, photo.x_up
    options = {"weights_out": weights_out, "weights": weights, "clip": False}
    if learned_camera(model, camera):
        fused, wts = _fuse_model(with_srf(model, camera.srf), lr, lin, run, out=out, **options)
    else:
        raw, wts = _fuse_model(model, lr, transfer_input(model, camera, x_up, lin), run, **options)
        fused = _target(out, raw.shape, "output")
        fused[:] = project(raw, camera.srf, lin)
    if fused.shape[1] == lr.shape[1] * camera.scale and fused.shape[2] == lr.shape[2] * camera.scale:
        back_project(fused, lr, camera)  # the measured LR-HSI pulls back what the photo's errors moved
    fall_back_saturated(fused, x_up, lin, camera.srf, photo.saturated, clip=False)
    if clip:
        np.maximum(fused, 0.0, out=fused)
    return fused, wts


def _autocast(dev, precision: str):
    """The autocast context for ``precision`` on ``dev`` (a no-op for fp32)."""
    import contextlib

    import torch

    dtypes = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
    if precision not in dtypes:
        raise ValueError(f"unknown precision {precision!r}; choose from {sorted(dtypes)}")
    if precision == "fp16" and dev.type != "cuda":
        raise ValueError("fp16 fusion needs a CUDA device; use precision='bf16' on the CPU")
    if dtypes[precision] is None:
        return contextlib.nullcontext()
    return torch.autocast(dev.type, dtype=dtypes[precision])
