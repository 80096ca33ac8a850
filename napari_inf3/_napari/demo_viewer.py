"""``napari-inf3 demo`` with a display: napari with the sample fused, the three docks and a spectrum shown."""

from __future__ import annotations


def build_demo_viewer(run, viewer=None, name: str = "superballs (crop)"):
    """Add ``run`` (a :class:`~napari_inf3.fusion.pipeline.FusionRun`) to a viewer with the three docks open;
    its ground truth (if any) is the layer ``'<name> GT'``. The layers are :func:`.layers.run_layer_data`'s,
    added here; the Fusion dock is told which run they are (its table, *Compare schemes*).
    Returns ``(viewer, fusion, spectrum, training)``."""
    import napari
    from qtpy.QtWidgets import QApplication

    from ..viz.spectra import default_pixel
    from .fusion_widget import FusionWidget
    from .layers import add_layer_data, gt_layer_data, inf3_tag, next_run_id, run_layer_data
    from .spectrum_widget import SpectrumWidget
    from .training_widget import TrainingWidget

    viewer = viewer or napari.Viewer(title="napari-inf3 demo")
    if run.gt is not None:
        name = f"{name} GT"
        add_layer_data(viewer, [gt_layer_data(run, name)])
    fusion = FusionWidget(viewer)
    spectrum = SpectrumWidget(viewer)
    training = TrainingWidget(viewer)
    fusion_dock = viewer.window.add_dock_widget(fusion, name="Fusion", area="right")
    viewer.window.add_dock_widget(training, name="Training", area="right", tabify=True)
    viewer.window.add_dock_widget(spectrum, name="Spectrum inspector", area="right")
    run_id = next_run_id()
    # the composites the Fusion dock would make (its remembered "Pictures" choice)
    add_layer_data(viewer, run_layer_data(run, run_id, name, fusion.composite_options()))
    fusion.show_run(run, run_id)
    fusion.fill_table(run)
    fusion.compare()
    reference = viewer.layers[name] if run.gt is not None else next(
        lyr for lyr in viewer.layers if inf3_tag(lyr).get("role") == "fused")
    viewer.layers.selection.active = reference
    r, c = default_pixel(run.gt if run.gt is not None else run.hr_msi)
    spectrum.zoom.setChecked(True)
    spectrum.click(reference.data_to_world((0, r, c)))
    QApplication.processEvents()
    fusion_dock.raise_()  # show the Fusion tab, not Training
    fusion.fit_view()
    return viewer, fusion, spectrum, training


def show_demo(run) -> None:
    import napari

    build_demo_viewer(run)
    napari.run()
