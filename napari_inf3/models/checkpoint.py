"""The one checkpoint format: self-describing, versioned, written atomically.

A checkpoint is a ``torch.save`` dict::

    {"format": "napari-inf3", "version": 1,
     "config": {...INFN config...}, "config_hash": sha256 of the config as sorted JSON,
     "state_dict": {...}, "dtype": "float32" | "float16",
     "optimizer": {...} | None, "epoch": int, "step": int,
     "meta": {training metadata: scenes, steps, wall time, device, validation PSNR, ...}}

so :func:`load_checkpoint` rebuilds the model without being told its architecture (LIIF
style). Writes go to a temporary file in the same folder, are fsynced, then renamed over
the target, so a crash never leaves a half-written checkpoint.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

FORMAT = "napari-inf3"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint file is missing, truncated, foreign or does not fit."""

    def __init__(self, message: str, path: str | Path | None = None):
        super().__init__(f"{path}: {message}" if path else message)


def config_hash(config: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def atomic_torch_save(obj: Any, path: str | Path) -> Path:
    """``torch.save`` through :func:`napari_inf3.io.atomic.atomic_path`: a temp file beside ``path``,
    fsynced, then renamed over it. A failed save raises :class:`~napari_inf3.io.atomic.WriteError` (disk
    full, ...) and leaves the old checkpoint loadable and no temporary file."""
    import torch

    from ..io.atomic import WriteError, atomic_path, describe_os_error

    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(f"cannot create its folder: {describe_os_error(exc)}", path, exc.errno) from None
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        try:
            torch.save(obj, fh)
        except RuntimeError as exc:
            # torch's archive writer reports a failed write as a RuntimeError ("unexpected pos ...")
            # raised while handling the OSError (disk full, file too large): surface the OSError
            if isinstance(exc.__context__, OSError):
                raise exc.__context__ from exc
            raise
    return path


def save_checkpoint(
    model,
    path: str | Path,
    *,
    optimizer=None,
    epoch: int = 0,
    step: int = 0,
    meta: dict[str, Any] | None = None,
    half: bool = False,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write a checkpoint of ``model`` (an :class:`~napari_inf3.models.infn.INFN`) atomically.

    ``half=True`` stores the weights as float16 (half the size; for shipping, not resuming). The model
    comes first, as the data does in every write function (``write_cube(cube, path)``).
    """
    if isinstance(model, (str, Path)):
        raise TypeError("save_checkpoint(model, path): the model comes first (as in write_cube(cube, path)); "
                        f"got a path, {str(model)!r}, in its place")
    params = {k for k, _ in model.named_parameters()}  # buffers (the SRF of consistency='srf') stay float32
    state = {k: (v.half() if half and k in params and v.is_floating_point() else v).detach().cpu()
             for k, v in model.state_dict().items()}
    ckpt = {
        "format": FORMAT,
        "version": VERSION,
        "config": dict(model.config),
        "config_hash": config_hash(model.config),
        "state_dict": state,
        "dtype": "float16" if half else "float32",
        "optimizer": None if optimizer is None or half else optimizer.state_dict(),
        "epoch": int(epoch),
        "step": int(step),
        "meta": dict(meta or {}),
        **(extra or {}),
    }
    return atomic_torch_save(ckpt, path)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load and check a checkpoint dict (weights stay on the CPU)."""
    import pickle
    import zipfile

    import torch

    path = Path(path)
    if not path.is_file():
        raise CheckpointError("checkpoint file not found", path)
    from torch.torch_version import TorchVersion

    try:
        with torch.serialization.safe_globals([TorchVersion]):  # a str subclass; older files hold one
            ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CheckpointError(f"is not a readable checkpoint (truncated or not a torch file): {exc}", path) from None
    except (KeyError, IndexError, AssertionError, TypeError, AttributeError) as exc:
        from ..io._common import raised_in

        if not raised_in(exc, "torch"):
            raise
        # torch's unpickler on a damaged archive (records that point nowhere; seen by napari_inf3.testing.fuzz)
        raise CheckpointError(f"is not a readable checkpoint (damaged torch archive: "
                              f"{type(exc).__name__}: {exc})", path) from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError("is not a napari-inf3 checkpoint (no 'format': 'napari-inf3' entry)", path)
    if ckpt.get("version", 0) > VERSION:
        raise CheckpointError(
            f"was written by a newer napari-inf3 (format version {ckpt['version']} > {VERSION}); upgrade", path
        )
    cfg = ckpt.get("config")
    if not isinstance(cfg, dict) or ckpt.get("config_hash") != config_hash(cfg):
        raise CheckpointError("its config does not match its config hash (edited or corrupted)", path)
    return ckpt


def build_any(config: dict[str, Any]):
    """The model a checkpoint's ``config`` describes: an INFN, or (``kind='pair'``) a
    :class:`~napari_inf3.pair.PairModel` fitted to one pair."""
    if config.get("kind") == "pair":
        from ..pair.model import PairModel

        return PairModel.from_config(config)
    from .infn import build_model

    return build_model(config)


def load_checkpoint(path: str | Path, device=None):
    """Rebuild the model stored in ``path``, in eval mode on ``device``: its ``config`` and weights from the file,
    ``model.meta`` the training metadata (steps, history, the TrainConfig, lineage), ``model.source`` the path.
    The stored dictionary itself (epoch, step, optimizer, dtype) is :func:`read_checkpoint`'s."""
    from .device import select_device

    ckpt = read_checkpoint(path)
    try:
        model = build_any(ckpt["config"])
        state = {k: v.float() if v.is_floating_point() else v for k, v in ckpt["state_dict"].items()}
        model.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"weights do not fit the stored config: {exc}", path) from None
    model.source = str(path)
    model.meta = ckpt.get("meta", {})
    return model.to(select_device(device)).eval()
