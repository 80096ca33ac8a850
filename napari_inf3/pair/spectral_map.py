"""The per-pixel spectral map of a pair: HR-MSI pixel ``(s,)`` → HSI spectrum ``(S,)``, learned from the LR pixels.

On the LR grid the pair says, pixel by pixel, which spectrum (the LR-HSI's) goes with which multispectral
value (the HR-MSI degraded to the LR grid, :meth:`napari_inf3.pair.psf.Degradation.degrade`). Three regressions
of growing flexibility learn that map: ridge on ``[y]`` (linear), ridge on ``[y, y_i y_j]`` with the quadratic
terms damped (quadratic; the damping chosen from a short list), and a small MLP. The map is not used alone: the
pair's fusion adds its residual, interpolated from the LR pixels (:mod:`.local_fit`). So the maps are judged,
and stacked with non-negative weights, by what the *pipeline* does on LR pixels they did not see: fitted on every
other LR pixel (a quarter of them), each map plus its residual interpolated from that quarter predicts the other
three quarters. A map that fits the LR pixels too closely leaves a residual with nothing to interpolate, and
loses there even when it predicts better on its own (measured: docs/PAIR.md). The chosen maps are then refitted
on every pixel.

Shapes: ``y`` ``(N, s)``, spectra ``(N, S)``, in the pair's own units (nothing assumes [0, 1]).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

__all__ = ["SpectralMap", "fit_spectral_map", "poly_features", "block_holdout"]

#: Ridge strength of the linear map and of the quadratic map's linear terms, per sample (features standardised).
RIDGE_LINEAR = 1e-6
#: Ridge strengths tried for the quadratic terms (per sample, features standardised): the damping.
RIDGE_QUADRATIC = (1e-2, 1e-1, 1.0)
KINDS = ("linear", "quadratic", "mlp")
#: The maps are chosen on a central crop of at most this many LR pixels a side.
SELECTION_SIDE = 160


def poly_features(y: torch.Tensor, degree: int) -> torch.Tensor:
    """``[y]`` (degree 1) or ``[y, y_i y_j (i ≤ j)]`` (degree 2) of standardised ``y`` ``(N, s)``; no constant
    column (the fits centre their features instead, so the intercept is never shrunk)."""
    if degree < 2:
        return y
    iu = torch.triu_indices(y.shape[1], y.shape[1], device=y.device)
    return torch.cat([y, y[:, iu[0]] * y[:, iu[1]]], 1)


def _ridge(feats: torch.Tensor, target: torch.Tensor, penalty: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Centred ridge in float64: ``(W (F, S), intercept (S,))`` minimising ``‖F W + b − T‖² + n Σ_f penalty_f ‖W_f‖²``
    (each feature scaled to unit variance first, so ``penalty`` is per standardised feature)."""
    f, t = feats.double(), target.double()
    fm, tm = f.mean(0), t.mean(0)
    fs = f.std(0).clamp_min(1e-12)
    fn = (f - fm) / fs
    a = fn.T @ fn + f.shape[0] * torch.diag(penalty.double().to(f.device))
    w = torch.linalg.solve(a, fn.T @ (t - tm)) / fs[:, None]
    return w.float(), (tm - fm @ w).float()


class SpectralMap(nn.Module):
    """``forward(y (N, s)) -> (N, S)``: the stacked maps. Every part is a parameter or buffer, so the map
    saves and reloads with the model's state dict."""

    # buffers (registered in __init__; declared here for the type checker)
    y_mean: torch.Tensor
    y_std: torch.Tensor
    z_mean: torch.Tensor
    z_std: torch.Tensor
    w_linear: torch.Tensor
    b_linear: torch.Tensor
    w_quadratic: torch.Tensor
    b_quadratic: torch.Tensor
    damping: torch.Tensor
    stack: torch.Tensor

    def __init__(self, msi_bands: int, bands: int, hidden: int = 256, depth: int = 3):
        super().__init__()
        s, b = msi_bands, bands
        self.register_buffer("y_mean", torch.zeros(s))
        self.register_buffer("y_std", torch.ones(s))
        self.register_buffer("z_mean", torch.zeros(b))
        self.register_buffer("z_std", torch.ones(()))
        self.register_buffer("w_linear", torch.zeros(s, b))
        self.register_buffer("b_linear", torch.zeros(b))
        self.register_buffer("w_quadratic", torch.zeros(s + s * (s + 1) // 2, b))
        self.register_buffer("b_quadratic", torch.zeros(b))
        self.register_buffer("damping", torch.tensor(RIDGE_QUADRATIC[0]))
        self.register_buffer("stack", torch.tensor([1.0, 0.0, 0.0]))  # linear, quadratic, mlp
        layers: list[nn.Module] = []
        last = s
        for _ in range(depth):
            layers += [nn.Linear(last, hidden), nn.GELU()]
            last = hidden
        layers.append(nn.Linear(last, b))
        self.mlp = nn.Sequential(*layers)

    def standardize(self, y: torch.Tensor) -> torch.Tensor:
        return (y - self.y_mean) / self.y_std

    def part(self, kind: str, y: torch.Tensor) -> torch.Tensor:
        """One map's prediction ``(N, S)``."""
        u = self.standardize(y)
        if kind == "linear":
            return poly_features(u, 1) @ self.w_linear + self.b_linear
        if kind == "quadratic":
            return poly_features(u, 2) @ self.w_quadratic + self.b_quadratic
        return self.mlp(u) * self.z_std + self.z_mean

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        out = None
        for k, kind in enumerate(KINDS):
            w = float(self.stack[k])
            if w > 0:
                p = self.part(kind, y) * w
                out = p if out is None else out + p
        assert out is not None  # the stacking weights sum to 1
        return out

    def weights(self) -> dict[str, float]:
        """The stacking weights by map."""
        return {k: round(float(w), 4) for k, w in zip(KINDS, self.stack.tolist(), strict=True)}


def block_holdout(h: int, w: int, fraction: float = 0.2, block: int = 3, seed: int = 0) -> np.ndarray:
    """A ``(h, w)`` mask of LR pixels held out in ``block`` × ``block`` squares, ≈ ``fraction`` of them."""
    rng = np.random.default_rng(seed)
    mask = np.zeros((h, w), bool)
    b = max(1, min(block, h, w))
    for _ in range(100 * h * w):
        if mask.mean() >= fraction:
            break
        a, c = rng.integers(0, h - b + 1), rng.integers(0, w - b + 1)
        mask[a : a + b, c : c + b] = True
    return mask


def _fit_parts(m: SpectralMap, y: torch.Tensor, z: torch.Tensor, mlp_steps: int, seed: int,
               should_stop: Callable[[], bool] | None) -> None:
    """Fit every part of ``m`` on ``(y, z)`` (standardisation included) with its current damping."""
    s = y.shape[1]
    m.y_mean.copy_(y.mean(0))
    m.y_std.copy_(y.std(0).clamp_min(1e-6 * float(y.abs().max()) + 1e-12))
    m.z_mean.copy_(z.mean(0))
    m.z_std.copy_(z.std(0).mean().clamp_min(1e-12))
    u = m.standardize(y)
    w, b = _ridge(poly_features(u, 1), z, torch.full((s,), RIDGE_LINEAR))
    m.w_linear.copy_(w)
    m.b_linear.copy_(b)
    q = poly_features(u, 2)
    penalty = torch.cat([torch.full((s,), RIDGE_LINEAR), torch.full((q.shape[1] - s,), float(m.damping))])
    w, b = _ridge(q, z, penalty)
    m.w_quadratic.copy_(w)
    m.b_quadratic.copy_(b)
    if mlp_steps > 0:
        _train_mlp(m, u, (z - m.z_mean) / m.z_std, mlp_steps, seed, should_stop)


def _train_mlp(m: SpectralMap, u: torch.Tensor, t: torch.Tensor, steps: int, seed: int,
               should_stop: Callable[[], bool] | None, batch: int = 8192) -> None:
    """Adam with a cosine schedule, L1 loss; full batch when the pixels fit in one."""
    gen = torch.Generator(device="cpu").manual_seed(seed)
    for p in m.mlp.parameters():  # a seeded start, whatever the global RNG holds
        if p.ndim == 2:
            bound = 1.0 / np.sqrt(p.shape[1])
            p.data.copy_((torch.rand(p.shape, generator=gen) * 2 - 1).to(p.device) * bound)
        else:
            p.data.zero_()
    opt = torch.optim.Adam(m.mlp.parameters(), lr=2e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(1, steps))
    n = u.shape[0]
    with torch.enable_grad():
        for step in range(steps):
            if should_stop is not None and step % 50 == 0 and should_stop():
                raise InterruptedError("fitting cancelled")
            if n > batch:
                idx = torch.randint(0, n, (batch,), generator=gen).to(u.device)
                ub, tb = u[idx], t[idx]
            else:
                ub, tb = u, t
            loss = nn.functional.l1_loss(m.mlp(ub), tb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()


def _pipeline_predictions(m: SpectralMap, y_lr: torch.Tensor, x_lr: torch.Tensor,
                          held: np.ndarray, keep: np.ndarray | None = None) -> list[np.ndarray]:
    """Per map: its prediction on the ``held`` LR pixels (outside the quarter ``m`` was fitted on: every other
    pixel, both directions) plus its residual on that quarter interpolated bilinearly: ``(held pixels · S,)``
    each. The quarter's pixels without data (``keep`` False) carry no residual."""
    from .local_fit import grid_interpolate

    s, h, w = y_lr.shape
    y_all = y_lr.reshape(s, -1).T
    sub_y = y_lr[:, ::2, ::2].reshape(s, -1).T
    sub_x = x_lr[:, ::2, ::2].reshape(x_lr.shape[0], -1).T
    out = []
    for kind in KINDS:
        res = (sub_x - m.part(kind, sub_y)).T.reshape(x_lr.shape[0], *x_lr[:, ::2, ::2].shape[1:])
        if keep is not None:
            res[:, ~torch.as_tensor(keep[::2, ::2], device=res.device)] = 0
        carried = grid_interpolate(res.cpu().numpy(), (h, w), 0.0, 2)
        pred = m.part(kind, y_all).T.reshape(x_lr.shape).cpu().numpy() + carried
        out.append(pred[:, held].reshape(-1).astype(np.float64))
    return out


def fit_spectral_map(y_lr: np.ndarray, x_lr: np.ndarray, *, mlp_steps: int = 800, seed: int = 0, device="cpu",
                     should_stop: Callable[[], bool] | None = None, keep: np.ndarray | None = None) -> SpectralMap:
    """The stacked map from LR pixels: ``y_lr`` ``(s, h, w)`` (the HR-MSI on the LR grid), ``x_lr`` ``(S, h, w)``
    (the LR-HSI). The quadratic damping and the stacking weights are chosen on the quarter / three-quarters split
    of the module docstring; every chosen map is then refitted on all pixels (those ``keep`` ``(h, w)`` marks
    True, when given: the pixels with data)."""
    from scipy.optimize import nnls

    s, h, w = y_lr.shape
    S = x_lr.shape[0]
    y = torch.as_tensor(np.ascontiguousarray(y_lr), dtype=torch.float32, device=device)
    z = torch.as_tensor(np.ascontiguousarray(x_lr), dtype=torch.float32, device=device)
    # the choice is made on a central crop (a flight line's LR grid has far more pixels than it needs)
    ch, cw = min(h, SELECTION_SIDE), min(w, SELECTION_SIDE)
    y0, x0 = (h - ch) // 2, (w - cw) // 2
    yc, zc = y[:, y0 : y0 + ch, x0 : x0 + cw], z[:, y0 : y0 + ch, x0 : x0 + cw]
    held = np.ones((ch, cw), bool)
    held[::2, ::2] = False
    kc = None if keep is None else keep[y0 : y0 + ch, x0 : x0 + cw]
    if kc is not None and min(int((held & kc).sum()), int(kc[::2, ::2].sum())) < 8:
        kc = None  # the central crop has (almost) no data: chosen on all of it
    if kc is not None:
        held = held & kc
    target = x_lr[:, y0 : y0 + ch, x0 : x0 + cw][:, held].reshape(-1).astype(np.float64)
    m = SpectralMap(s, S).to(device)
    sub_y, sub_z = yc[:, ::2, ::2].reshape(s, -1).T, zc[:, ::2, ::2].reshape(S, -1).T
    if kc is not None:
        on = torch.as_tensor(kc[::2, ::2].reshape(-1), device=device)
        sub_y, sub_z = sub_y[on], sub_z[on]
    with torch.no_grad():
        best = None
        for k, damping in enumerate(RIDGE_QUADRATIC):
            m.damping.fill_(damping)
            _fit_parts(m, sub_y, sub_z, mlp_steps if k == 0 else 0, seed, should_stop)
            preds = _pipeline_predictions(m, yc, zc, held, kc)
            err = float(np.mean((preds[1] - target) ** 2))
            if best is None or err < best[0]:
                best = (err, damping, preds[1])
            if k == 0:
                first = preds
        assert best is not None
        m.damping.fill_(best[1])
        wts, _ = nnls(np.stack([first[0], best[2], first[2]], 1), target)
        wts[wts < 1e-3 * max(float(wts.sum()), 1e-30)] = 0.0  # a negligible map is left out, not evaluated
        if wts.sum() <= 0:
            wts = np.array([1.0, 0.0, 0.0])
        y_fit, z_fit = y.reshape(s, -1).T, z.reshape(S, -1).T
        if keep is not None:
            on = torch.as_tensor(keep.reshape(-1), device=device)
            y_fit, z_fit = y_fit[on], z_fit[on]
        _fit_parts(m, y_fit, z_fit, mlp_steps if wts[2] > 0 else 0, seed, should_stop)
        m.stack.copy_(torch.as_tensor(wts / wts.sum(), dtype=torch.float32))
    return m.eval()
