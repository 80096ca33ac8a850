"""The checkpoints shipped with the package: one INFN per weighting and preset, trained on CAVE (×4).

``pretrained("cosine")`` returns the loaded ``lite`` model (eval mode) ready for
:func:`napari_inf3.fuse`; ``pretrained("cosine", preset="paper")`` the paper-sized one
(2.8 M parameters; ≈ 15 ms a 512² scene on an H200 in bf16, ≈ 9 s on a 2-core CPU). Each file
carries its training metadata (scenes, decimation offset, steps, wall time, device, the
validation PSNR curve): ``pretrained_info(name, preset)`` returns it without building the
model. How they were made: ``docs/REPRODUCTION.md``.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

PRETRAINED = ("area", "net", "cosine")
#: Shipped presets; the first is the default.
PRESETS = ("lite", "paper")
FILENAME = "infn_{preset}_{name}_x4.pt"
#: The three schemes averaged (:mod:`napari_inf3.models.ensemble`), and its error calibration's file.
ENSEMBLE = "ensemble"
CALIBRATION = "ensemble_{preset}_x4.json"
#: Shipped networks fine-tuned through a JPEG photo (``CameraFit.generic_jpeg``: an sRGB rendering stored at
#: quality 85, 4:2:0), by ``(name, preset)``: what ``fuse(name, ..., camera=fit)`` also runs when the photo is 8-bit
#: (JPEG or lossless), keeping the result that reproduces the LR-HSI better (:mod:`napari_inf3.fusion.jpeg_choice`).
JPEG_TUNED = {(name, "lite"): f"infn_lite_{name}_jpeg_x4.pt" for name in ("area", "net", "cosine")}


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
    """Every string :func:`napari_inf3.fusion.inference.load_model` takes as a name: ``'projection'``, then each
    shipped model and the ensemble of each preset (``'cosine'``, ``'paper:cosine'``, ``'ensemble'``, …)."""
    return ["projection"] + [n if p == PRESETS[0] else f"{p}:{n}" for p in PRESETS for n in (*PRETRAINED, ENSEMBLE)]


def parse_spec(spec: str) -> tuple[str, str] | None:
    """``'cosine'`` → ``('cosine', 'lite')``, ``'paper:cosine'`` → ``('cosine', 'paper')``, ``'paper:ensemble'``
    → ``('ensemble', 'paper')``; None if not a shipped name."""
    preset, _, name = spec.rpartition(":")
    preset = preset or PRESETS[0]
    return (name, preset) if (name in PRETRAINED or name == ENSEMBLE) and preset in PRESETS else None


def spec_name(name: str, preset: str) -> str:
    """The string naming a shipped model: ``'cosine'`` for the default preset, ``'paper:cosine'`` otherwise."""
    return name if preset == PRESETS[0] else f"{preset}:{name}"


def pretrained(name: str = "cosine", device=None, preset: str = "lite"):
    """The shipped INFN for weighting ``name`` (``'area'``, ``'net'``, ``'cosine'``) and ``preset``, loaded in
    eval mode; ``name='ensemble'``: the three as an :class:`~napari_inf3.models.ensemble.Ensemble` with the shipped
    error calibration (``fuse(..., uncertainty=True)`` maps their disagreement to an expected |error|)."""
    from ..models.checkpoint import load_checkpoint

    if name == ENSEMBLE:
        from ..models.ensemble import Ensemble
        from ..models.uncertainty import ErrorCalibration

        members = {n: pretrained(n, device=device, preset=preset) for n in PRETRAINED}
        for n, m in members.items():
            m.spec = spec_name(n, preset)
        cal = calibration_path(preset)
        return Ensemble(members, ErrorCalibration.load(cal) if cal.is_file() else None,
                        source=spec_name(ENSEMBLE, preset))
    return load_checkpoint(checkpoint_path(name, preset), device=device)


def jpeg_tuned_path(name: str, preset: str = "lite") -> Path | None:
    """Path of the JPEG-tuned file (:data:`JPEG_TUNED`) of the shipped ``name`` / ``preset``; ``None`` when it has
    none or the file is missing from this install."""
    file = JPEG_TUNED.get((name, preset))
    path = None if file is None else Path(str(resources.files(__name__).joinpath(file)))
    return path if path is not None and path.is_file() else None


def jpeg_tuned(model):
    """The JPEG-tuned counterpart (:data:`JPEG_TUNED`) of ``model`` when ``model`` is a shipped network that has
    one, on the model's device; else ``None``."""
    source = getattr(model, "source", None)
    if not source:
        return None
    for name, preset in JPEG_TUNED:
        path = jpeg_tuned_path(name, preset)
        if path is not None and name in available(preset) and \
                Path(source).resolve() == checkpoint_path(name, preset).resolve():
            return _load_tuned(str(path), str(next(model.parameters()).device))
    return None


@functools.lru_cache(maxsize=4)
def _load_tuned(path: str, device: str):
    from ..models.checkpoint import load_checkpoint

    return load_checkpoint(path, device=device)


def calibration_path(preset: str = "lite") -> Path:
    """Where the ``preset`` ensemble's error calibration is shipped (:mod:`napari_inf3.models.uncertainty`)."""
    if preset not in PRESETS:
        raise ValueError(f"no pretrained preset {preset!r}; shipped: {', '.join(PRESETS)}")
    return Path(str(resources.files(__name__).joinpath(CALIBRATION.format(preset=preset))))


def pretrained_info(name: str, preset: str = "lite") -> dict:
    """The training metadata stored in a shipped checkpoint."""
    from ..models.checkpoint import read_checkpoint

    ckpt = read_checkpoint(checkpoint_path(name, preset))
    return {"config": ckpt["config"], **ckpt["meta"]}
