"""What a training run starts from: a trained model to fine-tune (``init``), a photo's camera (``camera``), and
the lineage of runs behind a checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..data.cube import CubeError

__all__ = ["init_model", "load_camera", "lineage"]


def init_model(init, srf_matrix: np.ndarray, bands: int):
    """``(model, parent_meta)``: a trainable copy of the INFN ``init`` names, its SRF projection
    set to ``srf_matrix``, and what :func:`lineage` needs of where it came from."""
    import copy

    from ..models.load import is_projection, load_model

    what = init if isinstance(init, (str, Path)) else type(init).__name__
    parent = load_model(init, device="cpu")
    if is_projection(parent):
        raise ValueError("init='projection' has no weights to start from; leave init out for a new network")
    if parent.bands != bands:
        raise CubeError(f"init model {what!r} takes {parent.bands} bands; the training scenes have {bands}")
    if parent.msi_bands != srf_matrix.shape[0]:
        raise CubeError(f"init model {what!r} takes {parent.msi_bands} HR-MSI bands; "
                        f"the training response has {srf_matrix.shape[0]}")
    model = copy.deepcopy(parent).float().train()
    if model.config.get("consistency", "none") == "srf":
        model.set_srf(srf_matrix)
    meta = dict(getattr(parent, "meta", None) or {})
    keep = ("steps", "epochs", "wall_seconds", "device", "gpu", "precision", "srf", "offset", "val_psnr",
            "trained_with", "scenes", "batch_size", "lr", "init")
    parent_meta = {"from": str(init) if isinstance(init, (str, Path)) else getattr(parent, "source", what),
                   **{k: meta[k] for k in keep if k in meta}}
    return model, parent_meta


def load_camera(camera, bands: int):
    """``train(camera=)`` as a :class:`~napari_inf3.camera.CameraFit` (or ``None``), checked against the scenes."""
    if camera is None:
        return None
    from ..camera import CameraFit

    fit = camera if isinstance(camera, CameraFit) else CameraFit.load(camera)
    if fit.srf.shape[1] != bands:
        raise CubeError(f"the camera's response has {fit.srf.shape[1]} columns (bands); "
                        f"the training scenes have {bands}")
    return fit


def lineage(meta: dict[str, Any]) -> list[dict[str, Any]]:
    """The runs behind a checkpoint's metadata, oldest first: each ``init`` parent, then ``meta``.

    ``sum(r['steps'] for r in lineage(meta))`` is the number of optimisation steps the weights
    have seen in all (batch sizes may differ between runs; each entry keeps its own).
    """
    chain: list[dict[str, Any]] = []
    m: Any = meta
    while isinstance(m, dict):
        chain.append(m)
        m = m.get("init")
    return chain[::-1]
