"""Evaluation tables in the paper's layout (Table 1 / Table 4): methods × PSNR, SAM, ERGAS, SSIM.

:func:`evaluate_scenes` fuses every scene with every model (plus bicubic), and
:func:`summary_table` gives per-method mean ± std; writers for Markdown and CSV. Used by
``napari-inf3 evaluate``, ``napari-inf3 demo`` and ``experiments/reproduce.py``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .metrics import METRICS

UNITS = {"psnr": "PSNR (dB)", "sam": "SAM (°)", "ergas": "ERGAS", "ssim": "SSIM"}


@dataclass
class SceneResult:
    scene: str
    method: str
    scores: Mapping[str, float]
    seconds: float = 0.0


@dataclass
class Report:
    rows: list[SceneResult] = field(default_factory=list)
    params: dict[str, int] = field(default_factory=dict)

    def methods(self) -> list[str]:
        seen: list[str] = []
        for r in self.rows:
            if r.method not in seen:
                seen.append(r.method)
        return seen

    def summary(self) -> dict[str, dict[str, tuple[float, float]]]:
        """``{method: {metric: (mean, std)}}`` over scenes (std with ddof=0)."""
        out = {}
        for m in self.methods():
            vals = [r.scores for r in self.rows if r.method == m]
            out[m] = {k: (float(np.mean([v[k] for v in vals])), float(np.std([v[k] for v in vals]))) for k in METRICS}
        return out

    def markdown(self, per_scene: bool = True) -> str:
        lines = ["| method | " + " | ".join(UNITS[k] for k in METRICS) + " | params |",
                 "|---|" + "---|" * (len(METRICS) + 1)]
        for m, stats in self.summary().items():
            single = sum(r.method == m for r in self.rows) == 1  # one scene: no spread to show ("± 0.00" said nothing)
            cells = [(f"{mu:.4f}" if k == "ssim" else f"{mu:.2f}") + ("" if single else
                     (f" ± {sd:.4f}" if k == "ssim" else f" ± {sd:.2f}")) for k, (mu, sd) in stats.items()]
            p = self.params.get(m)
            lines.append(f"| {m} | " + " | ".join(cells) + f" | {'—' if p is None else f'{p / 1e6:.3f} M'} |")
        if per_scene:
            lines += ["", "| scene | method | " + " | ".join(UNITS[k] for k in METRICS) + " |",
                      "|---|---|" + "---|" * len(METRICS)]
            for r in self.rows:
                lines.append(f"| {r.scene} | {r.method} | " + " | ".join(f"{r.scores[k]:.4f}" for k in METRICS) + " |")
        return "\n".join(lines) + "\n"

    def csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["scene", "method", *METRICS, "seconds"])
        for r in self.rows:
            w.writerow([r.scene, r.method, *(f"{r.scores[k]:.6f}" for k in METRICS), f"{r.seconds:.3f}"])
        for m, stats in self.summary().items():
            w.writerow(["mean", m, *(f"{stats[k][0]:.6f}" for k in METRICS), ""])
            w.writerow(["std", m, *(f"{stats[k][1]:.6f}" for k in METRICS), ""])
        return buf.getvalue()


def evaluate_scenes(
    scenes: Sequence,
    models: dict[str, object],
    *,
    scale: int = 4,
    srf="nikon_d700",
    device=None,
    crop: bool = False,
    on_scene: Callable[[str, str, dict], None] | None = None,
    keep: Callable[[str, str, np.ndarray], None] | None = None,
    offset: int | None = None,
    clip: bool = True,
) -> Report:
    """Simulate each scene, fuse it with bicubic and every model, score everything.

    ``scenes``: paths or :class:`~napari_inf3.data.cube.Cube` s (ground truth). ``models``: display
    name → INFN / checkpoint path / pretrained name / ``'pair'`` (fitted to each scene's simulated pair, with
    the simulation's response). ``srf``: the HR-MSI's response, a packaged name resampled to each scene's
    wavelengths. ``keep(scene, method, fused)`` sees every fused cube (to save pictures) before it is dropped.
    """
    from ..data.cube import Cube
    from ..fusion.pipeline import fusion_run
    from ..fusion.types import SimulatedPair
    from ..io import read_cube
    from ..models.load import PAIR, is_projection, load_model

    # 'pair' is fitted to each scene's pair by the run (napari_inf3.fit_pair): nothing to load first
    loaded = {name: m if m == PAIR else load_model(m, device) for name, m in models.items()}
    # the projection baseline is a fixed linear step: its stand-in network's parameters are not a model size
    report = Report(params={n: m.num_parameters() for n, m in loaded.items()
                            if not isinstance(m, str) and not is_projection(m)})
    for s in scenes:
        cube = s if isinstance(s, Cube) else read_cube(s)
        name = Path(cube.source).name if cube.source else "scene"
        run = fusion_run(loaded, SimulatedPair(cube, scale=scale, srf=srf, crop=crop, offset=offset), device=device,
                         clip=clip)
        for method, fused in run.fused.items():
            res = SceneResult(name, method, run.scores[method], run.seconds[method])
            report.rows.append(res)
            if keep:
                keep(name, method, fused)
            if on_scene:
                on_scene(name, method, dict(res.scores))
    return report


def write_report(report: Report, out_dir: Path, stem: str = "metrics", overwrite: bool = False) -> list[Path]:
    """Write ``<stem>.md`` and ``<stem>.csv`` into ``out_dir``; refuses to overwrite unless asked.

    Atomic, as one pair: both are written under temporary names and then moved into place, so a failure
    (disk full, ...) raises :class:`~napari_inf3.io.atomic.WriteError` and leaves the old files as they were."""
    from ..data.cube import CubeError
    from ..io.atomic import WriteError, atomic_group, describe_os_error

    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"cannot create the folder: {describe_os_error(exc)}", out_dir, exc.errno) from None
    paths = [out_dir / f"{stem}.md", out_dir / f"{stem}.csv"]
    for p in paths:
        if p.exists() and not overwrite:
            raise CubeError("already exists; pass --overwrite to replace it", p)
    texts = [report.markdown(), report.csv()]
    with atomic_group(paths) as temps:
        for tmp, text in zip(temps, texts, strict=True):
            tmp.write_text(text, encoding="utf-8")
    return paths
