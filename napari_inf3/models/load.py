"""One way to get a model: :func:`load_model` (a pretrained name, ``paper:`` names, a checkpoint path,
``'projection'``, a model object), and what the fusion asks of a model (:func:`is_pair_model`,
:func:`is_projection`, :func:`model_name`; :func:`with_srf` gives a model another HR-MSI response).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..data.cube import CubeError

__all__ = ["PAIR", "load_model", "projection_model", "with_srf", "is_pair_model", "is_projection", "model_name",
           "SRF_WARN_DIFFERENCE"]

#: The model name that fits a fusion to the pair being fused (:func:`napari_inf3.fit_pair`).
PAIR = "pair"


def load_model(spec, device=None):
    """The model ``spec`` names, on ``device`` (``None``: GPU when present), in eval mode: the one way every door
    (``fuse``, the CLI, the docks, a notebook, training's ``init``) gets a model.

    ``spec``: a model (an INFN, an :class:`~napari_inf3.models.ensemble.Ensemble`, a
    :class:`~napari_inf3.pair.PairModel`), returned moved to ``device``; a :class:`~pathlib.Path` (a checkpoint
    file, :func:`~napari_inf3.models.checkpoint.load_checkpoint`); or a string: ``'projection'`` (the SRF
    projection of bicubic, :func:`projection_model`), a pretrained name (``'cosine'``, ``'paper:net'``,
    ``'ensemble'``, ``'paper:ensemble'``; :func:`napari_inf3.shipped.parse_spec`), else a checkpoint path (write
    ``./cosine`` for a file that shares a name's spelling). ``'pair'`` names a model fitted to the pair being
    fused: :func:`napari_inf3.fuse` fits it there (``fuse('pair', lr, msi)``), :func:`napari_inf3.fit_pair`
    returns it; here it is an error (there is no pair).
    """
    from ..models.checkpoint import load_checkpoint
    from ..models.device import select_device

    dev = select_device(device)
    if isinstance(spec, str):
        from ..shipped import parse_spec, pretrained

        if spec == "projection":
            return projection_model().to(dev).eval()
        if spec == PAIR:
            raise CubeError("'pair' is a model fitted to the pair being fused: fuse('pair', lr_hsi, hr_msi) fits it "
                            "there, or fit_pair(lr_hsi, hr_msi) returns it")
        shipped = parse_spec(spec)
        if shipped is not None:
            return pretrained(shipped[0], device=dev, preset=shipped[1])
    if isinstance(spec, (str, Path)):
        if isinstance(spec, str) and not Path(spec).exists():
            from ..models.checkpoint import CheckpointError
            from ..shipped import model_names

            raise CheckpointError(f"not a pretrained name ({', '.join(model_names())}) nor a checkpoint file",
                                  spec)
        return load_checkpoint(spec, device=dev)
    return spec.to(dev).eval()


def projection_model(srf="nikon_d700", bands: int = 31):
    """The baseline every shipped checkpoint starts from: the SRF projection of bicubic,
    ``X^U + P⁺(Y − P X^U)`` (no learning), as an INFN whose decoder is zero.

    An untrained INFN with ``consistency='srf'`` outputs exactly this (its last decoder conv
    starts at zero), so the baseline goes through the same tiling, clipping and metrics as the
    networks; a minimal trunk keeps it fast. Name ``'projection'`` in ``--models`` / :func:`fuse`.
    """
    from ..data.simulation import load_srf
    from ..models.infn import INFN

    p = load_srf(srf, bands=bands)
    m = INFN(bands=bands, msi_bands=p.shape[0], weighting="area", preset="lite", consistency="srf", srf=p,
             n_feats=4, n_resblocks=0, mlp_hidden=[4], out_dim=4)
    m.source = "projection"
    return m


#: Relative difference ‖P − P_trained‖ / ‖P_trained‖ above which :func:`with_srf` warns.
SRF_WARN_DIFFERENCE = 0.05


def with_srf(model, srf):
    """A copy of ``model`` whose SRF projection uses ``srf`` (name, CSV path or ``(s, S)`` array).

    The projection (``consistency='srf'``) is a fixed linear step, so it takes any response
    exactly. A trained network's *inputs* also carry the response it was trained with: its HR-MSI
    statistics differ under another camera, so a checkpoint whose training response differs from
    ``srf`` by more than :data:`SRF_WARN_DIFFERENCE` warns (docs/REAL_PAIRS.md measures the cost).
    A model without the projection (``consistency='none'``) cannot use ``srf``: that is an error.
    """
    import copy
    import warnings

    from ..data.simulation import load_srf

    p = load_srf(srf, bands=model.bands)
    if p.shape[0] != model.msi_bands:
        raise CubeError(f"the spectral response has {p.shape[0]} rows (MSI bands); the model takes {model.msi_bands}")
    if model.config.get("consistency", "none") != "srf":
        raise CubeError("this model has no SRF projection (consistency='none'), so a spectral response "
                        "cannot be given to it; use a checkpoint trained with consistency='srf'")
    old = model.srf.detach().float().cpu().numpy()
    m = copy.deepcopy(model)
    m.set_srf(p)
    diff = float(np.linalg.norm(p - old) / max(np.linalg.norm(old), 1e-12))
    if not is_projection(model) and diff > SRF_WARN_DIFFERENCE:
        warnings.warn(
            f"this checkpoint was trained with another spectral response (relative difference {diff:.0%}): "
            "the SRF projection uses the given one, but the network sees HR-MSI inputs unlike those it learned "
            "on (measured: a Nikon-trained checkpoint on a camera 20 nm off fell 1.4 dB below the SRF projection "
            "alone; docs/REAL_PAIRS.md). Fine-tune it to this response (napari-inf3 train --init MODEL --srf "
            "camera.csv; 300 CPU steps took that checkpoint from 46.9 to 50.8 dB), or use model='projection'",
            UserWarning, stacklevel=3)
    return m


def is_pair_model(model) -> bool:
    """Whether ``model`` is a :class:`~napari_inf3.pair.PairModel` (fitted to one pair by ``fit_pair``)."""
    return getattr(model, "config", {}).get("kind") == PAIR


def is_projection(model) -> bool:
    """Whether ``model`` is :func:`projection_model`'s stand-in (a fixed linear step: no weights, no size)."""
    return getattr(model, "source", None) == "projection"


def model_name(spec, model) -> str:
    """What a result (and a run's entry, :func:`~napari_inf3.fusion.pipeline.named_models`) says fused it: the
    pretrained name it was given as, a checkpoint file's stem, else the model's ``source`` or its type."""
    if isinstance(spec, Path) or (isinstance(spec, str) and spec.endswith(".pt")):
        return Path(spec).stem
    if isinstance(spec, str):
        return spec
    return str(getattr(model, "source", None) or type(model).__name__)
