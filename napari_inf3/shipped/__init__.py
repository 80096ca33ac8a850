"""The checkpoints shipped with the package: one INFN per weighting, trained on CAVE (×4).

``pretrained("cosine")`` returns the loaded model (eval mode) ready for
:func:`napari_inf3.fuse`. Each file carries its training metadata (scenes, epochs, steps,
wall time, device, validation PSNR): ``pretrained_info(name)`` returns it without building
the model. How they were made: ``docs/REPRODUCTION.md``.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

PRETRAINED = ("area", "net", "cosine")
FILENAME = "infn_lite_{name}_x4.pt"


def checkpoint_path(name: str) -> Path:
    """Path of the shipped checkpoint for weighting ``name``."""
    if name not in PRETRAINED:
        raise ValueError(f"no pretrained model {name!r}; shipped: {', '.join(PRETRAINED)}")
    path = Path(str(resources.files(__name__).joinpath(FILENAME.format(name=name))))
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the pretrained {name!r} checkpoint is missing from this install")
    return path


def available() -> list[str]:
    """Names whose checkpoint file is present."""
    out = []
    for name in PRETRAINED:
        try:
            checkpoint_path(name)
            out.append(name)
        except FileNotFoundError:
            pass
    return out


def pretrained(name: str = "cosine", device=None):
    """Load the shipped INFN for weighting ``name`` (``'area'``, ``'net'``, ``'cosine'``)."""
    from ..checkpoint import load_checkpoint

    return load_checkpoint(checkpoint_path(name), device=device)[0]


def pretrained_info(name: str) -> dict:
    """The training metadata stored in a shipped checkpoint."""
    from ..checkpoint import read_checkpoint

    ckpt = read_checkpoint(checkpoint_path(name))
    return {"config": ckpt["config"], **ckpt["meta"]}
