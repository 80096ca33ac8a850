"""Matplotlib drawings shared by the demo, the CLI and the napari docks (no Qt, no pyplot state)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

#: One colour per method so every plot and legend agrees.
METHOD_COLORS = {
    "ground truth": "black", "GT": "black", "bicubic": "tab:gray",
    "area": "tab:blue", "net": "tab:orange", "cosine": "tab:red", "cosine_norm": "tab:purple",
    "projection": "tab:olive", "ensemble": "tab:cyan",
}
#: Names of the paper-preset checkpoints start with one of these; they share their scheme's colour, dashed.
PAPER_PREFIXES = ("paper:", "paper ")


def method_style(name: str) -> str:
    """Line style: dashed for the paper-preset checkpoints, solid otherwise."""
    return "--" if name.startswith(PAPER_PREFIXES) else "-"


def method_color(name: str, fallback_index: int = 0) -> str:
    for prefix in PAPER_PREFIXES:
        name = name.removeprefix(prefix)
    for key, c in METHOD_COLORS.items():
        if name == key or name.startswith(key + " ") or name.endswith(" " + key):
            return c
    return f"C{(fallback_index + 4) % 10}"


def spectral_angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    """Angle in degrees between two spectra (0 for two zero spectra, 90 for one)."""
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0 or nb == 0:
        return 0.0 if na == nb else 90.0
    return float(np.degrees(np.arccos(np.clip(np.dot(a, b) / (na * nb), -1, 1))))


def plot_spectra(
    ax,
    wavelengths: Sequence[float] | np.ndarray | None,
    curves: Mapping[str, np.ndarray],
    *,
    title: str = "",
    reference: str | None = None,
    current_band: int | None = None,
    zoom_ax=None,
    zoom_bands: tuple[int, int] | None = None,
) -> None:
    """Draw spectra ``{label: (B,)}`` on ``ax``; x in nm when ``wavelengths`` is given.

    ``reference`` (e.g. ``'ground truth'``) adds each other curve's spectral angle to it in
    the legend. ``current_band`` (0-based) draws a vertical marker. ``zoom_ax`` with
    ``zoom_bands=(first, last)`` (1-based, inclusive; the paper's Fig. 7 uses 18–22) draws the
    same curves over that band range.
    """
    n = len(next(iter(curves.values()))) if curves else 0
    x = np.arange(1, n + 1) if wavelengths is None else np.asarray(wavelengths, float)
    ref = curves.get(reference) if reference else None
    for i, (label, y) in enumerate(curves.items()):
        text = label
        if ref is not None and label != reference:
            text = f"{label} (SAM {spectral_angle_deg(np.asarray(y), np.asarray(ref)):.2f}°)"
        style = {"lw": 2.0} if label == reference else {"lw": 1.2}
        ax.plot(x, y, label=text, color=method_color(label, i), ls=method_style(label), **style)
        if zoom_ax is not None and zoom_bands:
            lo, hi = zoom_bands
            zoom_ax.plot(x[lo - 1 : hi], np.asarray(y)[lo - 1 : hi], color=method_color(label, i), marker="o", ms=3,
                         label=label, ls=method_style(label), **style)
    if current_band is not None and 0 <= current_band < n:
        ax.axvline(x[current_band], color="tab:green", ls="--", lw=1, alpha=0.8)
    ax.set_xlabel("wavelength (nm)" if wavelengths is not None else "band")
    ax.set_ylabel("reflectance")
    if title:
        ax.set_title(title, fontsize=10)
    if curves:
        ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    if zoom_ax is not None and zoom_bands:
        lo, hi = zoom_bands
        zoom_ax.set_title(f"bands {lo}–{hi}", fontsize=9)
        zoom_ax.grid(alpha=0.3)
        zoom_ax.tick_params(labelsize=7)


#: Colours of an RGB camera's three responses (other band counts cycle through matplotlib's).
SRF_COLORS = ("tab:red", "tab:green", "tab:blue")


def plot_srf(ax, srf: np.ndarray, wavelengths_nm: Sequence[float] | np.ndarray, reference: np.ndarray | None = None,
             residual: Sequence[float] | None = None, labels: Sequence[str] | None = None,
             reference_label: str = "Nikon D700") -> None:
    """An ``(s, S)`` spectral response against wavelength (nm), optionally beside a reference response
    (faint, thick) and with each band's relative fit residual in the legend."""
    nm = np.asarray(wavelengths_nm, float)
    for k, row in enumerate(np.asarray(srf)):
        c = SRF_COLORS[k] if len(srf) == 3 else f"C{k}"
        name = labels[k] if labels else (("R", "G", "B")[k] if len(srf) == 3 else f"band {k + 1}")
        if reference is not None:
            ax.plot(nm, np.asarray(reference)[k], color=c, lw=3, alpha=0.3,
                    label=reference_label if k == 0 else None)
        res = f" (residual {residual[k]:.1e})" if residual is not None else ""
        ax.plot(nm, row, color=c, lw=1.4, ls="--", label=f"{name} estimated{res}")
    ax.set_xlabel("wavelength (nm)")
    ax.set_ylabel("response")
    ax.legend(fontsize=7)


#: Smoothing of the loss curve: an exponential moving average over about this many steps.
SMOOTH_STEPS = 20


def smoothed(values, span: int = SMOOTH_STEPS) -> np.ndarray:
    """Bias-corrected exponential moving average (as TensorBoard's smoothing): the line drawn over
    the faint per-step losses. ``values`` ``(n,)`` → ``(n,)``; the first value is kept as is."""
    x = np.asarray(values, np.float64)
    alpha = 2.0 / (span + 1.0)
    out = np.empty_like(x)
    acc, weight = 0.0, 0.0
    for i, v in enumerate(x):
        acc = (1 - alpha) * acc + alpha * v
        weight = (1 - alpha) * weight + alpha
        out[i] = acc / weight
    return out
