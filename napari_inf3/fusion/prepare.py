"""A fusion run's inputs made ready, the one preparation the API, the docks and the demo share: a pair simulated
from a ground truth as the paper does, or a real pair read with its camera (fitted, loaded, or the linear one of
its response), its response (given, packaged or estimated from the pair) and its alignment, nodata left out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data.cube import CubeError
from .run import FusionRun
from .types import RealPair, SimulatedPair, asks_estimate

__all__ = ["PreparedPair", "prepare_real_pair", "simulated_run", "estimate_message", "read_real_pair"]


def simulated_run(pair: SimulatedPair) -> FusionRun:
    """The run's inputs simulated from ``pair.gt`` as the paper does (GT cropped to the HR-MSI)."""
    from ..data.simulation import check_offset, load_srf, simulate

    bands = np.shape(getattr(pair.gt, "data", pair.gt))[-3]
    srf = pair.srf
    if isinstance(srf, (str, Path)):  # a packaged name or CSV: on the scene's band centres when they are known
        srf = load_srf(srf, bands=bands, wavelengths=pair.wavelengths)
    lr, msi = simulate(pair.gt, pair.scale, srf, crop=pair.crop, offset=pair.offset)
    g = np.asarray(getattr(pair.gt, "data", pair.gt), np.float32)[:, : msi.shape[1], : msi.shape[2]]
    run = FusionRun(lr, msi, pair.scale, g, pair.wavelengths, offset=check_offset(pair.offset, pair.scale))
    run.source = pair.source
    run.sim_srf = srf
    return run


def estimate_message(pair: RealPair) -> str:
    if pair.camera is not None:
        what = "tone curve, response, shift" if pair.align else "tone curve, response"
        return f"estimating the HR-MSI's camera ({what})"
    return "aligning the HR-MSI / estimating its response" if pair.align else "estimating the HR-MSI response"


@dataclass(frozen=True)
class PreparedPair:
    """A real pair made ready to fuse (:func:`prepare_real_pair`).

    ``hr_msi``: ``(s, H, W)``, moved back by ``shift`` (HR pixels, (dy, dx)) when the pair was aligned.
    ``camera``: the HR-MSI's :class:`~napari_inf3.camera.CameraFit`: estimated or loaded when the HR-MSI is a
    photo's stored values (``camera_pair``), else the linear camera of the response in use, for the pair-only
    check (``None`` when there is no response to judge by). ``srf``: the ``(s, S)`` response the fusion is told
    (``None``: each model's own); ``srf_fit``: the :class:`~napari_inf3.camera.srf_fit.SrfFit` it was estimated
    by; ``srf_asked``: the response was the user's (given, or estimated on request), not the default estimate
    for a sensor the shipped networks do not know (a fit to the pair then fits its own). ``notes``: what the
    preparation decided for the user, in words."""

    hr_msi: np.ndarray
    camera: Any = None
    camera_pair: bool = False
    srf: np.ndarray | None = None
    srf_fit: Any = None
    srf_asked: bool = False
    shift: tuple[float, float] | None = None
    notes: tuple[str, ...] = ()


def prepare_real_pair(pair: RealPair) -> PreparedPair:
    """The one preparation of a real pair (the CLI, the Fusion dock, notebooks and the demo call it): its camera
    (``pair.camera``: estimated with ``pair.curve``, ``pair.estimate_blur``, its shift when ``pair.align``; or
    loaded), else its response (``pair.pair_srf``: given, packaged, or estimated; estimated by default for a
    pair that is not 31 bands × 3 channels) and alignment; nodata (``pair.valid``) left out of every fit."""
    if pair.camera is not None:
        camera = _camera_of(pair)
        return PreparedPair(pair.hr_msi, camera, True, camera.srf, srf_asked=True,
                            shift=camera.shift if asks_estimate(pair.camera) else None)
    pair_srf = pair.pair_srf
    notes: tuple[str, ...] = ()
    if pair_srf is None and (pair.lr_hsi.shape[0], pair.hr_msi.shape[0]) != (31, 3):
        # the default (the Nikon D700 the shipped networks know) cannot describe another sensor's HR-MSI
        pair_srf = "estimate"
        notes = (f"no HR-MSI response was given for a {pair.lr_hsi.shape[0]}-band LR-HSI with a "
                 f"{pair.hr_msi.shape[0]}-channel HR-MSI (the Nikon D700 default is 31 bands × 3 channels): "
                 "it was estimated from the pair; give the sensor's (a packaged name or a CSV) if you know it",)
    msi, shift, fit, srf = pair.hr_msi, None, None, None
    if pair.align or pair_srf is not None:
        msi, shift, fit, srf = _response_of(pair, pair_srf)
    camera = _linear_camera(pair, srf, fit)
    return PreparedPair(msi, camera, False, srf, fit, pair.pair_srf is not None, shift, notes)


def read_real_pair(run: FusionRun, pair: RealPair) -> None:
    """Set the run's HR-MSI (aligned), camera, response, shift and notes from :func:`prepare_real_pair`."""
    prep = prepare_real_pair(pair)
    run.hr_msi, run.camera, run.camera_pair = prep.hr_msi, prep.camera, prep.camera_pair
    run.srf, run.srf_fit, run.shift = prep.srf, prep.srf_fit, prep.shift
    run.srf_asked = prep.srf_asked
    run.notes += list(prep.notes)


def _camera_of(pair: RealPair):
    """The :class:`~napari_inf3.camera.CameraFit` of ``pair.camera`` (``'estimate'``, a fit, or a saved file);
    an estimated one carries the photo's JPEG storage when it has one."""
    from ..camera import CameraFit, estimate_camera

    if isinstance(pair.camera, CameraFit):
        return pair.camera
    if asks_estimate(pair.camera):
        return estimate_camera(pair.lr_hsi, pair.hr_msi, int(round(pair.scale)), offset=pair.offset,
                               curve=pair.curve, shift=pair.align, estimate_blur=pair.estimate_blur,
                               wavelengths=pair.wavelengths, jpeg=pair.msi_storage)
    return CameraFit.load(pair.camera)


def _linear_camera(pair: RealPair, srf, fit):
    """A real pair fused with a response but no camera model: the linear camera that response describes,
    so the pair-only check and the gate see the same (``None`` when the scale is not an integer)."""
    from ..camera import CameraFit
    from ..data.simulation import load_srf

    r = pair.scale
    if not float(r).is_integer():
        return None
    try:
        srf = srf if srf is not None else load_srf("nikon_d700", bands=pair.lr_hsi.shape[0])
    except CubeError:
        return None  # not 31 bands: no response to judge the pair by
    if srf.shape[0] != pair.hr_msi.shape[0]:
        return None
    return CameraFit.linear(srf, scale=int(r), sigma=fit.sigma if fit is not None else 0.5,
                            residual=fit.residual if fit is not None else None)


def _response_of(pair: RealPair, pair_srf):
    """``(hr_msi, shift, fit, srf)``: the HR-MSI aligned (``pair.align``) and the response from ``pair_srf``
    (estimated: with its :class:`~napari_inf3.camera.srf_fit.SrfFit`)."""
    from ..camera.srf_fit import prepare_pair
    from ..data.simulation import load_srf

    estimate = asks_estimate(pair_srf)
    msi, shift, fit = pair.hr_msi, None, None
    if estimate or pair.align:  # a named response alone fits nothing (any scale, integer or not)
        msi, shift, fit = prepare_pair(pair.lr_hsi, pair.hr_msi, int(round(pair.scale)), align=pair.align,
                                       estimate=estimate, offset=pair.offset, estimate_blur=pair.estimate_blur,
                                       valid=pair.valid)
        if estimate:
            return msi, shift, fit, fit.srf
    srf = None if pair_srf is None else load_srf(pair_srf, bands=pair.lr_hsi.shape[0], wavelengths=pair.wavelengths)
    return msi, shift, fit, srf
