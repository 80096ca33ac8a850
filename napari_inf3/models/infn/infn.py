"""INFN, the implicit neural fusion network (Fig. 2): encoders, INF³, decoder, bicubic skip.

Optionally (``consistency='srf'``, ours) the output is projected onto the cubes the HR-MSI
reproduces through the SRF; see :meth:`INFN.project`.

    X^U   = bicubic(X)                     (N, S, H, W)
    S_pe  = F_φ(X)                         (N, D1, h, w)       eq. 3
    S_pa  = F_ψ([X^U, Y])                  (N, D2, H, W)       eq. 4
    S_pa^D = r×r mean of S_pa               (N, D2, h, w)       eq. 12
    E     = INF³(S_pe, S_pa^D, S_pa, C)    (N, C, H, W)        eq. 5
    X̃    = Decoder(E) + X^U               (N, S, H, W)        eq. 6

The scale r is read from the input shapes (``H / h``), never stored, so one network serves
any ratio; non-integer ratios use an adaptive mean for S_pa^D.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..configured import Configured
from ..variants import UPSAMPLERS, describe_variant
from .encoders import Trunk, conv3x3, trunk_radius
from .fusion import INF3
from .upsamplers import FeatureUpsampler
from .weighting import WEIGHTINGS

#: What happens to X̃ = Decoder(E) + X^U (eq. 6): ``none``, the paper's; ``srf``, X̃ is projected
#: onto the cubes the HR-MSI agrees with through the SRF P: X̃ + P⁺(Y − P X̃), P⁺ = Pᵀ(PPᵀ)⁻¹.
CONSISTENCY = ("none", "srf")

#: Architecture presets. ``paper``: ≈ 2.79 M parameters (paper: 2.902 M).
PRESETS: dict[str, dict[str, Any]] = {
    "paper": {"n_feats": 64, "n_resblocks": 16, "mlp_hidden": [256, 256, 256, 256], "out_dim": 64},
    "lite": {"n_feats": 32, "n_resblocks": 4, "mlp_hidden": [128, 128], "out_dim": 32},
}


class INFN(Configured, nn.Module):
    """The INF³ fusion network.

    Parameters
    ----------
    bands : S, bands of the LR-HSI and of the output (31 for CAVE).
    msi_bands : s, bands of the HR-MSI (3 for RGB).
    weighting : ``'cosine'`` (INF³'s INR-CS), ``'area'`` (LIIF), ``'net'`` (JIIF) or ``'cosine_norm'``.
    preset : ``'paper'`` or ``'lite'``; any of ``n_feats``, ``n_resblocks``, ``mlp_hidden``,
        ``out_dim`` given as keywords override it.
    normalize : ``'mean'`` (default) divides both inputs by the LR-HSI's mean value and
        multiplies the output back, so the network sees every scene at one brightness
        (reflectance and radiance, dark and bright patches alike); ``'none'`` feeds the raw
        values as the paper does. Fusion is linear in brightness, so this changes no formula
        of the paper; it trained ≈ 1 dB faster per 100 CPU steps here (docs/METHOD.md).
    hr_injection, lr_injection, rel_coord : the paper's ablations (Tables 2 and 3), all on by default:
        ``S_pa(C_q)`` in the MLP's input (eq. 13), ``S_pa^D(C_i)`` in ``F¹`` (eq. 11), the relative
        coordinate ``δc`` (eq. 14). See :class:`~.fusion.INF3`.
    upsampler : ``'inf3'`` (the paper's implicit function) or Table 5's alternatives ``'bilinear'``,
        ``'bicubic'``, ``'pixelshuffle'``: the LR feature map upsampled that way, then the same MLP
        (:class:`~.upsamplers.FeatureUpsampler`; no weighting, no δc, no neighbour weights).
    upsampler_scale : the fixed integer ratio of ``'pixelshuffle'`` (the others serve any ratio).

    All of these are saved in :attr:`config`, so a checkpoint rebuilds the same variant.

    ``forward(lr_hsi (N, S, h, w), hr_msi (N, s, H, W)) -> (N, S, H, W)``.
    """

    # buffers registered with consistency='srf' only (nn.Module.__getattr__ finds them)
    srf: torch.Tensor
    srf_pinv: torch.Tensor
    # set by load_checkpoint and projection_model: where the weights came from, and the checkpoint's meta
    source: str
    meta: dict[str, Any]

    def __init__(
        self,
        bands: int = 31,
        msi_bands: int = 3,
        weighting: str = "cosine",
        preset: str = "paper",
        normalize: str = "mean",
        consistency: str = "none",
        srf=None,
        *,
        hr_injection: bool = True,
        lr_injection: bool = True,
        rel_coord: bool = True,
        upsampler: str = "inf3",
        upsampler_scale: int = 4,
        **overrides: Any,
    ):
        super().__init__()
        _check_options(weighting, preset, normalize, consistency, upsampler, rel_coord, overrides)
        arch = {**PRESETS[preset], **overrides}
        ablation: dict[str, Any] = {"hr_injection": bool(hr_injection), "lr_injection": bool(lr_injection),
                    "rel_coord": bool(rel_coord), "upsampler": upsampler, "upsampler_scale": int(upsampler_scale)}
        self.config: dict[str, Any] = {"bands": bands, "msi_bands": msi_bands, "weighting": weighting, "preset": preset,
                       "normalize": normalize, "consistency": consistency, **arch, **ablation}
        if consistency == "srf":
            # P (msi_bands × bands), kept with the weights so a checkpoint rebuilds the same projection
            p = torch.zeros(msi_bands, bands) if srf is None else torch.as_tensor(srf, dtype=torch.float32)
            if tuple(p.shape) != (msi_bands, bands):
                raise ValueError(f"the SRF is {tuple(p.shape)}; this model needs ({msi_bands}, {bands})")
            self.register_buffer("srf", p.clone())
            # P⁺ once (float64 pseudo-inverse; zeros for an all-zero P), not per forward: on CUDA an
            # inverse per call is a host sync per step and per tile. Not saved: rebuilt from P on load.
            self.register_buffer("srf_pinv", _pinv(p), persistent=False)
            self.register_load_state_dict_post_hook(_refresh_pinv)
        nf, nb = arch["n_feats"], arch["n_resblocks"]
        c = arch["out_dim"]
        self.spectral = Trunk(bands, nf, nb)  # F_φ
        self.spatial = Trunk(bands + msi_bands, nf, nb)  # F_ψ
        # the fusion stage (eq. 5): INF³, or for Table 5's ablation a fixed feature upsampler + the same MLP
        self.inf3: INF3 | FeatureUpsampler
        if upsampler == "inf3":
            self.inf3 = INF3(nf, nf, arch["mlp_hidden"], c, weighting, hr_injection=hr_injection,
                             lr_injection=lr_injection, rel_coord=rel_coord)
        else:
            self.inf3 = FeatureUpsampler(nf, nf, arch["mlp_hidden"], c, upsampler, scale=upsampler_scale,
                                         hr_injection=hr_injection, lr_injection=lr_injection)
        self.decoder = nn.Sequential(conv3x3(c, c), nn.ReLU(inplace=True), conv3x3(c, bands))
        # Start as the skip: the last conv begins at zero, so the untrained output is X^U (or, with
        # consistency='srf', its projection X^U + P⁺(Y − P X^U)) and training learns the residual.
        last = self.decoder[-1]
        assert isinstance(last, nn.Conv2d) and last.bias is not None  # conv3x3: a Conv2d with a bias
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)

    @property
    def has_weights(self) -> bool:
        """Whether the network has neighbour weights to show (INF³ does; Table 5's upsamplers do not)."""
        return self.config.get("upsampler", "inf3") == "inf3"

    def variant(self) -> str:
        """The ablation in words: ``'full'`` for the paper's network, else what is off or replaced
        (``'no HR injection'``, ``'bicubic upsampler'``, ...)."""
        return describe_variant(self.config)

    def set_srf(self, p) -> None:
        """Use the ``(msi_bands, bands)`` response ``p`` in the SRF projection (in place; P⁺ follows)."""
        with torch.no_grad():
            self.srf.copy_(torch.as_tensor(p, dtype=self.srf.dtype, device=self.srf.device))
            self.srf_pinv.copy_(_pinv(self.srf))

    def spectral_halo(self, scale: int) -> int:
        """LR pixels of LR-HSI context around a box for its S_pe (eq. 3) to equal the untiled one.

        INF³ + decoder need S_pe on the box grown by :meth:`fusion_halo`; the spectral trunk
        runs on the LR grid, so its receptive radius R counts in LR pixels.
        """
        return self.fusion_halo(scale) + trunk_radius(self.config["n_resblocks"]) + 1

    def spatial_halo(self, scale: int) -> int:
        """LR pixels of context around a box for its S_pa, S_pa^D and X^U (eq. 4, 12).

        The spatial trunk's radius R counts in HR pixels (⌈R / r⌉ LR), and X^U's bicubic taps
        reach 2 LR pixels further. Much smaller than :meth:`spectral_halo` at r > 1, and the
        spatial trunk is where the time goes, so each encoder gets its own.
        """
        rad = trunk_radius(self.config["n_resblocks"])
        return self.fusion_halo(scale) + math.ceil(rad / scale) + 2 + 1

    def lr_halo(self, scale: int) -> int:
        """LR pixels of context a tile needs on each side so tiled = untiled output."""
        return max(self.spectral_halo(scale), self.spatial_halo(scale))

    def fusion_halo(self, scale: int) -> int:
        """LR pixels around a box that INF³ + decoder need (neighbours ±1 LR, decoder ±2 HR px);
        Table 5's bicubic upsampler reaches ±2 LR pixels."""
        reach = 2 if self.config.get("upsampler") == "bicubic" else 1
        return reach + math.ceil(2 / scale)

    def forward_box(self, lr_hsi: torch.Tensor, hr_msi: torch.Tensor, norm: torch.Tensor,
                    box: tuple[int, int, int, int], return_weights: bool = False):
        """The output inside the LR box ``(y0, y1, x0, x1)`` of the whole image, as :meth:`forward` gives it.

        ``lr_hsi`` ``(N, S, h, w)`` and ``hr_msi`` ``(N, s, h·r, w·r)`` are the whole images, or
        crops of them that hold the box grown by :meth:`lr_halo` (clamped at the image's edges);
        on any device: only the crops each encoder needs are moved to the model's device. The
        spectral trunk runs on the box grown by :meth:`spectral_halo`, the spatial trunk on
        the box grown by :meth:`spatial_halo`, INF³ and the decoder on the box grown by
        :meth:`fusion_halo`. Integer scale only. Returns ``(N, S, (y1 - y0)·r, (x1 - x0)·r)``, and
        with ``return_weights`` also the neighbour weights ``(N, 4, (y1 - y0)·r, (x1 - x0)·r)``.
        """
        self.check_inputs(lr_hsi, hr_msi)
        h, w = lr_hsi.shape[-2:]
        r = hr_msi.shape[-2] // h
        dev = next(self.parameters()).device
        norm = norm.to(dev)
        y0, y1, x0, x1 = box

        def grown(m: int) -> tuple[int, int, int, int]:
            return max(0, y0 - m), min(h, y1 + m), max(0, x0 - m), min(w, x1 + m)

        fy0, fy1, fx0, fx1 = grown(self.fusion_halo(r))
        a0, a1, b0, b1 = grown(self.spectral_halo(r))
        s_pe = self.spectral(self._conv_layout(lr_hsi[..., a0:a1, b0:b1].to(dev) / norm))
        s_pe = s_pe[..., fy0 - a0 : fy1 - a0, fx0 - b0 : fx1 - b0]
        a0, a1, b0, b1 = grown(self.spatial_halo(r))
        lr_sp = lr_hsi[..., a0:a1, b0:b1].to(dev) / norm
        x_up = F.interpolate(lr_sp, size=((a1 - a0) * r, (b1 - b0) * r), mode="bicubic", align_corners=False)
        y_sp = hr_msi[..., a0 * r : a1 * r, b0 * r : b1 * r].to(dev) / norm
        s_pa = self.spatial(self._conv_layout(torch.cat([x_up, y_sp], dim=1)))
        hr_sl = (Ellipsis, slice((fy0 - a0) * r, (fy1 - a0) * r), slice((fx0 - b0) * r, (fx1 - b0) * r))
        s_pa = s_pa[hr_sl]
        e = self.inf3(s_pe, F.avg_pool2d(s_pa, r), s_pa, return_weights=return_weights)
        weights = None
        if return_weights:
            e, weights = e
        out = self._output(e, x_up[hr_sl], y_sp[hr_sl], norm)
        inner = (Ellipsis, slice((y0 - fy0) * r, (y1 - fy0) * r), slice((x0 - fx0) * r, (x1 - fx0) * r))
        return (out[inner], weights[inner]) if weights is not None else out[inner]

    @staticmethod
    def _conv_layout(x: torch.Tensor) -> torch.Tensor:
        """Channels-last (NHWC) for the trunks' convolutions, on every device, training or not.

        oneDNN's 3×3 convolutions run ≈ 1.15–1.5× faster on NHWC than on NCHW tensors on this
        project's CPU (64→64 channels, 128²–512²: 186 against 162 GFLOP/s); the layout then
        carries through the residual blocks, and INF³ hands the decoder an NHWC-strided E. A
        training step (forward and backward, 64² patches, batch 16) measured 11.2 against 12.9 s
        (``paper``) and 1.79 against 1.91 s (``lite``) here. cuDNN's tensor-core kernels (bf16 /
        TF32) want NHWC too.
        """
        return x.contiguous(memory_format=torch.channels_last)

    def project(self, x: torch.Tensor, hr_msi: torch.Tensor) -> torch.Tensor:
        """``consistency='srf'``: ``x + P⁺(Y − P x)`` ``(N, S, H, W)``, the cube nearest ``x`` (per
        pixel, in the Euclidean sense) that the HR-MSI reproduces exactly through P; identity
        with ``'none'``. Per pixel, so tiles need no halo for it. Inputs in normalised units.

        For the network this means ``X̃ = X^U + P⁺(Y − P X^U) + (I − P⁺P)·Decoder(E)``: the decoder
        only has to supply the part of the spectrum the HR-MSI cannot see.
        """
        if self.config.get("consistency", "none") == "none":
            return x
        pinv = self.srf_pinv.to(x.dtype)  # (S, s)
        resid = hr_msi - torch.einsum("sb,nbhw->nshw", self.srf.to(x.dtype), x)
        return x + torch.einsum("bs,nshw->nbhw", pinv, resid)

    def _output(self, e: torch.Tensor, x_up: torch.Tensor, y: torch.Tensor, norm: torch.Tensor) -> torch.Tensor:
        """``project(Decoder(E) + X^U) · norm`` (eq. 6). Under autocast (bf16/fp16 fusion) the decoder
        runs in low precision but X^U, the sum and the projection stay float32: X^U carries most of
        the signal, and rounding it to bf16's 8 bits would cost more than the network gains."""
        res = self.decoder(e)
        with torch.autocast(x_up.device.type, enabled=False):
            return self.project(res.float() + x_up.float(), y.float()) * norm

    def check_inputs(self, lr_hsi: torch.Tensor, hr_msi: torch.Tensor) -> None:
        if lr_hsi.ndim != 4 or hr_msi.ndim != 4:
            raise ValueError(f"expected (N, C, H, W) tensors, got {tuple(lr_hsi.shape)} and {tuple(hr_msi.shape)}")
        if lr_hsi.shape[1] != self.bands:
            raise ValueError(f"the model fuses {self.bands}-band LR-HSIs; got {lr_hsi.shape[1]} bands")
        if hr_msi.shape[1] != self.msi_bands:
            raise ValueError(f"the model takes {self.msi_bands}-band HR-MSIs; got {hr_msi.shape[1]} bands")
        if lr_hsi.shape[0] != hr_msi.shape[0]:
            raise ValueError("LR-HSI and HR-MSI batch sizes differ")
        if hr_msi.shape[-2] < lr_hsi.shape[-2] or hr_msi.shape[-1] < lr_hsi.shape[-1]:
            raise ValueError(
                f"the HR-MSI ({hr_msi.shape[-2]}×{hr_msi.shape[-1]}) is smaller than the LR-HSI "
                f"({lr_hsi.shape[-2]}×{lr_hsi.shape[-1]})"
            )

    def encode(self, lr_hsi: torch.Tensor, hr_msi: torch.Tensor):
        """Bicubic X^U and the three feature maps ``(S_pe, S_pa^D, S_pa)``."""
        H, W = hr_msi.shape[-2:]
        h, w = lr_hsi.shape[-2:]
        x_up = F.interpolate(lr_hsi, size=(H, W), mode="bicubic", align_corners=False)
        s_pe = self.spectral(self._conv_layout(lr_hsi))
        s_pa = self.spatial(self._conv_layout(torch.cat([x_up, hr_msi], dim=1)))
        if H % h == 0 and W % w == 0:
            s_pa_d = F.avg_pool2d(s_pa, (H // h, W // w))
        else:
            s_pa_d = F.adaptive_avg_pool2d(s_pa, (h, w))
        return x_up, s_pe, s_pa_d, s_pa

    def brightness(self, lr_hsi: torch.Tensor) -> torch.Tensor:
        """Per-sample normaliser ``(N, 1, 1, 1)``: the LR-HSI's mean (≥ 1e-4), or 1 with ``normalize='none'``."""
        if self.config["normalize"] == "none":
            return torch.ones(lr_hsi.shape[0], 1, 1, 1, dtype=lr_hsi.dtype, device=lr_hsi.device)
        return lr_hsi.mean(dim=(1, 2, 3), keepdim=True).clamp_min(1e-4)

    def forward(
        self, lr_hsi: torch.Tensor, hr_msi: torch.Tensor, return_weights: bool = False,
        norm: torch.Tensor | None = None,
    ):
        """Fuse; ``norm`` overrides :meth:`brightness` (tiled fusion passes the whole image's)."""
        self.check_inputs(lr_hsi, hr_msi)
        if norm is None:
            norm = self.brightness(lr_hsi)
        y = hr_msi / norm
        x_up, s_pe, s_pa_d, s_pa = self.encode(lr_hsi / norm, y)
        e = self.inf3(s_pe, s_pa_d, s_pa, return_weights=return_weights)
        weights = None
        if return_weights:
            e, weights = e
        out = self._output(e, x_up, y, norm)
        return (out, weights) if return_weights else out


def _check_options(weighting: str, preset: str, normalize: str, consistency: str, upsampler: str,
                   rel_coord: bool, overrides: dict[str, Any]) -> None:
    """:class:`INFN`'s options, each checked against what it may be; a ValueError names the first bad one."""
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose from {sorted(PRESETS)}")
    if weighting not in WEIGHTINGS:
        raise ValueError(f"unknown weighting {weighting!r}; choose from {list(WEIGHTINGS)}")
    unknown = set(overrides) - set(PRESETS[preset])
    if unknown:
        raise ValueError(f"unknown INFN option(s) {sorted(unknown)}")
    if normalize not in ("mean", "none"):
        raise ValueError(f"unknown normalize {normalize!r}; choose 'mean' or 'none'")
    if consistency not in CONSISTENCY:
        raise ValueError(f"unknown consistency {consistency!r}; choose from {CONSISTENCY}")
    if upsampler not in UPSAMPLERS:
        raise ValueError(f"unknown upsampler {upsampler!r}; choose from {list(UPSAMPLERS)}")
    if upsampler != "inf3" and not rel_coord:
        raise ValueError(f"rel_coord=False is an INF³ ablation; upsampler={upsampler!r} has no relative coordinate")


def _pinv(p: torch.Tensor) -> torch.Tensor:
    """``P⁺ = Pᵀ(PPᵀ)⁻¹`` ``(S, s)`` float32 of an ``(s, S)`` SRF, computed in float64 (zeros for P = 0)."""
    p64 = p.detach().to("cpu", torch.float64)
    if not torch.any(p64):
        return torch.zeros(p.shape[1], p.shape[0], dtype=torch.float32, device=p.device)
    return torch.linalg.pinv(p64).to(device=p.device, dtype=torch.float32)


def _refresh_pinv(module: INFN, incompatible_keys) -> None:
    """After ``load_state_dict``: P⁺ from the loaded P."""
    with torch.no_grad():
        module.srf_pinv.copy_(_pinv(module.srf))


def build_model(config: dict[str, Any]) -> INFN:
    """Rebuild an :class:`INFN` from its ``config`` dict (as stored in checkpoints)."""
    cfg = dict(config)
    return INFN(
        bands=cfg.pop("bands"), msi_bands=cfg.pop("msi_bands"), weighting=cfg.pop("weighting"),
        preset=cfg.pop("preset"), normalize=cfg.pop("normalize", "none"), **cfg,
    )
