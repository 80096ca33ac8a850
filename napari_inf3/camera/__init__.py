"""The HR-MSI's camera: a real photograph as the HR-MSI (tone curve, gain / black level, response,
blur, shift) estimated from the pair, its images linearised for fusion, its degradation simulated for
training, and the checks that say when a fit (or a fusion) cannot be trusted.

- :func:`estimate_camera` → :class:`CameraFit` (``linearize``, ``prepare``, ``save`` / ``load``);
- :class:`ToneCurve` (linear, sRGB, power law, monotone);
- :func:`check_fit` and :func:`pair_consistency`: the quality gate used by the API, CLI, docks and notebook.
"""

from .curves import CURVE_KINDS, ToneCurve, linear_to_srgb, srgb_to_linear
from .fit import estimate_camera
from .gate import Finding, check_fit, check_results, pair_consistency, pair_report
from .model import CameraFit

__all__ = ["CURVE_KINDS", "CameraFit", "Finding", "ToneCurve", "check_fit", "check_results", "estimate_camera",
           "linear_to_srgb", "pair_consistency", "pair_report", "srgb_to_linear"]
