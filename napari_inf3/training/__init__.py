"""Training INFN: what a run is told, the batches it sees, the loop, and several processes.

- :mod:`.config`: :class:`~.config.TrainConfig` (saved in every checkpoint; no torch, the Training dock and the
  CLI build it).
- :mod:`.sampling`: the scenes loaded, the patch grid over them and each epoch's order (numpy).
- :mod:`.data`: training batches cut, augmented and simulated on the training device.
- :mod:`.start`: what a run starts from (a model to fine-tune, a camera) and a checkpoint's lineage.
- :mod:`.loop`: :func:`~.loop.train` (progress, validation, checkpoints, resuming; the loss is there).
- :mod:`.distributed`: multi-process training (DDP) as ``torchrun`` launches it.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    # napari_inf3.training.train was a function of the old module: still there, loaded (with torch) on first use
    if name == "train":
        from .loop import train

        return train
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
