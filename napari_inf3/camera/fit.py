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

import math
from collections.abc import Sequence

import numpy as np

from ..cube import CubeError
from ..simulation import blur_decimate, check_offset
from ..srf_fit import BLUR_GRID, _check_pair, _second_difference, align_msi, estimate_shift, srf_kernel
from .curves import CURVE_KINDS, ToneCurve
from .model import CLIP_EPS, CameraFit

__all__ = ["estimate_camera"]

#: LR pixels used for a fit at most (a regular subsample beyond it).
MAX_FIT_PIXELS = 65536
#: A candidate within this factor of the best held-out residual counts as good as the best.
SIMPLER_WITHIN = 1.10
#: Gamma values tried for the ``power`` curve.
GAMMA_GRID = tuple(np.round(np.arange(1.0, 3.01, 0.05), 2))


def _detect_bits(y: np.ndarray) -> int | None:
    """8 or 16 when every stored value is a multiple of 1 / (2^bits − 1), else ``None`` (float data)."""
    sample = y.reshape(-1)[:: max(1, y.size // 200_000)].astype(np.float64)
    for bits in (8, 16):
        q = sample * (2**bits - 1)
        if np.all(np.abs(q - np.round(q)) < 1e-3):
            return bits
    return None


def _usable(y: np.ndarray, scale: int, off: int, sigma: float, margin: int) -> np.ndarray:
    """``(s, h, w)`` bool: LR pixels whose footprint in channel c holds no clipped stored value."""
    bad = ((y <= CLIP_EPS) | (y >= 1 - CLIP_EPS)).astype(np.float32)
    ok = blur_decimate(bad, srf_kernel(sigma), scale, off) < 1e-9
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


def _solve(X: np.ndarray, y: np.ndarray, lam: float, signed: bool, intercept: bool) -> tuple[np.ndarray, float]:
    """``min ‖Xᵀp + b − y‖² + lam‖Dp‖²`` (``p ≥ 0`` unless ``signed``; ``b`` only with ``intercept``).
    ``X`` ``(S, N)`` float64; returns ``(p (S,), b)``."""
    S = X.shape[0]
    D = _second_difference(S)
    if signed:
        A = X @ X.T + lam * (D.T @ D)
        rhs = X @ y
        if intercept:
            ones = np.ones(X.shape[1])
            A = np.block([[A, (X @ ones)[:, None]], [(X @ ones)[None, :], np.array([[float(X.shape[1])]])]])
            rhs = np.concatenate([rhs, [y.sum()]])
        A = A + 1e-12 * np.trace(A) / A.shape[0] * np.eye(A.shape[0])
        sol = np.linalg.solve(A, rhs)
        return sol[:S], float(sol[S]) if intercept else 0.0
    from scipy.optimize import nnls

    cols = [X.T] + ([np.ones((X.shape[1], 1)), -np.ones((X.shape[1], 1))] if intercept else [])
    top = np.hstack(cols)
    pen = np.hstack([math.sqrt(lam) * D, np.zeros((D.shape[0], top.shape[1] - S))])
    sol, _ = nnls(np.vstack([top, pen]), np.concatenate([y, np.zeros(D.shape[0])]), maxiter=50 * (S + 2))
    return sol[:S], float(sol[S] - sol[S + 1]) if intercept else 0.0


def _rel_residual(X: np.ndarray, y: np.ndarray, p: np.ndarray, b: float) -> float:
    fit = X.T @ p + b
    return float(np.linalg.norm(y - fit) / max(np.linalg.norm(y - b), 1e-12))


class _Pair:
    """The pair on the LR grid, with the pixels each channel may use, split into fit / score halves."""

    def __init__(self, x: np.ndarray, y: np.ndarray, scale: int, off: int, sigma: float, margin: int,
                 smoothness: float):
        self.y, self.scale, self.off, self.sigma = y, scale, off, sigma
        S = x.shape[0]
        self.X = x.reshape(S, -1).astype(np.float64)
        self.lam = smoothness * float(np.mean(np.sum(self.X * self.X, axis=1)))
        usable = _usable(y, scale, off, sigma, margin).reshape(y.shape[0], -1)
        half = _halves(x.shape[1:]).reshape(-1)
        self.fit_idx = [_subsample(np.flatnonzero(u & half)) for u in usable]
        self.score_idx = [_subsample(np.flatnonzero(u & ~half)) for u in usable]
        self.all_idx = [_subsample(np.flatnonzero(u)) for u in usable]
        for c, idx in enumerate(self.fit_idx):
            if idx.size < 2 * S or self.score_idx[c].size < S:
                raise CubeError(f"channel {c + 1} of the HR-MSI has {usable[c].sum()} usable LR pixels (the rest "
                                f"is clipped at black or white, or at the border): too few to fit a {S}-band response")

    def degrade(self, lin: np.ndarray) -> np.ndarray:
        """``(s, H, W)`` linear HR values → ``(s, h·w)`` on the LR grid."""
        out = blur_decimate(np.asarray(lin, np.float32), srf_kernel(self.sigma), self.scale, self.off)
        return out.reshape(out.shape[0], -1).astype(np.float64)

    def fit_channel(self, ylr: np.ndarray, c: int, signed: bool, intercept: bool, which: str = "fit"):
        idx = {"fit": self.fit_idx, "all": self.all_idx}[which][c]
        p, b = _solve(self.X[:, idx], ylr[idx], self.lam, signed, intercept)
        s = self.score_idx[c]
        return p, b, _rel_residual(self.X[:, s], ylr[s], p, b)


def _power_curve(pair: _Pair, signed: bool) -> ToneCurve:
    """One γ per channel from :data:`GAMMA_GRID`, by held-out residual."""
    gammas = []
    for c in range(pair.y.shape[0]):
        best = (np.inf, 1.0)
        for g in GAMMA_GRID:
            ylr = pair.degrade(pair.y[c : c + 1] ** g)[0]
            best = min(best, (pair.fit_channel(ylr, c, signed, True)[2], float(g)))
        gammas.append(best[1])
    return ToneCurve.power(gammas)


def _hat_basis(yc: np.ndarray, knots: np.ndarray) -> np.ndarray:
    """``(K, H, W)``: the piecewise-linear interpolation weights of each knot at each stored value."""
    k = len(knots) - 1
    t = np.clip(yc, 0.0, 1.0) * k
    return np.maximum(0.0, 1.0 - np.abs(t[None] - np.arange(k + 1)[:, None, None])).astype(np.float32)


def _monotone_curve(pair: _Pair, start: ToneCurve, signed: bool, n_knots: int, rounds: int = 4) -> ToneCurve:
    """A non-decreasing piecewise-linear curve per channel, by alternating least squares from ``start``:
    with ``P`` fixed, the knot values (non-negative increments, a signed value at 0, a smoothness
    penalty) that best match ``P X`` on the LR grid; then ``P`` for that curve; ``rounds`` times."""
    from scipy.optimize import nnls

    knots = np.linspace(0.0, 1.0, n_knots)
    L = np.zeros((n_knots, n_knots + 1))  # l = L z, z = (u⁺, u⁻, d_1 … d_{K−1}) ≥ 0
    L[:, 0], L[:, 1] = 1.0, -1.0
    for j in range(1, n_knots):
        L[j:, j + 1] = 1.0
    D = _second_difference(n_knots)
    rows = []
    for c in range(pair.y.shape[0]):
        C = pair.degrade(_hat_basis(pair.y[c], knots)).T  # (h·w, K)
        values = np.asarray(start.linearize(knots[None].repeat(pair.y.shape[0], 0))[c])
        fit = pair.fit_idx[c]
        Cf = C[fit]
        mu = 1e-3 * float(np.sum(Cf * Cf)) / n_knots
        for _ in range(rounds):
            p, b = pair.fit_channel(C @ values, c, signed, False)[:2]
            target = pair.X[:, fit].T @ p + b
            A = np.vstack([Cf @ L, math.sqrt(mu) * (D @ L)])
            z, _ = nnls(A, np.concatenate([target, np.zeros(D.shape[0])]), maxiter=20 * n_knots)
            values = L @ z
        rows.append(values)
    return ToneCurve.monotone(knots, np.asarray(rows))


def _candidate_order(curves: Sequence[str], signed: Sequence[bool]) -> list[tuple[str, bool]]:
    """Candidates from simplest to most flexible."""
    return [(k, s) for k in CURVE_KINDS if k in curves for s in (False, True) if s in signed]


def _linearized(pair: _Pair, curve: ToneCurve) -> np.ndarray:
    return pair.degrade(curve.linearize(pair.y))


def _score(pair: _Pair, curve: ToneCurve, signed: bool) -> np.ndarray:
    ylr = _linearized(pair, curve)
    return np.array([pair.fit_channel(ylr[c], c, signed, curve.kind != "monotone")[2]
                     for c in range(pair.y.shape[0])])


def estimate_camera(lr_hsi, hr_msi, scale: int, *, offset: int | None = None, curve: str = "auto",
                    signed: bool | str = "auto", sigma: float = 0.5, estimate_blur: bool = False,
                    shift: bool | tuple = False, smoothness: float = 1e-4, knots: int = 17,
                    wavelengths=None, channels: Sequence[str] | None = None) -> CameraFit:
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
        searched over :data:`~napari_inf3.srf_fit.BLUR_GRID` for the chosen model.
    shift : ``True`` estimates the HR-MSI's displacement and fits on the re-aligned HR-MSI; a
        ``(dy, dx)`` uses that one.
    smoothness : the response's second-difference penalty across wavelength, relative to the data.
    knots : knots of a ``monotone`` curve (evenly spaced stored values 0 … 1).
    wavelengths, channels : band centres (nm) of the LR-HSI and names of the HR-MSI's channels,
        kept with the fit (for plots and files).

    Returns
    -------
    CameraFit
        ``curve``, ``srf`` ``(s, S)``, ``gain`` / ``black`` ``(s,)``, ``sigma``, ``shift``, held-out
        ``residual`` ``(s,)``, ``candidates`` (each model tried and its mean held-out residual),
        ``bits`` (8 / 16 / None), ``clipped`` (fraction of clipped HR pixels per channel);
        ``linearize(hr_msi)``, ``check()``, ``save(path)``.
    """
    x, y = _check_pair(lr_hsi, hr_msi, scale)
    off = check_offset(offset, scale)
    if curve != "auto" and curve not in CURVE_KINDS:
        raise CubeError(f"unknown tone curve {curve!r}; choose 'auto' or one of {', '.join(CURVE_KINDS)}")
    if y.min() < -1e-6 or y.max() > 1 + 1e-6:
        raise CubeError(f"the HR-MSI's stored values lie in [{y.min():.3g}, {y.max():.3g}]; a camera fit expects "
                        "them in [0, 1] as the readers return them (8-bit ÷ 255, 16-bit ÷ 65535)")
    bits = _detect_bits(y)
    found = None
    if shift is True:
        found = estimate_shift(x, y, scale, offset=off, sigma=sigma, warn_above=None)
    elif shift:
        found = (float(shift[0]), float(shift[1]))
    margin = 1
    if found is not None and max(abs(found[0]), abs(found[1])) > 1e-6:
        y = align_msi(y, found)
        margin += math.ceil(max(abs(found[0]), abs(found[1])) / scale)
    y = np.clip(y, 0.0, 1.0).astype(np.float32)
    pair = _Pair(x, y, scale, off, sigma, margin, smoothness)

    kinds = list(CURVE_KINDS) if curve == "auto" else [curve]
    signs = [False, True] if signed == "auto" else [bool(signed)]
    curves: dict[tuple[str, bool], ToneCurve] = {}
    scores: dict[tuple[str, bool], np.ndarray] = {}
    for kind, sgn in _candidate_order(kinds, signs):
        if kind == "power":
            tc = _power_curve(pair, sgn)
        elif kind == "monotone":
            base = min(((k, s) for k, s in scores if k != "monotone" and s == sgn),
                       key=lambda ks: scores[ks].mean(), default=None)
            tc = _monotone_curve(pair, curves[base] if base else ToneCurve("srgb"), sgn, knots)
        else:
            tc = ToneCurve(kind)
        curves[kind, sgn], scores[kind, sgn] = tc, _score(pair, tc, sgn)
    best = min(float(s.mean()) for s in scores.values())
    chosen = next(ks for ks in _candidate_order(kinds, signs) if scores[ks].mean() <= best * SIMPLER_WITHIN + 1e-9)
    tc, sgn = curves[chosen], chosen[1]

    scan: list[tuple[float, float]] = []
    if estimate_blur:
        for s in BLUR_GRID:
            trial = _Pair(x, y, scale, off, float(s), margin, smoothness)
            scan.append((float(s), float(_score(trial, tc, sgn).mean())))
        sigma = min(scan, key=lambda t: t[1])[0]
        pair = _Pair(x, y, scale, off, sigma, margin, smoothness)

    ylr = _linearized(pair, tc)
    residual = _score(pair, tc, sgn)
    rows, blacks = [], []
    for c in range(y.shape[0]):
        p, b, _ = pair.fit_channel(ylr[c], c, sgn, tc.kind != "monotone", which="all")
        rows.append(p)
        blacks.append(b)
    P = np.asarray(rows)
    gain = P.sum(axis=1)
    weak = gain <= 1e-6 * np.maximum(np.abs(P).sum(axis=1), 1e-30)
    gain = np.where(weak, 1.0, gain)
    P = P / gain[:, None]
    clipped = np.mean((y <= CLIP_EPS) | (y >= 1 - CLIP_EPS), axis=(1, 2))
    return CameraFit(
        curve=tc, srf=P.astype(np.float32), gain=gain.astype(np.float64), black=np.asarray(blacks, np.float64),
        sigma=float(sigma), offset=off, scale=int(scale), shift=found, residual=residual, signed=bool(sgn),
        bits=bits, clipped=clipped,
        candidates={f"{k}{' signed' if s else ''}": float(v.mean()) for (k, s), v in scores.items()},
        sigma_scan=scan,
        wavelengths=None if wavelengths is None else np.asarray(wavelengths, np.float64),
        channels=tuple(channels) if channels else None,
    )
