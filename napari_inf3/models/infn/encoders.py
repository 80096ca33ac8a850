"""The two feature extractors of INFN: spectral F_φ on the LR-HSI, spatial F_ψ on the HR inputs.

Both are EDSR-baseline trunks without upsampler (as LIIF uses them): a head conv3×3,
``n_resblocks`` residual blocks (conv3×3–ReLU–conv3×3), a body conv3×3 and a global
skip from the head. Input ``(N, C_in, H, W)`` → output ``(N, n_feats, H, W)``; zero padding,
so the receptive field is ±(2·n_resblocks + 2) pixels (see :func:`trunk_radius`).
"""

from __future__ import annotations

import torch
from torch import nn


def conv3x3(cin: int, cout: int) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, padding=1)


class ResBlock(nn.Module):
    """conv3×3 → ReLU → conv3×3, plus the identity."""

    def __init__(self, n_feats: int):
        super().__init__()
        self.body = nn.Sequential(conv3x3(n_feats, n_feats), nn.ReLU(inplace=True), conv3x3(n_feats, n_feats))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Trunk(nn.Module):
    """EDSR-baseline feature trunk: ``(N, in_channels, H, W)`` → ``(N, n_feats, H, W)``."""

    def __init__(self, in_channels: int, n_feats: int = 64, n_resblocks: int = 16):
        super().__init__()
        self.head = conv3x3(in_channels, n_feats)
        self.body = nn.Sequential(*[ResBlock(n_feats) for _ in range(n_resblocks)], conv3x3(n_feats, n_feats))
        self.n_resblocks = n_resblocks

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.head(x)
        return x + self.body(x)


def trunk_radius(n_resblocks: int) -> int:
    """Receptive-field radius in pixels of a :class:`Trunk` (number of 3×3 convs)."""
    return 2 * n_resblocks + 2
