""":class:`CameraFit`: an HR-MSI camera (tone curve, black level, gain, response, blur, shift) that
linearises that camera's images, simulates its degradation for training, and saves as one JSON file.

``curve_c(y_c) = gain_c · (P_c · X) + black_c`` per channel (see :mod:`napari_inf3.camera.fit`), so
``linearize(y) = (curve(y) − black) / gain`` is ``P X``: what the SRF projection and the networks
expect of an HR-MSI. Stored values at 0 or 1 are clipped (black or saturated): the fit leaves them
out, and fusion does not trust saturated ones (:meth:`CameraFit.saturated`, :func:`fall_back_saturated`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..data.cube import CubeError
from .curves import ToneCurve
from .jpeg import JpegStorage

__all__ = ["CameraFit", "CLIP_EPS", "FORMAT", "fall_back_saturated"]

FORMAT = "napari-inf3 camera v1"
#: Stored values within this of 0 or 1 count as clipped.
CLIP_EPS = 1e-6


@dataclass(frozen=True, eq=False)
class CameraFit:
    """An HR-MSI camera estimated from a pair by :func:`napari_inf3.estimate_camera` (or loaded).

    Attributes
    ----------
    curve : ToneCurve — stored value → linear, per channel.
    srf : ``(s, S)`` float32 response, rows summing to 1 (signed when ``signed``).
    gain, black : ``(s,)`` — ``curve(y) = gain · P X + black``.
    sigma : blur (HR pixels) relating the grids; offset, scale : the LR-HSI's decimation.
    shift : ``(dy, dx)`` HR pixels the HR-MSI was displaced by, or ``None`` (not estimated).
    residual : ``(s,)`` held-out relative residual of the fit per channel.
    signed : whether the response may be negative (a rendered image) or not (a sensor).
    bits : 8 / 16 when the stored values are quantised so, else ``None``.
    clipped : ``(s,)`` fraction of HR pixels clipped (stored 0 or 1) per channel.
    candidates : each model tried (``'srgb signed'``, …) and its mean held-out residual.
    sigma_scan : ``(σ, mean residual)`` of the blur search, if one ran.
    wavelengths : ``(S,)`` nm of the response's columns, or ``None``; channels : channel names.
    jpeg : how the photo was stored when it was a JPEG file (tables, chroma subsampling; read from the
        file by the photo reader), else ``None``. Fusion then projects onto what the file allows
        (:mod:`napari_inf3.camera.jpeg`) rather than onto the decoded image.
    """

    curve: ToneCurve
    srf: np.ndarray
    gain: np.ndarray
    black: np.ndarray
    sigma: float = 0.5
    offset: int = 2
    scale: int = 4
    shift: tuple[float, float] | None = None
    residual: np.ndarray = field(default_factory=lambda: np.zeros(0))
    signed: bool = False
    bits: int | None = None
    clipped: np.ndarray = field(default_factory=lambda: np.zeros(0))
    candidates: dict[str, float] = field(default_factory=dict)
    sigma_scan: list[tuple[float, float]] = field(default_factory=list)
    wavelengths: np.ndarray | None = None
    channels: tuple[str, ...] | None = None
    jpeg: JpegStorage | None = None

    @classmethod
    def linear(cls, srf, *, scale: int = 4, offset: int | None = None, sigma: float = 0.5,
               residual=None, shift=None) -> CameraFit:
        """A linear camera (raw values, gain 1, no black level) with response ``srf`` ``(s, S)``: how the
        simulation, the Nikon D700 default or an :func:`~napari_inf3.estimate_srf` fit see the HR-MSI."""
        from ..data.simulation import check_offset

        p = np.asarray(srf, np.float32)
        s = p.shape[0]
        return cls(curve=ToneCurve("linear"), srf=p, gain=np.ones(s), black=np.zeros(s), sigma=float(sigma),
                   offset=check_offset(offset, scale), scale=int(scale), shift=shift,
                   residual=np.zeros(s) if residual is None else np.asarray(residual, np.float64),
                   signed=bool(np.any(p < 0)), clipped=np.zeros(s))

    @classmethod
    def generic_jpeg(cls, quality: float = 85, *, subsampling: str = "4:2:0", scale: int = 4,
                     response: str = "srgb_cie1931") -> CameraFit:
        """A camera nobody fitted, as a JPEG photo is usually made: the scene rendered to sRGB (``response``, by
        default the CIE 1931 observer through the sRGB primaries, rows summing to 1: a white reflector is white),
        the sRGB tone curve, 8 bits, stored as JPEG with libjpeg's (IJG) tables at ``quality`` and
        ``subsampling`` (Pillow's defaults). ``response='nikon_d700'``: the paper's camera instead."""
        from ..data.responses import srf_wavelengths
        from ..data.simulation import load_srf

        jpeg = JpegStorage.ijg(quality, subsampling)
        p = np.asarray(load_srf(response, bands=31), np.float32)
        p = p / p.sum(axis=1, keepdims=True)
        return cls(curve=ToneCurve("srgb"), srf=p, gain=np.ones(3), black=np.zeros(3), scale=int(scale),
                   residual=np.zeros(3), signed=bool(np.any(p < 0)), bits=8, clipped=np.zeros(3), jpeg=jpeg,
                   wavelengths=srf_wavelengths(response), channels=("R", "G", "B"))

    def residual_map(self, lr_hsi, hr_msi) -> np.ndarray:
        """``(h, w)`` on the LR grid: ``|Y_lr − P X_lr|`` averaged over channels, relative to the mean
        ``|Y_lr|`` — where the camera model explains the pair (≈ 0) and where it does not (clipped
        pixels, moving objects, parallax, a misfit curve)."""
        from ..data.simulation import blur_decimate
        from .srf_fit import srf_kernel

        lin, _ = self.prepare(hr_msi)
        y_lr = blur_decimate(lin, srf_kernel(self.sigma), self.scale, self.offset)
        x = np.asarray(getattr(lr_hsi, "data", lr_hsi), np.float32)
        diff = np.abs(y_lr - np.einsum("sb,bhw->shw", self.srf, x, optimize=True)).mean(axis=0)
        return (diff / max(float(np.abs(y_lr).mean()), 1e-12)).astype(np.float32)

    @property
    def mean_residual(self) -> float:
        return float(np.mean(self.residual)) if np.size(self.residual) else 0.0

    @property
    def channel_names(self) -> tuple[str, ...]:
        s = self.srf.shape[0]
        if self.channels and len(self.channels) == s:
            return tuple(self.channels)
        return ("R", "G", "B") if s == 3 else tuple(f"band {k + 1}" for k in range(s))

    def describe(self) -> str:
        """One line: curve, response kind, blur, shift, residual."""
        shift = "" if self.shift is None else f", shift ({self.shift[0]:.2f}, {self.shift[1]:.2f}) HR px"
        bits = f", {self.bits}-bit" if self.bits else ""
        if self.jpeg is not None:
            bits += f" ({self.jpeg.describe()})"
        return (f"{self.curve.describe()} tone curve{bits}, {'signed' if self.signed else 'non-negative'} "
                f"{self.srf.shape[0]} × {self.srf.shape[1]} response, blur σ {self.sigma:.2f} HR px{shift}; "
                f"held-out residual "
                + ", ".join(f"{n} {r:.2%}" for n, r in zip(self.channel_names, self.residual, strict=False)))

    # -- images --------------------------------------------------------------------------------------------
    def _stored(self, hr_msi) -> np.ndarray:
        y = np.asarray(getattr(hr_msi, "data", hr_msi), np.float32)
        if y.ndim != 3 or y.shape[0] != self.srf.shape[0]:
            raise CubeError(f"this camera has {self.srf.shape[0]} channels; the HR-MSI is {y.shape}")
        return y

    def linearize(self, hr_msi) -> np.ndarray:
        """Stored ``(s, H, W)`` → linear ``P X`` ``(s, H, W)`` float32 (no alignment: see :meth:`prepare`)."""
        y = self._stored(hr_msi)
        lin = self.curve.linearize(y)
        return ((lin - self.black[:, None, None]) / self.gain[:, None, None]).astype(np.float32)

    def saturated(self, hr_msi) -> np.ndarray:
        """``(s, H, W)`` bool: stored values at 1 (saturated). A saturated value only says the light was
        *at least* that much, so fusion does not trust it (:func:`fall_back_saturated`). Values stored at
        0 are kept: they say the linear value is at most the black level, and 0 is the best estimate of it
        (measured on CAVE's sRGB renderings: trusting them scored 0.9–2.5 dB better than falling back there
        on superballs, face and beads).
        Not grown into the neighbours: on a simulated photo with blown highlights growing by one pixel
        cost 0.4 dB (tests/camera/test_camera.py's pair)."""
        y = self._stored(hr_msi)
        return y >= 1 - CLIP_EPS

    def prepare(self, hr_msi) -> tuple[np.ndarray, np.ndarray]:
        """What fusion needs of a stored HR-MSI: ``(linear (s, H, W) float32, saturated (s, H, W) bool)``,
        both moved back by :attr:`shift` when one was estimated; a JPEG's chroma restored first
        (:func:`~napari_inf3.camera.jpeg.restore_chroma`)."""
        from .srf_fit import align_msi

        y = self._stored(hr_msi)
        if self.jpeg is not None:  # a JPEG: the chroma detail its subsampling lost, from the luminance
            from .jpeg import restore_chroma

            # saturation read after it too: the decoded file's 255s are mostly ringing next to bright edges, not
            # light the sensor could not hold (superballs q85: 42.22 dB reading them from the decoded file, 42.99
            # dB this way, with the chroma upsampling tried first)
            y = restore_chroma(y, self.jpeg)
        sat = self.saturated(y)
        lin = self.linearize(y)
        if self.shift is not None and max(abs(self.shift[0]), abs(self.shift[1])) > 1e-6:
            lin = align_msi(lin, self.shift)
            sat = align_msi(sat.astype(np.float32), self.shift) > 0.01
        return lin, sat

    def linear_range(self) -> tuple[np.ndarray, np.ndarray]:
        """``(s,)`` linear values of stored 0 and stored 1 per channel."""
        ends = self.linearize(np.broadcast_to(np.array([0.0, 1.0], np.float32), (self.srf.shape[0], 1, 2)))
        return ends[:, 0, 0], ends[:, 0, 1]

    def staircase(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per channel ``(thresholds, outputs)`` in linear units: a linear value ``v`` reaches the file as
        ``outputs[searchsorted(thresholds, v)]`` (encoded, clipped to [0, 1], quantised to ``bits``, read
        back). Without ``bits`` only the clipping remains: thresholds are the two ends."""
        s = self.srf.shape[0]
        if self.bits is None:
            lo, hi = self.linear_range()
            return [(np.array([lo[c], hi[c]]), np.array([lo[c], lo[c], hi[c]])) for c in range(s)]
        n = 2**self.bits - 1
        levels = np.arange(n + 1, dtype=np.float64) / n
        mids = (levels[:-1] + levels[1:]) / 2
        out_lin = self.linearize(np.broadcast_to(levels.astype(np.float32), (s, 1, n + 1)))[:, 0]
        mid_lin = self.linearize(np.broadcast_to(mids.astype(np.float32), (s, 1, n)))[:, 0]
        return [(np.maximum.accumulate(mid_lin[c]).astype(np.float64), out_lin[c].astype(np.float64)) for c in range(s)]

    def degrade(self, msi_linear: np.ndarray) -> np.ndarray:
        """Linear ``P X`` ``(s, H, W)`` as this camera would store and :meth:`linearize` read it back:
        clipped, quantised (numpy; :class:`napari_inf3.training.data.CameraStaircase` is the training twin);
        for a JPEG camera also compressed with the file's tables and read as :meth:`prepare` reads a photo."""
        if self.jpeg is not None:
            from .jpeg import restore_chroma

            return self.linearize(restore_chroma(self.store(msi_linear), self.jpeg))
        v = np.asarray(msi_linear, np.float64)
        out = np.empty(v.shape, np.float32)
        for c, (thr, vals) in enumerate(self.staircase()):
            out[c] = vals[np.searchsorted(thr, v[c], side="right")]
        return out

    def encode(self, msi_linear: np.ndarray) -> np.ndarray:
        """Linear ``P X`` ``(s, H, W)`` → stored values in [0, 1], quantised to ``bits`` (what the file holds)."""
        v = np.asarray(msi_linear, np.float64) * self.gain[:, None, None] + self.black[:, None, None]
        y = np.clip(self.curve.encode(v), 0.0, 1.0)
        if self.bits:
            n = 2**self.bits - 1
            y = np.round(y * n) / n
        return y.astype(np.float32)

    def store(self, msi_linear: np.ndarray) -> np.ndarray:
        """Linear ``P X`` ``(s, H, W)`` → what this camera's file holds, decoded: :meth:`encode`, and for a JPEG
        camera saved with the file's own tables and chroma subsampling and decoded again. float32 in [0, 1]."""
        y = self.encode(msi_linear)
        return y if self.jpeg is None else self.jpeg.roundtrip(y)

    # -- files -----------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "format": FORMAT,
            "curve": self.curve.to_dict(),
            "srf": np.asarray(self.srf, np.float64).tolist(),
            "gain": np.asarray(self.gain).tolist(), "black": np.asarray(self.black).tolist(),
            "sigma": self.sigma, "offset": self.offset, "scale": self.scale,
            "shift": None if self.shift is None else list(self.shift),
            "residual": np.asarray(self.residual).tolist(), "signed": self.signed, "bits": self.bits,
            "clipped": np.asarray(self.clipped).tolist(), "candidates": dict(self.candidates),
            "sigma_scan": [list(t) for t in self.sigma_scan],
            "wavelengths": None if self.wavelengths is None else np.asarray(self.wavelengths).tolist(),
            "channels": None if self.channels is None else list(self.channels),
            "jpeg": None if self.jpeg is None else self.jpeg.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict, source=None) -> CameraFit:
        if d.get("format") != FORMAT:
            raise CubeError(f"not a camera file (format {d.get('format')!r}, expected {FORMAT!r})", source)
        try:
            srf = np.asarray(d["srf"], np.float32)
            s = srf.shape[0]
            fit = cls(
                curve=ToneCurve.from_dict(d["curve"]), srf=srf,
                gain=np.asarray(d["gain"], np.float64).reshape(s), black=np.asarray(d["black"], np.float64).reshape(s),
                sigma=float(d["sigma"]), offset=int(d["offset"]), scale=int(d["scale"]),
                shift=None if d.get("shift") is None else (float(d["shift"][0]), float(d["shift"][1])),
                residual=np.asarray(d.get("residual", []), np.float64), signed=bool(d.get("signed", False)),
                bits=None if d.get("bits") is None else int(d["bits"]),
                clipped=np.asarray(d.get("clipped", []), np.float64),
                candidates={str(k): float(v) for k, v in (d.get("candidates") or {}).items()},
                sigma_scan=[(float(a), float(b)) for a, b in d.get("sigma_scan") or []],
                wavelengths=None if d.get("wavelengths") is None else np.asarray(d["wavelengths"], np.float64),
                channels=None if d.get("channels") is None else tuple(str(c) for c in d["channels"]),
                jpeg=None if d.get("jpeg") is None else JpegStorage.from_dict(d["jpeg"]),
            )
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise CubeError(f"damaged camera file: {type(exc).__name__}: {exc}", source) from None
        if srf.ndim != 2 or not np.all(np.isfinite(srf)) or np.any(fit.gain == 0):
            raise CubeError("damaged camera file: the response must be a finite (s, S) matrix with non-zero gains",
                            source)
        return fit

    def save(self, path, *, overwrite: bool = False) -> Path:
        """Write this camera as one JSON file (atomically); refuses an existing file unless ``overwrite``."""
        from ..io.atomic import atomic_write_text

        path = Path(path)
        if path.exists() and not overwrite:
            raise CubeError("already exists; pass overwrite=True (CLI: --overwrite) to replace it", path)
        return atomic_write_text(path, json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path) -> CameraFit:
        """A camera saved by :meth:`save`; a clear :class:`CubeError` for anything else."""
        path = Path(path)
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise CubeError("no such file", path) from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CubeError(f"not a camera file (JSON): {exc}", path) from None
        if not isinstance(d, dict):
            raise CubeError("not a camera file (JSON object expected)", path)
        return cls.from_dict(d, path)


def fall_back_saturated(fused: np.ndarray, x_up: np.ndarray, msi_linear: np.ndarray, srf: np.ndarray,
                        saturated: np.ndarray, *, clip: bool = True) -> int:
    """Where a channel of the HR-MSI is saturated, replace ``fused`` ``(S, H, W)`` (in place) by the SRF
    projection of ``x_up`` (bicubic) onto the channels that are not: the local fall-back that trusts
    what the pixel did measure. All channels saturated: ``x_up`` itself. Returns the pixels replaced."""
    s = srf.shape[0]
    if not saturated.any():
        return 0
    code = np.zeros(saturated.shape[1:], np.int64)
    for c in range(s):
        code |= saturated[c].astype(np.int64) << c
    for k in np.unique(code[code > 0]):
        m = code == k
        keep = np.array([not (int(k) >> c) & 1 for c in range(s)])
        base = np.asarray(x_up[:, m], np.float64)
        if keep.any():
            p = np.asarray(srf, np.float64)[keep]
            base = base + np.linalg.pinv(p) @ (np.asarray(msi_linear[keep][:, m], np.float64) - p @ base)
        fused[:, m] = np.maximum(base, 0.0) if clip else base
    return int(np.count_nonzero(code))
