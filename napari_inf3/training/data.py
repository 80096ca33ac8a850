"""Training batches cut, augmented and simulated with torch, on the training device.

The scenes are held on the device once (one ``(N, B, H, W)`` float32 tensor when they share
a shape, else one tensor each); each step gathers its patches there, flips / rotates them as
the epoch order says, and simulates the LR-HSI / HR-MSI pair with a strided depthwise
``conv2d`` (the paper's 3 × 3 Gaussian, reflect padding, keeping pixel ``offset`` of each
r × r block) and an ``einsum`` with the SRF. So a GPU is never fed by numpy, and a step costs
no host ↔ device copy beyond its patch coordinates. :func:`napari_inf3.data.simulation.simulate`
is the reference (tests compare the two within float rounding, 1e-6).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..data.simulation import check_offset, gaussian_kernel

__all__ = ["PatchSampler", "simulate_torch", "CameraStaircase"]


class CameraStaircase:
    """A camera's storage on the training device: a linear HR-MSI ``P X`` ``(N, s, H, W)`` encoded by its
    tone curve, clipped to [0, 1], quantised to its bits and linearised again, as
    :meth:`napari_inf3.camera.CameraFit.degrade` does in numpy (one ``bucketize`` per channel); a JPEG
    camera's patches go through :meth:`~napari_inf3.camera.CameraFit.degrade` itself (libjpeg, on the host)."""

    def __init__(self, camera, device):
        import torch

        self.steps = [(torch.as_tensor(t, dtype=torch.float32, device=device),
                       torch.as_tensor(v, dtype=torch.float32, device=device)) for t, v in camera.staircase()]
        self.jpeg_camera = camera if camera.jpeg is not None else None

    def __call__(self, msi):
        import torch

        if self.jpeg_camera is not None:  # a JPEG camera: each patch through libjpeg on the host (≈ 1 ms / patch)
            host = msi.detach().float().cpu().numpy()
            back = np.stack([self.jpeg_camera.degrade(patch) for patch in host])
            return torch.as_tensor(back, dtype=msi.dtype, device=msi.device)
        out = torch.empty_like(msi)
        for c, (thr, vals) in enumerate(self.steps):
            out[:, c] = vals[torch.bucketize(msi[:, c].contiguous(), thr, right=True)]
        return out


def simulate_torch(gt, scale: int, srf_matrix, offset: int | None = None, sigma: float = 0.5,
                   kernel_size: int = 3):
    """``(lr, msi)`` from GT patches ``(N, B, H, W)`` (a torch tensor), as :func:`~napari_inf3.simulate` does.

    ``H`` and ``W`` must be multiples of ``scale``. ``srf_matrix`` ``(s, B)`` (array or tensor).
    Returns ``lr (N, B, H/r, W/r)`` and ``msi (N, s, H, W)`` on ``gt``'s device and dtype.
    """
    import torch
    import torch.nn.functional as F

    off = check_offset(offset, scale)
    n, b, h, w = gt.shape
    k = torch.as_tensor(gaussian_kernel(kernel_size, sigma), dtype=gt.dtype, device=gt.device)
    pad = kernel_size // 2
    x = F.pad(gt.reshape(n * b, 1, h, w), (pad, pad, pad, pad), mode="reflect")
    n_y, n_x = len(range(off, h, scale)), len(range(off, w, scale))
    lr = F.conv2d(x[..., off:, off:], k[None, None], stride=scale)[..., :n_y, :n_x].reshape(n, b, n_y, n_x)
    p = torch.as_tensor(srf_matrix, dtype=gt.dtype, device=gt.device)
    msi = torch.einsum("sb,nbhw->nshw", p, gt)
    return lr, msi


class PatchSampler:
    """Scenes on ``device``; :meth:`batch` returns simulated training batches.

    Parameters
    ----------
    scenes : ``(B, H, W)`` float32 arrays in [0, 1] (one band count).
    grid : ``(P, 3)`` ``(scene, row, col)`` patch corners (:func:`napari_inf3.training.sampling.patch_grid`).
    patch, scale, offset, srf_matrix : patch side (HR pixels), r, the decimation offset, ``(s, B)`` SRF.
    camera : a :class:`~napari_inf3.camera.CameraFit` whose storage (tone curve, clipping, bits) the
        HR-MSI goes through, or ``None`` (the linear HR-MSI of the paper's simulation).
    """

    def __init__(self, scenes: Sequence[np.ndarray], grid: np.ndarray, patch: int, scale: int,
                 offset: int | None, srf_matrix: np.ndarray, device, camera=None):
        import torch

        self.device = torch.device(device)
        self.patch, self.scale = int(patch), int(scale)
        self.offset = check_offset(offset, scale)
        self.srf = torch.as_tensor(np.asarray(srf_matrix, np.float32), device=self.device)
        self.grid = torch.as_tensor(np.asarray(grid, np.int64), device=self.device)
        shapes = {tuple(s.shape) for s in scenes}
        if len(shapes) == 1:  # one tensor, one gather per batch
            self.stack: torch.Tensor | None = torch.stack([torch.as_tensor(np.asarray(s, np.float32))
                                                           for s in scenes]).to(self.device)
            self.scenes = None
        else:
            self.stack = None
            self.scenes = [torch.as_tensor(np.asarray(s, np.float32), device=self.device) for s in scenes]
        self._ar = torch.arange(self.patch, device=self.device)
        self.camera = None if camera is None else CameraStaircase(camera, self.device)

    def cut(self, indices: np.ndarray, aug: np.ndarray | None):
        """GT patches ``(n, B, patch, patch)`` for grid rows ``indices``, augmented by codes ``aug`` (0–7).

        Code bits as in :func:`napari_inf3.training.sampling.epoch_order`: ``4`` flips the columns, then
        ``code & 3`` quarter turns (``numpy.rot90`` / ``torch.rot90`` on the last two axes).
        """
        import torch

        idx = torch.as_tensor(np.asarray(indices, np.int64), device=self.device)
        g = self.grid[idx]  # (n, 3)
        if self.stack is not None:
            rows = (g[:, 1:2] + self._ar)[:, :, None]  # (n, p, 1)
            cols = (g[:, 2:3] + self._ar)[:, None, :]  # (n, 1, p)
            gt = self.stack[g[:, 0, None, None], :, rows, cols]  # (n, p, p, B): advanced dims first
            gt = gt.permute(0, 3, 1, 2)
        else:
            assert self.scenes is not None  # set whenever stack is not
            p = self.patch
            gt = torch.stack([self.scenes[int(s)][:, y : y + p, x : x + p] for s, y, x in g.tolist()])
        gt = gt.contiguous()
        if aug is None:
            return gt
        codes = np.asarray(aug, np.int64)
        out = torch.empty_like(gt)
        for code in np.unique(codes):
            sel = torch.as_tensor(np.flatnonzero(codes == code), device=self.device)
            part = gt.index_select(0, sel)
            if code & 4:
                part = torch.flip(part, dims=(-1,))
            out.index_copy_(0, sel, torch.rot90(part, k=int(code) & 3, dims=(-2, -1)))
        return out

    def batch(self, indices: np.ndarray, aug: np.ndarray | None = None):
        """``(gt, lr, msi)`` tensors on the device for grid rows ``indices`` (augmented by ``aug``)."""
        gt = self.cut(indices, aug)
        lr, msi = simulate_torch(gt, self.scale, self.srf, self.offset)
        if self.camera is not None:
            msi = self.camera(msi)
        return gt, lr, msi
