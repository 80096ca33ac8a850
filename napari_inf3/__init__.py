"""napari-inf3: INF³ hyperspectral / multispectral image fusion as a Python API, CLI and napari plugin.

Everything public is imported lazily, so ``import napari_inf3`` loads neither torch nor Qt::

    import napari_inf3 as ni
    gt = ni.read_cube("superballs_ms/")            # Cube, data (31, 512, 512) in [0, 1]
    lr, msi = ni.simulate(gt, scale=4)               # (31, 128, 128), (3, 512, 512)
    fused = ni.fuse("cosine", lr, msi).cube            # (31, 512, 512); the result also has weights, seconds, notes
    ni.evaluate(fused, gt, scale=4)                  # {'psnr': ..., 'sam': ..., ...}
    run = ni.fusion_run(["area", "cosine"], ni.SimulatedPair(gt, scale=4))  # bicubic + models, scored
    model = ni.fit_pair(lr, msi)                   # any sensor: a fusion fitted to the pair itself
"""

from __future__ import annotations

import importlib
from typing import Any

import lazy_loader

__version__ = "0.1.0"

#: What a user calls, by the module it lives in: the functions and the types they return.
_API = {
    "data.cube": ["Cube", "CubeError"],
    "io": ["read_cube", "write_cube"],
    "data.simulation": ["simulate", "load_srf"],
    "models.infn": ["INFN"],
    "fusion.inference": ["fuse"],
    "training.loop": ["train"],
    "training.config": ["TrainConfig"],
    "shipped": ["pretrained"],
    "models.load": ["load_model"],
    "models.checkpoint": ["load_checkpoint", "save_checkpoint", "CheckpointError"],
    "models.device": ["select_device"],
    "evaluation.metrics": ["evaluate"],
    "camera.srf_fit": ["estimate_srf", "estimate_shift", "align_msi"],
    "camera": ["estimate_camera", "CameraFit"],
    "fusion.types": ["FusionResult", "SimulatedPair", "RealPair"],
    "fusion.pipeline": ["fusion_run"],
    "pair": ["fit_pair", "pair_report", "PairModel"],
}
# No subpackage shares a name with a function above: importing napari_inf3.X sets the package
# attribute X to the module, which would shadow a function of the same name.
#: The packages by concept (each one's docstring says what lives in it), loaded on first use.
_SUBMODULES = {"data", "io", "camera", "models", "shipped", "fusion", "pair", "training", "evaluation", "viz",
               "cli", "testing", "notebook", "demo", "progress"}
#: Modules that moved into a package, still reachable as ``napari_inf3.<old name>`` (not listed in ``__all__``).
_MOVED = {"render": "viz.composites", "plots": "viz.plots", "figures": "viz.figures", "compare": "viz.compare",
          "spectra": "viz.spectra", "cube": "data.cube", "sample": "data.sample", "simulation": "data.simulation",
          "responses": "data.responses", "geo": "data.geo", "srf_fit": "camera.srf_fit", "model": "models.infn",
          "checkpoint": "models.checkpoint", "variants": "models.variants", "ensemble": "models.ensemble",
          "uncertainty": "models.uncertainty", "device": "models.device", "inference": "fusion.inference",
          "tiling": "fusion.tiling", "upsampling": "fusion.upsampling", "fusion_types": "fusion.types",
          "pipeline": "fusion.pipeline", "training_data": "training.data", "train_config": "training.config",
          "distributed": "training.distributed", "metrics": "evaluation.metrics", "report": "evaluation.report",
          "ablation_grid": "evaluation.ablation_grid", "ablation_report": "evaluation.ablation_report"}

# lazy_loader resolves the API and the packages on first use (EAGER_IMPORT=1 loads them all at import, to
# find a broken import early); the modules that moved keep their old names through _MOVED.
_lazy_getattr, _, _ = lazy_loader.attach(__name__, submodules=sorted(_SUBMODULES), submod_attrs=_API)

#: What a user calls: the functions and the types they return (the packages are reachable, not listed).
__all__ = sorted(name for names in _API.values() for name in names) + ["__version__"]


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        value = importlib.import_module(f".{_MOVED[name]}", __name__)
        globals()[name] = value
        return value
    try:
        return _lazy_getattr(name)
    except AttributeError:
        raise AttributeError(f"module 'napari_inf3' has no attribute {name!r}") from None


def __dir__() -> list[str]:
    return __all__ + sorted(_SUBMODULES)
