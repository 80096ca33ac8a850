""":class:`PairModel`: a fusion fitted to one LR-HSI / HR-MSI pair, for any band count and any camera.

Its fusion, for an HR-MSI pixel ``q`` (INF³'s structure with the pair's own parts, docs/PAIR.md):

    Z_q = f(y_q)                                        the spectral map (skip), napari_inf3.pair.spectral_map
        + Σ_i w_qi (b_i + A_i (y_q − y_i))              INF³ over the four LR neighbours i of q: each neighbour's
                                                        local model of the map's residual read at the query's
                                                        HR feature, weighted by the scheme (napari_inf3.pair.local_fit)
        + β · bilinear(X − D(Z))                        back-projection of what the LR-HSI still disagrees with
    then Z + P⁺(Y − P Z)                                the SRF projection (when the response is known or fitted well)

``f``, the residual's principal subspace, the local models' window and ridge strength, the response ``P`` and
the PSF ``D`` are fitted to the pair (:func:`napari_inf3.fit_pair`); the local models themselves are solved
again from whatever pair is fused (closed form, fast), so the model also fuses crops or neighbouring tiles of
the same flight. Everything is local, so fusion runs tile by tile with a halo (tiled = untiled to float rounding).

Shapes: LR-HSI ``(S, h, w)``, HR-MSI ``(s, H, W)``, ``H = r·h``; values in the pair's own units.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data.cube import CubeError
from ..models.configured import Configured
from .local_fit import LocalParams, grid_interpolate, has_data, interpolate_local, local_coefficients
from .psf import Degradation
from .spectral_map import SpectralMap

__all__ = ["PairModel", "WEIGHTINGS"]

#: The schemes the local step can weigh the four LR neighbours by (see :func:`~.local_fit.interpolate_local`).
WEIGHTINGS = ("area", "cosine")


class PairModel(Configured, nn.Module):
    """A model :func:`napari_inf3.fit_pair` fitted; :func:`napari_inf3.fuse` runs it like any other.

    ``config`` (saved in the checkpoint): ``kind='pair'``, ``bands`` S, ``msi_bands`` s, ``scale`` r, ``psf``
    (:class:`~.psf.Degradation` as a dict), ``local`` (:class:`~.local_fit.LocalParams`), ``k`` (residual
    components), ``weighting`` / ``sharpness`` (the neighbour scheme), ``backproject`` β, ``projection``
    (whether the SRF projection runs). Buffers: ``srf`` ``(s, S)``, ``res_mean`` ``(S,)``, ``res_basis``
    ``(S, K)``, ``feat_mean`` / ``feat_std`` ``(s,)`` (how MSI values are standardised for the local models).
    """

    srf: torch.Tensor
    res_mean: torch.Tensor
    res_basis: torch.Tensor
    feat_mean: torch.Tensor
    feat_std: torch.Tensor
    source: str = "pair"
    meta: dict[str, Any]

    def __init__(self, bands: int, msi_bands: int, *, scale: int, psf: dict, local: dict, k: int,
                 weighting: str = "area", sharpness: float = 0.0, backproject: float = 0.5,
                 projection: bool = True, kind: str = "pair"):
        super().__init__()
        if weighting not in WEIGHTINGS:
            raise ValueError(f"unknown weighting {weighting!r}; choose from {WEIGHTINGS}")
        self.config: dict[str, Any] = {
            "kind": kind, "bands": int(bands), "msi_bands": int(msi_bands), "scale": int(scale), "psf": dict(psf),
            "local": dict(local), "k": int(k), "weighting": weighting, "sharpness": float(sharpness),
            "backproject": float(backproject), "projection": bool(projection)}
        self.register_buffer("srf", torch.zeros(msi_bands, bands))
        self.register_buffer("res_mean", torch.zeros(bands))
        self.register_buffer("res_basis", torch.zeros(bands, int(k)))
        self.register_buffer("feat_mean", torch.zeros(msi_bands))
        self.register_buffer("feat_std", torch.ones(msi_bands))
        self.spectral_map = SpectralMap(msi_bands, bands)
        self.meta = {}

    @classmethod
    def from_config(cls, config: dict) -> PairModel:
        cfg = dict(config)
        return cls(cfg.pop("bands"), cfg.pop("msi_bands"), **cfg)

    # ---- what the rest of the package asks of a model ---------------------------------------------
    @property
    def degradation(self) -> Degradation:
        return Degradation(**self.config["psf"])

    @property
    def scale(self) -> int:
        return self.config["scale"]

    has_weights = False

    def variant(self) -> str:
        return f"fitted to a pair ({self.weighting} weighting)"

    def lr_halo(self) -> int:
        """LR pixels of context a tile needs on each side (local window, neighbours, PSF, back-projection)."""
        return int(self.config["local"]["radius"]) + 4

    # ---- fusion --------------------------------------------------------------------------------
    def _device(self) -> torch.device:
        return self.srf.device

    def spectra(self, msi: np.ndarray) -> np.ndarray:
        """The spectral map of every pixel of ``msi`` ``(s, H, W)``: ``(S, H, W)`` float32."""
        s, H, W = msi.shape
        out = np.empty((self.bands, H * W), np.float32)
        flat = msi.reshape(s, -1)
        step = 1 << 16
        with torch.no_grad():
            for a in range(0, H * W, step):
                y = torch.as_tensor(np.ascontiguousarray(flat[:, a : a + step].T), device=self._device())
                out[:, a : a + step] = self.spectral_map(y).T.float().cpu().numpy()
        return out.reshape(self.bands, H, W)

    def features(self, msi: np.ndarray) -> np.ndarray:
        """MSI values standardised as the local models see them: ``(s, ...)``."""
        m = self.feat_mean.cpu().numpy().reshape(-1, *([1] * (msi.ndim - 1)))
        sd = self.feat_std.cpu().numpy().reshape(-1, *([1] * (msi.ndim - 1)))
        return ((msi - m) / sd).astype(np.float32)

    def residual_coefficients(self, res: np.ndarray) -> np.ndarray:
        """``(S, ...)`` residual spectra → their ``(K, ...)`` coordinates in the residual subspace."""
        basis, mean = self.res_basis.cpu().numpy(), self.res_mean.cpu().numpy()
        return np.einsum("sk,s...->k...", basis, res - mean.reshape(-1, *([1] * (res.ndim - 1))))

    def residual_spectra(self, coef: np.ndarray) -> np.ndarray:
        basis, mean = self.res_basis.cpu().numpy(), self.res_mean.cpu().numpy()
        return np.einsum("sk,k...->s...", basis, coef) + mean.reshape(-1, *([1] * (coef.ndim - 1)))

    def fuse_crop(self, lr: np.ndarray, msi: np.ndarray, *, stride: int = 1) -> np.ndarray:
        """The fusion of a whole (crop of a) pair, untiled: ``(S, h, w)``, ``(s, r·h, r·w)`` → ``(S, r·h, r·w)``.

        ``stride`` m > 1: ``lr`` holds only every m-th LR pixel (``(S, ⌈h/m⌉, ⌈w/m⌉)``, samples at HR positions
        ``origin + m·r·i``) — the self-check's geometry (:mod:`.selfcheck`)."""
        d = self.degradation
        r, m = self.scale, int(stride)
        y_lr = d.degrade(msi)[:, ::m, ::m]
        f_lr = self.features(y_lr)
        res = lr - self.spectra(y_lr)
        empty = ~has_data(lr)  # no data (a georeferenced pair's nodata, zero-filled): the mean residual
        mask = None
        if empty.any():
            res[:, empty] = self.res_mean.cpu().numpy()[:, None]
            mask = ~empty
        coef = self.residual_coefficients(res)
        models = local_coefficients(coef, f_lr, LocalParams(**self.config["local"]), mask=mask)
        local = interpolate_local(models, f_lr, self.features(msi), d.origin, r * m, weighting=self.weighting,
                                  sharpness=self.config["sharpness"])
        # what the residual subspace leaves out, carried bilinearly
        outside = res - self.residual_spectra(coef)
        z = self.spectra(msi) + self.residual_spectra(local) + grid_interpolate(outside, msi.shape[1:], d.origin,
                                                                                r * m)
        beta = self.config["backproject"]
        if beta:
            back = lr - d.degrade(z)[:, ::m, ::m]
            back[:, empty] = 0
            z += beta * grid_interpolate(back, msi.shape[1:], d.origin, r * m)
        if self.config["projection"]:
            z = self.project(z, msi)
        return z.astype(np.float32)

    def project(self, z: np.ndarray, msi: np.ndarray) -> np.ndarray:
        """``z + P⁺(Y − P z)`` per pixel: :func:`napari_inf3.camera.fusion.project`, the camera path's."""
        from ..camera.fusion import project

        return project(z, self.srf.cpu().numpy(), msi)

    def fuse_array(self, lr, msi, *, out: np.ndarray | None = None, tile: int | str = "auto",
                   progress: Callable[[int, int], None] | None = None,
                   should_stop: Callable[[], bool] | None = None, clip: bool = True) -> np.ndarray:
        """Fuse the pair tile by tile (LR tiles of ``tile`` pixels plus :meth:`lr_halo`; ``'auto'`` ≈ 64 LR px,
        ``'off'`` one pass) into ``out`` (an ``(S, H, W)`` array, e.g. a memory map) or a new array.
        ``lr`` / ``msi`` may be memory maps: only each tile's crop is read."""
        from itertools import pairwise

        from ..fusion.tiling import read_crop, tile_edges

        S, h, w = lr.shape
        r = self.scale
        if msi.shape[1] != r * h or msi.shape[2] != r * w:
            raise CubeError(f"this pair model fuses at scale {r}: an LR-HSI of {h}×{w} needs an HR-MSI of "
                            f"{r * h}×{r * w}, got {msi.shape[1]}×{msi.shape[2]}")
        if out is None:
            out = np.empty((S, r * h, r * w), np.float32)
        side = max(h, w) if tile == "off" else 64 if tile == "auto" else int(tile)
        halo = self.lr_halo()
        boxes = [(a, b, c, d) for a, b in pairwise(tile_edges(h, side)) for c, d in pairwise(tile_edges(w, side))]
        if progress:
            progress(0, len(boxes))
        for k, (y0, y1, x0, x1) in enumerate(boxes):
            if should_stop is not None and should_stop():
                raise InterruptedError("fusion cancelled")
            cy0, cy1, cx0, cx1 = max(0, y0 - halo), min(h, y1 + halo), max(0, x0 - halo), min(w, x1 + halo)
            lr_c = read_crop(lr, "LR-HSI", None, np.s_[:, cy0:cy1, cx0:cx1])
            msi_c = read_crop(msi, "HR-MSI", None, np.s_[:, cy0 * r : cy1 * r, cx0 * r : cx1 * r])
            z = self.fuse_crop(lr_c, msi_c)
            part = z[:, (y0 - cy0) * r : (y1 - cy0) * r, (x0 - cx0) * r : (x1 - cx0) * r]
            out[:, y0 * r : y1 * r, x0 * r : x1 * r] = np.maximum(part, 0) if clip else part
            if progress:
                progress(k + 1, len(boxes))
        return out
