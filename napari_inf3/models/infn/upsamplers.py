"""What INF³ replaces in the paper's Table 5: the LR feature map upsampled by a fixed rule.

``FeatureUpsampler(mode)`` takes the same inputs as :class:`~.fusion.INF3` and gives the same
``E`` ``(N, C, H, W)``, without neighbours, weights or relative coordinates:

    F¹    = [S_pe, S_pa^D]                      (N, D1 + D2, h, w)   eq. 11, on the LR grid
    F¹↑   = upsample(F¹) to (H, W)              bilinear / bicubic (align_corners=False), or
                                                 conv3×3 → (D1 + D2)·r² channels → pixel shuffle ×r
    E_q   = MLP([F¹↑(C_q), S_pa(C_q)])         the same per-pixel MLP as INF³'s (eq. 15)

so the comparison isolates the implicit interpolation (four neighbours, δc, learned or cosine
weights) from the rest of the network. ``pixelshuffle`` has a fixed integer ratio (stored in the
config as ``upsampler_scale``); the other two serve any ratio. The switches ``hr_injection`` and
``lr_injection`` act as in INF³.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..variants import UPSAMPLERS  # ``upsampler`` values of :class:`~.infn.INFN` (re-exported here)
from .encoders import conv3x3
from .fusion import MLP


class FeatureUpsampler(nn.Module):
    """``(S_pe, S_pa^D, S_pa)`` → ``E`` ``(N, C, H, W)`` by upsampling ``F¹`` with ``mode``.

    Parameters
    ----------
    d1, d2 : channels of the spectral and spatial features.
    hidden, out_dim : the MLP's hidden widths and C, as in INF³.
    mode : ``'bilinear'``, ``'bicubic'`` or ``'pixelshuffle'``.
    scale : the integer ratio r of ``'pixelshuffle'`` (ignored by the others).
    """

    #: HR pixels per MLP chunk without autograd (activations stay in the cache; see INF3.chunk_pixels)
    chunk_pixels = 8192

    def __init__(self, d1: int, d2: int, hidden: list[int], out_dim: int, mode: str, *, scale: int = 4,
                 hr_injection: bool = True, lr_injection: bool = True):
        super().__init__()
        if mode not in UPSAMPLERS[1:]:
            raise ValueError(f"unknown feature upsampler {mode!r}; choose from {list(UPSAMPLERS[1:])}")
        if mode == "pixelshuffle" and (int(scale) != scale or scale < 1):
            raise ValueError(f"pixel shuffle needs an integer ratio; got {scale}")
        self.mode, self.scale = mode, int(scale)
        self.hr_injection, self.lr_injection = bool(hr_injection), bool(lr_injection)
        self.out_dim = out_dim
        d12 = d1 + (d2 if lr_injection else 0)
        self.shuffle = conv3x3(d12, d12 * self.scale**2) if mode == "pixelshuffle" else None
        self.mlp = MLP(d12 + (d2 if hr_injection else 0), list(hidden), out_dim)

    def upsample(self, f1: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """``F¹`` ``(N, D, h, w)`` → ``(N, D, H, W)``."""
        if self.shuffle is None:
            return F.interpolate(f1, size=size, mode=self.mode, align_corners=False)
        h, w = f1.shape[-2:]
        if (h * self.scale, w * self.scale) != tuple(size):
            raise ValueError(f"this network's pixel shuffle upsamples ×{self.scale}: {h}×{w} cannot become "
                             f"{size[0]}×{size[1]}")
        return F.pixel_shuffle(self.shuffle(f1), self.scale)

    def forward(self, s_pe: torch.Tensor, s_pa_d: torch.Tensor, s_pa: torch.Tensor,
                return_weights: bool = False) -> torch.Tensor:
        if return_weights:
            raise ValueError(f"a network with upsampler={self.mode!r} has no neighbour weights (INF³ only)")
        f1 = torch.cat([s_pe, s_pa_d], dim=1) if self.lr_injection else s_pe
        up = self.upsample(f1, (s_pa.shape[-2], s_pa.shape[-1]))
        x = torch.cat([up, s_pa], dim=1) if self.hr_injection else up
        n, d, H, W = x.shape
        flat = x.permute(0, 2, 3, 1).reshape(n * H * W, d)  # (N·H·W, D)
        if torch.is_grad_enabled():
            e = self.mlp(flat)
        else:  # chunks: a whole image's hidden activations would not stay in the cache
            e = flat.new_empty(n * H * W, self.out_dim)
            for p0 in range(0, n * H * W, self.chunk_pixels):
                e[p0 : p0 + self.chunk_pixels] = self.mlp(flat[p0 : p0 + self.chunk_pixels])
        return e.view(n, H, W, self.out_dim).permute(0, 3, 1, 2)  # NHWC-strided, as INF³'s

    def chunk_bytes(self, device) -> int:
        """Peak bytes of one MLP chunk (the widest layer, twice)."""
        linears = [m for m in self.mlp.layers if isinstance(m, nn.Linear)]
        return 2 * self.chunk_pixels * max(m.out_features for m in linears) * 4
