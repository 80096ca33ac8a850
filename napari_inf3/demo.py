"""``napari-inf3 demo``: the sample scene simulated ×4 and fused by bicubic and the shipped checkpoints.

Headless it writes, into one folder: pseudo-colour composites (bands 31-20-10, one shared
contrast) and error maps (mean |GT − fused|, one shared colour scale, blue → red) as PNG,
an overview figure, the spectra at a pixel as PNG, and the metrics table as Markdown + CSV.
With a display it opens napari with the same layers and the three docks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .data.cube import Cube, CubeError
from .fusion.pipeline import FusionRun, fusion_run
from .fusion.types import SimulatedPair


def compute(scene=None, device=None, scale: int = 4, models=None, offset: int | None = None,
            weights: bool = True) -> FusionRun:
    """Simulate the sample (or ``scene``) ×``scale`` (keeping LR pixel ``offset`` of each block, default
    r // 2, the paper's) and fuse it with bicubic and each shipped checkpoint."""
    from .data.sample import load_sample
    from .io import read_cube
    from .shipped import available

    gt = load_sample() if scene is None else (scene if isinstance(scene, Cube) else read_cube(scene))
    names = (available() + (["ensemble"] if len(available()) == 3 else [])) if models is None else list(models)
    if not names:
        raise CubeError("no pretrained checkpoint is installed; reinstall napari-inf3")
    return fusion_run({n: n for n in names}, SimulatedPair(gt, scale=scale, offset=offset), device=device,
                      weights=weights)


def write_outputs(res: FusionRun, out_dir: Path, overwrite: bool = False) -> list[Path]:
    """Write the demo's PNGs and tables into ``out_dir``; returns the paths written."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from PIL import Image

    from .evaluation.report import Report, SceneResult
    from .io.atomic import WriteError, atomic_path, atomic_write_text, describe_os_error, save_figure
    from .viz.composites import colorize
    from .viz.figures import expected_error_figure, overview_figure, spectra_figure

    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()) and not overwrite:
        raise CubeError("already exists and is not empty; pass --overwrite to replace its files", out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"cannot create the folder: {describe_os_error(exc)}", out_dir, exc.errno) from None
    written: list[Path] = []
    comps = res.composites()
    errs, emax = res.error_maps()
    sams, smax = res.sam_maps()

    def save_png(name: str, arr: np.ndarray) -> None:
        p = out_dir / name
        img = Image.fromarray(arr if arr.dtype == np.uint8 else (np.clip(arr, 0, 1) * 255).round().astype(np.uint8))
        with atomic_path(p) as tmp:
            img.save(tmp, format="PNG")
        written.append(p)

    for name, img in comps.items():
        save_png(f"composite_{name.replace(' ', '_')}.png", img)
    for name in res.fused:
        save_png(f"error_{name}.png", colorize(errs[name], emax))
        save_png(f"sam_{name}.png", colorize(sams[name], smax))
    for name, exp in res.expected_error.items():  # on the true error maps' scale
        save_png(f"expected_error_{name}.png", colorize(exp, emax))

    # the same figures a notebook shows (napari_inf3.viz.figures: one drawing path)
    figures = [("overview.png", overview_figure(res)), ("spectra.png", spectra_figure(res))]
    if res.expected_error:
        figures.append(("expected_error.png", expected_error_figure(res)))
    for name, fig in figures:
        written.append(save_figure(fig, out_dir / name))

    if len(res.weights) >= 2:
        written += write_weight_outputs(res, out_dir, save_png)

    scene = Path(getattr(res, "source", None) or "sample").name
    report = Report([SceneResult(scene, m, s) for m, s in res.scores.items()], params=dict(res.params))
    for name, text in (("metrics.md", report.markdown(per_scene=False)), ("metrics.csv", report.csv())):
        written.append(atomic_write_text(out_dir / name, text))
    return written


def write_weight_outputs(res: FusionRun, out_dir: Path, save_png) -> list[Path]:
    """Weight entropy, winning neighbour and scheme-difference maps, their overview, and the spectra at
    the pixel where the schemes disagree most."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from .io.atomic import save_figure
    from .viz.compare import LN4, NEIGHBOURS
    from .viz.composites import ENTROPY_CMAP, NEIGHBOUR_COLORS, colorize, colorize_winner
    from .viz.plots import plot_spectra

    written: list[Path] = []
    ent, win = res.weight_maps()
    sams, smax, _, _ = res.scheme_differences()
    for name in res.weights:
        save_png(f"weight_entropy_{name}.png", colorize(ent[name], LN4, ENTROPY_CMAP))
        save_png(f"winning_neighbour_{name}.png", colorize_winner(win[name]))
    for pair, m in sams.items():
        save_png(f"scheme_sam_{pair.replace(' vs ', '_vs_')}.png", colorize(m, smax))

    n = max(len(res.weights), len(sams))
    fig = Figure(figsize=(2.7 * n + 1.2, 8.4), dpi=110, layout="constrained")
    axes = fig.subplots(3, n, squeeze=False)
    im: list[Any] = [None, None]  # both set below: write_outputs calls this with two or more weight maps
    for j, name in enumerate(res.weights):
        im[0] = axes[0, j].imshow(ent[name], cmap=ENTROPY_CMAP, vmin=0, vmax=LN4)
        axes[0, j].set_title(f"{name}: weight entropy\nmean {ent[name].mean():.2f} nats", fontsize=9)
        axes[1, j].imshow(colorize_winner(win[name]))
        axes[1, j].set_title(f"{name}: winning neighbour", fontsize=9)
    for j, (pair, m) in enumerate(sams.items()):
        im[1] = axes[2, j].imshow(m, cmap="jet", vmin=0, vmax=smax)
        axes[2, j].set_title(f"SAM {pair}\nmedian {np.median(m):.2f}°", fontsize=9)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
        if not ax.images:
            ax.axis("off")
    fig.colorbar(im[0], ax=list(axes[0]), shrink=0.8, label="entropy (nats; ln 4 = all equal)")
    handles = [Patch(color=(r / 255, g / 255, b / 255), label=k)
               for k, (r, g, b) in zip(NEIGHBOURS, NEIGHBOUR_COLORS, strict=True)]
    fig.legend(handles=handles, loc="outside right center", title="neighbour", fontsize=8)
    fig.colorbar(im[1], ax=list(axes[2]), shrink=0.8, label="SAM between schemes (°)")
    written.append(save_figure(fig, out_dir / "weights_overview.png"))

    picks, criterion = res.disagreements(k=1)
    if picks:
        assert res.gt is not None  # the demo simulates from a GT
        r, c = picks[0].row, picks[0].col
        fig = Figure(figsize=(8, 4.3), dpi=110, layout="constrained")
        ax, zax = fig.subplots(1, 2, width_ratios=[3, 1])
        curves = {"GT": res.gt[:, r, c], **{name: cube[:, r, c] for name, cube in res.fused.items()}}
        plot_spectra(ax, res.wavelengths, curves, title=f"where the schemes disagree most: (row {r}, col {c}), "
                     f"{picks[0].score:.2f}° between them", reference="GT", zoom_ax=zax, zoom_bands=(18, 22))
        fig.supxlabel(f"ranked by: {criterion}", fontsize=6)
        written.append(save_figure(fig, out_dir / "spectra_disagreement.png"))
    return written


def run_demo(headless: bool, out_dir: Path, overwrite: bool = False, device=None, scene=None,
             offset: int | None = None) -> int:
    res = compute(scene, device, offset=offset)
    from .evaluation.report import Report, SceneResult

    print(Report([SceneResult("sample", m, s) for m, s in res.scores.items()], params=dict(res.params))
          .markdown(per_scene=False))
    if headless:
        paths = write_outputs(res, out_dir, overwrite)
        print(f"wrote {len(paths)} files to {Path(out_dir).resolve()}:")
        for p in paths:
            print(f"  {p.name}")
        return 0
    from ._napari.demo_viewer import show_demo

    show_demo(res)
    return 0


def open_run_in_napari(run: FusionRun, name: str = "scene"):
    """A napari viewer (shown, not blocking) with ``run``'s layers and the three docks: the demo
    viewer's builder, for notebooks (``%gui qt`` first) and scripts. Returns the viewer."""
    from ._napari.demo_viewer import build_demo_viewer

    return build_demo_viewer(run, name=name)[0]
