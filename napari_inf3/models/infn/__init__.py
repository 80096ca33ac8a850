"""INFN and its parts; see :mod:`.infn` for the assembly and :mod:`.fusion` for INF³."""

from .infn import INFN, PRESETS, build_model
from .weighting import WEIGHTINGS

__all__ = ["INFN", "PRESETS", "WEIGHTINGS", "build_model"]
