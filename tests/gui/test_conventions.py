"""napari's conventions: no private napari API, warnings from our code are errors, the writer round trip."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import numpy as np
import pytest
from qtpy.QtCore import Qt

PLUGIN = "napari-inf3"
GUI = Path(__file__).resolve().parents[2] / "napari_inf3" / "_napari"
#: Names whose private attributes (``x._y``) belong to napari, Qt or magicgui, not to us.
FOREIGN = {"viewer", "napari", "window", "layers", "layer", "event", "qt_viewer", "dock", "worker", "canvas"}


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute):
        if isinstance(node.value, ast.Name):
            return node.value.id if node.value.id != "self" else node.attr
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def test_no_private_napari_attribute_in_the_plugin():
    offenders = []
    for path in GUI.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                chain, base = [], node
                while isinstance(base, ast.Attribute):
                    chain.append(base.attr)
                    base = base.value
                names = set(chain[1:]) | ({base.id} if isinstance(base, ast.Name) else set())
                if names & FOREIGN:
                    offenders.append(f"{path.name}:{node.lineno} .{node.attr}")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("napari"):
                parts = node.module.split(".") + [a.name for a in node.names]
                if any(p.startswith("_") for p in parts):
                    offenders.append(f"{path.name}:{node.lineno} from {node.module} import …")
    assert not offenders, offenders


def test_docks_raise_no_future_or_deprecation_warning(make_napari_viewer, qtbot, scheme_checkpoints, tmp_path):
    """Every dock opened and used once with FutureWarning / DeprecationWarning made errors everywhere."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        warnings.simplefilter("error", DeprecationWarning)
        viewer = make_napari_viewer()
        viewer.open_sample(PLUGIN, "superballs_crop")
        _, fusion = viewer.window.add_plugin_dock_widget(PLUGIN, "Fusion")
        _, spectrum = viewer.window.add_plugin_dock_widget(PLUGIN, "Spectrum inspector")
        _, train = viewer.window.add_plugin_dock_widget(PLUGIN, "Training")
        for i in range(fusion.models.count()):
            fusion.models.item(i).setCheckState(Qt.Unchecked)
        fusion.add_checkpoint(str(scheme_checkpoints["cosine"]), "cosine")
        assert fusion.run() is not None
        qtbot.waitUntil(lambda: fusion.worker is None, timeout=120_000)
        fusion.compare()
        spectrum.click((0, 20, 30))
        train.set_layer_checked("superballs (crop) GT")
        train.out.value = str(tmp_path / "w.pt")
        train.epochs.value, train.per_epoch.value, train.batch.value = 1, 2, 2
        assert train.start() is not None
        qtbot.waitUntil(lambda: train.worker is None, timeout=120_000)
        viewer.close()


@pytest.mark.parametrize("ext", [".hdr", ".tif", ".npz"])
def test_writer_round_trip_keeps_wavelengths(make_napari_viewer, tmp_path, ext):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "superballs_crop")
    gt = viewer.layers["superballs (crop) GT"]
    path = tmp_path / f"cube{ext}"
    viewer.layers.selection = {gt}
    saved = viewer.layers.save(str(path), selected=True, plugin=PLUGIN)
    assert saved and Path(saved[0]).exists()
    back = viewer.open(str(path), plugin=PLUGIN)[0]
    np.testing.assert_allclose(np.asarray(back.data), np.asarray(gt.data), atol=1e-6)
    np.testing.assert_allclose(back.metadata["wavelengths"], gt.metadata["wavelengths"])


def test_writer_just_writes_a_save_from_code_replaces_the_file(make_napari_viewer, tmp_path):
    """The writer does not ask (napari's save dialog does, before calling it): a save from code to an
    existing path replaces the file, atomically (no temporary left)."""
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "superballs_crop")
    gt = viewer.layers["superballs (crop) GT"]
    viewer.layers.selection = {gt}
    path = tmp_path / "mine.npz"
    path.write_bytes(b"the user's own file")
    saved = viewer.layers.save(str(path), selected=True, plugin=PLUGIN)
    assert saved and Path(saved[0]) == path
    back = viewer.open(str(path), plugin=PLUGIN)[0]
    np.testing.assert_allclose(np.asarray(back.data), np.asarray(gt.data), atol=1e-6)
    assert [f.name for f in tmp_path.iterdir()] == ["mine.npz"]  # no temporary left beside it


def test_writer_refuses_an_rgb_layer(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((8, 8, 3), np.uint8), rgb=True, name="photo")
    viewer.layers.selection = {viewer.layers["photo"]}
    with pytest.raises(Exception, match="hyperspectral cubes"):
        viewer.layers.save(str(tmp_path / "photo.npz"), selected=True, plugin=PLUGIN)
    assert not (tmp_path / "photo.npz").exists()


def test_writer_replaces_a_file_after_napari_save_dialog(make_napari_viewer, tmp_path, monkeypatch, qtbot):
    """File ▸ Save Selected Layers…: napari's dialog asked (Qt's "replace?"), so the writer replaces."""
    from qtpy.QtWidgets import QFileDialog

    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "superballs_crop")
    gt = viewer.layers["superballs (crop) GT"]
    viewer.layers.selection = {gt}
    path = tmp_path / "mine.npz"
    path.write_bytes(b"an older save")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    actions = [a for a in viewer.window.file_menu.actions() if a.text().replace("&", "").startswith("Save Selected")]
    assert actions, [a.text() for a in viewer.window.file_menu.actions()]
    actions[0].trigger()
    qtbot.waitUntil(lambda: path.stat().st_size > 100, timeout=10_000)
    back = viewer.open(str(path), plugin=PLUGIN)[0]
    np.testing.assert_allclose(np.asarray(back.data), np.asarray(gt.data), atol=1e-6)
    assert [f.name for f in tmp_path.iterdir()] == ["mine.npz"]  # no temporary left beside it


def test_compare_fits_the_grid_to_the_view(make_napari_viewer, qtbot, scheme_checkpoints):
    """After *Compare schemes* the whole grid is on screen and fills the canvas (no Home needed)."""
    viewer = make_napari_viewer(show=True)
    viewer.window.resize(1400, 900)
    viewer.open_sample(PLUGIN, "superballs_crop")
    _, fusion = viewer.window.add_plugin_dock_widget(PLUGIN, "Fusion")
    for i in range(fusion.models.count()):
        fusion.models.item(i).setCheckState(Qt.Unchecked)
    for name, path in scheme_checkpoints.items():
        fusion.add_checkpoint(str(path), name)
    fusion.run()
    qtbot.waitUntil(lambda: fusion.worker is None, timeout=120_000)
    viewer.scene.camera.zoom = 20.0  # as if the user had zoomed into one picture
    fusion.compare()
    qtbot.wait(300)
    shot = viewer.screenshot(canvas_only=True, flash=False)[..., :3].astype(int)
    content = np.abs(shot - shot[1, 1]).sum(-1) > 30
    ys, xs = np.nonzero(content)
    h, w = content.shape
    assert ys.min() > 0 and xs.min() > 0 and ys.max() < h - 1 and xs.max() < w - 1, "part of the grid is cut off"
    assert (xs.max() - xs.min()) > 0.85 * w or (ys.max() - ys.min()) > 0.85 * h, "the grid does not fill the view"
