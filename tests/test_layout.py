"""The repository's scripts stay importable the ordinary way (issue 23): timing benchmarks in ``bench/``
(``python -m bench``), paper experiments in ``experiments/`` (``python -m experiments``, one config per
documented run), release tooling in ``tools/``; nothing edits ``sys.path`` to reach another module."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import bench
import experiments

ROOT = Path(__file__).resolve().parents[1]
SKIP = {".git", ".venv", ".pack", ".wheels", "runs", "build", "dist"}
REACH_IN = re.compile(r"\bsys\.path\s*(\.\s*(insert|append|extend)\b|\[|\+?=)")


def python_files() -> list[Path]:
    return [p for p in ROOT.rglob("*.py") if not SKIP & set(p.relative_to(ROOT).parts[:-1])
            and not any(part.startswith(".") for part in p.relative_to(ROOT).parts[:-1])]


def test_nothing_reaches_into_sys_path():
    offenders = [f"{p.relative_to(ROOT)}:{i}" for p in python_files()
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if REACH_IN.search(line)]
    assert not offenders, "use python -m from the repository root or a package-relative import: " + str(offenders)


def _main_takes_argv(path: Path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    mains = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main"]
    return bool(mains) and len(mains[0].args.args) >= 1


@pytest.mark.parametrize("package", [bench, experiments], ids=["bench", "experiments"])
def test_every_module_runs_through_its_driver(package):
    names = bench.benchmarks() if package is bench else experiments.experiments()
    assert names, package
    for name in names:
        path = Path(package.__file__).parent / f"{name}.py"
        assert _main_takes_argv(path), f"{path.relative_to(ROOT)}: needs main(argv) for python -m {package.__name__}"


def test_every_config_names_an_experiment_and_its_options(tmp_path):
    cfgs = experiments.configs()  # load_config raises on an unknown experiment or key
    assert "reproduce_report" in cfgs and "holdout_lite_600" in cfgs
    holdout = cfgs["holdout_lite_600"]
    assert holdout["experiment"] == "holdout" and holdout["env"] == {"OMP_NUM_THREADS": "1"}
    assert holdout["argv"] == ["--out", "runs/holdout", "--steps", "600", "--eval-every", "100", "--threads", "1"]
    (tmp_path / "bad.toml").write_text('experiment = "nope"\n')
    with pytest.raises(ValueError, match="nope"):
        experiments.load_config(tmp_path / "bad.toml")


def test_the_runner_records_what_a_benchmark_emits(tmp_path, monkeypatch, capsys):
    import json
    import sys
    import types

    fake = types.ModuleType("bench.fake")

    def main(argv):
        print("| a table |")
        bench.emit({"bench": "fake", "argv_seen": argv})

    fake.main = main
    monkeypatch.setitem(sys.modules, "bench.fake", fake)
    monkeypatch.setattr(bench, "benchmarks", lambda: {"fake": "a stand-in"})
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    results = tmp_path / "bench.jsonl"
    assert bench.main(["--results", str(results), "fake", "--x", "1"]) == 0
    assert bench.main(["--no-record", "fake"]) == 0
    lines = [json.loads(s) for s in results.read_text().splitlines()]
    assert len(lines) == 1 and lines[0]["bench"] == "fake" and lines[0]["argv"] == ["--x", "1"]
    assert lines[0]["result"] == {"bench": "fake", "argv_seen": ["--x", "1"]} and "date" in lines[0]
    assert capsys.readouterr().out.splitlines()[-1] == json.dumps({"bench": "fake", "argv_seen": []})
