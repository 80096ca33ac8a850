"""The ensemble in the docks (issue 22): ticked by default in the Fusion dock, its expected |error| beside the
true |error| on one scale, its members' spread as a band around its curve in the Spectrum inspector, and
◀ / ▶ through the pixels of highest expected |error|."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import Qt

from napari_inf3.data.sample import load_sample

PLUGIN = "napari-inf3"
MEMBERS = ("area", "net", "cosine")


@pytest.fixture
def calibrated(tmp_path, monkeypatch):
    """The shipped ensemble with an error calibration: the package's when it ships one, else a stand-in."""
    from napari_inf3 import shipped
    from napari_inf3.models.uncertainty import ErrorCalibration

    if not shipped.calibration_path("lite").is_file():
        path = ErrorCalibration(coef=(-1.48, 0.42, 0.12, 0.20, 0.07), preset="lite").save(tmp_path / "cal.json")
        monkeypatch.setattr(shipped, "calibration_path", lambda preset="lite": path)


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


def _band_edges(poly, x) -> tuple[np.ndarray, np.ndarray]:
    """The lower and upper edge of a fill_between band at each ``x``."""
    v = np.concatenate([p.vertices for p in poly.get_paths()])
    lo = np.array([v[np.isclose(v[:, 0], xi), 1].min() for xi in x])
    hi = np.array([v[np.isclose(v[:, 0], xi), 1].max() for xi in x])
    return lo, hi


def _check_band(spectrum, viewer, run_id, row, col):
    """One band around the ensemble's curve: mean ± std of its members at the pixel, in its colour, in the legend."""
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import to_rgb

    ax = spectrum.canvas.figure.axes[0]
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 1
    members = np.stack([np.asarray(viewer.layers[f"{m} [{run_id}]"].data)[:, row, col] for m in MEMBERS])
    curve = next(ln for ln in ax.get_lines() if ln.get_label().startswith(f"ensemble [{run_id}]"))
    lo, hi = _band_edges(bands[0], curve.get_xdata())
    np.testing.assert_allclose(lo, members.mean(0) - members.std(0), atol=1e-5)
    np.testing.assert_allclose(hi, members.mean(0) + members.std(0), atol=1e-5)
    np.testing.assert_allclose(bands[0].get_facecolor()[0][:3], to_rgb(curve.get_color()), atol=1e-6)
    assert "ensemble ± std of area/net/cosine" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_ensemble_run_maps_its_expected_error_draws_its_spread_and_steps_by_it(make_napari_viewer, qtbot,
                                                                               calibrated):
    viewer = make_napari_viewer()
    _, spectrum = viewer.window.add_plugin_dock_widget(PLUGIN, "Spectrum inspector")
    sample = load_sample()
    viewer.add_image(np.asarray(sample.data, np.float32)[:, :96, :96], name="crop",
                     metadata={"wavelengths": [float(w) for w in sample.wavelengths]})
    _, fusion = viewer.window.add_plugin_dock_widget(PLUGIN, "Fusion")
    fusion.gt_combo.value = viewer.layers["crop"]
    for spec, item in _items(fusion).items():  # the ensemble alone: the run adds its members itself
        item.setCheckState(Qt.Checked if spec == "ensemble" else Qt.Unchecked)
    assert fusion.run() is not None
    qtbot.waitUntil(lambda: fusion.worker is None, timeout=180_000)
    run, run_id = fusion.last_run, fusion.last_run_id
    assert run.members["ensemble"] == list(MEMBERS)

    # the expected |error| beside the true one, on its colour scale
    expected = viewer.layers[f"expected |error| ensemble [{run_id}]"]
    true = viewer.layers[f"|error| ensemble [{run_id}]"]
    assert expected.metadata["inf3"]["role"] == "expected_error"
    assert tuple(expected.contrast_limits) == tuple(true.contrast_limits)
    np.testing.assert_array_equal(np.asarray(expected.data), run.expected_error["ensemble"])
    fusion.compare()  # Compare schemes: right under the true |error|, in the ensemble's column
    assert expected.visible and expected.translate[1] == true.translate[1] and expected.translate[0] > true.translate[0]
    fusion.compare()

    # a click on the ensemble: its members' spread as a band around its curve, in its colour, with a legend entry
    ensemble = viewer.layers[f"ensemble [{run_id}]"]
    viewer.layers.selection.active = ensemble
    assert spectrum.click(ensemble.data_to_world((0, 40, 50))) == (40, 50)
    for m in MEMBERS:
        assert any(label.startswith(f"{m} [{run_id}]") for label in spectrum.curves)  # the members still drawn
    _check_band(spectrum, viewer, run_id, 40, 50)
    spectrum.click(ensemble.data_to_world((0, 60, 20)))  # the next click moves the band (blitted)
    _check_band(spectrum, viewer, run_id, 60, 20)

    # the scheme-disagreement ranking compares the schemes, not their mean
    assert spectrum.next_btn.text() == "Where do they disagree? ▶"
    assert spectrum.step(1) is not None and "ensemble" not in spectrum.info.text().split(". Ranked")[0]

    # ◀ / ▶ by expected |error|: the map's highest pixel first, then the next highest 8 px or more away
    spectrum.rank.setCurrentText("expected |error|")
    assert spectrum.next_btn.text() == "Where is it likely wrong? ▶"
    emap = np.asarray(expected.data)
    top = tuple(int(i) for i in np.unravel_index(np.argmax(emap), emap.shape))
    assert spectrum.step(1) == top
    assert spectrum.pins == [top] and viewer.layers.selection.active is ensemble
    assert "expected |error| 1/20" in spectrum.info.text() and "(true " in spectrum.info.text()
    _check_band(spectrum, viewer, run_id, *top)
    second = spectrum.step(1)
    assert max(abs(second[0] - top[0]), abs(second[1] - top[1])) >= 8 and emap[second] <= emap[top]
    assert spectrum.step(-1) == top
