"""Click-to-spectrum latency and the import cost of the plugin (issue 3 / issue 6).

    xvfb-run -a .venv/bin/python -m bench spectrum_click [--clicks 30] [--weights]

A 512×512×31 real CAVE scene (or a synthetic one without ../shared/data) and four fused-like
cubes (GT + bicubic + 3 schemes = 5 curves) in a napari viewer with the Spectrum inspector;
times `SpectrumWidget.click` (pixel lookup, spectra, line update, synchronous Agg draw) over
many clicks at random pixels. Also times `import napari_inf3` in a fresh interpreter and
checks it does not load torch. ``--weights`` gives the three schemes random neighbour weights
``(4, H, W)``, so each click also draws the weight bars and moves the LR-neighbour markers.
Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from . import emit

ROOT = Path(__file__).resolve().parents[1]
SCENE = ROOT.parent / "shared" / "data" / "cave" / "superballs_ms"


def import_time() -> tuple[float, bool]:
    code = ("import time, sys; t = time.perf_counter(); import napari_inf3, napari_inf3._napari.reader, "
            "napari_inf3._napari.sample_data; print(time.perf_counter() - t, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), out[1] == "True"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--clicks", type=int, default=30)
    ap.add_argument("--weights", action="store_true", help="the schemes carry neighbour weights (bars, markers)")
    args = ap.parse_args(argv)
    t_import, torch_loaded = import_time()

    import napari

    from napari_inf3 import read_cube
    from napari_inf3._napari.layers import cube_layer_kwargs
    from napari_inf3._napari.spectrum_widget import SpectrumWidget

    rng = np.random.default_rng(0)
    if SCENE.is_dir():
        cube = read_cube(SCENE)
        gt, wl, src = cube.data, cube.wavelengths, "superballs_ms"
    else:
        gt, wl, src = rng.random((31, 512, 512), dtype=np.float32), np.arange(400.0, 701.0, 10), "synthetic"
    viewer = napari.Viewer(show=True)
    viewer.add_image(gt, **cube_layer_kwargs("GT", wl, "gt"))
    for m in ("bicubic", "area", "net", "cosine"):
        noisy = gt + 0.01 * rng.standard_normal(gt.shape, dtype=np.float32)
        extra = {"source_layer": "GT"}
        if args.weights and m != "bicubic":  # their own generator: the clicks stay the same with or without
            wts = np.random.default_rng(1).random((4, *gt.shape[1:]), dtype=np.float32)
            extra.update(neighbour_weights=wts / wts.sum(axis=0), lr_shape=(gt.shape[1] // 4, gt.shape[2] // 4),
                         scale=4)
        viewer.add_image(noisy, **cube_layer_kwargs(m, wl, "bicubic" if m == "bicubic" else "fused", m, "run 1",
                                                      extra=extra))
    w = SpectrumWidget(viewer)
    viewer.window.add_dock_widget(w)
    viewer.layers.selection.active = viewer.layers["GT"]
    times = []
    for _ in range(args.clicks + 1):
        r, c = (int(v) for v in rng.integers(0, 512, 2))
        t = time.perf_counter()
        w.click(viewer.layers["GT"].data_to_world((0, r, c)))
        times.append((time.perf_counter() - t) * 1000)
    first, rest = times[0], np.array(times[1:])
    n_curves = len(w.curves)
    viewer.close()
    print(f"scene: {src} {gt.shape}, curves per plot: {n_curves}")
    print("| what | value |\n|---|---|")
    print(f"| first click (builds the figure) | {first:.1f} ms |")
    print(f"| later clicks, median | {np.median(rest):.1f} ms |")
    print(f"| later clicks, 95th percentile | {np.percentile(rest, 95):.1f} ms |")
    print(f"| import napari_inf3 + reader + sample modules | {t_import * 1000:.0f} ms (torch loaded: {torch_loaded}) |")
    emit({"click_ms_median": round(float(np.median(rest)), 2),
          "click_ms_p95": round(float(np.percentile(rest, 95)), 2),
          "first_click_ms": round(first, 2), "curves": n_curves, "weights": args.weights,
          "import_s": round(t_import, 3),
          "torch_loaded_on_import": torch_loaded})


if __name__ == "__main__":
    main()
