"""Fitting a fusion to the user's own pair, for any sensor and without ground truth (:func:`fit_pair`).

- :mod:`.psf`: how the LR-HSI sees the scene (the PSF), picked from the pair;
- :mod:`.spectral_map`: HR-MSI pixel → spectrum, stacked regressions learned on the LR pixels;
- :mod:`.local_fit`: the map's residual, fitted locally and carried to each HR pixel as INF³ weighs neighbours;
- :mod:`.model`: :class:`PairModel`, what :func:`napari_inf3.fuse` runs and a checkpoint stores;
- :mod:`.fit`: :func:`fit_pair`, the steps in order; :mod:`.selfcheck`: the held-out check it reports;
  :mod:`.report`: :func:`pair_report`, the check in words.

Importing this package loads torch (the model is a ``torch.nn.Module``); nothing the napari manifest loads
imports it before a fit is asked for.
"""

from .fit import PairFitWarning, fit_pair
from .model import PairModel
from .report import describe_fit, pair_report, shipped_advice

__all__ = ["PairFitWarning", "PairModel", "describe_fit", "fit_pair", "pair_report", "shipped_advice"]
