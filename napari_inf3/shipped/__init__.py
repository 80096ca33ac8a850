"""The checkpoints shipped with the package: one INFN per weighting and preset, trained on CAVE (×4).

``pretrained("cosine")`` returns the loaded ``lite`` model (eval mode) ready for
:func:`napari_inf3.fuse`; ``pretrained("cosine", preset="paper")`` the paper-sized one
(2.8 M parameters; ≈ 15 ms a 512² scene on an H200 in bf16, ≈ 9 s on a 2-core CPU). Each file
carries its training metadata (scenes, decimation offset, steps, wall time, device, the
validation PSNR curve): ``pretrained_info(name, preset)`` returns it without building the
model. How they were made: ``docs/REPRODUCTION.md``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PRETRAINED = ("area", "net", "cosine")
#: Shipped presets; the first is the default.
PRESETS = ("lite", "paper")
FILENAME = "infn_{preset}_{name}_x4.pt"


def _check(name: str, preset: str) -> None:
    if preset not in PRESETS or name not in PRETRAINED:
        shipped = ", ".join(f"{n!r} (preset {p!r})" for p in PRESETS for n in PRETRAINED)
        what = f"preset {preset!r}" if preset not in PRESETS else f"model {name!r}"
        raise ValueError(f"no pretrained {what}; shipped: {shipped}")


def checkpoint_path(name: str, preset: str = "lite") -> Path:
    """Path of the shipped checkpoint for weighting ``name`` and ``preset``."""
    _check(name, preset)
    path = Path(str(resources.files(__name__).joinpath(FILENAME.format(name=name, preset=preset))))
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the pretrained {name!r} ({preset}) checkpoint is missing from this install")
    return path


def available(preset: str = "lite") -> list[str]:
    """Names whose ``preset`` checkpoint file is present."""
    out = []
    for name in PRETRAINED:
        try:
            checkpoint_path(name, preset)
            out.append(name)
        except FileNotFoundError:
            pass
    return out


def model_names() -> list[str]:
    """Every string :func:`napari_inf3.inference.resolve_model` takes as a name: ``'projection'``, then each
    shipped model of each preset (``'cosine'``, ``'paper:cosine'``, …)."""
    return ["projection"] + [n if p == PRESETS[0] else f"{p}:{n}" for p in PRESETS for n in PRETRAINED]


def parse_spec(spec: str) -> tuple[str, str] | None:
    """``'cosine'`` → ``('cosine', 'lite')``, ``'paper:cosine'`` → ``('cosine', 'paper')``; None if not a
    shipped name."""
    preset, _, name = spec.rpartition(":")
    preset = preset or PRESETS[0]
    return (name, preset) if name in PRETRAINED and preset in PRESETS else None


def pretrained(name: str = "cosine", device=None, preset: str = "lite"):
    """Load the shipped INFN for weighting ``name`` (``'area'``, ``'net'``, ``'cosine'``) and ``preset``."""
    from ..checkpoint import load_checkpoint

    return load_checkpoint(checkpoint_path(name, preset), device=device)[0]


def pretrained_info(name: str, preset: str = "lite") -> dict:
    """The training metadata stored in a shipped checkpoint."""
    from ..checkpoint import read_checkpoint

    ckpt = read_checkpoint(checkpoint_path(name, preset))
    return {"config": ckpt["config"], **ckpt["meta"]}
