"""Which Qt binding napari-inf3 runs napari on by default: PyQt6.

napari picks its binding through ``qtpy``, which takes ``QT_API`` when it is set and otherwise the first
binding it can import, PyQt5 before PyQt6. The ``all`` extra installs PyQt6 only, so a plain install runs on
PyQt6 whatever starts napari. An environment with both (the ``dev`` extra adds PyQt5, for the test suite's
second run) would fall back to PyQt5, whose support napari 0.9 deprecates (a warning in every new window);
the ``napari-inf3`` command, the screenshot scripts and the tests call :func:`prefer_default_binding` before
anything imports Qt, so they take PyQt6 there too. A ``QT_API`` set by the user always wins.
No Qt is imported here.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import MutableMapping

#: The binding of the default install (``pip install napari-inf3[all]``), as ``QT_API`` spells it.
DEFAULT_QT_API = "pyqt6"
#: ``QT_API`` value -> the module it imports.
BINDINGS = {"pyqt6": "PyQt6", "pyqt5": "PyQt5", "pyside6": "PySide6", "pyside2": "PySide2"}


def binding_installed(api: str) -> bool:
    """Whether the binding ``api`` (``'pyqt6'``, ...) can be imported (looked up, not imported)."""
    try:
        return importlib.util.find_spec(BINDINGS[api]) is not None
    except (ImportError, ValueError):
        return False


def prefer_default_binding(environ: MutableMapping[str, str] | None = None) -> str | None:
    """Set ``QT_API=pyqt6`` for this process when nothing has chosen a binding yet: ``QT_API`` unset or empty,
    no binding (nor qtpy) imported, and PyQt6 installed. Returns the ``QT_API`` now in effect, or None where
    qtpy is left to its own choice (no PyQt6) or a binding is already loaded (a choice made; changing the
    variable now would only mislead)."""
    env = os.environ if environ is None else environ
    if env.get("QT_API"):
        return env["QT_API"].lower()
    if "qtpy" in sys.modules or any(m in sys.modules for m in BINDINGS.values()):
        return None
    if not binding_installed(DEFAULT_QT_API):
        return None
    env["QT_API"] = DEFAULT_QT_API
    return DEFAULT_QT_API
