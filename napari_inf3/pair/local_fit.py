"""The local part of a pair's fusion: what the spectral map gets wrong, fitted locally and carried to every HR pixel.

At each LR pixel the residual ``R = X − f(Y_lr)`` (the LR-HSI minus the spectral map of the degraded HR-MSI) is
known. Around LR pixel ``c`` the residual is modelled as a linear function of the HR-MSI,
``R ≈ b_c + A_c (y − y_c)``, fitted by weighted ridge regression on the LR pixels of a
``(2·radius + 1)²`` window (Gaussian spatial weights of ``sigma`` LR pixels). An HR pixel ``q`` then takes, as
INF³ does (eq. 10), a weighted sum over its four LR neighbours ``i`` of each neighbour's function evaluated at
the query's own HR-MSI value: ``R_q = Σ_i w_qi (b_i + A_i (y_q − y_i))`` — the implicit function at ``q`` reads
the neighbour's fitted local model and the query's HR feature, the weights are INF³'s ``area`` scheme (LIIF's
bilinear weights) or ``cosine`` (the area weights sharpened by the cosine similarity of the query's HR-MSI to each
neighbour's, so a neighbour across an edge counts less). The window, σ and ridge strength are chosen by
leave-one-out on the LR pixels themselves.

The residual is fitted in its principal subspace (``K`` components from the LR residuals); what lies outside it is
interpolated bilinearly, so nothing is dropped.

Shapes: residual coefficients ``(K, h, w)``; MSI features ``(s, h, w)`` / ``(s, H, W)``, standardised; LR pixel
``i`` sits at HR position ``origin + r·i`` (:attr:`napari_inf3.pair.psf.Degradation.origin`).

LR pixels without data (a georeferenced pair's nodata, zero-filled by :func:`napari_inf3.data.geo.align_pair`) are
given as ``mask`` False: they weigh nothing in any window, and their own residual is taken as the mean's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LocalParams", "residual_basis", "local_coefficients", "select_local", "interpolate_local",
           "grid_interpolate", "has_data", "GRID"]

#: (radius LR px, σ LR px) pairs and ridge strengths searched by :func:`select_local`.
GRID = ((1, 1.0), (2, 1.0), (2, 1.5), (3, 2.0))
LAMBDAS = (1e-3, 1e-2, 1e-1, 1.0)


def has_data(lr: np.ndarray) -> np.ndarray:
    """``(h, w)`` bool: the LR pixels with data, those whose spectrum ``(S, h, w)`` is not 0 in every band (what
    :func:`napari_inf3.data.geo.align_pair` writes where either image has none); the fit and the fusion both
    leave the others out."""
    return np.any(lr != 0, axis=0)


@dataclass(frozen=True)
class LocalParams:
    radius: int = 2
    sigma: float = 1.5
    lam: float = 1e-2


def residual_basis(res: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``(mean (S,), basis (S, K))``: the principal subspace of the LR residuals ``(S, h, w)``."""
    S = res.shape[0]
    flat = res.reshape(S, -1).astype(np.float64)
    step = max(1, flat.shape[1] // 100_000)
    sample = flat[:, ::step]
    mean = sample.mean(1)
    u, _, _ = np.linalg.svd(sample - mean[:, None], full_matrices=False)
    return mean.astype(np.float32), np.ascontiguousarray(u[:, : min(k, S, u.shape[1])], dtype=np.float32)


def local_coefficients(coef: np.ndarray, feat: np.ndarray, p: LocalParams, *, loo: bool = False,
                       mask: np.ndarray | None = None) -> np.ndarray:
    """Per LR pixel, the local model ``b + A (y − y_c)``: ``(h, w, s + 1, K)`` (``A`` rows first, ``b`` last).

    ``coef`` ``(K, h, w)`` residual coefficients, ``feat`` ``(s, h, w)`` standardised MSI on the LR grid. With
    ``loo`` each pixel's own value is left out of its window (the model's prediction at the centre, ``b``,
    is then a leave-one-out prediction). Windows are clipped at the image border; ``mask`` ``(h, w)`` bool: only
    its True pixels weigh in a window (a window without one gives the zero model).
    """
    K, h, w = coef.shape
    s = feat.shape[0]
    f64, c64 = feat.astype(np.float64), coef.astype(np.float64)
    gram = np.zeros((h, w, s + 1, s + 1))
    rhs = np.zeros((h, w, s + 1, K))
    ys, xs = np.arange(h), np.arange(w)
    for dy in range(-p.radius, p.radius + 1):
        iy = np.clip(ys + dy, 0, h - 1)
        vy = (ys + dy >= 0) & (ys + dy < h)
        for dx in range(-p.radius, p.radius + 1):
            if loo and dy == 0 and dx == 0:
                continue
            ix = np.clip(xs + dx, 0, w - 1)
            vx = (xs + dx >= 0) & (xs + dx < w)
            wgt = np.exp(-(dy * dy + dx * dx) / (2 * p.sigma**2)) * (vy[:, None] & vx[None, :])
            if mask is not None:
                wgt = wgt * mask[iy][:, ix]
            phi = np.concatenate([f64[:, iy][:, :, ix] - f64, np.ones((1, h, w))]).transpose(1, 2, 0)
            wphi = wgt[..., None] * phi
            gram += wphi[..., :, None] * phi[..., None, :]
            rhs += wphi[..., :, None] * c64[:, iy][:, :, ix].transpose(1, 2, 0)[..., None, :]
    ridge = np.zeros((s + 1, s + 1))
    ridge[np.arange(s), np.arange(s)] = p.lam
    ridge[s, s] = 1e-9
    # the ridge scales with each window's total weight, so borders and the centre are treated alike
    scaled = ridge * np.maximum(gram[..., s : s + 1, s : s + 1], 1e-12)  # an all-masked window: the zero model
    return np.linalg.solve(gram + scaled, rhs).astype(np.float32)


def select_local(coef: np.ndarray, feat: np.ndarray, *, max_pixels: int = 96 * 96,
                 mask: np.ndarray | None = None) -> tuple[LocalParams, float]:
    """The :class:`LocalParams` with the smallest leave-one-out error on the LR pixels (a central crop of at most
    ``max_pixels``; only ``mask``'s True pixels, when given), and that error relative to the residual's energy
    (1 = no better than predicting 0)."""
    K, h, w = coef.shape
    side = int(np.sqrt(max_pixels))
    y0, x0 = max(0, (h - side) // 2), max(0, (w - side) // 2)
    c, f = coef[:, y0 : y0 + side, x0 : x0 + side], feat[:, y0 : y0 + side, x0 : x0 + side]
    m = None if mask is None else mask[y0 : y0 + side, x0 : x0 + side]
    if m is not None and m.sum() < 16:  # the central crop has (almost) no data: judge on all of it
        m = None
    on = np.ones(c.shape[1:], bool) if m is None else m
    energy = max(float(np.mean(c[:, on].astype(np.float64) ** 2)), 1e-30)
    best: tuple[float, LocalParams] | None = None
    for radius, sigma in GRID:
        for lam in LAMBDAS:
            p = LocalParams(radius, sigma, lam)
            centre = local_coefficients(c, f, p, loo=True, mask=m)[..., -1, :].transpose(2, 0, 1)
            err = float(np.mean((centre[:, on] - c[:, on]) ** 2)) / energy
            if best is None or err < best[0]:
                best = (err, p)
    assert best is not None
    return best[1], best[0]


def _axis(n_hr: int, n_lr: int, origin: float, scale: int):
    """Per HR index: the two LR neighbours (below, above; clamped) and the bilinear weight of the upper one."""
    u = (np.arange(n_hr) - origin) / scale
    i0 = np.clip(np.floor(u).astype(int), 0, n_lr - 1)
    i1 = np.clip(i0 + 1, 0, n_lr - 1)
    t = np.clip(u - i0, 0.0, 1.0)
    return i0, i1, t


def grid_interpolate(a: np.ndarray, size: tuple[int, int], origin: float, scale: int) -> np.ndarray:
    """Bilinear interpolation of ``a`` ``(C, h, w)``, sampled at HR positions ``origin + r·i``, onto the HR grid
    ``size`` (edges held constant). Float32."""
    (y0, y1, ty), (x0, x1, tx) = _axis(size[0], a.shape[1], origin, scale), _axis(size[1], a.shape[2], origin, scale)
    top = a[:, y0][:, :, x0] * (1 - tx) + a[:, y0][:, :, x1] * tx
    bottom = a[:, y1][:, :, x0] * (1 - tx) + a[:, y1][:, :, x1] * tx
    return (top * (1 - ty)[:, None] + bottom * ty[:, None]).astype(np.float32)


def interpolate_local(models: np.ndarray, feat_lr: np.ndarray, feat_hr: np.ndarray, origin: float, scale: int, *,
                      weighting: str = "area", sharpness: float = 0.0) -> np.ndarray:
    """``R_q = Σ_i w_qi (b_i + A_i (y_q − y_i))`` over the four LR neighbours of every HR pixel: ``(K, H, W)``.

    ``models`` from :func:`local_coefficients`; ``weighting='area'`` (bilinear) or ``'cosine'`` (area × exp of
    ``sharpness`` × the cosine similarity of the query's centred HR feature to the neighbour's, renormalised).
    """
    h, w, s1, K = models.shape
    H, W = feat_hr.shape[1:]
    (y0, y1, ty), (x0, x1, tx) = _axis(H, h, origin, scale), _axis(W, w, origin, scale)
    out = np.zeros((K, H, W), np.float64)
    total = np.zeros((H, W), np.float64)
    for iy, wy in ((y0, 1 - ty), (y1, ty)):
        for ix, wx in ((x0, 1 - tx), (x1, tx)):
            m = models[iy][:, ix]  # (H, W, s + 1, K)
            fi = feat_lr[:, iy][:, :, ix]  # (s, H, W)
            d = feat_hr - fi
            val = np.einsum("shw,hwsk->khw", d, m[:, :, : s1 - 1]) + m[:, :, s1 - 1].transpose(2, 0, 1)
            wgt = wy[:, None] * wx[None, :]
            if weighting == "cosine" and sharpness:
                num = np.sum(feat_hr * fi, axis=0)
                den = np.linalg.norm(feat_hr, axis=0) * np.linalg.norm(fi, axis=0) + 1e-12
                wgt = wgt * np.exp(sharpness * (num / den - 1.0))
            out += wgt * val
            total += wgt
    return (out / np.maximum(total, 1e-30)).astype(np.float32)
