"""Tone curves: how a camera's stored values relate to the light it saw, one curve per channel.

A photograph is not linear in the light: an sRGB file stores ``v^(1/2.4)``-like values, a raw file
a black level plus a gain. :class:`ToneCurve` maps stored values ``y`` (in [0, 1] as the readers
return them) to linear values (:meth:`ToneCurve.linearize`) and back (:meth:`ToneCurve.encode`).
Kinds:

- ``linear``: ``y`` as it is (a raw sensor, or the simulation's HR-MSI);
- ``srgb``: the IEC 61966-2-1 transfer function (8-bit photographs, PNG/JPEG renderings);
- ``power``: ``y^γ``, one γ per channel, fitted;
- ``monotone``: any non-decreasing piecewise-linear curve through ``knots`` (in ``y``) with
  ``values`` (linear), fitted from the pair itself (:func:`napari_inf3.camera.estimate_camera`).

Arrays are ``(s, H, W)`` (channels first); curves act per channel. Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ToneCurve", "CURVE_KINDS", "check_curve_choice", "srgb_to_linear", "linear_to_srgb"]

CURVE_KINDS = ("linear", "srgb", "power", "monotone")


def check_curve_choice(curve: str) -> None:
    """A tone curve a camera fit may be asked for: ``'auto'`` (chosen on held-out pixels) or one of
    :data:`CURVE_KINDS`; anything else is a :class:`~napari_inf3.CubeError` naming the choices."""
    if curve != "auto" and curve not in CURVE_KINDS:
        from ..data.cube import CubeError

        raise CubeError(f"unknown tone curve {curve!r}; choose 'auto' or one of {', '.join(CURVE_KINDS)}")


def srgb_to_linear(y: np.ndarray) -> np.ndarray:
    """The sRGB decoding (IEC 61966-2-1): stored values in [0, 1] → linear light in [0, 1]."""
    y = np.asarray(y, np.float64)
    return np.where(y <= 0.04045, y / 12.92, ((np.maximum(y, 0.04045) + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(v: np.ndarray) -> np.ndarray:
    """The sRGB encoding, inverse of :func:`srgb_to_linear` (negative input stays linear)."""
    v = np.asarray(v, np.float64)
    return np.where(v <= 0.0031308, 12.92 * v, 1.055 * np.maximum(v, 0.0031308) ** (1 / 2.4) - 0.055)


@dataclass(frozen=True)
class ToneCurve:
    """Stored value ``y`` → linear value, per channel.

    ``gamma`` ``(s,)`` for ``power``; ``knots`` ``(K,)`` increasing stored values and ``values``
    ``(s, K)`` non-decreasing linear values for ``monotone`` (linear interpolation between knots,
    linear extrapolation beyond the end segments).
    """

    kind: str = "linear"
    gamma: tuple[float, ...] | None = None
    knots: tuple[float, ...] | None = None
    values: tuple[tuple[float, ...], ...] | None = None

    def __post_init__(self):
        if self.kind not in CURVE_KINDS:
            raise ValueError(f"unknown tone curve {self.kind!r}; choose from {', '.join(CURVE_KINDS)}")
        if self.kind == "power" and not self.gamma:
            raise ValueError("a power tone curve needs gamma (one per channel)")
        if self.kind == "monotone":
            if not self.knots or not self.values:
                raise ValueError("a monotone tone curve needs knots and values")
            if any(len(v) != len(self.knots) for v in self.values):
                raise ValueError("a monotone tone curve needs one value per knot in every channel")
            if np.any(np.diff(self.knots) <= 0):
                raise ValueError("a monotone tone curve's knots must increase")

    @classmethod
    def power(cls, gamma) -> ToneCurve:
        return cls("power", gamma=tuple(float(g) for g in np.atleast_1d(gamma)))

    @classmethod
    def monotone(cls, knots, values) -> ToneCurve:
        values = np.maximum.accumulate(np.asarray(values, np.float64), axis=-1)
        return cls("monotone", knots=tuple(float(k) for k in knots),
                   values=tuple(tuple(float(v) for v in row) for row in np.atleast_2d(values)))

    @property
    def is_linear(self) -> bool:
        return self.kind == "linear"

    def _per_channel(self, y: np.ndarray, fn) -> np.ndarray:
        y = np.asarray(y, np.float64)
        return np.stack([fn(c, y[c]) for c in range(y.shape[0])]) if y.ndim >= 1 else fn(0, y)

    def _gamma(self, c: int) -> float:
        g = self.gamma or (1.0,)
        return g[c] if len(g) > 1 else g[0]

    def _row(self, c: int) -> np.ndarray:
        v = self.values or ((0.0,),)
        return np.asarray(v[c] if len(v) > 1 else v[0])

    def linearize(self, y: np.ndarray) -> np.ndarray:
        """``(s, ...)`` stored values → linear values, float64."""
        if self.kind == "linear":
            return np.asarray(y, np.float64)
        if self.kind == "srgb":
            return srgb_to_linear(y)
        if self.kind == "power":
            return self._per_channel(y, lambda c, v: np.sign(v) * np.abs(v) ** self._gamma(c))
        k = np.asarray(self.knots)
        return self._per_channel(y, lambda c, v: _interp_extrap(v, k, self._row(c)))

    def encode(self, v: np.ndarray) -> np.ndarray:
        """``(s, ...)`` linear values → stored values (not clipped or quantised), float64."""
        if self.kind == "linear":
            return np.asarray(v, np.float64)
        if self.kind == "srgb":
            return linear_to_srgb(v)
        if self.kind == "power":
            return self._per_channel(v, lambda c, x: np.sign(x) * np.abs(x) ** (1.0 / self._gamma(c)))
        k = np.asarray(self.knots)

        def inv(c, x):
            vals = self._row(c)
            keep = np.concatenate([[True], np.diff(vals) > 1e-12])  # flat runs have no inverse: take their start
            return _interp_extrap(x, vals[keep], k[keep])

        return self._per_channel(v, inv)

    def to_dict(self) -> dict:
        d: dict = {"kind": self.kind}
        if self.gamma is not None:
            d["gamma"] = list(self.gamma)
        if self.knots is not None:
            d["knots"] = list(self.knots)
            d["values"] = [list(r) for r in self.values or ()]
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ToneCurve:
        return cls(d["kind"], gamma=tuple(d["gamma"]) if d.get("gamma") else None,
                   knots=tuple(d["knots"]) if d.get("knots") else None,
                   values=tuple(tuple(r) for r in d["values"]) if d.get("values") else None)

    def describe(self) -> str:
        if self.kind == "power":
            return "power law, γ " + " / ".join(f"{g:.2f}" for g in self.gamma or ())  # set: __post_init__
        if self.kind == "monotone":
            return f"monotone curve fitted from the pair ({len(self.knots or ())} knots)"
        return {"linear": "linear", "srgb": "sRGB"}[self.kind]


def _interp_extrap(x: np.ndarray, xp: np.ndarray, fp: np.ndarray) -> np.ndarray:
    """``np.interp`` continued linearly beyond both ends (a single point: constant)."""
    x = np.asarray(x, np.float64)
    if len(xp) < 2:
        return np.full_like(x, fp[0] if len(fp) else 0.0)
    out = np.interp(x, xp, fp)
    lo, hi = x < xp[0], x > xp[-1]
    if lo.any():
        out[lo] = fp[0] + (x[lo] - xp[0]) * (fp[1] - fp[0]) / (xp[1] - xp[0])
    if hi.any():
        out[hi] = fp[-1] + (x[hi] - xp[-1]) * (fp[-1] - fp[-2]) / (xp[-1] - xp[-2])
    return out
