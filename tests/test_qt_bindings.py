"""The GUI tests under the Qt binding this run does not use: PyQt6 is the default the README installs (the
``all`` extra), and the main run's (tests/conftest.py sets ``QT_API=pyqt6``, since qtpy would take PyQt5 first
where both are installed); PyQt5 stays tested, in this second run, while napari still supports it
(``pip install -e .[pyqt5]``); both must pass.

The main pytest run imports qtpy once (the binding is fixed for the process), so the other binding's
run is a second pytest process over ``tests/gui`` with ``QT_API`` (and pytest-qt's ``PYTEST_QT_API``) set. Both
bindings are installed by the ``dev`` extra. It leaves out only the broken-file cases through ``viewer.open``
(``test_viewer_open_bad_file``, ≈ 40 viewers): they test our readers' messages through napari's reader
plumbing, which has no binding-specific code of ours; every dock, widget, writer and drawing test runs.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


#: Left out of the second binding's run: the ~40 broken-file viewer.open cases (our readers' messages through
#: napari's binding-independent reader plumbing), and tests whose seconds go to the engine (training, a
#: paper-preset fusion, a layout over many layers) rather than to Qt; each of their widgets is still driven
#: under this binding by the quicker tests. Saves ≈ 90 s of the suite's 15-minute budget.
ENGINE_HEAVY = ("test_viewer_open_bad_file", "test_compare_fits_the_grid_to_the_view",
                "test_training_validates_on_an_open_scene", "fine_tunes",
                # fitting a model to a pair takes 20 s a test, all of it engine (the docks' Qt is exercised by the rest)
                "test_fit_to_the_pair_in_the_dock", "test_the_spectrum_inspector_plots_the_fit",
                "test_two_geotiffs_overlay_and_fuse_on_the_hr_grid",
                # the worker's staging and the weight maps: seconds of fusion; the dock's Qt runs in the rest
                "test_the_worker_yields_the_layers_before_ssim", "test_fusion_weight_maps_and_lr_layer_placement")


def _current_binding() -> str:
    """This run's binding, as qtpy reads ``QT_API`` (set but empty counts as unset: PyQt5 first); tests/conftest.py
    has set it to PyQt6 where PyQt6 is installed."""
    return (os.environ.get("QT_API") or "pyqt5").lower()


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("NAPARI_INF3_OTHER_BINDING") == "1", reason="already the other binding's run")
def test_gui_suite_passes_under_the_other_qt_binding():
    if not os.environ.get("DISPLAY"):
        pytest.skip("no X server: run the tests through `xvfb-run -a`")
    other = "pyqt6" if _current_binding() == "pyqt5" else "pyqt5"
    module = {"pyqt6": "PyQt6", "pyqt5": "PyQt5"}[other]
    probe = subprocess.run([sys.executable, "-c", f"import {module}.QtCore"], capture_output=True, text=True)
    assert probe.returncode == 0, (f"{module} is not installed: `pip install -e .[dev]` installs both bindings\n"
                                   + probe.stderr[-2000:])
    env = {**os.environ, "QT_API": other, "PYTEST_QT_API": other, "NAPARI_INF3_OTHER_BINDING": "1"}
    res = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-x", "tests/gui",
                          "-k", " and ".join(f"not {name}" for name in ENGINE_HEAVY)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    out = res.stdout + res.stderr
    assert res.returncode == 0, f"tests/gui under {other} failed:\n{out[-4000:]}"
    assert f"qt binding: {module}" in out, out[:2000]  # tests/gui/conftest.py's header: the binding really used
    assert " passed" in out.splitlines()[-1], out[-2000:]


def test_the_napari_inf3_command_takes_pyqt6_where_pyqt5_is_installed_too():
    """qtpy (napari's shim) takes PyQt5 first when ``QT_API`` is unset: ``napari-inf3 demo`` asks for PyQt6 before
    anything imports Qt, and leaves a ``QT_API`` the user set alone. Run as a fresh process (no Qt loaded)."""
    code = ("import os, sys; from napari_inf3 import cli, demo; "
            "demo.run_demo = lambda **kw: print(os.environ.get('QT_API'), 'qtpy' in sys.modules) or 0; "
            "sys.exit(cli.main(['demo']))")
    env = {k: v for k, v in os.environ.items() if k not in ("QT_API", "PYTEST_QT_API")}
    env["DISPLAY"] = env.get("DISPLAY") or ":0"  # the demo opens napari only with a display (never here: stubbed)
    probe = subprocess.run([sys.executable, "-c", "import PyQt6.QtCore"], capture_output=True)
    expected = "pyqt6" if probe.returncode == 0 else "None"
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.split() == [expected, "False"], res.stdout
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**env, "QT_API": "pyqt5"}, capture_output=True,
                         text=True, timeout=120)
    assert res.stdout.split() == ["pyqt5", "False"], res.stdout + res.stderr[-2000:]


def test_prefer_default_binding_leaves_a_choice_made_alone(monkeypatch):
    from napari_inf3 import qt_default

    assert qt_default.prefer_default_binding({"QT_API": "PyQt5"}) == "pyqt5"  # the user's choice
    for name in [m for m in sys.modules if m == "qtpy" or m.split(".")[0] in qt_default.BINDINGS.values()]:
        monkeypatch.delitem(sys.modules, name)  # as in a fresh process; put back after the test
    monkeypatch.setattr(qt_default, "binding_installed", lambda api: False)
    env: dict[str, str] = {"QT_API": ""}
    assert qt_default.prefer_default_binding(env) is None and env == {"QT_API": ""}  # no PyQt6: qtpy's choice
    monkeypatch.setattr(qt_default, "binding_installed", lambda api: api == "pyqt6")
    monkeypatch.setitem(sys.modules, "PyQt5", sys)
    assert qt_default.prefer_default_binding(env) is None and env == {"QT_API": ""}  # a binding already loaded
    monkeypatch.delitem(sys.modules, "PyQt5")
    assert qt_default.prefer_default_binding(env) == "pyqt6" and env == {"QT_API": "pyqt6"}
