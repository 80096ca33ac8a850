"""The pictures of a fusion run as matplotlib Figures: one drawing path for the headless demo, scripts
and notebooks (the napari docks draw the same data as layers).

Every function takes a :class:`~napari_inf3.fusion.pipeline.FusionRun` and returns a :class:`RunFigure`, a
pyplot-free ``matplotlib.figure.Figure`` that shows itself inline in Jupyter (it has a PNG repr) and
saves like any Figure. No Qt, no pyplot state.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from ..data.cube import CubeError

__all__ = ["RunFigure", "MetricsTable", "composites_figure", "errors_figure", "overview_figure", "spectra_figure",
           "metrics_table"]


class RunFigure(Figure):
    """A Figure that Jupyter shows inline as PNG without ``plt.show()`` or a pyplot backend, and that
    saves to a file atomically (:mod:`napari_inf3.io.atomic`: a failed save leaves an existing file)."""

    def savefig(self, fname, *args, **kwargs):
        if isinstance(fname, (str, os.PathLike)):
            from ..io.atomic import atomic_path, figure_target

            path, fmt = figure_target(fname, kwargs.pop("format", None))
            with atomic_path(path) as tmp:
                return Figure.savefig(self, tmp, *args, format=fmt, **kwargs)
        return Figure.savefig(self, fname, *args, **kwargs)

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png")
        return buf.getvalue()


def _titles(run, name: str) -> str:
    s = run.scores.get(name)
    return name if s is None else f"{name}\n{s['psnr']:.2f} dB, SAM {s['sam']:.2f}°"


def _bare(ax) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def _composite_row(run, axes, comps: Mapping[str, np.ndarray]) -> None:
    """One composite per axis, titled with its name, PSNR and SAM; no ticks."""
    for ax, (name, img) in zip(axes, comps.items(), strict=True):
        ax.imshow(img)
        ax.set_title(_titles(run, name), fontsize=9)
        _bare(ax)


def composites_figure(run, **composite_options) -> RunFigure:
    """GT (if any) and every method's pseudo-colour composite in one row, one shared contrast.
    ``composite_options``: ``bands=(31, 20, 10)`` (1-based, the paper's default), ``wavelengths_nm=(R, G, B)``
    or ``srf='nikon_d700'`` (true colour), as :meth:`FusionRun.composites`."""
    comps = run.composites(**composite_options)
    fig = RunFigure(figsize=(2.6 * len(comps), 3.0), dpi=100, layout="constrained")
    _composite_row(run, np.atleast_1d(fig.subplots(1, len(comps))), comps)
    return fig


def errors_figure(run) -> RunFigure:
    """Per method: mean |GT − fused| over bands (top) and SAM in degrees (bottom), each row on one shared scale."""
    if run.gt is None:
        raise CubeError("error maps need a ground truth: simulate the pair from one")
    errs, emax = run.error_maps()
    sams, smax = run.sam_maps()
    names = list(run.fused)
    fig = RunFigure(figsize=(2.6 * len(names) + 1.0, 5.4), dpi=100, layout="constrained")
    axes = np.atleast_2d(fig.subplots(2, len(names)))
    for j, name in enumerate(names):
        im_e = axes[0, j].imshow(errs[name], cmap="jet", vmin=0, vmax=emax)
        im_s = axes[1, j].imshow(sams[name], cmap="jet", vmin=0, vmax=smax)
        axes[0, j].set_title(_titles(run, name), fontsize=9)
        _bare(axes[0, j])
        _bare(axes[1, j])
    fig.colorbar(im_e, ax=list(axes[0]), shrink=0.8, label="|GT − fused|")
    fig.colorbar(im_s, ax=list(axes[1]), shrink=0.8, label="SAM (°)")
    return fig


def expected_error_figure(run) -> RunFigure:
    """Per ensemble in the run: its expected mean |error| over bands (from the schemes' disagreement), beside
    the true |GT − fused| on the same scale when the run has a ground truth; the titles say how well the
    expected map ranks the pixels (Spearman) and predicts the mean."""
    from ..evaluation.metrics import error_map
    from ..models.uncertainty import spearman
    from .composites import shared_error_limit

    if not run.expected_error:
        raise CubeError("this run has no expected-|error| map: fuse with 'ensemble' or 'paper:ensemble'")
    names = list(run.expected_error)
    cols = 2 if run.gt is not None else 1
    fig = RunFigure(figsize=(2.8 * cols * len(names) + 1.0, 3.2), dpi=100, layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, cols * len(names)))
    true = {n: error_map(run.fused[n], run.gt) for n in names} if run.gt is not None else {}
    top = shared_error_limit([*run.expected_error.values(), *true.values()])
    for j, name in enumerate(names):
        exp = run.expected_error[name]
        if name in true:
            ax = axes[cols * j]
            ax.imshow(true[name], cmap="jet", vmin=0, vmax=top)
            ax.set_title(f"{name}: |GT − fused|\nmean {true[name].mean():.4f}", fontsize=9)
            _bare(ax)
            note = f"Spearman {spearman(exp, true[name]):.2f}, mean {exp.mean():.4f}"
        else:
            note = f"mean {exp.mean():.4f} (no ground truth)"
        ax = axes[cols * j + cols - 1]
        ax.imshow(exp, cmap="jet", vmin=0, vmax=top)
        ax.set_title(f"{name}: expected |error|\n{note}", fontsize=9)
        _bare(ax)
    fig.colorbar(axes[-1].get_images()[0], ax=list(axes), shrink=0.8, label="mean |error| over bands")
    return fig


def overview_figure(run, **composite_options) -> RunFigure:
    """The demo's overview: composites on top (PSNR and SAM in the titles), error maps below on one scale."""
    comps = run.composites(**composite_options)
    n = len(comps)
    fig = RunFigure(figsize=(2.6 * n, 5.6), dpi=110, layout="constrained")
    axes = fig.subplots(2, n, squeeze=False)
    _composite_row(run, axes[0], comps)
    for ax in axes[1]:
        _bare(ax)
    if run.gt is None:
        for ax in axes[1]:
            ax.axis("off")
        return fig
    errs, emax = run.error_maps()
    axes[1, 0].axis("off")
    axes[1, 0].text(0.5, 0.5, "|GT − fused|\nmean over bands", ha="center", va="center", fontsize=9)
    im = None
    for j, name in enumerate(run.fused, start=1):
        im = axes[1, j].imshow(errs[name], cmap="jet", vmin=0, vmax=emax)
    if im is not None:
        fig.colorbar(im, ax=list(axes[1, 1:]), shrink=0.8, label="absolute error")
    return fig


def run_curves(run, pixels: Sequence[tuple[int, int]], box: int = 1) -> dict[str, np.ndarray]:
    """``{label: (bands,) spectrum}`` of GT and every method at each pixel (a k × k mean with ``box``)."""
    from .spectra import pixel_spectrum

    cubes = ({"GT": run.gt} if run.gt is not None else {}) | dict(run.fused)
    out = {}
    for r, c in pixels:
        suffix = "" if len(pixels) == 1 else f" ({r}, {c})"
        for name, cube in cubes.items():
            out[name + suffix] = pixel_spectrum(cube, r, c, box)
    return out


def draw_spectra(fig: Figure, run, pixels: Sequence[tuple[int, int]], box: int = 1,
                 zoom_bands: tuple[int, int] | None = (18, 22)) -> None:
    """Draw the spectra at ``pixels`` into ``fig`` (cleared): the whole range, and the Fig. 7 zoom."""
    from .plots import plot_spectra

    fig.clear()
    if zoom_bands:
        ax, zax = fig.subplots(1, 2, width_ratios=[3, 1])
    else:
        ax, zax = fig.subplots(), None
    where = ", ".join(f"(row {r}, col {c})" for r, c in pixels)
    what = f"{box}×{box} mean " if box > 1 else ""
    plot_spectra(ax, run.wavelengths, run_curves(run, pixels, box), title=f"spectrum {what}at {where}",
                 reference="GT" if run.gt is not None and len(pixels) == 1 else None, zoom_ax=zax,
                 zoom_bands=zoom_bands)


def spectra_figure(run, row: int | None = None, col: int | None = None, *, box: int = 1,
                   zoom_bands: tuple[int, int] | None = (18, 22)) -> RunFigure:
    """GT and every method's spectrum at (row, col) (default: a uniform bright pixel), in nm, each
    curve's spectral angle to GT in the legend, and the paper's Fig. 7 zoom on bands 18–22."""
    from .spectra import default_pixel

    if row is None or col is None:
        row, col = default_pixel(run.gt if run.gt is not None else run.hr_msi)
    fig = RunFigure(figsize=(8, 4), dpi=110, layout="constrained")
    draw_spectra(fig, run, [(int(row), int(col))], box, zoom_bands)
    return fig


def pair_rows(scores: Mapping[str, Mapping[str, float]]) -> list[list[str]]:
    """The pair-only scores as table rows (the notebook's table and the Fusion dock's): method, LR-HSI and
    HR-MSI reproduced (dB), the LR-HSI column's difference to bicubic's, and a verdict — 'baseline' for
    bicubic, 'worse than bicubic?' below it, 'above bicubic' otherwise."""
    base = scores.get("bicubic", {}).get("lr_psnr")
    rows = []
    for name, s in scores.items():
        delta = None if base is None or name == "bicubic" else s["lr_psnr"] - base
        verdict = ("baseline" if name == "bicubic" else "" if delta is None
                   else "worse than bicubic?" if delta < 0 else "above bicubic")
        rows.append([name, f"{s['lr_psnr']:.2f}", f"{s['msi_psnr']:.2f}", "" if delta is None else f"{delta:+.2f}",
                     verdict])
    return rows


class MetricsTable:
    """The run's PSNR / SAM / ERGAS / SSIM per method: an HTML table in Jupyter, text in a terminal. For a
    real pair (no ground truth), :meth:`pair` makes the pair-only table with the quality gate's findings."""

    def __init__(self, scores: Mapping[str, Mapping[str, float]], *, notes: Sequence[str] = ()):
        self.scores = dict(scores)
        self.notes = list(notes)
        self._header = ["method", "PSNR (dB)", "SAM (°)", "ERGAS", "SSIM"]
        self._rows: list[list[str]] | None = None

    @classmethod
    def pair(cls, run) -> MetricsTable:
        """Pair-only scores (bicubic first, the LR-HSI column's difference to bicubic, a verdict) and the
        findings of :func:`napari_inf3.camera.pair_report` under the table."""
        table = cls(run.pair_scores, notes=[str(f) for f in run.findings])
        table._header = ["method", "LR-HSI reproduced (dB)", "HR-MSI reproduced (dB)", "Δ bicubic", "verdict"]
        table._rows = pair_rows(run.pair_scores)
        return table

    def rows(self) -> list[list[str]]:
        from ..evaluation.metrics import METRICS

        if self._rows is not None:
            return self._rows
        return [[name] + [f"{s[k]:.4f}" if k == "ssim" else f"{s[k]:.3f}" for k in METRICS]
                for name, s in self.scores.items()]

    @property
    def header(self) -> list[str]:
        return self._header

    def __str__(self) -> str:
        rows = [self.header] + self.rows()
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.header))]
        lines = ["  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                           for i, (cell, w) in enumerate(zip(r, widths, strict=True)))
                 for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines + self.notes)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        import html

        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.header)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in self.rows())
        notes = "".join(f"<p>{html.escape(n)}</p>" for n in self.notes)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{notes}"


def metrics_table(run) -> MetricsTable:
    """The run's metrics: against the ground truth, or for a real pair the pair-only scores and the gate."""
    if not run.scores:
        if getattr(run, "pair_scores", None):
            return MetricsTable.pair(run)
        raise CubeError("metrics need a ground truth: simulate the pair from one")
    return MetricsTable(run.scores)
