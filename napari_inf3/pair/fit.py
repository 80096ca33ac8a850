""":func:`fit_pair`: a fusion model fitted to one LR-HSI / HR-MSI pair, with no ground truth, for any sensor.

Steps (each measured in docs/PAIR.md): the PSF that relates the two grids (:mod:`.psf`); the HR-MSI camera's
response, given or fitted; the stacked spectral map HR-MSI pixel → spectrum (:mod:`.spectral_map`); the residual
subspace and the local models' window, σ and ridge strength, chosen by leave-one-out (:mod:`.local_fit`); then an
honest self-check (:mod:`.selfcheck`). The result is a :class:`~.model.PairModel` that :func:`napari_inf3.fuse`
runs like any other model and that saves as a checkpoint.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..data.cube import Cube, CubeError
from .psf import Degradation, estimate_degradation

__all__ = ["fit_pair", "PairFitWarning", "MIN_LR_SIDE", "MIN_LR_PIXELS"]

#: An LR-HSI with a side under this many pixels gets a warning: too few LR pixels to fit a map reliably.
MIN_LR_SIDE = 16
#: Below this many LR pixels nothing can be fitted: refused.
MIN_LR_PIXELS = 36
#: Components of the residual subspace the local models work in (at most the band count).
RESIDUAL_COMPONENTS = int(__import__("os").environ.get("PAIR_K", 16))
#: A fitted response whose held-out residual exceeds this (relative) does not drive the SRF projection.
SRF_POOR = 0.05


class PairFitWarning(UserWarning):
    """The pair is too small to fit reliably, or the fit does not explain it (see the model's self-check)."""


@dataclass
class _Fit:
    """What one fit carries between its steps (internal)."""

    lr: np.ndarray
    msi: np.ndarray
    scale: int
    progress: Callable[[int, int], None] | None
    should_stop: Callable[[], bool] | None
    #: ``(h, w)`` bool, the LR pixels the fit may use (None: all); see :func:`_usable`
    keep: np.ndarray | None = None
    t0: float = field(default_factory=time.perf_counter)
    meta: dict[str, Any] = field(default_factory=dict)
    done: int = 0

    def step(self, weight: int, what: str) -> None:
        if self.should_stop is not None and self.should_stop():
            raise InterruptedError("fitting cancelled")
        self.done += weight
        self.meta.setdefault("steps", []).append({"step": what, "seconds": round(time.perf_counter() - self.t0, 3)})
        if self.progress is not None:
            self.progress(min(self.done, 100), 100)


def _arrays(lr_hsi, hr_msi, scale) -> tuple[np.ndarray, np.ndarray, int, np.ndarray | None]:
    """The pair as float32 arrays, the scale, and the LR-HSI's wavelengths when it carries them."""
    from ..fusion.tiling import as_array as _as_array

    lr = np.asarray(_as_array(lr_hsi, "LR-HSI")[0], np.float32)
    msi = np.asarray(_as_array(hr_msi, "HR-MSI")[0], np.float32)
    wl = lr_hsi.wavelengths if isinstance(lr_hsi, Cube) else None
    (h, w), (H, W) = lr.shape[1:], msi.shape[1:]
    if H % h or W % w or H // h != W // w:
        raise CubeError(f"the HR-MSI ({H}×{W}) is not a whole-number upscale of the LR-HSI ({h}×{w}); crop both to a "
                        "common footprint whose sides are multiples of the scale")
    r = H // h
    if scale is not None and int(scale) != r:
        raise CubeError(f"scale={scale}, but the HR-MSI ({H}×{W}) is {r}× the LR-HSI ({h}×{w})")
    if r < 2:
        raise CubeError(f"the HR-MSI is not larger than the LR-HSI ({H}×{W} against {h}×{w}): nothing to fuse")
    if h * w < MIN_LR_PIXELS:
        raise CubeError(f"the LR-HSI has {h}×{w} pixels: too few to fit a fusion to the pair (at least "
                        f"{MIN_LR_PIXELS}; {MIN_LR_SIDE}×{MIN_LR_SIDE} or more for a reliable fit)")
    if min(h, w) < MIN_LR_SIDE:
        warnings.warn(f"the LR-HSI is only {h}×{w} pixels: the fit rests on {h * w} spectra and its self-check on "
                      f"fewer; expect a rough result (reliable from about {MIN_LR_SIDE}×{MIN_LR_SIDE})",
                      PairFitWarning, stacklevel=3)
    return lr, msi, r, wl


def _response(fit: _Fit, srf, wavelengths, y_lr: np.ndarray) -> tuple[np.ndarray, bool, dict]:
    """``(P (s, S), use it for the projection, facts)``: the given response, or one fitted from the pair."""
    from ..camera.srf_fit import solve_response
    from ..data.simulation import load_srf

    S, s = fit.lr.shape[0], fit.msi.shape[0]
    if srf is not None:
        p = load_srf(srf, bands=S, wavelengths=None if wavelengths is None else np.asarray(wavelengths, float))
        if p.shape[0] != s:
            raise CubeError(f"the spectral response has {p.shape[0]} channels; the HR-MSI has {s}")
        source = srf if isinstance(srf, str) else "given"
    else:
        p, source = None, "fitted from the pair"
    X = fit.lr.reshape(S, -1).astype(np.float64)
    Y = y_lr.reshape(s, -1).astype(np.float64)
    if fit.keep is not None:
        X, Y = X[:, fit.keep.reshape(-1)], Y[:, fit.keep.reshape(-1)]
    step = max(1, X.shape[1] // 40000)
    X, Y = X[:, ::step], Y[:, ::step]
    if p is None:
        lam = 1e-4 * float(np.mean(np.sum(X * X, axis=1)))
        p = np.stack([solve_response(X, y, lam)[0] for y in Y]).astype(np.float32)
    resid = np.linalg.norm(Y - p.astype(np.float64) @ X, axis=1) / np.maximum(np.linalg.norm(Y, axis=1), 1e-30)
    usable = bool(np.max(resid) <= SRF_POOR)
    return p.astype(np.float32), usable, {"srf": source, "srf_residual": [round(float(v), 5) for v in resid]}


def _budget_steps(seconds: float | None, pixels: int, bands: int) -> int:
    """MLP steps for the spectral map: 800, fewer when a time budget asks (≈ measured cost per step)."""
    if seconds is None:
        return 800
    per_step = 2e-8 * min(pixels, 8192) * (256 * 256 * 2 + 256 * bands) / 256  # ≈ s per step on 2 CPU cores
    return int(max(100, min(800, 0.35 * seconds / max(per_step, 1e-6))))


def fit_pair(lr_hsi, hr_msi, *, srf=None, camera=None, wavelengths=None, scale: int | None = None,
             seconds: float | None = None, device=None, progress: Callable[[int, int], None] | None = None,
             should_stop: Callable[[], bool] | None = None, seed: int = 0, psf: str | Degradation = "auto",
             weighting: str = "area", valid: np.ndarray | None = None):
    """Fit a fusion to this pair alone: a :class:`~napari_inf3.pair.PairModel` for :func:`napari_inf3.fuse`.

    Parameters
    ----------
    lr_hsi : ``(S, h, w)`` array or Cube, any band count (4 … 300), any units.
    hr_msi : ``(s, r·h, r·w)``, any channel count (1 … 16); a photograph's stored values with ``camera``.
    srf : the HR-MSI's response ``(s, S)``: an array, a CSV path or a packaged name (resampled to the LR-HSI's
        ``wavelengths`` when given); ``None`` fits it from the pair.
    camera : a :class:`~napari_inf3.camera.CameraFit`, or ``'estimate'`` to fit one: the HR-MSI is a photo,
        linearised through its camera before anything else (its response replaces ``srf``).
    wavelengths : the LR-HSI's band centres in nm (default: the Cube's).
    scale : r, checked against the shapes (``None``: read from them).
    seconds : a time budget for the fit (the spectral map's training shortens to fit it).
    device : where the spectral map trains and runs (``None``: GPU when present).
    progress, should_stop : ``progress(done, 100)`` after each step; ``should_stop()`` polled between steps and
        during training: ``True`` aborts with ``InterruptedError``.
    seed : fixes the hold-out split and the MLP's start: the same call gives the same model.
    psf : ``'auto'`` picks the LR-HSI's point spread function from the pair (:mod:`napari_inf3.pair.psf`),
        ``'protocol'`` is the paper's (σ 0.5, pixel r // 2), or a :class:`~napari_inf3.pair.psf.Degradation`.
    weighting : how the local step weighs an HR pixel's four LR neighbours: ``'area'`` or ``'cosine'``.
    valid : ``(r·h, r·w)`` bool, the HR pixels with data (a georeferenced pair's,
        :attr:`napari_inf3.data.geo.AlignedPair.valid`): LR pixels whose block or a neighbour's lacks data are
        left out of every step of the fit. LR pixels whose spectrum is 0 in every band are taken as pixels without
        data whether ``valid`` is given or not (the fusion treats them so too:
        :meth:`~napari_inf3.pair.PairModel.fuse_crop`).

    The model's ``meta`` holds how it was fitted and its self-check (``meta['self_check']``: the held-out
    reconstruction in dB beside plain interpolation's; :func:`napari_inf3.pair.pair_report`). A fit too small
    or too poor to trust warns (:class:`PairFitWarning`).
    """
    import torch

    from ..models.device import select_device

    if camera is not None and srf is not None:
        raise CubeError("a camera carries its own response: give camera= or srf=, not both")
    lr, msi, r, wl = _arrays(lr_hsi, hr_msi, scale)
    wavelengths = wl if wavelengths is None else wavelengths
    if camera is not None:
        camera, msi = _through_camera(camera, lr, msi, r)
        srf = camera.srf
    fit = _Fit(lr, msi, r, progress, should_stop, _usable(lr, valid, r))
    dev = select_device(device)
    torch.manual_seed(seed)
    model = _fit_model(fit, srf, wavelengths, dev, seed, seconds, psf, weighting)
    if camera is not None:
        model.meta["camera"] = camera.to_dict()
    from .selfcheck import self_check

    model.meta["self_check"] = self_check(model, lr, msi, seed=seed, mlp_steps=model.meta["mlp_steps"],
                                          keep=fit.keep)
    fit.step(15, "self-check")
    model.meta["seconds"] = round(time.perf_counter() - fit.t0, 3)
    _warn_if_poor(model)
    return model


def _usable(lr: np.ndarray, valid: np.ndarray | None, r: int) -> np.ndarray | None:
    """The LR pixels a fit may use: with data in the HR-MSI's block and its neighbours' (``valid``,
    :func:`napari_inf3.data.geo.lr_valid`) and a spectrum not 0 in every band; ``None`` when that is all of them."""
    from ..data.geo import lr_valid
    from .local_fit import has_data

    keep = has_data(lr)
    if valid is not None:
        v = np.asarray(valid, bool)
        if v.shape != (lr.shape[1] * r, lr.shape[2] * r):
            raise CubeError(f"valid= is {v.shape[0]}×{v.shape[1]}; the HR-MSI is {lr.shape[1] * r}×{lr.shape[2] * r}")
        found = lr_valid(v, r)
        if found is not None:
            keep &= found
    if keep.all():
        return None
    if keep.sum() < MIN_LR_PIXELS:
        raise CubeError(f"only {int(keep.sum())} LR pixels have data in both images: too few to fit a fusion to "
                        f"the pair (at least {MIN_LR_PIXELS})")
    return keep


def _through_camera(camera, lr: np.ndarray, msi: np.ndarray, r: int):
    """``(CameraFit, linear HR-MSI)``: a photo read through its camera (fitted when ``'estimate'``)."""
    from ..camera import CameraFit, estimate_camera
    from ..fusion.types import asks_estimate

    if asks_estimate(camera):
        camera = estimate_camera(lr, msi, r)
    elif isinstance(camera, str):
        camera = CameraFit.load(camera)
    if not isinstance(camera, CameraFit):
        raise CubeError(f"camera= takes a CameraFit, 'estimate' or a saved camera's path; got {type(camera).__name__}")
    lin, _ = camera.prepare(msi)
    return camera, lin


def _fit_model(fit: _Fit, srf, wavelengths, dev, seed: int, seconds, psf, weighting: str):
    """The fitting steps after the inputs are checked; returns the model with its ``meta``."""
    import torch

    from .local_fit import residual_basis, select_local
    from .model import PairModel
    from .spectral_map import fit_spectral_map

    lr, msi, r = fit.lr, fit.msi, fit.scale
    S, s = lr.shape[0], msi.shape[0]
    scores: dict[str, float] = {}
    if isinstance(psf, Degradation):
        d = psf
    elif psf == "protocol":
        d = Degradation(r)
    elif psf == "auto":
        d, scores = estimate_degradation(lr, msi, r, keep=fit.keep)
    else:
        raise CubeError(f"psf must be 'auto', 'protocol' or a Degradation, got {psf!r}")
    fit.step(5, "point spread function")
    y_lr = d.degrade(msi)
    p, usable, facts = _response(fit, srf, wavelengths, y_lr)
    fit.step(5, "response")
    steps = _budget_steps(seconds, lr.shape[1] * lr.shape[2], S)
    smap = fit_spectral_map(y_lr, lr, mlp_steps=steps, seed=seed, device=dev, should_stop=fit.should_stop,
                            keep=fit.keep)
    fit.step(55, "spectral map")
    with torch.no_grad():
        pred = smap(torch.as_tensor(np.ascontiguousarray(y_lr.reshape(s, -1).T), device=dev)).T.cpu().numpy()
    res = lr - pred.reshape(lr.shape)
    on = np.ones(lr.shape[1:], bool) if fit.keep is None else fit.keep
    mean, basis = residual_basis(res[:, on][:, :, None], RESIDUAL_COMPONENTS)
    feat_mean = y_lr[:, on].mean(1)
    feat_std = np.maximum(y_lr[:, on].std(1), 1e-12)
    coef = np.einsum("sk,shw->khw", basis, res - mean[:, None, None])
    coef[:, ~on] = 0
    feats = (y_lr - feat_mean[:, None, None]) / feat_std[:, None, None]
    local, loo = select_local(coef, feats.astype(np.float32), mask=fit.keep)
    fit.step(20, "local models")
    model = PairModel(S, s, scale=r, psf=d.to_dict(), local=local.__dict__, k=basis.shape[1], weighting=weighting,
                      projection=usable)
    model.spectral_map.load_state_dict(smap.state_dict())
    with torch.no_grad():
        for name, value in (("srf", p), ("res_mean", mean), ("res_basis", basis), ("feat_mean", feat_mean),
                            ("feat_std", feat_std)):
            getattr(model, name).copy_(torch.as_tensor(np.asarray(value, np.float32)))
    model.to(dev).eval()
    model.meta = {"kind": "pair", "lr_shape": list(lr.shape), "msi_shape": list(msi.shape), "scale": r,
                  "wavelengths": None if wavelengths is None else [float(v) for v in np.asarray(wavelengths)],
                  "psf": d.describe(), "psf_scores": {k: round(v, 5) for k, v in scores.items()},
                  **facts, "projection": usable, "stacking": smap.weights(), "mlp_steps": steps,
                  "local": local.__dict__, "local_loo_error": round(loo, 4), "residual_components": basis.shape[1],
                  "seed": seed, "device": str(dev), "steps": fit.meta.get("steps", [])}
    return model


def _warn_if_poor(model) -> None:
    """Say it when the self-check finds the fit no better than interpolating the LR-HSI."""
    check = model.meta.get("self_check") or {}
    gain = check.get("gain_db")
    if gain is not None and math.isfinite(gain) and gain < 1.0:
        warnings.warn(f"the fit explains the pair poorly: on LR pixels it did not see, it reconstructs the LR-HSI "
                      f"{gain:+.1f} dB against interpolating it ({check['held_out_db']:.1f} against "
                      f"{check['interpolation_db']:.1f} dB); check that the two images show the same scene, "
                      "aligned, and the response", PairFitWarning, stacklevel=3)
    if not model.config["projection"]:
        warnings.warn(f"the HR-MSI is not explained linearly by the LR-HSI (response residual up to "
                      f"{max(model.meta['srf_residual']):.1%} > {SRF_POOR:.0%}): the SRF projection is off for this "
                      "model", PairFitWarning, stacklevel=3)
