"""What every fusion model tells the rest of the package about itself, read from its ``config`` (the dict its
checkpoint stores and :func:`~napari_inf3.models.checkpoint.build_any` rebuilds it from): a mixin that INFN and
the pair model share, so a dock, the CLI or a fusion asks any model the same way."""

from __future__ import annotations

from typing import Any

__all__ = ["Configured"]


class Configured:
    """``bands`` (S, the LR-HSI's), ``msi_bands`` (s, the HR-MSI's), ``weighting`` (how an HR pixel weighs its
    four LR neighbours) and ``num_parameters()``; the class sets ``self.config``."""

    config: dict[str, Any]

    @property
    def bands(self) -> int:
        return self.config["bands"]

    @property
    def msi_bands(self) -> int:
        return self.config["msi_bands"]

    @property
    def weighting(self) -> str:
        return self.config["weighting"]

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())  # type: ignore[attr-defined]  # an nn.Module's
