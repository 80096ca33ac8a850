"""The top-level API (``napari_inf3/__init__.py``): a small list of what a user calls, loaded on first use
(lazy_loader), so ``import napari_inf3`` stays quick; the modules that moved into packages keep their old names."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

import napari_inf3 as ni


def _python(code: str, **env: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env}, check=True)
    return done.stdout.strip()


def test_import_loads_neither_torch_nor_qt():
    out = _python("import sys, napari_inf3; print(sorted(m for m in ('torch', 'qtpy', 'napari') if m in sys.modules))")
    assert out == "[]"


def test_every_public_name_resolves_and_the_list_stays_small():
    assert len(ni.__all__) <= 30 and "__version__" in ni.__all__
    for name in ni.__all__:
        assert getattr(ni, name) is not None, name
    # EAGER_IMPORT=1 loads every name and package at import: a broken entry fails here, not in a user's hands
    assert _python("import napari_inf3; print('ok')", EAGER_IMPORT="1") == "ok"


def test_old_flat_names_reach_the_moved_modules():
    from napari_inf3.evaluation import metrics
    from napari_inf3.fusion import pipeline

    assert ni.metrics is metrics and ni.pipeline is pipeline
    assert ni.fuse is ni.fusion.inference.fuse and callable(ni.load_model)
    with pytest.raises(AttributeError, match="no attribute 'fuse_everything'"):
        ni.fuse_everything  # noqa: B018


def test_public_functions_are_not_shadowed_by_submodules():
    """Importing every submodule must leave napari_inf3.simulate/fuse/train/pretrained as functions."""
    import importlib

    import napari_inf3

    for name in ("data.simulation", "fusion.inference", "training", "training.loop", "shipped", "evaluation.metrics",
                 "io", "models.infn", "models.checkpoint", "models", "fusion", "data", "evaluation", "viz", "pair"):
        importlib.import_module(f"napari_inf3.{name}")
    for fn in ("simulate", "fuse", "train", "pretrained", "read_cube", "evaluate"):
        assert callable(getattr(napari_inf3, fn)) and not hasattr(getattr(napari_inf3, fn), "__path__")
        assert type(getattr(napari_inf3, fn)).__name__ == "function", fn
