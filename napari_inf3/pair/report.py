"""What can be said of a pair fit without ground truth, in words, for the API, the CLI, the dock and the notebook.

:func:`pair_report` reads a :class:`~napari_inf3.pair.PairModel`'s ``meta`` (filled by :func:`napari_inf3.fit_pair`):
its self-check (:mod:`.selfcheck`), how well the HR-MSI is a linear view of the LR-HSI's spectra, the pair's
size; :func:`describe_fit` says how it was fitted; :func:`shipped_advice` says, for a pair of the shipped networks'
own sensor (31 bands, an RGB HR-MSI), which to prefer, from a measurement.
"""

from __future__ import annotations

from typing import Any

from ..camera.gate import Finding

__all__ = ["pair_report", "describe_fit", "shipped_advice", "SHIPPED_COMPARISON"]

#: superballs (CAVE; no shipped network trained on it), ×4, the paper's protocol, Nikon D700 HR-MSI, 2-core CPU;
#: ``python -m experiments pair_cave`` (docs/PAIR.md). PSNR in dB, seconds for fitting + fusing.
SHIPPED_COMPARISON = {"pair": (52.11, 91.0), "paper:ensemble": (51.98, 21.5), "ensemble": (51.64, 3.7),
                      "paper:cosine": (51.61, 8.6), "cosine": (51.21, 1.0), "projection": (49.24, 0.3)}


def shipped_advice(bands: int, msi_bands: int) -> str | None:
    """For a 31-band LR-HSI with a 3-channel HR-MSI (the sensor the shipped networks were trained for): which to
    prefer, with the measurement behind it; ``None`` for any other pair (no shipped network takes it)."""
    if bands != 31 or msi_bands != 3:
        return None
    c = SHIPPED_COMPARISON
    return (f"this pair has 31 bands and 3 HR-MSI channels, like the shipped networks' CAVE data: on superballs "
            f"(none trained on it) the fit to the pair scored {c['pair'][0]:.2f} dB in {c['pair'][1]:.0f} s on 2 CPU "
            f"cores, paper:ensemble {c['paper:ensemble'][0]:.2f} dB in {c['paper:ensemble'][1]:.0f} s, ensemble "
            f"{c['ensemble'][0]:.2f} dB in {c['ensemble'][1]:.0f} s: prefer 'pair' for quality, 'ensemble' for speed "
            "or an expected-|error| map (docs/PAIR.md)")


def describe_fit(model) -> list[str]:
    """How ``model`` was fitted, in a few lines (the CLI prints them; the dock shows them in its status)."""
    m: dict[str, Any] = model.meta
    lines = [f"fitted to the pair in {m.get('seconds', float('nan')):.1f} s: LR-HSI {tuple(m['lr_shape'])}, HR-MSI "
             f"{tuple(m['msi_shape'])}, ×{m['scale']}; PSF: {m['psf']}",
             f"  response: {m['srf']} (unexplained by the LR-HSI: "
             + ", ".join(f"{r:.1%}" for r in m["srf_residual"]) + ")"
             + ("" if m["projection"] else "; the SRF projection is off"),
             "  spectral map: " + ", ".join(f"{k} {v:.2f}" for k, v in m["stacking"].items() if v > 0)
             + f"; local models: window ±{m['local']['radius']} LR px, σ {m['local']['sigma']:g}, ridge "
               f"{m['local']['lam']:g}"]
    check = m.get("self_check") or {}
    if check.get("pixels"):
        lines.append(f"  self-check: {check['held_out_db']:.2f} dB on {check['pixels']} LR pixels the fit did not "
                     f"see (interpolating them: {check['interpolation_db']:.2f} dB)")
    return lines


def pair_report(model) -> tuple[dict[str, Any], list[Finding]]:
    """``(scores, findings)`` of a pair fit: ``scores`` is the self-check (``held_out_db``, ``interpolation_db``,
    ``gain_db``, ``pixels``) with the response's residual per channel (``srf_residual``); ``findings`` the
    :class:`~napari_inf3.camera.Finding` s, worst first (one ``'ok'`` when nothing is worth saying)."""
    from .fit import MIN_LR_SIDE, SRF_POOR

    m: dict[str, Any] = model.meta
    check = dict(m.get("self_check") or {})
    scores = {**check, "srf_residual": list(m.get("srf_residual", []))}
    found: list[Finding] = []
    worst = max(m.get("srf_residual") or [0.0])
    if worst > SRF_POOR:
        found.append(Finding("poor", f"the HR-MSI is not a linear view of the LR-HSI's spectra: up to {worst:.0%} of "
                                     "a channel is unexplained (a tone-mapped photo? fit with camera='estimate'; "
                                     "misaligned, or another date? align or crop); the SRF projection is off and the "
                                     "result can be worse than bicubic", "misfit"))
    gain = check.get("gain_db")
    if gain is not None and gain == gain and gain < 1.0:
        found.append(Finding("poor", f"on LR pixels it did not see the fit is {gain:+.1f} dB against interpolating "
                                     "them: the HR-MSI adds little or nothing here", "worse"))
    h, w = m["lr_shape"][1:]
    if min(h, w) < MIN_LR_SIDE:
        found.append(Finding("warning", f"the LR-HSI is only {h}×{w} pixels: the fit rests on {h * w} spectra; "
                                        "expect a rough result", "small"))
    if not found:
        found.append(Finding("ok", f"the fit explains the pair: {check.get('held_out_db', float('nan')):.1f} dB on "
                                   f"held-out LR pixels against {check.get('interpolation_db', float('nan')):.1f} dB "
                                   "for interpolating them (this check, at twice the LR spacing, overstates the gain "
                                   "over bicubic by 2–6 dB: docs/PAIR.md)"))
    return scores, found
