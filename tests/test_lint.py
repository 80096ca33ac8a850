"""The tooling stays clean: ``ruff check`` over the repository and ``mypy`` over the whole package (the napari
layer too), each as configured in pyproject.toml, run with this interpreter's environment (the ``dev`` extra
installs both).

Both keep their caches in the repository (``.ruff_cache``, ``.mypy_cache``; git ignores them), so a second
run checks only what changed: mypy takes ~20 s cold on this machine's CPU, a few seconds warm."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_is_clean():
    res = _run("ruff", "check", "--output-format", "concise", ".")
    assert res.returncode == 0, f"ruff check . found problems:\n{res.stdout}{res.stderr}"


def test_mypy_is_clean():
    res = _run("mypy", "--config-file", str(ROOT / "pyproject.toml"))
    assert res.returncode == 0, f"mypy found problems:\n{res.stdout}{res.stderr}"
