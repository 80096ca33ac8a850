"""The HR-MSI camera estimated from a real pair: tone curve, black level and gain, response, blur, shift.

The model (per HR pixel, per channel ``c``)::

    curve_c(y_c) = gain_c · (P_c · X) + black_c        y_c stored in [0, 1]; clipped at 0 and 1

with ``X`` the scene's spectrum, ``P`` ``(s, S)`` the response (rows normalised to sum 1, as the
packaged Nikon D700 rows are), ``curve`` a :class:`~napari_inf3.camera.curves.ToneCurve`. A raw
sensor's ``P`` is non-negative; a rendered image (white balance and a colour-correction matrix
applied before the tone curve, as in any sRGB photo) has negative lobes, so ``P`` may be *signed*.

The fit works on the LR grid: the stored HR-MSI is linearised, blurred and decimated with the
simulation's operator (σ, offset), and then ``Y_lr = P X_lr`` holds pixel by pixel. LR pixels whose
footprint holds a clipped value (0 or 1 in that channel: black or saturated) are left out. Each
candidate model (curve kind × signed or not) is fitted on half of the LR pixels (a checkerboard of
8 × 8 LR blocks) and scored on the other half; the simplest candidate within 10 % of the best
held-out residual wins, and is refitted on all usable pixels. The reported ``residual`` is the
held-out one (``‖Y_lr − P X_lr‖ / ‖Y_lr‖`` per channel, linear units).

Shapes: LR-HSI ``(S, h, w)``, HR-MSI ``(s, H, W)``, ``H = r·h``; wavelengths in nm; shifts in HR
pixels ``(dy, dx)``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..data.cube import CubeError
from ..data.simulation import blur_decimate, check_offset
from .curves import CURVE_KINDS, ToneCurve, check_curve_choice
from .jpeg import JpegStorage
from .model import CLIP_EPS, CameraFit
from .srf_fit import (
    BLUR_GRID,
    MAX_FIT_PIXELS,
    _check_pair,
    _second_difference,
    align_msi,
    estimate_shift,
    solve_response,
    srf_kernel,
)

__all__ = ["estimate_camera"]

#: A candidate within this factor of the best held-out residual counts as good as the best.
SIMPLER_WITHIN = 1.10
#: Gamma values tried for the ``power`` curve.
GAMMA_GRID = tuple(np.round(np.arange(1.0, 3.01, 0.05), 2))
#: the power curve's first pass tries every GAMMA_COARSE-th γ of the grid, then the grid around the best
GAMMA_COARSE = 4


def _detect_bits(y: np.ndarray) -> int | None:
    """8 or 16 when every stored value is a multiple of 1 / (2^bits − 1), else ``None`` (float data)."""
    sample = y.reshape(-1)[:: max(1, y.size // 200_000)].astype(np.float64)
    for bits in (8, 16):
        q = sample * (2**bits - 1)
        if np.all(np.abs(q - np.round(q)) < 1e-3):
            return bits
    return None


def _usable(clipped_hr: np.ndarray, scale: int, off: int, sigma: float, margin: int) -> np.ndarray:
    """``(s, h, w)`` bool: LR pixels whose footprint in channel c holds no clipped stored value."""
    ok = blur_decimate(clipped_hr.astype(np.float32), srf_kernel(sigma), scale, off) < 1e-9
    if margin > 0:
        edge = np.zeros(ok.shape[1:], bool)
        edge[margin:-margin, margin:-margin] = True
        ok &= edge
    return ok


def _halves(shape: tuple[int, int]) -> np.ndarray:
    """``(h, w)`` bool: the checkerboard of 8 × 8 LR blocks that is fitted on (the rest scores)."""
    yy, xx = np.indices(shape)
    return ((yy // 8 + xx // 8) % 2) == 0


def _subsample(idx: np.ndarray) -> np.ndarray:
    return idx[:: max(1, math.ceil(idx.size / MAX_FIT_PIXELS))]


def _rel_residual(X: np.ndarray, y: np.ndarray, p: np.ndarray, b: float) -> float:
    fit = X.T @ p + b
    return float(np.linalg.norm(y - fit) / max(float(np.linalg.norm(y - b)), 1e-12))


class _Pair:
    """The pair on the LR grid, with the pixels each channel may use, split into fit / score halves."""

    def __init__(self, x: np.ndarray, y: np.ndarray, clipped_hr: np.ndarray, scale: int, off: int, sigma: float,
                 margin: int, smoothness: float):
        self.y, self.scale, self.off, self.sigma = y, scale, off, sigma
        S = x.shape[0]
        self.X = x.reshape(S, -1).astype(np.float64)
        self.lam = smoothness * float(np.mean(np.sum(self.X * self.X, axis=1)))
        usable = _usable(clipped_hr, scale, off, sigma, margin).reshape(y.shape[0], -1)
        half = _halves(x.shape[1:]).reshape(-1)
        self.fit_idx = [_subsample(np.flatnonzero(u & half)) for u in usable]
        self.score_idx = [_subsample(np.flatnonzero(u & ~half)) for u in usable]
        self.all_idx = [_subsample(np.flatnonzero(u)) for u in usable]
        self._columns: dict[tuple[str, int], np.ndarray] = {}  # X at one channel's fit / score pixels, cut once
        #: channel c to the power γ, degraded, at its fit and score pixels only (shared by both signs; at most
        #: 2 × MAX_FIT_PIXELS values each)
        self._powers: dict[tuple[int, float], tuple[np.ndarray, np.ndarray]] = {}
        for c, idx in enumerate(self.fit_idx):
            if idx.size < 2 * S or self.score_idx[c].size < S:
                raise CubeError(f"channel {c + 1} of the HR-MSI has {usable[c].sum()} usable LR pixels (the rest "
                                f"is clipped at black or white, or at the border): too few to fit a {S}-band response")

    def degrade(self, lin: np.ndarray) -> np.ndarray:
        """``(s, H, W)`` linear HR values → ``(s, h·w)`` on the LR grid."""
        out = blur_decimate(np.asarray(lin, np.float32), srf_kernel(self.sigma), self.scale, self.off)
        return out.reshape(out.shape[0], -1).astype(np.float64)

    def columns(self, which: str, c: int) -> np.ndarray:
        """``X`` at channel ``c``'s ``which`` pixels (``'fit'``, ``'score'``, ``'all'``), ``(S, n)``. The fit and
        score columns of one channel are kept (the power curve fits one channel many times; at most S × 2 ×
        MAX_FIT_PIXELS values), those of another channel cut again; ``'all'`` is cut each time (one fit)."""
        idx = {"fit": self.fit_idx, "score": self.score_idx, "all": self.all_idx}[which][c]
        if which == "all":
            return self.X[:, idx]
        if any(k[1] != c for k in self._columns):
            self._columns.clear()
        key = (which, c)
        if key not in self._columns:
            self._columns[key] = np.ascontiguousarray(self.X[:, idx])
        return self._columns[key]

    def power_residual(self, c: int, gamma: float, signed: bool) -> float:
        """Channel ``c``'s held-out residual with the stored values to the power ``gamma`` as the linear ones
        (a response and a black level fitted on its fit pixels)."""
        key = (c, gamma)
        if key not in self._powers:
            ylr = self.degrade(self.y[c : c + 1] ** gamma)[0]
            self._powers[key] = (ylr[self.fit_idx[c]], ylr[self.score_idx[c]])
        y_fit, y_score = self._powers[key]
        p, b = solve_response(self.columns("fit", c), y_fit, self.lam, signed=signed, intercept=True)
        return _rel_residual(self.columns("score", c), y_score, p, b)

    def fit_channel(self, ylr: np.ndarray, c: int, signed: bool, intercept: bool, which: str = "fit"):
        idx = {"fit": self.fit_idx, "all": self.all_idx}[which][c]
        p, b = solve_response(self.columns(which, c), ylr[idx], self.lam, signed=signed, intercept=intercept)
        s = self.score_idx[c]
        return p, b, _rel_residual(self.columns("score", c), ylr[s], p, b)


def _power_curve(pair: _Pair, signed: bool) -> ToneCurve:
    """One γ per channel from :data:`GAMMA_GRID`, by held-out residual: every fourth γ of the grid, then the grid
    around the best of those (the residual is smooth in γ; 18 fits per channel instead of 41). A residual that is
    not a number never wins; ties go to the smaller γ."""
    grid = [float(g) for g in GAMMA_GRID]

    def best(c: int, ks) -> int:
        scored = [(pair.power_residual(c, grid[k], signed), k) for k in ks]
        return min(scored, key=lambda t: (math.inf if math.isnan(t[0]) else t[0], t[1]))[1]

    gammas = []
    for c in range(pair.y.shape[0]):
        coarse = best(c, range(0, len(grid), GAMMA_COARSE))
        gammas.append(grid[best(c, range(max(0, coarse - GAMMA_COARSE + 1), min(len(grid), coarse + GAMMA_COARSE)))])
    return ToneCurve.power(gammas)


def _hat_basis(yc: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """``(K, H, W)``: the piecewise-linear interpolation weights of each knot at each stored value."""
    k = len(knots) - 1
    t = (np.clip(np.asarray(yc, np.float64), 0.0, 1.0) * k).ravel()
    lo = np.minimum(np.floor(t).astype(np.intp), k - 1)  # each value's two knots: lo and lo + 1 (the rest weigh 0)
    frac = t - lo
    out = np.zeros((k + 1, t.size), np.float32)
    pixels = np.arange(t.size)
    out[lo, pixels] = 1.0 - frac
    out[lo + 1, pixels] = frac
    return out.reshape(k + 1, *np.shape(yc))


def _monotone_curve(pair: _Pair, n_knots: int) -> ToneCurve:
    """A non-decreasing piecewise-linear curve per channel, fitted jointly with the response.

    With the curve's knot values ``l`` the degraded linear HR-MSI is ``C l`` (``C``: each knot's
    interpolation weights, blurred and decimated); the best signed response for it leaves the residual
    ``(I − H) C l`` (``H`` the ridge fit's hat matrix on the LR-HSI's bands). That is minimised over
    non-decreasing ``l`` (non-negative increments, a signed value at 0) with a second-difference
    penalty, the mean of ``C l`` fixed to 1 (the scale; gain and black come later): one NNLS per channel.
    """
    from scipy.optimize import nnls

    knots = np.linspace(0.0, 1.0, n_knots)
    L = np.zeros((n_knots, n_knots + 1))  # l = L z, z = (u⁺, u⁻, d_1 … d_{K−1}) ≥ 0
    L[:, 0], L[:, 1] = 1.0, -1.0
    for j in range(1, n_knots):
        L[j:, j + 1] = 1.0
    D = _second_difference(n_knots)
    S = pair.X.shape[0]
    Ds = _second_difference(S)
    R = pair.lam * (Ds.T @ Ds)
    rows = []
    for c in range(pair.y.shape[0]):
        C = pair.degrade(_hat_basis(pair.y[c], knots)).T  # (h·w, K)
        fit = pair.fit_idx[c]
        Xf, Cf = pair.X[:, fit], C[fit]
        A = Xf @ Xf.T + R
        A += 1e-12 * np.trace(A) / S * np.eye(S)
        G = Cf - Xf.T @ np.linalg.solve(A, Xf @ Cf)  # (I − H) C
        mean_row = Cf.mean(axis=0)
        scale = math.sqrt(float(np.sum(G * G)) / n_knots) or 1.0
        w = 1e3 * scale / max(float(np.linalg.norm(mean_row)), 1e-12)
        mu = 1e-4 * scale**2
        lhs = np.vstack([G @ L, math.sqrt(mu) * (D @ L), w * (mean_row @ L)[None]])
        rhs = np.concatenate([np.zeros(G.shape[0] + D.shape[0]), [w]])
        z, _ = nnls(lhs, rhs, maxiter=50 * n_knots)
        rows.append(L @ z)
    return ToneCurve.monotone(knots, np.asarray(rows))


def _candidate_order(curves: Sequence[str], signed: Sequence[bool]) -> list[tuple[str, bool]]:
    """Candidates from simplest to most flexible."""
    return [(k, s) for k in CURVE_KINDS if k in curves for s in (False, True) if s in signed]


def _linearized(pair: _Pair, curve: ToneCurve) -> np.ndarray:
    return pair.degrade(curve.linearize(pair.y))


def _score(pair: _Pair, curve: ToneCurve, signed: bool, ylr: np.ndarray | None = None) -> np.ndarray:
    """``(s,)`` held-out relative residual per channel (``ylr``: :func:`_linearized`, if already made)."""
    ylr = _linearized(pair, curve) if ylr is None else ylr
    return np.array([pair.fit_channel(ylr[c], c, signed, curve.kind != "monotone")[2]
                     for c in range(pair.y.shape[0])])


#: The response's smoothness penalty (relative to the data) for a losslessly stored photo.
SMOOTHNESS = 1e-4
#: … and for a JPEG: on CAVE's sRGB renderings saved at quality 85 (4:2:0), 1e-2 took the fusion
#: from 41.03 / 43.65 / 29.38 dB to 42.16 / 44.14 / 31.19 (superballs / face / beads; cosine).
JPEG_SMOOTHNESS = 1e-2


def estimate_camera(lr_hsi, hr_msi, scale: int, *, offset: int | None = None, curve: str = "auto",
                    signed: bool | str = "auto", sigma: float = 0.5, estimate_blur: bool = False,
                    shift: bool | tuple = False, smoothness: float | None = None, knots: int = 17,
                    wavelengths=None, channels: Sequence[str] | None = None,
                    jpeg: JpegStorage | None = None) -> CameraFit:
    """The HR-MSI camera fitted from a real pair (see the module docstring for the model).

    Parameters
    ----------
    lr_hsi : ``(S, h, w)`` array or Cube; hr_msi : ``(s, r·h, r·w)`` array or Cube, stored values
        in [0, 1] as the readers return them (an 8-bit PNG ÷ 255).
    scale : r. offset : the LR-HSI's decimation offset (``None``: the paper's r // 2).
    curve : ``'auto'`` (every kind, chosen on held-out pixels), or one of ``'linear'``, ``'srgb'``,
        ``'power'``, ``'monotone'``.
    signed : ``'auto'`` (both, chosen on held-out pixels), ``True`` (a rendered image's response
        with negative lobes) or ``False`` (a sensor's non-negative response).
    sigma, estimate_blur : the blur (HR pixels) relating the grids; with ``estimate_blur`` it is
        searched over :data:`~napari_inf3.camera.srf_fit.BLUR_GRID` for the chosen model.
    shift : ``True`` estimates the HR-MSI's displacement and fits on the re-aligned HR-MSI; a
        ``(dy, dx)`` uses that one.
    smoothness : the response's second-difference penalty across wavelength, relative to the data;
        ``None``: :data:`SMOOTHNESS`, or :data:`JPEG_SMOOTHNESS` for a JPEG photo, whose block and chroma
        errors otherwise pull the (ill-posed, 31 unknowns per channel) response far from the camera's.
    knots : knots of a ``monotone`` curve (evenly spaced stored values 0 … 1).
    wavelengths, channels : band centres (nm) of the LR-HSI and names of the HR-MSI's channels,
        kept with the fit (for plots and files).
    jpeg : how the photo was stored, when it was a JPEG (:class:`~napari_inf3.camera.jpeg.JpegStorage`);
        ``None``: what the photo reader found in the file (``hr_msi.meta['jpeg']``), if anything.

    Returns
    -------
    CameraFit
        ``curve``, ``srf`` ``(s, S)``, ``gain`` / ``black`` ``(s,)``, ``sigma``, ``shift``, held-out
        ``residual`` ``(s,)``, ``candidates`` (each model tried and its mean held-out residual),
        ``bits`` (8 / 16 / None), ``clipped`` (fraction of clipped HR pixels per channel);
        ``linearize(hr_msi)``, ``check()``, ``save(path)``.
    """
    if jpeg is None and isinstance(getattr(hr_msi, "meta", None), dict) and hr_msi.meta.get("jpeg"):
        jpeg = JpegStorage.from_dict(hr_msi.meta["jpeg"])
    if smoothness is None:
        smoothness = SMOOTHNESS if jpeg is None else JPEG_SMOOTHNESS
    if jpeg is not None:  # its chroma at the resolution the file stored it, guided back up by the luminance
        from .jpeg import restore_chroma

        hr_msi = restore_chroma(np.asarray(getattr(hr_msi, "data", hr_msi), np.float32), jpeg)
    fit = _estimate(lr_hsi, hr_msi, scale, offset=offset, curve=curve, signed=signed, sigma=sigma,
                    estimate_blur=estimate_blur, shift=shift, smoothness=smoothness, knots=knots,
                    wavelengths=wavelengths, channels=channels)
    return fit if jpeg is None else dataclasses.replace(fit, jpeg=jpeg)


def _estimate(lr_hsi, hr_msi, scale: int, *, offset, curve, signed, sigma, estimate_blur, shift, smoothness, knots,
              wavelengths, channels) -> CameraFit:
    x, y = _check_pair(lr_hsi, hr_msi, scale)
    off = check_offset(offset, scale)
    check_curve_choice(curve)
    bad = np.size(y) - int(np.count_nonzero(np.isfinite(y)))
    if bad:
        raise CubeError(f"the HR-MSI has {bad} values that are not finite numbers (NaN or inf); a camera fit needs "
                        "the photo's stored values in [0, 1]")
    if y.min() < -1e-6 or y.max() > 1 + 1e-6:
        raise CubeError(f"the HR-MSI's stored values lie in [{y.min():.3g}, {y.max():.3g}]; a camera fit expects "
                        "them in [0, 1] as the readers return them (8-bit ÷ 255, 16-bit ÷ 65535)")
    y = np.clip(y, 0.0, 1.0).astype(np.float32)
    opts = _Options(off, curve, signed, sigma, estimate_blur, smoothness, knots, _detect_bits(y),
                    None if wavelengths is None else np.asarray(wavelengths, np.float64),
                    tuple(channels) if channels else None)
    if shift is True:
        # the shift of the stored image first (tone curve unknown), then again on the image linearised
        # with the curve that fit found: phase and residual both read a linear image better
        fit = _fit_aligned(x, y, estimate_shift(x, y, scale, offset=off, sigma=sigma, warn_above=None), scale, opts)
        if fit.curve.is_linear:
            return fit
        again = estimate_shift(x, fit.linearize(y), scale, offset=off, sigma=fit.sigma, warn_above=None)
        same = fit.shift is not None and np.allclose(again, fit.shift, atol=1e-3)  # _fit_aligned sets the shift
        return fit if same else _fit_aligned(x, y, again, scale, opts)
    return _fit_aligned(x, y, (float(shift[0]), float(shift[1])) if shift else None, scale, opts)


@dataclass(frozen=True)
class _Options:
    offset: int
    curve: str
    signed: bool | str
    sigma: float
    estimate_blur: bool
    smoothness: float
    knots: int
    bits: int | None
    wavelengths: np.ndarray | None
    channels: tuple[str, ...] | None


def _choose_model(pair: _Pair, opts: _Options) -> tuple[ToneCurve, bool, np.ndarray, dict[str, float]]:
    """Every candidate (curve kind × signed) scored on held-out pixels; the simplest near the best wins.
    Returns its curve, whether signed, its ``(s,)`` held-out residual, and every candidate's mean one."""
    kinds = list(CURVE_KINDS) if opts.curve == "auto" else [opts.curve]
    signs = [False, True] if opts.signed == "auto" else [bool(opts.signed)]
    curves: dict[tuple[str, bool], ToneCurve] = {}
    scores: dict[tuple[str, bool], np.ndarray] = {}
    for kind, sgn in _candidate_order(kinds, signs):
        if kind == "power":
            tc = _power_curve(pair, sgn)
        elif kind == "monotone":
            tc = curves.get(("monotone", not sgn)) or _monotone_curve(pair, opts.knots)
        else:
            tc = ToneCurve(kind)
        curves[kind, sgn], scores[kind, sgn] = tc, _score(pair, tc, sgn)
    best = min(float(v.mean()) for v in scores.values())
    kind, sgn = next(ks for ks in _candidate_order(kinds, signs)
                     if scores[ks].mean() <= best * SIMPLER_WITHIN + 1e-9)
    named = {f"{k}{' signed' if s else ''}": float(v.mean()) for (k, s), v in scores.items()}
    return curves[kind, sgn], sgn, scores[kind, sgn], named


def _fit_aligned(x: np.ndarray, y: np.ndarray, found: tuple[float, float] | None, scale: int,
                 opts: _Options) -> CameraFit:
    """The camera fitted on the stored HR-MSI ``y`` moved back by ``found`` (clipped pixels from the stored values)."""
    clipped_hr = (y <= CLIP_EPS) | (y >= 1 - CLIP_EPS)
    margin = 1
    if found is not None and max(abs(found[0]), abs(found[1])) > 1e-6:
        y = np.clip(align_msi(y, found), 0.0, 1.0)
        clipped_hr = align_msi(clipped_hr.astype(np.float32), found) > 0.01
        margin += math.ceil(max(abs(found[0]), abs(found[1])) / scale)
    sigma = opts.sigma
    pair = _Pair(x, y, clipped_hr, scale, opts.offset, sigma, margin, opts.smoothness)
    tc, sgn, residual, candidates = _choose_model(pair, opts)
    scan: list[tuple[float, float]] = []
    if opts.estimate_blur:
        by_sigma = {}
        for s in BLUR_GRID:
            trial = _Pair(x, y, clipped_hr, scale, opts.offset, float(s), margin, opts.smoothness)
            by_sigma[float(s)] = (trial, _score(trial, tc, sgn))
            scan.append((float(s), float(by_sigma[float(s)][1].mean())))
        sigma = min(scan, key=lambda t: t[1])[0]
        pair, residual = by_sigma[sigma]
    ylr = _linearized(pair, tc)
    fits = [pair.fit_channel(ylr[c], c, sgn, tc.kind != "monotone", which="all") for c in range(y.shape[0])]
    P = np.asarray([f[0] for f in fits])
    gain = P.sum(axis=1)
    gain = np.where(gain <= 1e-6 * np.maximum(np.abs(P).sum(axis=1), 1e-30), 1.0, gain)  # rows summing to ~0: as is
    return CameraFit(
        curve=tc, srf=(P / gain[:, None]).astype(np.float32), gain=gain.astype(np.float64),
        black=np.asarray([f[1] for f in fits], np.float64), sigma=float(sigma), offset=opts.offset, scale=int(scale),
        shift=found, residual=residual, signed=bool(sgn), bits=opts.bits,
        clipped=clipped_hr.mean(axis=(1, 2)), candidates=candidates, sigma_scan=scan,
        wavelengths=opts.wavelengths, channels=opts.channels,
    )
