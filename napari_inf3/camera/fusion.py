"""Fusing with a photograph as the HR-MSI: :func:`fuse_with_camera` (what ``fuse(..., camera=fit)`` runs).

Two paths, by whether the network learned this camera:

- **the network was trained (or fine-tuned) with this camera's response** (``model.srf`` within
  5 % of ``camera.srf``): the linearised HR-MSI goes in directly, projected with the camera's response;
- **otherwise, camera transfer**: the network is shown the HR-MSI it was trained on. The SRF
  projection of bicubic onto the photograph, ``X_p = X^U + P_c⁺(Y_c − P_c X^U)``, is seen through the
  network's own response, ``Y_m = P_m X_p``; the network fuses ``(LR-HSI, Y_m)`` as it learned to, and its
  output is projected onto the photograph, ``X = X_net + P_c⁺(Y_c − P_c X_net)``. Measured on CAVE's sRGB
  renderings with the shipped Nikon-trained ``cosine``: 2–4 dB above the projection, where giving it the
  photograph's linearised values directly fell up to 2.7 dB *below* it (docs/REAL_PAIRS.md).

Then saturated pixels fall back to what they did measure (:func:`~napari_inf3.camera.model.fall_back_saturated`).
"""

from __future__ import annotations

import numpy as np

from ..cube import CubeError
from .model import CameraFit, fall_back_saturated

__all__ = ["fuse_with_camera", "learned_camera", "project"]

#: Relative difference ‖P_model − P_camera‖ / ‖P_camera‖ under which a network counts as trained for the camera.
SAME_RESPONSE = 0.05


def project(x: np.ndarray, srf: np.ndarray, msi_linear: np.ndarray) -> np.ndarray:
    """``x + P⁺(Y − P x)`` per pixel: ``x`` ``(S, H, W)``, ``srf`` ``(s, S)``, ``msi_linear`` ``(s, H, W)``; float32."""
    p = np.asarray(srf, np.float32)
    pinv = np.linalg.pinv(p.astype(np.float64)).astype(np.float32)
    resid = np.asarray(msi_linear, np.float32) - np.einsum("sb,bhw->shw", p, x, optimize=True)
    return (x + np.einsum("bs,shw->bhw", pinv, resid, optimize=True)).astype(np.float32)


def model_response(model) -> np.ndarray | None:
    """The ``(s, S)`` response a network's projection uses (its training response), or ``None``."""
    srf = getattr(model, "srf", None)
    if srf is None or model.config.get("consistency", "none") != "srf":
        return None
    return srf.detach().float().cpu().numpy()


def learned_camera(model, camera: CameraFit) -> bool:
    """Whether ``model`` was trained with (nearly) this camera's response, so it takes its HR-MSI directly."""
    from ..inference import is_projection

    if is_projection(model):
        return True
    p = model_response(model)
    if p is None or p.shape != camera.srf.shape:
        return False
    c = np.asarray(camera.srf, np.float64)
    return float(np.linalg.norm(p - c) / max(np.linalg.norm(c), 1e-12)) <= SAME_RESPONSE


def fuse_with_camera(model_or_checkpoint, lr_hsi, hr_msi, camera: CameraFit, device=None, *, clip: bool = True,
                     return_weights: bool = False, **options):
    """``fuse(model, lr_hsi, hr_msi, camera=camera)``: ``hr_msi`` holds the photograph's stored values
    ``(s, H, W)`` in [0, 1]. ``options`` are :func:`napari_inf3.fuse`'s (tile, progress, …); returns as it does."""
    from ..inference import bicubic, fuse, resolve_model
    from ..simulation import load_srf

    if not isinstance(camera, CameraFit):
        raise CubeError(f"camera= takes a CameraFit (estimate_camera or CameraFit.load), got {type(camera).__name__}")
    model = resolve_model(model_or_checkpoint, device)
    if model.msi_bands != camera.srf.shape[0] or model.bands != camera.srf.shape[1]:
        raise CubeError(f"the camera is {camera.srf.shape[0]} × {camera.srf.shape[1]} (channels × bands); the model "
                        f"takes {model.msi_bands} channels and {model.bands} bands")
    lin, saturated = camera.prepare(hr_msi)
    lr = np.asarray(getattr(lr_hsi, "data", lr_hsi), np.float32)
    x_up = bicubic(lr, lin.shape[1:])
    out = options.pop("out", None)
    if learned_camera(model, camera):
        res = fuse(model, lr, lin, clip=False, return_weights=return_weights, srf=camera.srf, **options)
        fused = res[0] if return_weights else res
    else:
        p_model = model_response(model)
        if p_model is None:
            p_model = load_srf("nikon_d700", bands=model.bands)  # the paper's (and every shipped model's) response
        seen = np.einsum("sb,bhw->shw", p_model, project(x_up, camera.srf, lin), optimize=True).astype(np.float32)
        res = fuse(model, lr, seen, clip=False, return_weights=return_weights, **options)
        fused = project(res[0] if return_weights else res, camera.srf, lin)
    fall_back_saturated(fused, x_up, lin, camera.srf, saturated, clip=False)
    if clip:
        np.maximum(fused, 0.0, out=fused)
    if out is not None:
        if tuple(out.shape) != fused.shape:
            raise CubeError(f"the output array is {tuple(out.shape)}, the fusion is {fused.shape}")
        out[:] = fused
        fused = out
    if return_weights:
        return fused, res[1]
    return fused


def transfer_module(model, camera: CameraFit):
    """The camera-transfer path as a differentiable ``torch.nn.Module`` wrapping ``model`` (an INFN with its
    own response, e.g. the Nikon D700's): ``forward(lr_hsi, msi_linear)`` with the camera's linearised
    HR-MSI ``(N, s, H, W)`` projects bicubic onto it, shows the network ``P_model · X_p``, and projects the
    network's output onto the camera again — what :func:`fuse_with_camera` does, so fine-tuning
    (``train(camera=)``) teaches the network the very path it will fuse with."""
    import torch
    import torch.nn.functional as F

    class CameraTransfer(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner
            p = torch.as_tensor(np.asarray(camera.srf, np.float32))
            self.register_buffer("p_cam", p)
            self.register_buffer("p_cam_pinv", torch.linalg.pinv(p.double()).float())

        def _project(self, x, y):
            resid = y - torch.einsum("sb,nbhw->nshw", self.p_cam, x)
            return x + torch.einsum("bs,nshw->nbhw", self.p_cam_pinv, resid)

        def forward(self, lr_hsi, msi_linear):
            with torch.autocast(lr_hsi.device.type, enabled=False):
                x_up = F.interpolate(lr_hsi.float(), size=msi_linear.shape[-2:], mode="bicubic", align_corners=False)
                seen = torch.einsum("sb,nbhw->nshw", self.inner.srf, self._project(x_up, msi_linear.float()))
            out = self.inner(lr_hsi, seen)
            with torch.autocast(lr_hsi.device.type, enabled=False):
                return self._project(out.float(), msi_linear.float())

    if model_response(model) is None:
        raise CubeError("camera fine-tuning needs a model with the SRF projection (consistency='srf')")
    return CameraTransfer(model).to(next(model.parameters()).device)
