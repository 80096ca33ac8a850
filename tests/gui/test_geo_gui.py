"""Georeferenced files in napari (issue 35): layers placed in map coordinates so an LR-HSI and an HR-MSI from two
files overlay, and the Fusion dock fusing their common footprint with its result on the HR-MSI's grid."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import Qt

import napari_inf3 as ni
from napari_inf3._napari.spectrum_query import curve_label
from napari_inf3.data.sample import load_sample
from tests.data.test_geo import _pair_files

pytest.importorskip("rasterio")
PLUGIN = "napari-inf3"


def test_two_geotiffs_overlay_and_fuse_on_the_hr_grid(make_napari_viewer, qtbot, tmp_path):
    gt = np.asarray(load_sample().data, np.float32)
    lr, msi = ni.simulate(gt, 4)
    lrf, hrf = _pair_files(tmp_path, lr, msi)
    viewer = make_napari_viewer()
    lr_layer = viewer.open(str(lrf), plugin=PLUGIN)[0]
    hr_layer = viewer.open(str(hrf), plugin=PLUGIN)[0]
    # the LR-HSI's first pixel corner is the HR-MSI's pixel (20, 12): the same world point
    np.testing.assert_allclose(lr_layer.data_to_world((0, -0.5, -0.5))[1:], hr_layer.data_to_world((0, 19.5, 11.5))[1:])
    assert tuple(lr_layer.scale[1:]) == (40.0, 40.0) and tuple(hr_layer.scale[1:]) == (10.0, 10.0)
    _, fusion = viewer.window.add_plugin_dock_widget(PLUGIN, "Fusion")
    fusion.mode.value = "real LR-HSI + HR-MSI"
    fusion.lr_combo.value, fusion.msi_combo.value = lr_layer, hr_layer
    for i in range(fusion.models.count()):
        item = fusion.models.item(i)
        item.setCheckState(Qt.Checked if item.data(Qt.UserRole) == "projection" else Qt.Unchecked)
    assert fusion.run() is not None
    qtbot.waitUntil(lambda: fusion.worker is None and (fusion.staged is None or fusion.staged.complete),
                    timeout=120_000)
    run = fusion.last_run
    assert run.fused["projection"].shape == (31, 192, 184)  # the common footprint, on the HR grid
    fused = next(lyr for lyr in viewer.layers if lyr.name.startswith("projection ["))
    np.testing.assert_allclose(fused.data_to_world((0, 0, 0))[1:], hr_layer.data_to_world((0, 20, 12))[1:])
    np.testing.assert_allclose(np.asarray(fused.data), ni.fuse("projection", lr[:, :, :46], msi[:, :, :184]).cube,
                               atol=1e-5)
    # the Spectrum inspector on the fused layer: the fused spectrum and the LR-HSI's at the same map point
    _, spectrum = viewer.window.add_plugin_dock_widget(PLUGIN, "Spectrum inspector")
    viewer.layers.selection.active = fused
    spectrum.click(fused.data_to_world((0, 21, 14)))
    bicubic = next(lyr for lyr in viewer.layers if lyr.name.startswith("bicubic ["))
    assert set(spectrum.curves) == {curve_label(fused), curve_label(bicubic), lr_layer.name}
    np.testing.assert_allclose(spectrum.curves[lr_layer.name], lr[:, 5, 3], rtol=1e-6)
    # File ▸ Save Selected Layers: the fused layer as a GeoTIFF on the HR-MSI's grid over the footprint
    import rasterio

    viewer.layers.selection.active = fused
    viewer.layers.save(str(tmp_path / "saved.tif"), selected=True, plugin=PLUGIN)
    with rasterio.open(tmp_path / "saved.tif") as ds, rasterio.open(hrf) as hr:
        assert ds.crs == hr.crs and ds.count == 31
        assert ds.transform.c == pytest.approx(hr.transform.c + 12 * hr.transform.a)


def test_status_bar_shows_map_coordinates(make_napari_viewer, qtbot, tmp_path):
    """Over a georeferenced layer the status bar reads easting / northing and the layer's pixel, not napari's
    world numbers (whose y is minus the northing)."""
    gt = np.asarray(load_sample().data, np.float32)[:, :64, :64]
    lr, msi = ni.simulate(gt, 4)
    lrf, hrf = _pair_files(tmp_path, lr, msi)
    viewer = make_napari_viewer()
    viewer.open(str(lrf), plugin=PLUGIN)
    hr_layer = viewer.open(str(hrf), plugin=PLUGIN)[0]
    viewer.layers.selection.active = hr_layer
    # the centre of the HR-MSI's pixel (row 20, col 12): E 500 000 + 12.5 × 10, N 4 000 000 − 20.5 × 10
    viewer.mouse_over_canvas = True
    viewer.cursor.position = tuple(hr_layer.data_to_world((0, 20, 12)))
    viewer.update_status_from_cursor()

    def coords():
        return viewer.status["coordinates"] if isinstance(viewer.status, dict) else str(viewer.status)

    qtbot.waitUntil(lambda: coords().startswith("E "), timeout=5000)
    assert "E 500 125.0  N 3 999 795.0 (EPSG:32633) · row 20, col 12" in coords(), coords()


def test_spectrum_inspector_reads_cubes_on_other_map_grids(make_napari_viewer, tmp_path):
    """A click on the 10 m HR-MSI plots the 30–40 m LR-HSI's spectrum at the same map point (the LR pixel holding
    it); the HR-MSI's 3 channels are not drawn beside the 31 bands; outside the LR footprint no curve."""
    gt = np.asarray(load_sample().data, np.float32)[:, :64, :64]
    lr, msi = ni.simulate(gt, 4)
    lrf, hrf = _pair_files(tmp_path, lr, msi)
    viewer = make_napari_viewer()
    lr_layer = viewer.open(str(lrf), plugin=PLUGIN)[0]
    hr_layer = viewer.open(str(hrf), plugin=PLUGIN)[0]
    _, spectrum = viewer.window.add_plugin_dock_widget(PLUGIN, "Spectrum inspector")
    viewer.layers.selection.active = hr_layer
    # HR pixel (20 + 4·5 + 1, 12 + 4·3 + 2) lies in LR pixel (5, 3)
    assert spectrum.click(hr_layer.data_to_world((0, 41, 26))) == (41, 26)
    assert list(spectrum.curves) == [lr_layer.name]
    np.testing.assert_allclose(spectrum.curves[lr_layer.name], lr[:, 5, 3], rtol=1e-6)
    spectrum.click(hr_layer.data_to_world((0, 5, 5)))  # north-west of the LR-HSI's footprint
    assert spectrum.curves == {}
