"""Tables from a grid's cells (:mod:`napari_inf3.evaluation.ablation_grid`): scores over seeds, paired differences.

Units: PSNR in dB. A *replicate* is one seed; for each trained model (variant, scheme, seed, fold) its
**held-out mean** is the mean PSNR over the fold's held-out scenes; a model trained on several folds with
one seed contributes the mean over all their held-out scenes (only seeds with every fold run count).

* :func:`summarize` — per (variant, scheme): held-out mean as mean ± std over seeds, each test scene's
  mean ± std, the scenes of ``test_also`` (superballs) likewise.
* Paired differences, ``A − B`` per seed (same seed: same initial trunks, same patch order, same folds),
  mean with a two-sided 95 % Student-t interval over seeds, for every variant against the full network
  with the same scheme, and between the schemes of the full network.
* The seed noise (std of a paired difference over seeds) gives the seeds a claimed difference ``Δ`` needs
  to be resolved (95 % interval half-width below |Δ|): ``n ≥ (t·sd / Δ)²``.
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from .ablation_grid import NO_SCHEME, PAPER, VARIANTS, load_cells

__all__ = ["load_cells", "summarize", "paired_differences", "seeds_needed", "report_markdown", "write_report"]

#: The paper's claims as differences (dB), for the seeds-needed column: (A, B, Δ = A − B, where).
CLAIMS: list[tuple[tuple[str, str], tuple[str, str], float, str]] = [
    (("full", "cosine"), ("no_hr", "cosine"), 52.36 - 42.55, "Table 2: HR injection"),
    (("full", "cosine"), ("no_lr", "cosine"), 52.36 - 52.17, "Table 2: LR injection"),
    (("full", "cosine"), ("no_rel", "cosine"), 52.36 - 52.22, "Table 3: relative coordinate"),
    (("full", "cosine"), ("full", "area"), 54.813 - 54.741, "Table 4 (balloons): cosine vs area"),
    (("full", "cosine"), ("full", "net"), 54.813 - 54.392, "Table 4 (balloons): cosine vs net"),
    (("full", "cosine"), ("up_bilinear", NO_SCHEME), 52.36 - 51.93, "Table 5: INF³ vs bilinear"),
    (("full", "cosine"), ("up_pixelshuffle", NO_SCHEME), 52.36 - 52.15, "Table 5: INF³ vs pixel shuffle"),
]


def _by_seed(recs: list[dict], folds: set[int]) -> dict[tuple[str, str], dict[int, dict[str, float]]]:
    """``{(variant, scheme): {seed: {scene: psnr}}}`` over the seeds that have every fold in ``folds``."""
    acc: dict[tuple[str, str], dict[int, dict[int, dict[str, float]]]] = defaultdict(lambda: defaultdict(dict))
    for r in recs:
        c = r["cell"]
        acc[(c.variant, c.scheme)][c.seed][c.fold] = {s: v["psnr"] for s, v in r["scores"].items()}
    out: dict[tuple[str, str], dict[int, dict[str, float]]] = {}
    for key, seeds in acc.items():
        for seed, per_fold in seeds.items():
            if folds <= set(per_fold):
                merged: dict[str, list[float]] = defaultdict(list)
                for f in sorted(folds):
                    for scene, v in per_fold[f].items():
                        merged[scene].append(v)
                out.setdefault(key, {})[seed] = {s: float(np.mean(v)) for s, v in merged.items()}
    return out


def _held_mean(scores: dict[str, float], extra: set[str]) -> float:
    return float(np.mean([v for s, v in scores.items() if s not in extra]))


def _mean_std(values: list[float]) -> tuple[float, float, int]:
    a = np.asarray(values, dtype=np.float64)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else float("nan"), len(a)


def _t(n: int) -> float:
    """Two-sided 95 % Student-t quantile with ``n - 1`` degrees of freedom."""
    from scipy.stats import t

    return float(t.ppf(0.975, n - 1)) if n > 1 else float("nan")


def summarize(recs: list[dict], extra: set[str], folds: set[int]) -> dict[tuple[str, str], dict[str, Any]]:
    """Per (variant, scheme): ``held_out`` and each scene as ``(mean, std, n_seeds)``, ``params``, ``seeds``."""
    by = _by_seed(recs, folds)
    params = {(r["cell"].variant, r["cell"].scheme): r["params"] for r in recs}
    out = {}
    for key, seeds in sorted(by.items()):
        scenes = sorted(next(iter(seeds.values())))
        out[key] = {"held_out": _mean_std([_held_mean(s, extra) for s in seeds.values()]),
                    "scenes": {sc: _mean_std([s[sc] for s in seeds.values()]) for sc in scenes},
                    "params": params[key], "seeds": sorted(seeds)}
    return out


def paired_differences(recs: list[dict], extra: set[str], folds: set[int],
                       pairs: list[tuple[tuple[str, str], tuple[str, str]]] | None = None) -> list[dict[str, Any]]:
    """``A − B`` per seed (held-out mean, and each ``extra`` scene): mean, std, n, 95 % t interval.

    Default pairs: every variant against ``full`` with the same scheme (``cosine`` for Table 5's
    upsamplers), and the full network's schemes against each other.
    """
    by = _by_seed(recs, folds)
    if pairs is None:
        pairs = _default_pairs(set(by))
    rows = []
    for a, b in pairs:
        seeds = sorted(set(by.get(a, {})) & set(by.get(b, {})))
        if not seeds:
            continue
        row: dict[str, Any] = {"a": a, "b": b, "seeds": seeds}
        targets = ["held_out", *sorted(extra & set(by[a][seeds[0]]))]
        for target in targets:
            d = [(_held_mean(by[a][s], extra) - _held_mean(by[b][s], extra)) if target == "held_out"
                 else by[a][s][target] - by[b][s][target] for s in seeds]
            mean, sd, n = _mean_std(d)
            half = _t(n) * sd / math.sqrt(n) if n > 1 else float("nan")
            row[target] = {"mean": mean, "std": sd, "n": n, "ci": (mean - half, mean + half),
                           "positive": sum(x > 0 for x in d), "values": d}
        rows.append(row)
    return rows


def _default_pairs(keys: set[tuple[str, str]]) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    pairs = []
    for s1, s2 in (("cosine", "area"), ("cosine", "net"), ("area", "net")):
        if ("full", s1) in keys and ("full", s2) in keys:
            pairs.append((("full", s1), ("full", s2)))
    for v, s in sorted(keys):
        if v == "full":
            continue
        ref = ("full", "cosine" if s == NO_SCHEME else s)
        if ref in keys:
            pairs.append((ref, (v, s)))
    return pairs


def seeds_needed(sd: float, delta: float, max_n: int = 10_000) -> int | None:
    """Seeds for a 95 % t interval of half-width ``|delta|`` given a paired std ``sd``: least n with
    ``t(n) · sd / √n ≤ |delta|`` (None if more than ``max_n``; at least 2)."""
    if not math.isfinite(sd):
        return None
    for n in range(2, max_n + 1):
        if _t(n) * sd / math.sqrt(n) <= abs(delta):
            return n
    return None


def _fmt(ms: tuple[float, float, int]) -> str:
    mean, sd, _ = ms
    return f"{mean:.2f} ± {sd:.2f}" if math.isfinite(sd) else f"{mean:.2f}"


def _label(key: tuple[str, str]) -> str:
    v, s = key
    return v if s == NO_SCHEME else f"{v} / {s}"


def report_markdown(out: str | Path) -> tuple[str, dict[str, Any]]:
    """The grid in ``out`` as Markdown and as a JSON-safe summary."""
    out = Path(out)
    meta = json.loads((out / "grid.json").read_text(encoding="utf-8"))
    recs = load_cells(out)
    if not recs:
        return f"no scored cells in {out} yet\n", {}
    extra = set(meta.get("test_also", []))
    folds = {r["cell"].fold for r in recs}
    summ = summarize(recs, extra, folds)
    diffs = paired_differences(recs, extra, folds)
    base = _baselines(out)
    r = meta["recipe"]
    lines = [f"Grid `{out}`: preset {r['preset']}, {r['steps']} steps × batch {r['batch_size']} ({r['patch']}² "
             f"patches), lr {r['lr']} {r['schedule']}, consistency {r['consistency']}, ×{r['scale']}; "
             f"{len(meta['scenes'])} training scenes in {r['folds']} folds, fold(s) run: "
             f"{', '.join(map(str, sorted(folds)))}; test also: {', '.join(sorted(extra)) or '—'}. "
             f"PSNR in dB, mean ± std over seeds.", ""]
    scenes = sorted({sc for v in summ.values() for sc in v["scenes"]}, key=lambda s: (s in extra, s))
    lines.append("| variant / scheme | params | seeds | held-out mean | " + " | ".join(scenes) + " |")
    lines.append("|---" * (4 + len(scenes)) + "|")
    for m, text in (("bicubic", "bicubic interpolation (no learning)"),
                    ("projection", "SRF projection of bicubic (no learning)")):
        if base and all(sc in base for sc in scenes):
            held = [base[sc][m]["psnr"] for sc in scenes if sc not in extra]
            lines.append(f"| {text} | — | — | {np.mean(held):.2f} | "
                         + " | ".join(f"{base[sc][m]['psnr']:.2f}" for sc in scenes) + " |")
    for key, v in summ.items():
        cells = [_fmt(v["scenes"][sc]) if sc in v["scenes"] else "—" for sc in scenes]
        lines.append(f"| {_label(key)} | {v['params']:,} | {len(v['seeds'])} | {_fmt(v['held_out'])} | "
                     + " | ".join(cells) + " |")
    lines += ["", "Paired differences A − B per seed (95 % Student-t interval over seeds; ‘+k/n’: seeds with A > B):",
              "", "| A − B | held-out mean | " + " | ".join(sorted(extra)) + " |", "|---" * (2 + len(extra)) + "|"]
    for d in diffs:
        cells = [_fmt_diff(d.get(t)) for t in ["held_out", *sorted(extra)]]
        lines.append(f"| {_label(d['a'])} − {_label(d['b'])} | " + " | ".join(cells) + " |")
    claims = _claims(diffs)
    if claims:
        lines += ["", "The paper's claims against the measured seed noise (held-out mean):", "",
                  "| claim | paper Δ (dB) | measured Δ [95 % CI] | paired std | seeds to resolve the paper's Δ |",
                  "|---|---|---|---|---|"]
        for c in claims:
            need = "—" if c["seeds_needed"] is None else str(c["seeds_needed"])
            lines.append(f"| {c['claim']} | {c['paper']:+.3f} | {_fmt_diff(c['measured'])} | "
                         f"{c['measured']['std']:.3f} | {need} |")
    summary = {"recipe": r, "folds_run": sorted(folds), "test_also": sorted(extra),
               "rows": {_label(k): {**v, "held_out": list(v["held_out"]),
                                    "scenes": {s: list(x) for s, x in v["scenes"].items()}} for k, v in summ.items()},
               "paired": [{**d, "a": _label(d["a"]), "b": _label(d["b"])} for d in diffs], "claims": claims,
               "baselines": base, "paper": PAPER, "variants": {k: dict(v) for k, v in VARIANTS.items()}}
    return "\n".join(lines) + "\n", summary


def _fmt_diff(d: dict[str, Any] | None) -> str:
    if not d:
        return "—"
    lo, hi = d["ci"]
    ci = f" [{lo:+.2f}, {hi:+.2f}]" if math.isfinite(lo) else ""
    return f"{d['mean']:+.2f}{ci} (+{d['positive']}/{d['n']})"


def _claims(diffs: list[dict]) -> list[dict[str, Any]]:
    out = []
    for a, b, delta, what in CLAIMS:
        for d in diffs:
            if d["a"] == a and d["b"] == b and "held_out" in d:
                m = d["held_out"]
                out.append({"claim": what, "paper": delta, "measured": m,
                            "seeds_needed": seeds_needed(m["std"], delta)})
    return out


def _baselines(out: Path) -> dict[str, Any]:
    p = out / "baselines.json"
    return json.loads(p.read_text(encoding="utf-8")) if p.exists() else {}


def write_report(out: str | Path) -> Path:
    """Write ``grid.md`` and ``grid_summary.json`` into the grid folder ``out`` (atomically); returns the .md."""
    from ..io.atomic import atomic_write_text

    md, summary = report_markdown(out)
    atomic_write_text(Path(out) / "grid_summary.json", json.dumps(summary, indent=1, default=_json_safe))
    return atomic_write_text(Path(out) / "grid.md", md)


def _json_safe(o: Any) -> Any:
    if isinstance(o, float) and not math.isfinite(o):
        return None
    if isinstance(o, tuple):
        return list(o)
    raise TypeError(type(o).__name__)
