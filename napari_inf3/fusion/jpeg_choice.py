"""An 8-bit photo and a shipped network with JPEG-tuned weights (:data:`napari_inf3.shipped.JPEG_TUNED`): fuse
with both, keep the one whose result reproduces the measured LR-HSI better.

The JPEG-tuned lite networks (``area``, ``net``, ``cosine``; an ensemble's members each choosing for itself) were
fine-tuned through one camera (:meth:`napari_inf3.camera.CameraFit.generic_jpeg`, an sRGB rendering from the CIE
observer, 8 bits, JPEG). Through cameras like it ``cosine`` gains: CAVE's renderings at quality 85 +0.66 dB on the
mean, and the same renderings stored losslessly (the 8-bit PNGs) +1.07 dB — what it learnt is
mostly the rendering and the 8 bits, not only the JPEG. Through other cameras it loses (the Nikon D700, and the
Nikon mixed by a colour matrix, simulated and stored at quality 85: −1.3 to −3.2 dB on four scenes), and a camera's
fitted response is too loosely determined to tell them apart. What does tell them apart without ground truth is
the LR-HSI, which was measured, not stored lossily: each result blurred and decimated as the camera's fit says,
against it. On all 16 JPEG pairs of ``python -m experiments jpeg_choice`` and all 20 lossless renderings of
``python -m experiments jpeg_camera_table`` (beads: the tuned weights 0.04 dB worse, the plain ones kept) the result
that reproduced the LR-HSI better was the better one (docs/REAL_PAIRS.md). It costs a second fusion; a photo of
more than 8 bits (16-bit, float, camera RAW) fuses with the network's own weights only.

Shapes: cubes ``(S, H, W)``, the LR-HSI ``(S, h, w)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

__all__ = ["lr_reproduction", "eight_bit_photo", "tuned_alternative", "fuse_keeping_the_better"]


def eight_bit_photo(camera) -> bool:
    """Whether ``camera`` stored its photo in 8 bits: a JPEG (``camera.jpeg``) or 8-bit values (``camera.bits``)."""
    return getattr(camera, "jpeg", None) is not None or getattr(camera, "bits", None) == 8


def tuned_alternative(model, camera):
    """The JPEG-tuned weights to try beside ``model`` for an 8-bit photo (:func:`eight_bit_photo`): the shipped
    network's counterpart (:func:`napari_inf3.shipped.jpeg_tuned`), or ``None``."""
    if not eight_bit_photo(camera):
        return None
    from ..shipped import jpeg_tuned

    return jpeg_tuned(model)


def lr_reproduction(cube: np.ndarray, lr_hsi: np.ndarray, camera) -> float:
    """Mean squared difference between the LR-HSI ``(S, h, w)`` and ``cube`` ``(S, H, W)`` blurred and decimated as
    ``camera`` (its blur σ, scale, offset) says; ``inf`` where the grids do not match."""
    from ..camera.srf_fit import srf_kernel
    from ..data.simulation import blur_decimate

    lr = np.asarray(lr_hsi, np.float32)
    if cube.shape[1] != lr.shape[1] * camera.scale or cube.shape[2] != lr.shape[2] * camera.scale:
        return float("inf")
    back = blur_decimate(cube, srf_kernel(camera.sigma), camera.scale, camera.offset)
    return float(np.mean((back - lr) ** 2, dtype=np.float64))


def _halves(run, first: bool):
    """``run`` whose progress reports one of two fusions as half of the whole."""
    progress = run.progress
    if progress is None:
        return run
    return replace(run, progress=lambda done, total: progress(done + (0 if first else total), 2 * total))


def fuse_keeping_the_better(fuse_one: Callable[..., tuple[np.ndarray, Any]], model, tuned, lr_hsi, camera, run,
                            *, out=None, weights_out=None, member: str | None = None,
                            **options) -> tuple[np.ndarray, Any]:
    """``fuse_one(model, run, **options) -> (cube, weights)`` with ``model`` and with ``tuned``; the result (and its
    weights) that reproduces ``lr_hsi`` better (:func:`lr_reproduction`), in ``out`` when given. Says which it kept,
    and by how much, in a ``UserWarning`` (the result's notes; ``member``: the ensemble member it was)."""
    import warnings

    own = fuse_one(model, _halves(run, True), **options)
    alt = fuse_one(tuned, _halves(run, False), **options)
    e_own, e_alt = lr_reproduction(own[0], lr_hsi, camera), lr_reproduction(alt[0], lr_hsi, camera)
    keep_tuned = e_alt < e_own
    cube, wts = alt if keep_tuned else own
    margin = abs(10 * np.log10(max(e_own, 1e-20) / max(e_alt, 1e-20))) if np.isfinite(e_own + e_alt) else 0.0
    which = "its JPEG-tuned weights" if keep_tuned else "its own weights"
    other = "its own" if keep_tuned else "the JPEG-tuned ones"
    stored = "a JPEG" if getattr(camera, "jpeg", None) is not None else "8-bit"
    network = "the shipped network" if member is None else f"the ensemble's {member}"
    warnings.warn(f"the photo is {stored}: fused with {network}'s own and JPEG-tuned weights; kept {which}, "
                  f"whose result reproduces the LR-HSI {margin:.2f} dB better than {other} (docs/REAL_PAIRS.md)",
                  UserWarning, stacklevel=3)
    if out is not None:
        out[...] = cube
        cube = out
    if weights_out is not None and wts is not None:
        weights_out[...] = wts
        wts = weights_out
    return cube, wts
