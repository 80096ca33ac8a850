"""An expected-|error| map without ground truth: the ensemble members' disagreement and other cues, mapped
through a calibration fitted on scenes with ground truth.

Cues, each an ``(H, W)`` map (:func:`error_cues`):

- ``spread``: std over the members' cubes, mean over bands (the schemes disagree where they are unsure);
- ``departure``: mean over bands of |ensemble − SRF projection of bicubic| (how far the networks moved from
  the no-learning answer that reproduces the HR-MSI exactly);
- ``brightness``: the ensemble's mean over bands (errors scale with the signal);
- ``texture``: the HR-MSI's gradient magnitude, mean over channels (edges are where fusion is hard).

The calibration (:class:`ErrorCalibration`) is a polynomial in the log cues, ``log E|error| = c₀ +
Σ cₖ lₖ (+ Σ_{k≤m} c_{km} lₖ lₘ for degree 2)`` with ``lₖ = log(cueₖ + ε)``, smoothed over ``smooth_px`` pixels and
scaled so that its mean matches the mean |error| of the scenes it was fitted on (degree 2 ranked the held-out
training scenes' pixels better than degree 1: Spearman 0.843 against 0.830, docs/UNCERTAINTY.md). Error here
is the per-pixel mean over bands of |GT − ensemble|, in the cube's units (reflectance 0–1 for CAVE).
No torch, no Qt.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..data.cube import CubeError

__all__ = ["CUES", "ErrorCalibration", "error_cues", "cues_from", "fit_calibration", "mean_and_spread", "spearman",
           "FORMAT"]

#: The cues :func:`error_cues` computes, in the order of :attr:`ErrorCalibration.coef` (after the intercept).
CUES = ("spread", "departure", "brightness", "texture")
FORMAT = "napari-inf3 error calibration v1"


def mean_and_spread(members: Iterable[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """``(mean (S, H, W), spread (H, W))`` of the members' ``(S, H, W)`` cubes, both float32, from one stack:
    the ensemble's cube, and the std over members, mean over bands."""
    stack = np.stack([np.asarray(m, np.float32) for m in members])
    return stack.mean(axis=0, dtype=np.float32), stack.std(axis=0).mean(axis=0).astype(np.float32)


def error_cues(members: Sequence[np.ndarray], projection: np.ndarray, msi: np.ndarray) -> dict[str, np.ndarray]:
    """The cues of :data:`CUES` as ``(H, W)`` float32 maps.

    ``members``: the members' fused ``(S, H, W)`` cubes; ``projection``: the SRF projection of bicubic
    ``(S, H, W)`` (what the members refine); ``msi``: the linear HR-MSI ``(s, H, W)``.
    """
    return cues_from(*mean_and_spread(members), projection, msi)


def cues_from(mean: np.ndarray, spread: np.ndarray, projection: np.ndarray, msi: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`error_cues` from the ensemble's ``mean`` cube and ``spread`` map already at hand
    (:func:`mean_and_spread`)."""
    gy, gx = np.gradient(np.asarray(msi, np.float32).mean(axis=0))
    return {
        "spread": spread,
        "departure": np.abs(mean - projection).mean(axis=0).astype(np.float32),
        "brightness": mean.mean(axis=0).astype(np.float32),
        "texture": np.hypot(gy, gx).astype(np.float32),
    }


def _smooth(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur of an ``(H, W)`` map, ``sigma`` in pixels (reflected edges); ``sigma`` 0 is no blur."""
    if sigma <= 0:
        return x
    radius = max(1, int(np.ceil(3 * sigma)))
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    k = np.exp(-0.5 * (t / sigma) ** 2)
    k /= k.sum()
    out = np.asarray(x, np.float64)
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="reflect" if out.shape[axis] > radius else "edge")
        out = np.apply_along_axis(lambda v: np.convolve(v, k, mode="valid"), axis, padded)
    return out.astype(np.float32)


def n_terms(degree: int) -> int:
    """Coefficients of a calibration of ``degree`` (1 or 2): intercept, one per cue, and for degree 2 one per
    product of two cues (squares included)."""
    k = len(CUES)
    return 1 + k + (k * (k + 1) // 2 if degree == 2 else 0)


def _design(cues: Mapping[str, np.ndarray], eps: float, degree: int) -> np.ndarray:
    """``(N, n_terms(degree))``: an intercept column, ``log(cue + eps)`` per cue and (degree 2) their pairwise
    products, pixels flattened."""
    logs = [np.log(np.asarray(cues[c], np.float64).ravel() + eps) for c in CUES]
    cols = [np.ones_like(logs[0]), *logs]
    if degree == 2:
        cols += [logs[i] * logs[j] for i in range(len(logs)) for j in range(i, len(logs))]
    return np.stack(cols, axis=1)


@dataclass(frozen=True)
class ErrorCalibration:
    """Cues → expected per-pixel mean |error| over bands. ``coef``: intercept, one weight per cue of
    :data:`CUES`, then (``degree`` 2) one per product of two cues in the order (0,0), (0,1), … (3,3);
    ``eps``: added to each cue before the log; ``smooth_px``: Gaussian σ (HR pixels) of the smoothing;
    ``scale``: the factor matching the fitted scenes' mean |error|. ``fitted_on``: the scenes;
    ``checked``: how well it predicted scenes it was not fitted on (cross-validation, see ``docs/UNCERTAINTY.md``)."""

    coef: tuple[float, ...]
    degree: int = 2
    eps: float = 1e-4
    smooth_px: float = 0.0
    scale: float = 1.0
    preset: str = ""
    fitted_on: tuple[str, ...] = ()
    checked: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.degree not in (1, 2) or len(self.coef) != n_terms(self.degree):
            raise CubeError(f"an error calibration of degree 1 or 2 in the log cues ({', '.join(CUES)}) has "
                            f"{n_terms(1)} or {n_terms(2)} coefficients; got degree {self.degree} and "
                            f"{len(self.coef)} coefficients")

    def predict(self, cues: Mapping[str, np.ndarray]) -> np.ndarray:
        """``(H, W)`` float32 expected mean |error| over bands, from :func:`error_cues`' maps."""
        shape = np.asarray(cues[CUES[0]]).shape
        log_e = _design(cues, self.eps, self.degree) @ np.asarray(self.coef, np.float64)
        return (self.scale * _smooth(np.exp(log_e).reshape(shape), self.smooth_px)).astype(np.float32)

    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write the calibration as JSON (atomically); refuses an existing file unless ``overwrite``."""
        from ..io.atomic import atomic_write_text

        path = Path(path)
        if path.exists() and not overwrite:
            raise CubeError("already exists; pass overwrite=True to replace it", path)
        body = {"format": FORMAT} | asdict(self)
        body["checked"] = dict(self.checked)
        return atomic_write_text(path, json.dumps(body, indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> ErrorCalibration:
        """Read a calibration written by :meth:`save`."""
        path = Path(path)
        try:
            body = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise CubeError(f"not a readable error calibration: {exc}", path) from None
        if not isinstance(body, dict) or body.get("format") != FORMAT:
            raise CubeError(f"not an error calibration (expected format {FORMAT!r})", path)
        try:
            return cls(coef=tuple(float(c) for c in body["coef"]), degree=int(body["degree"]), eps=float(body["eps"]),
                       smooth_px=float(body["smooth_px"]), scale=float(body["scale"]), preset=str(body["preset"]),
                       fitted_on=tuple(body["fitted_on"]), checked=dict(body.get("checked", {})))
        except (KeyError, TypeError, ValueError) as exc:
            raise CubeError(f"error calibration is missing or has a bad field: {exc}", path) from None


def fit_calibration(scenes: Sequence[tuple[Mapping[str, np.ndarray], np.ndarray]], *, degree: int = 2,
                    eps: float = 1e-4, smooth_px: float = 0.0, pixels_per_scene: int = 20000, seed: int = 0,
                    preset: str = "", names: Sequence[str] = ()) -> ErrorCalibration:
    """Fit an :class:`ErrorCalibration` on ``scenes``: ``(cues, error)`` pairs, ``error`` the ``(H, W)`` mean
    |GT − ensemble| over bands. Least squares of log error on log cues over ``pixels_per_scene`` pixels drawn
    from each scene (every scene weighs the same); then the scale that makes the smoothed prediction's mean
    equal the true mean |error|, pooled over the scenes."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for cues, err in scenes:
        x, y = _design(cues, eps, degree), np.log(np.asarray(err, np.float64).ravel() + eps)
        pick = rng.choice(len(y), size=min(pixels_per_scene, len(y)), replace=False)
        xs.append(x[pick])
        ys.append(y[pick])
    coef, *_ = np.linalg.lstsq(np.concatenate(xs), np.concatenate(ys), rcond=None)
    unscaled = ErrorCalibration(tuple(float(c) for c in coef), degree=degree, eps=eps, smooth_px=smooth_px)
    predicted = sum(float(unscaled.predict(cues).sum()) for cues, _ in scenes)
    true = sum(float(np.asarray(err, np.float64).sum()) for _, err in scenes)
    return ErrorCalibration(unscaled.coef, degree=degree, eps=eps, smooth_px=smooth_px,
                            scale=true / max(predicted, 1e-12),
                            preset=preset, fitted_on=tuple(names))


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman rank correlation of two maps (ties broken by position; fine for continuous maps)."""
    ra = np.empty(a.size)
    rb = np.empty(b.size)
    ra[np.argsort(np.asarray(a).ravel(), kind="stable")] = np.arange(a.size)
    rb[np.argsort(np.asarray(b).ravel(), kind="stable")] = np.arange(b.size)
    return float(np.corrcoef(ra, rb)[0, 1])
