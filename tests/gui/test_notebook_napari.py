"""napari_inf3.notebook.open_napari: the demo viewer's builder with any fusion run's layers."""

from __future__ import annotations

from napari_inf3 import notebook as nb


def test_open_napari_shows_a_run(qtbot):
    run = nb.fuse_sample({"cosine": "cosine"}, progress=False)
    viewer = nb.open_napari(run, name="my scene")
    try:
        names = [lyr.name for lyr in viewer.layers]
        assert "my scene GT" in names and any(n.startswith("cosine [run") for n in names)
        assert any(n.startswith("composite cosine") for n in names)
    finally:
        viewer.close()


def test_open_napari_with_a_real_pair_run(qtbot):
    from napari_inf3 import simulate
    from napari_inf3.data.sample import load_sample
    from napari_inf3.fusion.pipeline import fusion_run
    from napari_inf3.fusion.types import RealPair

    lr, msi = simulate(load_sample(), 4)
    run = fusion_run({"cosine": "cosine"}, RealPair(lr, msi))
    viewer = nb.open_napari(run)
    try:
        assert not any(n.endswith(" GT") for n in (lyr.name for lyr in viewer.layers))
        assert any(n.startswith("cosine [run") for n in (lyr.name for lyr in viewer.layers))
    finally:
        viewer.close()
