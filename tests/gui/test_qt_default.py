"""The default Qt binding: the main run is on PyQt6, where napari shows no PyQt5 deprecation warning."""

from __future__ import annotations

import os


def test_default_binding_is_pyqt6_and_napari_warns_of_no_deprecated_binding(make_napari_viewer, monkeypatch):
    """A shown window with napari's own rule for its PyQt5 warning switched back on (``qt_main_window``:
    ``SHOW_QT_WARNING = QT5``, shown once by the first window; napari's pytest plugin switches it off for every
    test). The main run must be on PyQt6 and see no such warning; the PyQt5 run (tests/test_qt_bindings.py)
    must see it, so the check would catch it."""
    import qtpy
    from napari._qt import qt_main_window
    from napari.utils.notifications import notification_manager
    from qtpy.QtWidgets import QApplication, QMainWindow

    if os.environ.get("NAPARI_INF3_OTHER_BINDING") != "1":
        assert qtpy.API_NAME == "PyQt6", f"the main run is on {qtpy.API_NAME}: tests/conftest.py sets QT_API=pyqt6"
    monkeypatch.setattr(qt_main_window, "SHOW_QT_WARNING", qtpy.QT5)
    before = len(notification_manager.records)
    make_napari_viewer(show=True)
    QApplication.processEvents()
    assert any(isinstance(w, QMainWindow) and w.isVisible() for w in QApplication.topLevelWidgets())
    messages = [str(n.message) for n in notification_manager.records[before:]]
    deprecated = [m for m in messages if "PyQt5 backend is deprecated" in m]
    if qtpy.API_NAME == "PyQt5":
        assert deprecated, messages
    else:
        assert not deprecated, deprecated
