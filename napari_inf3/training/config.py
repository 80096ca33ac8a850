"""What a training run is told, as one frozen value: :class:`TrainConfig`.

The CLI, the Training dock and a notebook each build one (``train(scenes, **options)`` builds it for a
notebook user who types keywords); :func:`napari_inf3.train` reads it; every checkpoint stores it
(``meta["train_config"]``, JSON-safe) and :meth:`TrainConfig.from_checkpoint` reads it back, e.g. to
resume or repeat a run with the same settings. Data (the scenes, the validation scenes) is not part of it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["TrainConfig"]


@dataclass(frozen=True, eq=False)
class TrainConfig:
    """Options of :func:`napari_inf3.train` (see its docstring for each one's meaning).

    ``srf`` is a packaged name, a CSV path or an ``(s, S)`` array; ``camera`` a
    :class:`~napari_inf3.camera.CameraFit` or the path of a saved one; ``init`` a pretrained name, a
    checkpoint path or a model; ``device`` a name or ``None`` (auto). Units: ``lr`` per step,
    ``max_seconds`` wall seconds, ``patch`` / ``stride`` / ``val_crop`` HR pixels.
    """

    weighting: str = "cosine"
    preset: str = "lite"
    model_options: Mapping[str, Any] | None = None
    consistency: str = "srf"
    scale: int = 4
    offset: int | None = None
    srf: str | Path | np.ndarray = "nikon_d700"
    camera: Any = None
    patch: int = 64
    stride: int | None = None
    batch_size: int = 32
    lr: float = 1e-4
    schedule: str = "constant"
    epochs: int = 10
    patches_per_epoch: int | None = None
    max_seconds: float | None = None
    augment: bool = True
    grad_clip: float | None = None
    seed: int = 0
    device: Any = None
    out: str | Path | None = None
    resume: str | Path | None = None
    init: Any = None
    val_crop: int = 256
    num_threads: int | None = None
    overwrite: bool = False
    precision: str = "fp32"
    compile: bool = False

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    def replace(self, **changes: Any) -> TrainConfig:
        """A copy with ``changes``; an unknown name is a :class:`TypeError` that lists the known ones."""
        unknown = sorted(set(changes) - set(self.names()))
        if unknown:
            raise TypeError(f"unknown training option(s) {', '.join(unknown)}; known: {', '.join(self.names())}")
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe: arrays become ``'custom'``, a camera ``'camera'`` (its fit is in ``meta['camera']``),
        a model given as ``init`` its source, paths and devices strings."""
        out: dict[str, Any] = {}
        for name in self.names():
            v = getattr(self, name)
            if name == "srf" and not isinstance(v, (str, Path)):
                v = "custom"
            elif name == "camera" and v is not None and not isinstance(v, (str, Path)):
                v = "camera"
            elif name == "init" and v is not None and not isinstance(v, (str, Path)):
                v = str(getattr(v, "source", None) or type(v).__name__)
            elif name == "model_options" and v is not None:
                v = dict(v)
            elif isinstance(v, Path) or (name == "device" and v is not None):
                v = str(v)
            out[name] = v
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainConfig:
        """The config :meth:`to_dict` wrote (names it does not know are ignored: a newer version's)."""
        return cls(**{k: v for k, v in d.items() if k in cls.names() and v not in ("custom", "camera")})

    @classmethod
    def from_checkpoint(cls, path: str | Path) -> TrainConfig:
        """The config a checkpoint was trained with (``CheckpointError`` if it has none: older checkpoints)."""
        from ..models.checkpoint import CheckpointError, read_checkpoint

        meta = read_checkpoint(path).get("meta") or {}
        if "train_config" not in meta:
            raise CheckpointError("this checkpoint does not record its training config (written before it did)", path)
        return cls.from_dict(meta["train_config"])
