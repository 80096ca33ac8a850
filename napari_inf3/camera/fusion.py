"""Fusing with a photograph as the HR-MSI: the pieces ``fuse(..., camera=fit)`` runs
(:func:`napari_inf3.fusion.inference.fuse`; no import of the engine here, so the engine can import these).

Two paths, by whether the network learned this camera:

- **the network was trained (or fine-tuned) with this camera's response** (``model.srf`` within
  5 % of ``camera.srf``): the linearised HR-MSI goes in directly, projected with the camera's response;
- **otherwise, camera transfer**: the network is shown the HR-MSI it was trained on. The SRF
  projection of bicubic onto the photograph, ``X_p = X^U + P_c⁺(Y_c − P_c X^U)``, is seen through the
  network's own response, ``Y_m = P_m X_p``; the network fuses ``(LR-HSI, Y_m)`` as it learned to, and its
  output is projected onto the photograph, ``X = X_net + P_c⁺(Y_c − P_c X_net)``. Measured on CAVE's sRGB
  renderings with the shipped Nikon-trained ``cosine``: 2–4 dB above the projection, where giving it the
  photograph's linearised values directly fell up to 2.7 dB *below* it (docs/REAL_PAIRS.md).

An 8-bit photo (a JPEG, ``camera.jpeg``, or ``camera.bits == 8``) fused with a shipped network that has
JPEG-tuned weights (:data:`napari_inf3.shipped.JPEG_TUNED`) is fused with both, and the result that reproduces the
LR-HSI better is kept (:mod:`napari_inf3.fusion.jpeg_choice`; the notes say which).

Then half a back-projection onto the LR-HSI (:func:`back_project`) and saturated pixels fall back to what they
did measure (:func:`~napari_inf3.camera.model.fall_back_saturated`).
"""

from __future__ import annotations

import numpy as np

from ..data.cube import CubeError
from .model import CameraFit

__all__ = ["back_project", "learned_camera", "project", "transfer_input", "transfer_module", "model_response"]

#: The share of the LR-HSI's residual a camera fusion puts back (:func:`back_project`).
BACK_PROJECTION = 0.5

#: Relative difference ‖P_model − P_camera‖ / ‖P_camera‖ under which a network counts as trained for the camera.
SAME_RESPONSE = 0.05


def project(x: np.ndarray, srf: np.ndarray, msi_linear: np.ndarray) -> np.ndarray:
    """``x + P⁺(Y − P x)`` per pixel: ``x`` ``(S, H, W)``, ``srf`` ``(s, S)``, ``msi_linear`` ``(s, H, W)``; float32."""
    p = np.asarray(srf, np.float32)
    pinv = np.linalg.pinv(p.astype(np.float64)).astype(np.float32)
    resid = np.asarray(msi_linear, np.float32) - np.einsum("sb,bhw->shw", p, x, optimize=True)
    return (x + np.einsum("bs,shw->bhw", pinv, resid, optimize=True)).astype(np.float32)


def back_project(x: np.ndarray, lr_hsi: np.ndarray, camera: CameraFit, *, weight: float = BACK_PROJECTION) -> None:
    """``x += weight · bicubic(LR-HSI − degrade(x))`` in place: ``x`` ``(S, H, W)``, ``lr_hsi`` ``(S, h, w)``, the
    degradation the camera's (blur σ, offset, scale). After the projection onto the photograph, which a network
    trained on clean photos passes its errors through, the LR-HSI (measured, not stored lossily) pulls the low
    frequencies back. Measured with the shipped lite ``cosine`` on CAVE's sRGB renderings (superballs, oil
    painting, pompoms): +0.07 to +0.54 dB stored losslessly, +0.13 to +0.47 dB as JPEG quality 85; a whole step
    (three times) gained less or lost (docs/REAL_PAIRS.md has the 20 scenes)."""
    from ..data.simulation import blur_decimate
    from ..fusion.upsampling import bicubic
    from .srf_fit import srf_kernel

    resid = np.asarray(lr_hsi, np.float32) - blur_decimate(x, srf_kernel(camera.sigma), camera.scale, camera.offset)
    x += np.float32(weight) * bicubic(resid, x.shape[1:])


def model_response(model) -> np.ndarray | None:
    """The ``(s, S)`` response a network's projection uses (its training response), or ``None``."""
    srf = getattr(model, "srf", None)
    if srf is None or model.config.get("consistency", "none") != "srf":
        return None
    return srf.detach().float().cpu().numpy()


def learned_camera(model, camera: CameraFit) -> bool:
    """Whether ``model`` was trained with (nearly) this camera's response, so it takes its HR-MSI directly
    (the SRF-projection stand-in, ``source == 'projection'``, takes any response exactly)."""
    if getattr(model, "source", None) == "projection":
        return True
    p = model_response(model)
    if p is None or p.shape != camera.srf.shape:
        return False
    c = np.asarray(camera.srf, np.float64)
    return float(np.linalg.norm(p - c) / max(float(np.linalg.norm(c)), 1e-12)) <= SAME_RESPONSE


def transfer_input(model, camera: CameraFit, x_up: np.ndarray, msi_linear: np.ndarray) -> np.ndarray:
    """What the camera-transfer path shows ``model``: the projection of ``x_up`` (bicubic) onto the
    camera's linear HR-MSI, seen through the model's own response ``(s, H, W)`` (the paper's Nikon D700 for
    a model without a projection)."""
    from ..data.simulation import load_srf

    p_model = model_response(model)
    if p_model is None:
        p_model = load_srf("nikon_d700", bands=model.bands)  # the paper's (and every shipped model's) response
    return np.einsum("sb,bhw->shw", p_model, project(x_up, camera.srf, msi_linear), optimize=True).astype(np.float32)


def transfer_module(model, camera: CameraFit):
    """The camera-transfer path as a differentiable ``torch.nn.Module`` wrapping ``model`` (an INFN with its
    own response, e.g. the Nikon D700's): ``forward(lr_hsi, msi_linear)`` with the camera's linearised
    HR-MSI ``(N, s, H, W)`` projects bicubic onto it, shows the network ``P_model · X_p``, and projects the
    network's output onto the camera again — what ``fuse(..., camera=)`` does, so fine-tuning
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
