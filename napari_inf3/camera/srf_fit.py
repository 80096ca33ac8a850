"""A real pair from two cameras: the HR-MSI camera's spectral response (and blur, and shift) estimated
from the pair itself, as model-based fusion methods (HySure, for one) do.

The simulation says ``Y = P X`` at every HR pixel (P the ``(s, S)`` response) and that the LR-HSI is
the scene blurred by a Gaussian of σ and decimated at ``offset``. Degrading the HR-MSI with that same
operator puts it on the LR grid, where ``Y_lr = P · X_lr`` holds pixel by pixel, so P is a linear
fit, done per MSI band by non-negative least squares with a second-difference smoothness penalty
across wavelength (responses are smooth and non-negative; CAVE's 31 bands are strongly correlated,
so the plain fit is ill-conditioned). σ can be chosen by a 1-D search on the fit's residual.

The pair must also be aligned: :func:`estimate_shift` finds where the HR-MSI sits relative to the
LR-HSI by phase correlation (HR pixels, sub-pixel), :func:`align_msi` moves it back.

Shapes: LR-HSI ``(S, h, w)``, HR-MSI ``(s, H, W)`` with ``H = r·h``; wavelengths in nm; shifts in
HR pixels ``(dy, dx)``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from ..data.cube import CubeError
from ..data.simulation import blur_decimate, check_offset, gaussian_kernel
from ..fusion.upsampling import bicubic

__all__ = ["SrfFit", "estimate_srf", "solve_response", "estimate_shift", "align_msi", "degrade_msi", "srf_kernel",
           "prepare_pair"]

#: σ values (HR pixels) tried by ``estimate_srf(..., estimate_blur=True)``.
BLUR_GRID = tuple(np.round(np.arange(0.2, 2.01, 0.1), 2))
#: Pixels used for the fit at most (a regular subsample beyond it).
MAX_FIT_PIXELS = 65536


@dataclass
class SrfFit:
    """What :func:`estimate_srf` found.

    ``srf`` ``(s, S)`` float32, the response (rows: MSI bands, columns: HSI bands); ``sigma`` the
    blur (HR pixels) used; ``residual`` the fit's relative RMS residual per MSI band
    ``‖Y_lr − P X_lr‖ / ‖Y_lr‖``; ``r2`` its coefficient of determination per band; ``shift`` the
    HR-MSI's displacement ``(dy, dx)`` in HR pixels if it was estimated; ``sigma_scan`` the
    ``(σ, mean residual)`` pairs of the blur search.
    """

    srf: np.ndarray
    sigma: float
    residual: np.ndarray
    r2: np.ndarray
    shift: tuple[float, float] | None = None
    sigma_scan: list[tuple[float, float]] = field(default_factory=list)

    @property
    def mean_residual(self) -> float:
        return float(np.mean(self.residual))


def srf_kernel(sigma: float) -> np.ndarray:
    """The Gaussian blur the degradation uses: 3 × 3 at the paper's σ 0.5, wider for larger σ."""
    size = max(3, 2 * math.ceil(2 * sigma) + 1)
    return gaussian_kernel(size, sigma)


def degrade_msi(hr_msi: np.ndarray, scale: int, offset: int | None = None, sigma: float = 0.5) -> np.ndarray:
    """The HR-MSI ``(s, H, W)`` put on the LR grid with the simulation's operator: ``(s, H/r, W/r)``."""
    return blur_decimate(np.asarray(hr_msi, np.float32), srf_kernel(sigma), scale, offset)


def _second_difference(n: int) -> np.ndarray:
    d = np.zeros((max(n - 2, 0), n))
    for i in range(n - 2):
        d[i, i : i + 3] = (1.0, -2.0, 1.0)
    return d


def _check_pair(lr_hsi, hr_msi, scale: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(getattr(lr_hsi, "data", lr_hsi), np.float32)
    y = np.asarray(getattr(hr_msi, "data", hr_msi), np.float32)
    if x.ndim != 3 or y.ndim != 3:
        raise CubeError(f"expected an LR-HSI (S, h, w) and an HR-MSI (s, H, W), got {x.shape} and {y.shape}")
    h, w = x.shape[1:]
    if y.shape[1] != h * scale or y.shape[2] != w * scale:
        raise CubeError(f"the HR-MSI is {y.shape[1]}×{y.shape[2]}; at scale {scale} the LR-HSI ({h}×{w}) needs "
                        f"{h * scale}×{w * scale}")
    return x, y


def solve_response(X: np.ndarray, y: np.ndarray, lam: float, *, signed: bool = False,
                   intercept: bool = False) -> tuple[np.ndarray, float]:
    """``min ‖Xᵀp + b − y‖² + lam‖Dp‖²`` (``p ≥ 0`` unless ``signed``; ``b`` only with ``intercept``).
    ``X`` ``(S, N)`` float64; returns ``(p (S,), b)``. One MSI band's response row: :func:`estimate_srf`
    (non-negative, no intercept) and :func:`napari_inf3.estimate_camera` (any of the four) both fit with it."""
    S = X.shape[0]
    D = _second_difference(S)
    if signed:
        A = X @ X.T + lam * (D.T @ D)
        rhs = X @ y
        if intercept:
            col = X.sum(axis=1)  # X · 1
            A = np.block([[A, col[:, None]], [col[None, :], np.array([[float(X.shape[1])]])]])
            rhs = np.concatenate([rhs, [y.sum()]])
        A = A + 1e-12 * np.trace(A) / A.shape[0] * np.eye(A.shape[0])
        sol = np.linalg.solve(A, rhs)
        return sol[:S], float(sol[S]) if intercept else 0.0
    from scipy.optimize import nnls

    cols = [X.T] + ([np.ones((X.shape[1], 1)), -np.ones((X.shape[1], 1))] if intercept else [])
    top = np.hstack(cols)
    pen = np.hstack([math.sqrt(lam) * D, np.zeros((D.shape[0], top.shape[1] - S))])
    sol, _ = nnls(np.vstack([top, pen]), np.concatenate([y, np.zeros(D.shape[0])]), maxiter=50 * top.shape[1])
    return sol[:S], float(sol[S] - sol[S + 1]) if intercept else 0.0


def _fit(x_lr: np.ndarray, y_lr: np.ndarray, smoothness: float,
         margin: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per MSI band: min ‖Xᵀp − y‖² + λ‖Dp‖², p ≥ 0; λ = smoothness × mean diagonal of X Xᵀ.
    ``margin`` LR pixels along each edge are left out (padding, and what a shift moved in)."""
    if margin > 0 and min(x_lr.shape[1:]) > 4 * margin:
        x_lr = x_lr[:, margin:-margin, margin:-margin]
        y_lr = y_lr[:, margin:-margin, margin:-margin]
    S = x_lr.shape[0]
    X = x_lr.reshape(S, -1).astype(np.float64)
    Y = y_lr.reshape(y_lr.shape[0], -1).astype(np.float64)
    keep = np.all(np.isfinite(X), axis=0) & np.all(np.isfinite(Y), axis=0)
    X, Y = X[:, keep], Y[:, keep]
    if X.shape[1] > MAX_FIT_PIXELS:
        step = math.ceil(X.shape[1] / MAX_FIT_PIXELS)
        X, Y = X[:, ::step], Y[:, ::step]
    if X.shape[1] < S:
        raise CubeError(f"{X.shape[1]} usable LR pixels cannot determine a {S}-band response")
    lam = smoothness * float(np.mean(np.sum(X * X, axis=1)))
    rows, res, r2 = [], [], []
    for y in Y:
        p, _ = solve_response(X, y, lam)
        rows.append(p)
        fit = X.T @ p
        res.append(np.linalg.norm(y - fit) / max(float(np.linalg.norm(y)), 1e-12))
        r2.append(1.0 - np.sum((y - fit) ** 2) / max(np.sum((y - y.mean()) ** 2), 1e-24))
    return np.asarray(rows, np.float32), np.asarray(res), np.asarray(r2)


def estimate_srf(lr_hsi, hr_msi, scale: int, *, offset: int | None = None, sigma: float = 0.5,
                 estimate_blur: bool = False, smoothness: float = 1e-4, shift: bool | tuple = False,
                 valid: np.ndarray | None = None) -> SrfFit:
    """The HR-MSI camera's response ``P`` ``(s, S)`` fitted from the pair, and how well it fits.

    Parameters
    ----------
    lr_hsi : ``(S, h, w)`` array or Cube; hr_msi : ``(s, r·h, r·w)`` array or Cube.
    scale : r. offset : the LR-HSI's decimation offset (``None``: the paper's r // 2; for a real
        camera, the sample position that best matches its optics).
    sigma : the blur (HR pixels) relating the two grids; with ``estimate_blur`` it is searched over
        :data:`BLUR_GRID` for the smallest mean residual and ``sigma`` is ignored.
    smoothness : weight of the second-difference penalty across wavelength, relative to the data's
        energy (0: plain non-negative least squares).
    shift : ``True`` estimates the HR-MSI's displacement first (:func:`estimate_shift`) and fits on
        the re-aligned HR-MSI; a ``(dy, dx)`` uses that displacement.
    valid : ``(r·h, r·w)`` bool, the HR pixels with data (a georeferenced pair's nodata False): LR pixels whose
        block, or a neighbour's, lacks data are left out of the fit (:func:`napari_inf3.data.geo.lr_valid`).
    """
    from ..data.geo import lr_valid

    x, y = _check_pair(lr_hsi, hr_msi, scale)
    keep = lr_valid(valid, scale)
    off = check_offset(offset, scale)
    found = None
    if shift is True:
        found = estimate_shift(x, y, scale, offset=off, sigma=sigma, warn_above=None)
    elif shift:
        found = (float(shift[0]), float(shift[1]))
    margin = 1
    if found is not None and (abs(found[0]) > 1e-6 or abs(found[1]) > 1e-6):
        y = align_msi(y, found)
        margin += math.ceil(max(abs(found[0]), abs(found[1])) / scale)
    if keep is not None:  # _fit drops the LR pixels that are not finite
        x = np.where(keep[None], x, np.float32(np.nan))
    scan = []
    if estimate_blur:
        for s in BLUR_GRID:
            _, res, _ = _fit(x, degrade_msi(y, scale, off, s), smoothness, margin)
            scan.append((float(s), float(np.mean(res))))
        sigma = min(scan, key=lambda t: t[1])[0]
    p, res, r2 = _fit(x, degrade_msi(y, scale, off, sigma), smoothness, margin)
    return SrfFit(p, float(sigma), res, r2, found, scan)


def _phase_peak(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Displacement d with ``a(y) ≈ b(y − d)``, by phase correlation with a parabolic sub-pixel peak."""
    win = np.outer(np.hanning(a.shape[0]), np.hanning(a.shape[1]))
    fa, fb = np.fft.fft2((a - a.mean()) * win), np.fft.fft2((b - b.mean()) * win)
    cross = fa * np.conj(fb)
    corr = np.real(np.fft.ifft2(cross / np.maximum(np.abs(cross), 1e-12)))
    iy, ix = np.unravel_index(int(np.argmax(corr)), corr.shape)
    out = []
    for axis, i, n in ((0, iy, corr.shape[0]), (1, ix, corr.shape[1])):
        take = (lambda k, n=n: corr[k % n, ix]) if axis == 0 else (lambda k, n=n: corr[iy, k % n])
        c0, cm, cp = take(i), take(i - 1), take(i + 1)
        denom = cm - 2 * c0 + cp
        frac = 0.5 * (cm - cp) / denom if abs(denom) > 1e-12 else 0.0
        d = i + float(np.clip(frac, -0.5, 0.5))
        out.append(d - n if d > n / 2 else d)
    return out[0], out[1]


def _shift_residual(x_lr: np.ndarray, y: np.ndarray, t: tuple[float, float], scale: int, off: int,
                    sigma: float, sample: np.ndarray) -> float:
    """Relative residual of the least-squares fit ``Y_lr ≈ P X_lr`` with the HR-MSI moved back by ``t``."""
    y_lr = degrade_msi(align_msi(y, t), scale, off, sigma)
    X = x_lr.reshape(x_lr.shape[0], -1)[:, sample].astype(np.float64)
    Y = y_lr.reshape(y_lr.shape[0], -1)[:, sample].astype(np.float64)
    coef, *_ = np.linalg.lstsq(X.T, Y.T, rcond=None)
    return float(np.linalg.norm(Y.T - X.T @ coef) / max(float(np.linalg.norm(Y)), 1e-12))


def estimate_shift(lr_hsi, hr_msi, scale: int, *, offset: int | None = None, sigma: float = 0.5,
                   warn_above: float | None = 0.5, precision: float = 0.0625) -> tuple[float, float]:
    """Where the HR-MSI sits relative to the LR-HSI: ``(dy, dx)`` in HR pixels, 0 for a pair that
    follows the protocol (LR pixel i taken at HR index ``offset + r·i``).

    A first guess by phase correlation (the LR-HSI's band mean upsampled bicubically against the
    HR-MSI's band mean; phase only, so their different spectral weightings do not matter; it is
    biased by up to half an HR pixel by the decimation's aliasing), then the shift that makes the
    pair consistent: the HR-MSI moved back by a candidate, degraded to the LR grid and fitted as a
    linear combination of the LR-HSI's bands; the least residual wins, searched on a 3 × 3 grid of
    HR pixels around the guess, then halving the step down to ``precision`` HR pixels. Warns
    (UserWarning) when the shift exceeds ``warn_above`` LR pixels.
    """
    x, y = _check_pair(lr_hsi, hr_msi, scale)
    off = check_offset(offset, scale)
    up = bicubic(x.mean(axis=0)[None], y.shape[1:])[0]  # the model's own X^U upsampling
    d = _phase_peak(up, y.mean(axis=0))
    # bicubic (align_corners=False) centres LR pixel i at HR r·i + (r − 1)/2; the protocol took it at off + r·i
    bias = (scale - 1) / 2 - off
    guess = (round(bias - d[0]), round(bias - d[1]))
    interior = np.zeros(x.shape[1:], bool)  # leave out the border the shift moves in from outside
    m = min(x.shape[1] // 4, 2 + int(abs(guess[0]) + abs(guess[1])) // scale + 1)
    interior[m : x.shape[1] - m, m : x.shape[2] - m] = True
    idx = np.flatnonzero(interior.reshape(-1)) if interior.any() else np.arange(interior.size)
    sample = idx[:: max(1, math.ceil(idx.size / 16384))]
    seen: dict[tuple[float, float], float] = {}  # the search revisits points; each costs a shift and a fit

    def cost(t):
        if t not in seen:
            seen[t] = _shift_residual(x, y, t, scale, off, sigma, sample)
        return seen[t]

    cands = [(guess[0] + i, guess[1] + j) for i in range(-1, 2) for j in range(-1, 2)]
    best: tuple[float, float] = min(cands, key=cost)
    best_cost = cost(best)
    step = 0.5
    while step >= precision - 1e-12:
        moved = True
        while moved:
            moved = False
            for i in (-1, 0, 1):
                for j in (-1, 0, 1):
                    t = (best[0] + i * step, best[1] + j * step)
                    if (i, j) != (0, 0) and (c := cost(t)) < best_cost:
                        best, best_cost, moved = t, c, True
        step /= 2
    found = (float(best[0]) + 0.0, float(best[1]) + 0.0)
    if warn_above is not None and max(abs(found[0]), abs(found[1])) > warn_above * scale:
        warnings.warn(f"the HR-MSI is displaced by (dy, dx) = ({found[0]:.2f}, {found[1]:.2f}) HR pixels, more "
                      f"than {warn_above} LR pixel; align it (align_msi, or shift=True) before fusing",
                      UserWarning, stacklevel=2)
    return found


def align_msi(hr_msi, shift: tuple[float, float]) -> np.ndarray:
    """The HR-MSI ``(s, H, W)`` moved back by ``shift`` (from :func:`estimate_shift`), sub-pixel (cubic
    spline), edges extended: ``align_msi(y, estimate_shift(x, y, r))`` follows the protocol again."""
    from scipy.ndimage import shift as nd_shift

    y = np.asarray(getattr(hr_msi, "data", hr_msi), np.float32)
    return np.stack([nd_shift(b, (-shift[0], -shift[1]), order=3, mode="nearest") for b in y]).astype(np.float32)


def prepare_pair(lr_hsi, hr_msi, scale: int, *, align: bool = False, estimate: bool = False,
                 offset: int | None = None, estimate_blur: bool = False, valid: np.ndarray | None = None):
    """A real pair made ready to fuse: ``(hr_msi, shift, fit)``.

    ``align``: the HR-MSI's shift is estimated and the returned HR-MSI moved back (``shift`` is
    ``None`` otherwise). ``estimate``: the response is fitted (``fit`` an :class:`SrfFit`, else
    ``None``) from the HR-MSI as given, moved back inside when aligned, so the edges the move
    fills in from outside are left out of the fit; ``valid`` (HR pixels with data) as in :func:`estimate_srf`.
    One path for the CLI and the napari dock.
    """
    x, y = _check_pair(lr_hsi, hr_msi, scale)
    shift = estimate_shift(x, y, scale, offset=offset, warn_above=None) if align else None
    fit = estimate_srf(x, y, scale, offset=offset, estimate_blur=estimate_blur, shift=shift or False, valid=valid) \
        if estimate else None
    return (align_msi(y, shift) if shift is not None else y), shift, fit  # shift: set when align
