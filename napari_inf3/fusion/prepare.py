"""A fusion run's inputs made ready, the one preparation the API, the docks and the demo share: a pair simulated
from a ground truth as the paper does, or a real pair read with its camera (fitted, loaded, or the linear one of
its response), its response (given, packaged or estimated from the pair) and its alignment, nodata left out."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data.cube import CubeError
from .run import FusionRun
from .types import RealPair, SimulatedPair

__all__ = ["simulated_run", "estimate_message", "read_real_pair"]


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


def read_real_pair(run: FusionRun, pair: RealPair) -> None:
    """Set the run's camera (fitted, loaded, or the linear one of the response in use) and response."""
    if pair.camera is not None:
        run.camera = _real_pair_camera(run, pair.camera, pair.align, pair.msi_storage)
        run.srf = run.camera.srf
        return
    pair_srf = pair.pair_srf
    if pair_srf is None and (run.lr_hsi.shape[0], run.hr_msi.shape[0]) != (31, 3):
        # the default (the Nikon D700 the shipped networks know) cannot describe another sensor's HR-MSI
        pair_srf = "estimate"
        run.notes.append(f"no HR-MSI response was given for a {run.lr_hsi.shape[0]}-band LR-HSI with a "
                         f"{run.hr_msi.shape[0]}-channel HR-MSI (the Nikon D700 default is 31 bands × 3 channels): "
                         "it was estimated from the pair; give the sensor's (a packaged name or a CSV) if you know it")
    if pair.align or pair_srf is not None:
        _real_pair_response(run, pair_srf, pair.align)
    run.camera = _linear_camera(run)


def _real_pair_camera(run: FusionRun, camera, align: bool, storage=None):
    """The :class:`~napari_inf3.camera.CameraFit` for ``camera`` (``'estimate'``, a fit, or a saved file);
    an estimated one carries the photo's JPEG ``storage`` when it has one."""
    from ..camera import CameraFit, estimate_camera

    if isinstance(camera, CameraFit):
        return camera
    if isinstance(camera, str) and camera == "estimate":
        fit = estimate_camera(run.lr_hsi, run.hr_msi, int(round(run.scale)), shift=align,
                              wavelengths=run.wavelengths, jpeg=storage)
        run.shift = fit.shift
        return fit
    return CameraFit.load(camera)


def _linear_camera(run: FusionRun):
    """A real pair fused with a response but no camera model: the linear camera that response describes,
    so the pair-only check and the gate see the same (``None`` when the scale is not an integer)."""
    from ..camera import CameraFit
    from ..data.simulation import load_srf

    r = run.scale
    if not float(r).is_integer():
        return None
    try:
        srf = run.srf if run.srf is not None else load_srf("nikon_d700", bands=run.lr_hsi.shape[0])
    except CubeError:
        return None  # not 31 bands: no response to judge the pair by
    if srf.shape[0] != run.hr_msi.shape[0]:
        return None
    fit = run.srf_fit
    return CameraFit.linear(srf, scale=int(r), sigma=fit.sigma if fit is not None else 0.5,
                            residual=fit.residual if fit is not None else None)


def _real_pair_response(run: FusionRun, pair_srf, align: bool) -> None:
    """Align the HR-MSI (``align``) and set ``run.srf`` (and ``run.srf_fit``) from ``pair_srf``."""
    from ..camera.srf_fit import prepare_pair
    from ..data.simulation import load_srf

    estimate = isinstance(pair_srf, str) and pair_srf == "estimate"
    run.hr_msi, run.shift, run.srf_fit = prepare_pair(run.lr_hsi, run.hr_msi, int(round(run.scale)), align=align,
                                                      estimate=estimate, valid=run.valid)
    if estimate:
        run.srf = run.srf_fit.srf
    elif pair_srf is not None:
        run.srf = load_srf(pair_srf, bands=run.lr_hsi.shape[0], wavelengths=run.wavelengths)
