"""napari-inf3: INF³ hyperspectral / multispectral image fusion as a Python API, CLI and napari plugin.

Everything public is imported lazily, so ``import napari_inf3`` loads neither torch nor Qt::

    import napari_inf3 as ni
    gt = ni.read_cube("superballs_ms/")            # Cube, data (31, 512, 512) in [0, 1]
    lr, msi = ni.simulate(gt, scale=4)               # (31, 128, 128), (3, 512, 512)
    fused = ni.fuse("cosine", lr, msi).cube            # (31, 512, 512); the result also has weights, seconds, notes
    ni.metrics.evaluate(fused, gt, scale=4)          # {'psnr': ..., 'sam': ..., ...}
    run = ni.fusion_run(["area", "cosine"], ni.SimulatedPair(gt, scale=4))  # bicubic + models, scored
    model = ni.fit_pair(lr, msi)                   # any sensor: a fusion fitted to the pair itself
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Cube": ("cube", "Cube"),
    "CubeError": ("cube", "CubeError"),
    "read_cube": ("io", "read_cube"),
    "write_cube": ("io", "write_cube"),
    "simulate": ("simulation", "simulate"),
    "load_srf": ("simulation", "load_srf"),
    "INFN": ("model", "INFN"),
    "fuse": ("inference", "fuse"),
    "train": ("training", "train"),
    "TrainConfig": ("train_config", "TrainConfig"),
    "pretrained": ("shipped", "pretrained"),
    "load_checkpoint": ("checkpoint", "load_checkpoint"),
    "save_checkpoint": ("checkpoint", "save_checkpoint"),
    "CheckpointError": ("checkpoint", "CheckpointError"),
    "select_device": ("device", "select_device"),
    "evaluate": ("metrics", "evaluate"),
    "estimate_srf": ("srf_fit", "estimate_srf"),
    "estimate_shift": ("srf_fit", "estimate_shift"),
    "align_msi": ("srf_fit", "align_msi"),
    "estimate_camera": ("camera", "estimate_camera"),
    "CameraFit": ("camera", "CameraFit"),
    "FusionResult": ("fusion_types", "FusionResult"),
    "SimulatedPair": ("fusion_types", "SimulatedPair"),
    "RealPair": ("fusion_types", "RealPair"),
    "fusion_run": ("pipeline", "fusion_run"),
    "fit_pair": ("pair", "fit_pair"),
    "pair_report": ("pair", "pair_report"),
    "PairModel": ("pair", "PairModel"),
}
# No submodule shares a name with a function above: importing napari_inf3.X sets the package
# attribute X to the module, which would shadow a function of the same name.
_SUBMODULES = {"metrics", "io", "model", "simulation", "checkpoint", "training", "inference", "device", "shipped",
               "cube", "report", "pipeline", "sample", "srf_fit", "viz", "notebook", "progress", "camera",
               "train_config", "fusion_types", "pair"}
#: Modules that moved into a package, still reachable as ``napari_inf3.<old name>`` (not listed in ``__all__``).
_MOVED = {"render": "viz.composites", "plots": "viz.plots", "figures": "viz.figures", "compare": "viz.compare",
          "spectra": "viz.spectra"}

__all__ = sorted(_LAZY) + sorted(_SUBMODULES - set(_LAZY)) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(f".{module}", __name__), attr)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    elif name in _MOVED:
        value = importlib.import_module(f".{_MOVED[name]}", __name__)
    else:
        raise AttributeError(f"module 'napari_inf3' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
