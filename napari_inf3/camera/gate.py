"""The quality gate of every real-pair path (API, CLI, dock, notebook): what can be said without ground truth.

- :func:`check_fit` reads a :class:`CameraFit`: what a JPEG's storage costs (:func:`storage_finding`), the
  held-out residual per channel, with what it means and what to try when a channel misfits, and how much of
  the image is clipped.
- :func:`pair_consistency` measures a fused cube against the pair itself: degraded with the
  simulation's operator it should reproduce the LR-HSI (``lr_psnr``), and seen through the camera it
  should reproduce the linearised HR-MSI (``msi_psnr``; an SRF projection makes this exact, so it
  mostly tells bicubic apart).
- :func:`check_results` compares those with bicubic's: a result that reproduces the LR-HSI worse than
  bicubic upsampling does is flagged — on CAVE's sRGB renderings every fusion that scored below bicubic
  against the ground truth was below it here too (docs/REAL_PAIRS.md).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .model import CameraFit

__all__ = ["CameraFitWarning", "warn_if_poor", "Finding", "check_fit", "pair_consistency", "check_results",
           "pair_report", "storage_finding", "RESIDUAL_OK", "RESIDUAL_POOR"]

#: Held-out relative residual per channel up to which a fit is good (simulated pairs: < 0.1 %; CAVE's
#: sRGB renderings with the sRGB curve and a signed response: 0.2–0.5 %).
RESIDUAL_OK = 0.01
#: Above this a channel misfits: fusing with this camera is likely worse than the projection, or bicubic.
RESIDUAL_POOR = 0.05
#: Fraction of clipped HR pixels in a channel above which it is said.
CLIPPED_NOTE = 0.05
#: … the same two levels for a photo stored as JPEG, whose block and chroma errors are in the residual too:
#: on CAVE's 20 sRGB renderings saved at quality 75–95 (4:2:0) the channels' held-out residuals had a median
#: of 3.4–4.3 % and reached 23.6 %, while every one of those fusions stayed above bicubic (+3.6 dB or more).
RESIDUAL_OK_JPEG = 0.10
RESIDUAL_POOR_JPEG = 0.30


class CameraFitWarning(UserWarning):
    """``fuse(..., camera=fit)`` with a fit that does not explain the pair (the API's side of the gate)."""


def warn_if_poor(fit: CameraFit, stacklevel: int = 3) -> None:
    """Warn (:class:`CameraFitWarning`) with every 'poor' finding of :func:`check_fit`, so a fusion through a
    camera that misfits is never silent in a script either."""
    import warnings

    message = poor_fit_message(fit)
    if message is not None:
        warnings.warn(message, CameraFitWarning, stacklevel=stacklevel)


def poor_fit_message(fit: CameraFit) -> str | None:
    """What :func:`warn_if_poor` says of ``fit``: its 'poor' findings in one line, or ``None``."""
    poor = [f.message for f in check_fit(fit) if f.level == "poor"]
    return "the camera fit is poor: " + "; ".join(poor) if poor else None


@dataclass(frozen=True)
class Finding:
    """One line of the gate: ``level`` ``'ok'``, ``'warning'`` or ``'poor'``, the words for a user, and what
    it is about: ``kind`` (``'fit'``, ``'misfit'``, ``'rough'``, ``'clipped'``, ``'advice'``, ``'worse'``,
    ``'storage'``)
    and ``subject`` (a channel or a method's name)."""

    level: str
    message: str
    kind: str = "fit"
    subject: str = ""

    def __str__(self) -> str:
        return f"{self.level}: {self.message}"


def _advice(fit: CameraFit) -> str:
    """What to try, from what this fit did not do yet."""
    tips = []
    if fit.curve.is_linear:
        tips.append("the HR-MSI may be tone-mapped (a photo, a PNG or JPEG): fit its curve (curve='auto'; CLI "
                    "--camera estimate)")
    if not fit.signed:
        tips.append("a rendered image's response has negative lobes: allow them (signed=True)")
    if fit.shift is None:
        tips.append("the images may be misaligned: estimate the shift (shift=True; CLI --align)")
    if not fit.sigma_scan:
        tips.append("the optics may blur differently: search the blur (estimate_blur=True; CLI --estimate-blur)")
    tips.append("if the two images do not show the same scene at the same moment, no camera model fits them")
    return "; ".join(tips)


def check_fit(fit: CameraFit) -> list[Finding]:
    """The fit read in plain words: one :class:`Finding` per point worth saying, the worst first."""
    found: list[Finding] = [] if fit.jpeg is None else [storage_finding(fit.jpeg)]
    names = fit.channel_names
    poor = False
    ok_level, poor_level = (RESIDUAL_OK, RESIDUAL_POOR) if fit.jpeg is None else (RESIDUAL_OK_JPEG, RESIDUAL_POOR_JPEG)
    good = f"good fits leave < {ok_level:.0%}" + ("" if fit.jpeg is None else " for a JPEG, < 1 % for a lossless photo")
    for name, r in sorted(zip(names, np.asarray(fit.residual, float), strict=False), key=lambda t: -t[1]):
        if r > poor_level:
            poor = True
            found.append(Finding("poor", f"channel {name} misfits: {r:.1%} of its signal on held-out pixels is not "
                                         f"explained by the LR-HSI through this camera model ({good}); a fusion "
                                         "with it can be worse than bicubic", "misfit", name))
        elif r > ok_level:
            found.append(Finding("warning", f"channel {name} fits only roughly: {r:.1%} of its signal on held-out "
                                            f"pixels is unexplained ({good}); compare the result's pair-only scores "
                                            "with bicubic's", "rough", name))
    if poor:
        found.append(Finding("poor", "what to try: " + _advice(fit), "advice"))
    for name, c in zip(names, np.asarray(fit.clipped, float), strict=False):  # empty when not measured
        if c > CLIPPED_NOTE:
            found.append(Finding("warning", f"channel {name} is clipped (stored black or white) in {c:.0%} of the "
                                            "pixels: left out of the fit; saturated pixels fall back to what the "
                                            "other channels measured", "clipped", name))
    if all(f.kind == "storage" for f in found):
        found.append(Finding("ok", f"the camera model fits: held-out residual {fit.mean_residual:.2%} "
                                   f"({fit.curve.describe()}, {'signed' if fit.signed else 'non-negative'} response)"))
    return found


def storage_finding(storage) -> Finding:
    """What storing the photo as JPEG costs the fusion, from the file's tables and chroma subsampling
    (:func:`napari_inf3.camera.jpeg.estimated_loss`): a ``'storage'`` finding, a warning from 1 dB on."""
    from .jpeg import estimated_loss

    loss, spread = estimated_loss(storage)
    return Finding("warning" if loss >= 1.0 else "ok",
                   f"the photo is stored as {storage.describe()}: expect the fusion ≈ {loss:.1f} dB (typically "
                   f"± {spread:.1f}) below what a lossless photo of this camera would give (estimated from the "
                   "file's quality and chroma subsampling; docs/REAL_PAIRS.md); a PNG, TIFF or camera RAW of the "
                   "same picture avoids it",
                   "storage")


def pair_consistency(fused, lr_hsi, hr_msi, camera: CameraFit) -> dict[str, float]:
    """How well ``fused`` ``(S, H, W)`` explains the pair it came from, in dB (higher is better).

    ``lr_psnr``: PSNR of the fused cube blurred and decimated with the camera's σ / offset against the
    LR-HSI; ``msi_psnr``: PSNR of ``srf · fused`` against the linearised HR-MSI on unsaturated pixels.
    """
    lin, sat = camera.prepare(hr_msi)
    return _consistency(fused, np.asarray(getattr(lr_hsi, "data", lr_hsi), np.float32), lin, sat, camera)


def _consistency(fused, lr: np.ndarray, lin: np.ndarray, sat: np.ndarray, camera: CameraFit,
                 valid: np.ndarray | None = None) -> dict[str, float]:
    """:func:`pair_consistency` on an HR-MSI already prepared (``camera.prepare``: linear, saturated); LR pixels
    whose block is not all ``valid`` are left out."""
    from ..data.geo import lr_valid
    from ..data.simulation import blur_decimate
    from ..evaluation.metrics import psnr
    from .srf_fit import srf_kernel

    x = np.asarray(getattr(fused, "data", fused), np.float32)
    degraded = blur_decimate(x, srf_kernel(camera.sigma), camera.scale, camera.offset)
    seen = np.einsum("sb,bhw->shw", camera.srf, x, optimize=True)
    keep = ~np.any(sat, axis=0)
    msi_score = psnr(seen[:, keep][..., None], lin[:, keep][..., None]) if keep.any() else float("nan")
    whole = lr_valid(valid, camera.scale, margin=0)
    if whole is None:
        return {"lr_psnr": psnr(degraded, lr), "msi_psnr": msi_score}
    lr_score = psnr(degraded[:, whole][..., None], lr[:, whole][..., None]) if whole.any() else float("nan")
    return {"lr_psnr": lr_score, "msi_psnr": msi_score}


def check_results(scores: dict[str, dict[str, float]], baseline: str = "bicubic") -> list[Finding]:
    """Flag each result whose ``lr_psnr`` falls below the ``baseline``'s (bicubic): it reproduces the
    LR-HSI worse than not fusing does, so it is likely worse than bicubic."""
    if baseline not in scores:
        return []
    base = scores[baseline]["lr_psnr"]
    found = []
    for name, s in scores.items():
        if name != baseline and s["lr_psnr"] < base:
            found.append(Finding("poor", f"{name} reproduces the LR-HSI worse than bicubic upsampling does "
                                         f"({s['lr_psnr']:.1f} dB against {base:.1f} dB when degraded back): it is "
                                         "likely worse than not fusing — check the camera fit", "worse", name))
    return found


def pair_report(lr_hsi, hr_msi, camera: CameraFit, results: dict[str, np.ndarray], *,
                valid: np.ndarray | None = None) -> tuple[dict[str, dict[str, float]], list[Finding]]:
    """The pair-only scores of ``results`` (name → fused ``(S, H, W)``), bicubic's first (``results['bicubic']``
    if given, else computed; clipped at 0 either way), and the findings: the fit's (:func:`check_fit`) then any
    result below bicubic (:func:`check_results`). One call for the CLI, the dock and the notebook; the
    HR-MSI is linearised and aligned once for all of them. ``valid`` ``(H, W)`` bool: the pixels with data (a
    georeferenced pair's nodata is left out of the scores; an LR pixel counts when its whole block has data)."""
    from ..fusion.upsampling import bicubic

    lr = np.asarray(getattr(lr_hsi, "data", lr_hsi), np.float32)
    lin, sat = camera.prepare(hr_msi)
    if valid is not None:
        sat = sat | ~np.asarray(valid, bool)[None]  # left out of the HR-MSI score, as saturated pixels are
    base = results["bicubic"] if "bicubic" in results else bicubic(lr, lin.shape[1:])
    scores = {"bicubic": _consistency(np.maximum(base, 0), lr, lin, sat, camera, valid)}
    for name, cube in results.items():
        if name != "bicubic":
            scores[name] = _consistency(cube, lr, lin, sat, camera, valid)
    found = [f for f in check_fit(camera) if f.level != "ok"] + check_results(scores)
    return scores, found or check_fit(camera)
