"""The ensemble in the docks (issue 22): ticked by default in the Fusion dock, its expected |error| beside the
true |error| on one scale, its members' spread as a band around its curve in the Spectrum inspector, and
◀ / ▶ through the pixels of highest expected |error|."""

from __future__ import annotations

from qtpy.QtCore import Qt

PLUGIN = "napari-inf3"
MEMBERS = ("area", "net", "cosine")


def _items(fusion) -> dict:
    return {fusion.models.item(i).data(Qt.UserRole): fusion.models.item(i) for i in range(fusion.models.count())}


def test_ensemble_is_listed_and_ticked_after_its_members(make_napari_viewer):
    viewer = make_napari_viewer()
    _, fusion = viewer.window.add_plugin_dock_widget(PLUGIN, "Fusion")
    items = _items(fusion)
    assert items["ensemble"].checkState() == Qt.Checked
    assert items["ensemble"].text() == "ensemble (mean of area, net, cosine; expected |error|)"
    assert items["paper:ensemble"].checkState() == Qt.Unchecked
    # the members come first: the run fuses them once and the ensemble averages their cubes
    assert fusion.selected_models() == {"area": "area", "net": "net", "cosine": "cosine", "ensemble": "ensemble"}
