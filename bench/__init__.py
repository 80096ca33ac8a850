"""Timing benchmarks: speed, memory and FLOP efficiency, one module each, one runner, one results file.

    python -m bench                           # list the benchmarks
    python -m bench fuse --quick              # run one with its own options (python -m bench fuse --help)
    python -m bench --no-record train --steps 2
    xvfb-run -a python -m bench spectrum_click

Run from the repository root (``-m`` puts it on the import path). Each benchmark prints a table, then one
JSON line (its summary: :func:`emit`). Run through ``python -m bench``, every summary is also appended to
``docs/results/bench.jsonl`` (``--results PATH`` for another file, ``--no-record`` for none) as one line
``{"bench", "argv", "date", "commit", "machine", "result"}``, so a figure quoted in the docs can be found
with the command and the commit that produced it. ``python -m bench.NAME`` runs one without recording.

A new benchmark is a module here with ``main(argv=None)`` that parses its options from ``argv``, prints its
table and ends with ``emit(summary)``. What is not a timing goes elsewhere: paper experiments in
``experiments/`` (``python -m experiments``), release tooling for a lent GPU in ``tools/``, the fuzzer in
``napari_inf3/testing/``. The figures these benchmarks produced, and what they mean: docs/PERFORMANCE.md.
"""

from __future__ import annotations

import ast
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = ROOT / "docs" / "results" / "bench.jsonl"

_emitted: list[dict] = []


def emit(summary: dict) -> None:
    """Print a benchmark's summary as its last line, one JSON object (the runner records it)."""
    _emitted.append(summary)
    print(json.dumps(summary), flush=True)


def benchmarks() -> dict[str, str]:
    """``{name: its docstring's first paragraph}`` for every benchmark module (read, not imported)."""
    out = {}
    for p in sorted(HERE.glob("*.py")):
        if not p.name.startswith("_"):
            doc = ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) or ""
            out[p.stem] = " ".join(doc.split("\n\n")[0].split())  # on one line
    return out


def _commit() -> str | None:
    try:
        res = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return res.stdout.strip() or None


def _machine() -> dict:
    info: dict = {"cpus": os.cpu_count(), "arch": platform.machine(), "python": platform.python_version()}
    torch = sys.modules.get("torch")  # only if the benchmark loaded it
    if torch is not None:
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        if torch.cuda.is_available():
            info["gpu"] = torch.cuda.get_device_name()
    return info


def record(name: str, argv: list[str], summaries: list[dict], path: Path = RESULTS) -> None:
    """Append one line per summary to ``path`` (JSON lines; the folder must exist)."""
    when = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    common = {"bench": name, "argv": argv, "date": when, "commit": _commit(), "machine": _machine()}
    with open(path, "a", encoding="utf-8") as fh:
        for s in summaries:
            fh.write(json.dumps({**common, "result": s}) + "\n")


def run(name: str, argv: list[str], results: Path | None = RESULTS) -> int:
    """Run benchmark ``name`` with ``argv``; append what it emitted to ``results`` (None: nowhere)."""
    import importlib

    module = importlib.import_module(f"{__name__}.{name}")
    sys.argv = [f"python -m bench {name}", *argv]  # argparse's prog, in usage and error lines
    del _emitted[:]
    rc = module.main(argv)
    rc = rc if isinstance(rc, int) else 0
    if rc == 0 and _emitted and results is not None:
        record(name, argv, list(_emitted), results)
        print(f"recorded in {results}", file=sys.stderr)
    return rc


def usage() -> str:
    marks = benchmarks()
    lines = [(__doc__ or "").split("\n\n")[1].rstrip(), "", "benchmarks (python -m bench NAME --help):"]
    lines += [f"  {n:{max(map(len, marks))}}  {d}" for n, d in marks.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    results: Path | None = RESULTS
    while argv and argv[0] in ("--no-record", "--results"):
        if argv[0] == "--no-record":
            results, argv = None, argv[1:]
        elif len(argv) > 1:
            results, argv = Path(argv[1]), argv[2:]
        else:
            print("python -m bench: --results needs a path", file=sys.stderr)
            return 2
    if not argv or argv[0] in ("-h", "--help", "list"):
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in benchmarks():
        print(f"python -m bench: no benchmark {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    return run(name, rest, results)
