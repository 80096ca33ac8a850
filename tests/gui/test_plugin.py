"""The plugin through napari itself: readers, sample, docks from the manifest, fusion, clicks, training."""

from __future__ import annotations

import numpy as np
import pytest
from qtpy.QtCore import Qt

from napari_inf3 import Cube, write_cube

PLUGIN = "napari-inf3"


def inf3_role(layer):
    return layer.metadata.get("inf3", {}).get("role")


def _dock(viewer, name):
    _, widget = viewer.window.add_plugin_dock_widget(PLUGIN, name)
    return widget


def _uncheck_all_but(widget, keep):
    for i in range(widget.models.count()):
        item = widget.models.item(i)
        item.setCheckState(Qt.Checked if item.data(Qt.UserRole + 1) in keep else Qt.Unchecked)


@pytest.mark.parametrize("suffix", [".npz", ".hdr", ".tif", ".npy", ".mat"])
def test_reader_through_viewer_open(make_napari_viewer, tmp_path, rng, suffix):
    viewer = make_napari_viewer()
    data = rng.random((31, 48, 40)).astype(np.float32)
    wl = np.arange(400.0, 701.0, 10)
    if suffix == ".npy":
        path = tmp_path / "c.npy"
        np.save(path, data)
    elif suffix == ".mat":
        import scipy.io

        path = tmp_path / "c.mat"
        scipy.io.savemat(path, {"cube": np.moveaxis(data, 0, -1)})
    else:
        path = write_cube(Cube(data, wl), tmp_path / f"c{suffix}")
    layers = viewer.open(path, plugin=PLUGIN)
    assert len(layers) == 1
    layer = layers[0]
    assert layer.data.shape == (31, 48, 40)
    np.testing.assert_allclose(np.asarray(layer.data), data, atol=1e-6)
    if suffix in (".npz", ".hdr", ".tif"):
        assert layer.metadata["wavelengths"][0] == 400.0


def test_big_envi_opens_as_a_lazy_layer(make_napari_viewer, tmp_path, rng, monkeypatch):
    """A cube over the lazy threshold becomes a dask layer that reads band planes on demand."""
    import dask.array as da

    from napari_inf3.io import envi

    viewer = make_napari_viewer()
    data = rng.random((31, 48, 40)).astype(np.float32)
    path = write_cube(Cube(data, np.arange(400.0, 701.0, 10)), tmp_path / "big.hdr")
    monkeypatch.setattr(envi, "LAZY_BYTES", 1000)
    layer = viewer.open(path, plugin=PLUGIN)[0]
    assert isinstance(layer.data, da.Array) and layer.metadata["lazy"]
    viewer.dims.set_current_step(0, 7)
    np.testing.assert_allclose(np.asarray(layer.data[7]), data[7], atol=1e-6)
    assert layer.contrast_limits[1] == pytest.approx(np.percentile(data[15], 99.5), rel=1e-5)
    spectrum = _dock(viewer, "Spectrum inspector")
    viewer.layers.selection.active = layer
    assert spectrum.click(layer.data_to_world((0, 30, 12))) == (30, 12)
    np.testing.assert_allclose(spectrum.canvas.figure.axes[0].get_lines()[0].get_ydata(), data[:, 30, 12], atol=1e-6)


def test_reader_cave_folder_and_band_label(make_napari_viewer, superballs):
    viewer = make_napari_viewer()
    _dock(viewer, "Spectrum inspector")
    layer = viewer.open(superballs, plugin=PLUGIN)[0]
    assert layer.data.shape == (31, 512, 512)
    assert len(layer.metadata["wavelengths"]) == 31
    from napari_inf3._napari.layers import connect_band_label

    connect_band_label(viewer)
    viewer.dims.set_current_step(0, 15)
    assert viewer.dims.axis_labels[0] == "band 16 · 550 nm"


def test_reader_refuses_bad_file_without_crashing(make_napari_viewer, tmp_path):
    from napari_inf3._napari.reader import get_reader

    bad = tmp_path / "bad.npy"
    bad.write_bytes(b"garbage")
    assert get_reader(str(tmp_path / "x.unknown")) is None
    reader = get_reader(str(bad))
    assert reader is not None
    assert reader(str(bad)) == [(None,)]  # the error went to a notification, not an exception


def test_sample_data(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "superballs_crop")
    layer = viewer.layers[-1]
    assert layer.data.shape == (31, 192, 192)
    assert layer.metadata["inf3"]["role"] == "gt"


def test_docks_from_manifest(make_napari_viewer):
    viewer = make_napari_viewer()
    for name in ("Fusion", "Spectrum inspector", "Training"):
        assert _dock(viewer, name) is not None


def test_docks_open_when_torch_is_unusable(make_napari_viewer, monkeypatch):
    """Both docks list their devices through one helper; a broken torch is said, not raised."""
    import napari_inf3.models.device

    def broken():
        raise OSError("libtorch_cpu.so: cannot open shared object file")

    monkeypatch.setattr(napari_inf3.models.device, "available_devices", broken)
    viewer = make_napari_viewer()
    fusion, train = _dock(viewer, "Fusion"), _dock(viewer, "Training")
    assert "torch is not usable: libtorch_cpu.so" in fusion.status.text()
    assert [fusion.device.itemData(i) for i in range(fusion.device.count())] == ["auto", "cpu"]
    assert list(train.device.choices) == ["auto", "cpu"]


def _fuse(viewer, qtbot, checkpoints, weight_maps=False):
    viewer.open_sample(PLUGIN, "superballs_crop")
    fusion = _dock(viewer, "Fusion")
    _uncheck_all_but(fusion, set())
    fusion.weight_maps.value = weight_maps
    for name, path in checkpoints.items():
        fusion.add_checkpoint(str(path), name)
    assert fusion.run() is not None
    qtbot.waitUntil(lambda: fusion.worker is None, timeout=120_000)
    qtbot.waitUntil(lambda: fusion.table.rowCount() == 4, timeout=10_000)
    return fusion


def test_fusion_run_adds_layers_and_table(make_napari_viewer, qtbot, scheme_checkpoints, tmp_path):
    viewer = make_napari_viewer()
    fusion = _fuse(viewer, qtbot, scheme_checkpoints)
    names = [lyr.name for lyr in viewer.layers]
    for method in ("bicubic", "area", "net", "cosine"):
        assert f"{method} [{fusion.last_run_id}]" in names
        assert f"composite {method} [{fusion.last_run_id}]" in names
        assert f"|error| {method} [{fusion.last_run_id}]" in names
        assert f"SAM° {method} [{fusion.last_run_id}]" in names
    fused = viewer.layers[f"cosine [{fusion.last_run_id}]"]
    assert fused.data.shape == (31, 192, 192) and len(fused.metadata["wavelengths"]) == 31
    assert viewer.layers[f"composite cosine [{fusion.last_run_id}]"].rgb
    lims = {tuple(viewer.layers[f"|error| {m} [{fusion.last_run_id}]"].contrast_limits)
            for m in ("area", "net", "cosine")}
    assert len(lims) == 1  # one shared colour scale
    text = fusion.table.text()
    assert text.splitlines()[0].startswith("method\tPSNR")
    assert fusion.export_csv(str(tmp_path / "m.csv")) and (tmp_path / "m.csv").read_text().count("\n") == 5
    fusion.compare()
    visible = [lyr for lyr in viewer.layers if lyr.visible and inf3_role(lyr) != "labels"]
    assert len(visible) == 5 + 4  # GT + 4 composites, 4 error maps
    assert f"scheme labels [{fusion.last_run_id}]" in viewer.layers
    offsets = {tuple(lyr.translate) for lyr in visible}
    assert len(offsets) == 9  # all side by side, none on top of another
    err = viewer.layers[f"|error| net [{fusion.last_run_id}]"]
    assert tuple(err.world_to_data(err.data_to_world((5, 7)))) == (5, 7)
    fusion.compare()  # back to overlay
    assert all(tuple(lyr.translate) == (0, 0) for lyr in viewer.layers if lyr.rgb)


def test_fusion_weight_maps_and_lr_layer_placement(make_napari_viewer, qtbot, scheme_checkpoints):
    from napari_inf3.viz.compare import LN4

    viewer = make_napari_viewer()
    fusion = _fuse(viewer, qtbot, scheme_checkpoints, weight_maps=True)
    tag = f"[{fusion.last_run_id}]"
    roles = {}
    for lyr in viewer.layers:
        roles.setdefault(inf3_role(lyr), []).append(lyr)
    assert sorted(lyr.metadata["inf3"]["method"] for lyr in roles["weight_entropy"]) == ["area", "cosine", "net"]
    assert {tuple(lyr.contrast_limits) for lyr in roles["weight_entropy"]} == {(0.0, LN4)}  # one shared scale
    for lyr in roles["weight_entropy"]:
        assert lyr.data.shape == (192, 192) and lyr.data.min() >= 0 and lyr.data.max() <= LN4 + 1e-6
    winners = roles["winning_neighbour"]
    assert len(winners) == 3 and all(lyr.rgb and "NW red" in lyr.name for lyr in winners)
    pairs = sorted(lyr.metadata["inf3"]["method"] for lyr in roles["scheme_sam"])
    assert pairs == ["area vs cosine", "area vs net", "net vs cosine"]
    assert len({tuple(lyr.contrast_limits) for lyr in roles["scheme_sam"]}) == 1
    assert len(roles["scheme_mad"]) == 3
    # the LR layer: each LR pixel over the HR pixel it was taken from (index r // 2 = 2 of each 4 × 4 block)
    lr = viewer.layers[f"LR-HSI {tag}"]
    assert tuple(lr.scale[1:]) == (4, 4) and tuple(lr.translate[1:]) == (2, 2)
    assert tuple(np.round(lr.data_to_world((0, 3, 5)))[1:]) == (3 * 4 + 2, 5 * 4 + 2)
    # Compare schemes: composites, error maps, entropy, winners and pair maps, each in a cell of its own
    fusion.compare()
    visible = [lyr for lyr in viewer.layers if lyr.visible and inf3_role(lyr) != "labels"]
    assert len(visible) == 5 + 4 + 3 + 3 + 3
    assert len({tuple(lyr.translate)[-2:] for lyr in visible}) == len(visible)
    labels = viewer.layers[f"scheme labels {tag}"].text.values.tolist()
    assert "area–net" in labels
    fusion.compare()
    assert not any(lyr.visible for lyr in viewer.layers if inf3_role(lyr) in ("weight_entropy", "scheme_sam"))


def test_fusion_cancel_adds_nothing(make_napari_viewer, qtbot, scheme_checkpoints):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "superballs_crop")
    fusion = _dock(viewer, "Fusion")
    for name, path in scheme_checkpoints.items():
        fusion.add_checkpoint(str(path), name)
    n = len(viewer.layers)
    fusion.run()
    fusion.cancel()
    # the worker may finish before a signal wait could start: wait on the dock's own state instead
    qtbot.waitUntil(lambda: fusion.worker is None and fusion.run_btn.isEnabled(), timeout=60_000)
    assert len(viewer.layers) == n
    assert "cancelled" in fusion.status.text()


def test_fusion_cancel_after_the_first_composites_takes_them_away(make_napari_viewer, qtbot, scheme_checkpoints,
                                                                   monkeypatch):
    """Composites are shown as each model finishes; a run cancelled before its last layers leaves none behind."""
    import threading

    import napari_inf3.fusion.pipeline as pipeline

    gate = threading.Event()
    fuse_into = pipeline.fuse_into

    def slow_second(run, name, spec, **kw):  # the second model waits until the test has cancelled
        if name == "net":
            gate.wait(timeout=30)
        fuse_into(run, name, spec, **kw)

    monkeypatch.setattr(pipeline, "fuse_into", slow_second)
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "superballs_crop")
    fusion = _dock(viewer, "Fusion")
    _uncheck_all_but(fusion, set())
    for name, path in scheme_checkpoints.items():
        fusion.add_checkpoint(str(path), name)
    n = len(viewer.layers)
    fusion.run()
    qtbot.waitUntil(lambda: any(lyr.name.startswith("composite area") for lyr in viewer.layers), timeout=60_000)
    assert any(lyr.name.startswith("composite bicubic") for lyr in viewer.layers)  # bicubic's came first
    fusion.cancel()
    gate.set()
    qtbot.waitUntil(lambda: fusion.worker is None and fusion.run_btn.isEnabled(), timeout=60_000)
    assert len(viewer.layers) == n
    assert fusion.status.text() == "cancelled; no layers were added"


def test_click_plots_gt_bicubic_and_three_schemes(make_napari_viewer, qtbot, scheme_checkpoints, tmp_path):
    viewer = make_napari_viewer()
    spectrum = _dock(viewer, "Spectrum inspector")
    fusion = _fuse(viewer, qtbot, scheme_checkpoints)
    gt = viewer.layers["superballs (crop) GT"]
    viewer.layers.selection.active = gt
    assert spectrum.click(gt.data_to_world((0, 100, 60))) == (100, 60)
    labels = [line.get_label() for line in spectrum.canvas.figure.axes[0].get_lines()]
    run = fusion.last_run_id
    assert labels[0] == "GT"
    for m in ("bicubic", "area", "net", "cosine"):
        assert any(lbl.startswith(f"{m} [{run}] (SAM") for lbl in labels), labels
    np.testing.assert_allclose(spectrum.canvas.figure.axes[0].get_lines()[0].get_ydata(), gt.data[:, 100, 60])
    # the box mean, pinning and CSV export
    spectrum.box.setValue(5)
    assert np.isclose(spectrum.curves["GT"], gt.data[:, 98:103, 58:63].mean(axis=(1, 2))).all()
    spectrum.pin.setChecked(True)
    spectrum.click(gt.data_to_world((0, 10, 10)))
    assert len(spectrum.pins) == 2
    out = spectrum.export_csv(str(tmp_path / "s.csv"))
    import csv

    with open(out) as f:
        header = next(csv.reader(f))
    assert header[:2] == ["wavelength_nm", "GT @(100,60)"] and len(header) == 1 + 2 * 5


def test_click_shows_weights_and_neighbours_and_steps_through_disagreements(make_napari_viewer, qtbot,
                                                                            scheme_checkpoints):
    from napari_inf3.viz.compare import neighbour_positions

    viewer = make_napari_viewer()
    spectrum = _dock(viewer, "Spectrum inspector")
    fusion = _fuse(viewer, qtbot, scheme_checkpoints, weight_maps=True)
    run = fusion.last_run
    gt = viewer.layers["superballs (crop) GT"]
    viewer.layers.selection.active = gt
    assert spectrum.click(gt.data_to_world((0, 101, 61))) == (101, 61)
    wax = spectrum.canvas.figure.axes[-1]
    assert wax.get_title() == "weights" and len(spectrum.plot.bars) == 3
    for bars, name in zip(spectrum.plot.bars, ("area", "net", "cosine"), strict=True):
        np.testing.assert_allclose([p.get_height() for p in bars], run.weights[name][:, 101, 61], atol=1e-6)
    marks = viewer.layers["LR neighbours"]
    np.testing.assert_allclose(marks.data, neighbour_positions(101, 61, 4, run.lr_hsi.shape[1:]))
    # a second click reuses the cached axes and moves bars and markers
    spectrum.click(gt.data_to_world((0, 40, 150)))
    np.testing.assert_allclose([p.get_height() for p in spectrum.plot.bars[2]], run.weights["cosine"][:, 40, 150],
                               atol=1e-6)
    np.testing.assert_allclose(marks.data, neighbour_positions(40, 150, 4, run.lr_hsi.shape[1:]))
    # the blitted click rewrote the legend's labels: each SAM is the one at (40, 150)
    from napari_inf3.viz.plots import spectral_angle_deg

    sams = [t.get_text() for t in spectrum.plot.legend_texts if "(SAM" in t.get_text()]
    assert len(sams) == 4, [t.get_text() for t in spectrum.plot.legend_texts]
    for text in sams:
        label, value = text.split(" (SAM ")
        assert value == f"{spectral_angle_deg(spectrum.curves[label], spectrum.curves['GT']):.2f}°)"
    # the toolbar's Save (savefig) draws the per-click curves and labels, which a plain full draw leaves out
    import io

    from matplotlib.image import imread

    saved, bare = io.BytesIO(), io.BytesIO()
    spectrum.canvas.figure.savefig(saved, format="png")
    spectrum.plot.print_bare(bare, format="png")
    saved.seek(0), bare.seek(0)
    differs = np.abs(imread(saved) - imread(bare)).max(axis=-1) > 0.1
    assert differs.mean() > 0.003  # five thin curves, their labels and the title: ≈ 0.9 % of the pixels
    assert not any(t.get_visible() for t in spectrum.plot.legend_texts)
    assert all(a.get_animated() for a in spectrum.plot.animated)
    # where do they disagree: the top pick of the engine's ranking, then the next one
    picks, _ = run.disagreements(k=20)
    assert spectrum.step_disagreement(1) == (picks[0].row, picks[0].col)
    assert "between schemes area–net" in spectrum.info.text() and "to GT" in spectrum.info.text()
    assert spectrum.step_disagreement(1) == (picks[1].row, picks[1].col)
    assert spectrum.step_disagreement(-1) == (picks[0].row, picks[0].col)


def test_click_versus_drag(make_napari_viewer):
    """A press-move-release (a pan) does not plot; a press-release does."""
    viewer = make_napari_viewer()
    spectrum = _dock(viewer, "Spectrum inspector")
    viewer.open_sample(PLUGIN, "superballs_crop")

    class Ev:
        def __init__(self, kind, pos):
            self.type, self.position, self.button = kind, pos, 1

    pos = viewer.layers[-1].data_to_world((0, 50, 50))
    ev = Ev("mouse_press", pos)
    gen = spectrum.on_mouse(viewer, ev)
    next(gen)
    ev.type = "mouse_move"
    next(gen)
    ev.type = "mouse_release"
    with pytest.raises(StopIteration):
        next(gen)
    assert spectrum.pins == []
    ev = Ev("mouse_press", pos)
    gen = spectrum.on_mouse(viewer, ev)
    next(gen)
    ev.type = "mouse_release"
    with pytest.raises(StopIteration):
        next(gen)
    assert spectrum.pins == [(50, 50)]


def test_training_dock_short_run(make_napari_viewer, qtbot, tmp_path):
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "superballs_crop")
    train = _dock(viewer, "Training")
    train.set_layer_checked("superballs (crop) GT")
    train.out.value = str(tmp_path / "t.pt")
    train.preset.value = "lite"
    train.epochs.value = 2
    train.per_epoch.value = 4
    train.batch.value = 2
    assert train.start() is not None
    qtbot.waitUntil(lambda: train.worker is None, timeout=120_000)
    assert len(train.losses) == 4 and all(np.isfinite(train.losses))
    assert (tmp_path / "t.pt").exists()
    assert train.canvas.figure.axes and train.canvas.figure.axes[0].get_lines()


def test_training_dock_fine_tunes_a_shipped_model(make_napari_viewer, qtbot, tmp_path):
    from napari_inf3.models.checkpoint import read_checkpoint

    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "superballs_crop")
    viewer.add_image(viewer.layers["superballs (crop) GT"].data[:, :96, :96], name="training part")
    train = _dock(viewer, "Training")
    assert ("shipped area (lite)", "lite:area") in train.init.choices or "lite:area" in train.init.choices
    train.set_layer_checked("training part")
    train.val_combo.value = viewer.layers["superballs (crop) GT"]  # validated on a scene it does not train on
    train.init.value = "file"
    assert train.init_file.native.isVisibleTo(train)
    train.init_file.value = str(tmp_path / "missing.pt")
    assert train.start() is None and train.worker is None  # refused with a message, nothing runs
    train.init.value = "lite:area"
    assert not train.init_file.native.isVisibleTo(train) and not train.weighting.native.isVisibleTo(train)
    assert train.init_info.value == "area weighting, lite preset, SRF projection (kept)"
    train.weighting.value = "cosine"  # ignored: the shipped model keeps its own
    train.out.value = str(tmp_path / "ft.pt")
    train.epochs.value = 1
    train.per_epoch.value = 4
    train.batch.value = 2
    assert train.start() is not None
    qtbot.waitUntil(lambda: train.worker is None, timeout=120_000)
    ck = read_checkpoint(tmp_path / "ft.pt")
    assert ck["config"]["weighting"] == "area" and ck["meta"]["init"]["from"] == "lite:area"
    assert train.val and train.val[0][0] == 0 and train.val[0][1] == pytest.approx(ck["meta"]["start_val_psnr"])
    train.init.value = "file"
    train.init_file.value = str(tmp_path / "ft.pt")
    assert train.init_info.value.startswith("area weighting, lite preset")
    train.init.value = "new"
    assert train.weighting.native.isVisibleTo(train) and not train.init_info.native.isVisibleTo(train)


def test_training_stop_keeps_checkpoint(make_napari_viewer, qtbot, tmp_path):
    from napari_inf3.models.checkpoint import read_checkpoint

    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "superballs_crop")
    train = _dock(viewer, "Training")
    train.set_layer_checked("superballs (crop) GT")
    train.out.value = str(tmp_path / "s.pt")
    train.epochs.value = 50
    train.per_epoch.value = 64
    train.batch.value = 2
    assert train.start() is not None
    qtbot.waitUntil(lambda: len(train.losses) >= 2, timeout=60_000)
    train.stop()
    qtbot.waitUntil(lambda: train.worker is None, timeout=60_000)
    ck = read_checkpoint(tmp_path / "s.pt")
    assert ck["step"] >= 2 and ck["meta"]["history"][-1].get("stopped")


def test_window_screenshot_with_docks_is_not_blank(make_napari_viewer, scheme_checkpoints, tmp_path):
    from PIL import Image

    from napari_inf3._napari.demo_viewer import build_demo_viewer
    from napari_inf3.data.sample import load_sample
    from napari_inf3.fusion.pipeline import fusion_run
    from napari_inf3.fusion.types import SimulatedPair

    run = fusion_run({k: str(v) for k, v in scheme_checkpoints.items()}, SimulatedPair(load_sample(), scale=4))
    viewer = make_napari_viewer(show=True)
    viewer.window.resize(1500, 900)
    _, fusion, spectrum, training = build_demo_viewer(run, viewer)
    assert spectrum.curves and len(spectrum.curves) == 5  # GT, bicubic, area, net, cosine
    shot = viewer.screenshot(canvas_only=False, flash=False)
    Image.fromarray(shot).save(tmp_path / "window.png")
    assert shot.shape[0] > 500 and shot.shape[1] > 900
    assert shot[..., :3].std() > 20  # not one flat colour
    canvas = viewer.screenshot(canvas_only=True, flash=False)[..., :3]
    assert canvas.std() > 10 and len(np.unique(canvas.reshape(-1, 3), axis=0)) > 1000  # real image content


def test_manifest_validates_with_imports():
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    npe2 = shutil.which("npe2") or str(Path(sys.executable).parent / "npe2")
    proc = subprocess.run([npe2, "validate", "napari-inf3", "--imports"], capture_output=True, text=True)
    assert proc.returncode == 0 and "valid" in proc.stdout, proc.stdout + proc.stderr


def test_layers_come_before_ssim_and_nothing_is_scored_twice(make_napari_viewer, qtbot, scheme_checkpoints,
                                                             monkeypatch):
    """The Fusion dock adds a run's layers once the models and the cheap scores are done (the table shows
    '…' for SSIM then), and fills SSIM in after; each index and map is computed once per result."""
    from napari_inf3 import metrics

    calls = {"sums": 0, "ssim": 0}
    sums, ssim = metrics.GroundTruth._sums, metrics.GroundTruth.ssim

    def counted_sums(self, pred):
        calls["sums"] += 1
        return sums(self, pred)

    def counted_ssim(self, pred, **kw):
        calls["ssim"] += 1
        return ssim(self, pred, **kw)

    monkeypatch.setattr(metrics.GroundTruth, "_sums", counted_sums)
    monkeypatch.setattr(metrics.GroundTruth, "ssim", counted_ssim)
    viewer = make_napari_viewer()
    fusion = _dock(viewer, "Fusion")
    seen: dict = {}
    fill = fusion.fill_table

    def spy(run):
        fill(run)
        seen.setdefault("table", fusion.table.text())  # the first fill: layers in, SSIM not yet
        seen.setdefault("layers", [lyr.name for lyr in viewer.layers])

    monkeypatch.setattr(fusion, "fill_table", spy)
    fusion = _fuse(viewer, qtbot, scheme_checkpoints)
    # the composites were in when the table was first filled (SSIM '…' then), the hidden rest followed
    # (staged_layers.py) ...
    visible = [lyr.name for lyr in viewer.layers if lyr.visible and lyr.name.endswith(f"[{fusion.last_run_id}]")]
    assert len(visible) == 4 and set(visible) <= set(seen["layers"]) and "…" in seen["table"]
    final = fusion.table.text().splitlines()[1].split("\t")
    assert final[-1] != "…" and 0 < float(final[-1]) <= 1
    assert calls == {"sums": 4, "ssim": 4}  # bicubic + 3 networks, once each: the maps came from the same sums


def test_the_worker_yields_the_layers_before_ssim(scheme_checkpoints):
    """Qt-free: run_job yields each result's composite as soon as it is fused (bicubic before the model runs,
    no scores yet), then every layer while the scores still lack SSIM, then computes it."""
    import numpy as np

    from napari_inf3._napari.fusion_choices import FusionJob, LayersReady, run_job
    from napari_inf3.data.sample import load_sample
    from napari_inf3.fusion.types import SimulatedPair

    job = FusionJob(SimulatedPair(np.asarray(load_sample().data[:, :64, :64]), scale=4), device="cpu",
                    source_layer="GT")
    gen = run_job(job, {"area": str(scheme_checkpoints["area"])}, {})
    steps, early = [], []
    while True:
        try:
            step = next(gen)
        except StopIteration as stop:
            run = stop.value
            break
        if isinstance(step, LayersReady) and not step.final:
            assert not step.run.scores
            early.append([kw["name"] for _, kw, _ in step.layer_data])
        elif isinstance(step, LayersReady):
            assert all("ssim" not in s and "psnr" in s for s in step.run.scores.values())
            assert any(kw["name"].startswith("|error| area") for _, kw, _ in step.layer_data)
            step.shown.set()  # what the dock does once it has added them
        steps.append(step)
    assert all("ssim" in s for s in run.scores.values())
    assert len(steps) == job.steps(1)  # napari's activity bar is told the right total
    assert max(s[0] for s in steps if isinstance(s, tuple)) == job.steps(1) - 1
    assert [[n.split(" [")[0] for n in names] for names in early] == [["composite bicubic"], ["composite area"]]
