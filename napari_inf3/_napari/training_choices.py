"""The Training dock's choices, without Qt: where the weights start, the defaults the form starts from, the files it
is given, and what a checkpoint to fine-tune is, in words."""

from __future__ import annotations

from pathlib import Path

NEW, FILE, CAMERA = "new", "file", "camera file"


def init_choices() -> list[tuple[str, str]]:
    """"start from" entries: a new network, each shipped checkpoint present, a checkpoint file."""
    from ..shipped import PRESETS, PRETRAINED, available

    shipped = [(f"shipped {name} ({preset})", f"{preset}:{name}") for preset in PRESETS for name in PRETRAINED
               if name in available(preset)]
    return [("new network", NEW), *shipped, ("checkpoint file…", FILE)]


def profile_defaults(devices: list[tuple[str, str]]):
    """The TrainConfig whose values the form starts from, given the dock's device entries (``(label, value)``,
    :func:`._common.device_choices`): the ``'cpu'`` profile when no GPU is among them (a run of minutes), else the
    defaults (:data:`napari_inf3.training.config.PROFILES`)."""
    from ..training.config import TrainConfig

    on_gpu = any(value.startswith(("cuda", "mps")) for _, value in devices)
    return TrainConfig.profile("default" if on_gpu else "cpu")


def picked_file(edit, what: str) -> str:
    """The existing file a FileEdit names (``~`` expanded), or a ValueError asking for ``what``."""
    path = str(edit.value).strip()
    if not path or path == "." or not Path(path).expanduser().is_file():
        raise ValueError(f"choose {what} (not a file: {path or 'none chosen'})")
    return str(Path(path).expanduser())


def describe_start(cfg: dict) -> str:
    """"cosine weighting, paper preset, SRF projection" for a checkpoint's config (what fine-tuning keeps)."""
    from ..models.variants import describe_variant

    proj = "SRF projection" if cfg.get("consistency") == "srf" else "no SRF projection"
    variant = describe_variant(cfg)
    return (f"{cfg.get('weighting')} weighting, {cfg.get('preset')} preset, {proj}"
            + ("" if variant == "full" else f", {variant}") + " (kept)")
