"""What a training run is told, as one frozen value: :class:`TrainConfig`.

The CLI, the Training dock and a notebook each build one (``train(scenes, **options)`` builds it for a
notebook user who types keywords); :func:`napari_inf3.train` reads it; every checkpoint stores it
(``meta["train_config"]``, JSON-safe) and :meth:`TrainConfig.from_checkpoint` reads it back, e.g. to
resume or repeat a run with the same settings. Data (the scenes, the validation scenes) is not part of it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["TrainConfig", "PROFILES", "Bounds"]


@dataclass(frozen=True)
class Bounds:
    """The valid range of a numeric option, and its step for a spin box (what a form offers; the CLI's parser and
    :func:`napari_inf3.train` check their own)."""

    low: float
    high: float
    step: float = 1


def _bounded(default, low: float, high: float, step: float = 1):
    return field(default=default, metadata={"bounds": Bounds(low, high, step)})


#: Named sets of defaults. ``'cpu'``: what a CPU trains in minutes (the Training dock's default without a GPU):
#: half the batch, a sample of 512 patches an epoch, and twice the learning rate for the halved batch (the
#: linear scaling rule; 1e-3 switched the decoder off with the SRF projection, docs/METHOD.md).
PROFILES: dict[str, dict[str, Any]] = {
    "default": {},
    "cpu": {"batch_size": 16, "lr": 2e-4, "patches_per_epoch": 512},
}


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
    scale: int = _bounded(4, 2, 16)
    offset: int | None = None
    srf: str | Path | np.ndarray = "nikon_d700"
    camera: Any = None
    patch: int = 64
    stride: int | None = None
    batch_size: int = _bounded(32, 1, 4096)
    lr: float = _bounded(1e-4, 1e-6, 1.0, 1e-5)
    schedule: str = "constant"
    epochs: int = _bounded(10, 1, 100_000)
    patches_per_epoch: int | None = _bounded(None, 0, 10_000_000)  # a form's 0: the whole patch grid
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

    @classmethod
    def profile(cls, name: str = "default", **changes: Any) -> TrainConfig:
        """The defaults of a named profile (:data:`PROFILES`), with ``changes``."""
        if name not in PROFILES:
            raise ValueError(f"no training profile {name!r}; known: {', '.join(PROFILES)}")
        return cls().replace(**{**PROFILES[name], **changes})

    @classmethod
    def bounds(cls, name: str) -> Bounds:
        """The valid range of numeric option ``name`` (a :class:`KeyError` for an option without one)."""
        found = {f.name: f.metadata.get("bounds") for f in dataclasses.fields(cls)}.get(name)
        if not isinstance(found, Bounds):
            raise KeyError(f"{name} has no range")
        return found

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
