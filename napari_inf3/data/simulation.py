"""The paper's simulation of an LR-HSI / HR-MSI pair from a ground-truth HR-HSI (section 4).

* LR-HSI ``X``: blur every band with a 3×3 Gaussian kernel (σ = 0.5, normalised to sum 1,
  reflect padding), then keep one pixel of each r × r block: the one at index ``offset``,
  by default ``r // 2`` (``[..., r//2::r, r//2::r]``), the pixel nearest the block's centre,
  where eq. (2)'s pixel-centre coordinates place the LR sample. (Index 0, which this project
  used before 2026-11-26, shifts every LR sample by 1.5 HR pixels at r = 4 and costs bicubic
  3.3 dB on the paper's test scenes; docs/METHOD.md.)
* HR-MSI ``Y``: ``Y = P · Z`` per pixel, ``P`` the ``(s, B)`` spectral response function
  (SRF), by default the Nikon D700's (rows R, G, B, each summing to 1). The packaged responses
  (satellites too) and their resampling to a cube's wavelengths are in :mod:`napari_inf3.data.responses`,
  re-exported here (``load_srf``, ``resample_srf``, ``srf_channels``, ``srf_wavelengths``, ``SRF_NAMES``).

Pure numpy, no torch: the training loop, the CLI and the GUI all call :func:`simulate`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .cube import Cube, CubeError
from .responses import SRF_NAMES, load_srf, parse_srf_csv, resample_srf, srf_channels, srf_wavelengths

__all__ = ["gaussian_kernel", "blur", "blur_decimate", "decimate", "default_offset", "load_srf", "simulate",
           "SRF_NAMES", "apply_srf", "parse_srf_csv", "resample_srf", "srf_channels", "srf_wavelengths",
           "write_srf_csv"]


def gaussian_kernel(size: int = 3, sigma: float = 0.5) -> np.ndarray:
    """``(size, size)`` float64 Gaussian kernel normalised to sum 1."""
    if size < 1 or size % 2 == 0:
        raise ValueError(f"kernel size must be a positive odd number, got {size}")
    ax = np.arange(size, dtype=np.float64) - (size - 1) / 2
    g = np.exp(-(ax**2) / (2.0 * sigma**2))
    k = np.outer(g, g)
    return k / k.sum()


def blur(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Filter the last two axes of ``x`` (``(..., H, W)``) with ``kernel``, reflect padding.

    Correlation with a symmetric kernel, computed as a sum of shifted slices so that any
    leading axes (bands, batch) are handled at once: :func:`blur_decimate` keeping every
    pixel. Returns float32.
    """
    return blur_decimate(x, kernel, 1, 0)


def default_offset(scale: int) -> int:
    """The paper's decimation offset: index ``r // 2`` of each r × r block."""
    return int(scale) // 2


def check_offset(offset: int | None, scale: int, source=None) -> int:
    """``offset`` resolved (``None`` → :func:`default_offset`) and checked: an integer, 0 ≤ offset < r."""
    if offset is None:
        return default_offset(scale)
    if isinstance(offset, bool) or int(offset) != offset or not 0 <= int(offset) < int(scale):
        raise CubeError(f"the decimation offset must be an integer 0 ≤ offset < {scale} (the scale), got {offset}",
                        source)
    return int(offset)


def decimate(x: np.ndarray, scale: int, offset: int | None = None) -> np.ndarray:
    """Keep pixel ``offset`` (default ``r // 2``) of each ``scale`` × ``scale`` block of the last two axes."""
    off = check_offset(offset, scale)
    return np.ascontiguousarray(x[..., off::scale, off::scale])


def blur_decimate(x: np.ndarray, kernel: np.ndarray, scale: int, offset: int | None = None) -> np.ndarray:
    """``decimate(blur(x, kernel), scale, offset)`` computed only at the kept pixels.

    The taps are summed in the same order as :func:`blur`, so the result is bit-identical to
    blurring everything and then decimating, at ≈ 1 / r² of the work. ``x`` is ``(..., H, W)``
    with ``H`` and ``W`` multiples of ``scale``; returns ``(..., H / r, W / r)`` float32.
    """
    off = check_offset(offset, scale)
    kh, kw = kernel.shape
    ph, pw = kh // 2, kw // 2
    h, w = x.shape[-2:]
    if h <= ph or w <= pw:
        raise CubeError(f"image of {h}×{w} pixels is too small for a {kh}×{kw} blur")
    n_y, n_x = len(range(off, h, scale)), len(range(off, w, scale))
    pad = [(0, 0)] * (x.ndim - 2) + [(ph, ph), (pw, pw)]
    xp = np.pad(np.asarray(x, dtype=np.float32), pad, mode="reflect")
    out = np.zeros(x.shape[:-2] + (n_y, n_x), dtype=np.float32)
    for i in range(kh):
        for j in range(kw):
            out += np.float32(kernel[i, j]) * xp[..., off + i : off + i + (n_y - 1) * scale + 1 : scale,
                                                 off + j : off + j + (n_x - 1) * scale + 1 : scale]
    return out


def write_srf_csv(matrix: np.ndarray, path, wavelengths, channels=None) -> Path:
    """Write an ``(s, B)`` response in :func:`parse_srf_csv`'s layout (e.g. one :func:`estimate_srf` found).
    The response comes first, as the data does in every write function (``write_cube(cube, path)``).

    Atomic (:func:`napari_inf3.io.atomic.atomic_write_text`): a failure raises
    :class:`~napari_inf3.io.atomic.WriteError` and leaves an existing file as it was."""
    from ..io.atomic import atomic_write_text

    if isinstance(matrix, (str, Path)):
        raise TypeError("write_srf_csv(matrix, path, wavelengths): the response comes first (as in "
                        f"write_cube(cube, path)); got a path, {str(matrix)!r}, in its place")
    path = Path(path)
    channels = channels or [f"band{k + 1}" for k in range(matrix.shape[0])]
    head = "channel," + ",".join(f"{float(w):g}" for w in wavelengths)
    rows = [f"{c}," + ",".join(repr(float(v)) for v in row)
            for c, row in zip(channels, np.asarray(matrix), strict=False)]
    return atomic_write_text(path, "\n".join([head, *rows]) + "\n")


def apply_srf(z: np.ndarray, srf_matrix: np.ndarray) -> np.ndarray:
    """``Y = P · Z`` per pixel: ``(..., B, H, W)`` → ``(..., s, H, W)`` float32."""
    return np.einsum("sb,...bhw->...shw", srf_matrix, np.asarray(z, np.float32), optimize=True).astype(np.float32)


def simulate(
    gt: Cube | np.ndarray,
    scale: int = 4,
    srf: str | np.ndarray = "nikon_d700",
    *,
    crop: bool = False,
    sigma: float = 0.5,
    kernel_size: int = 3,
    offset: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Simulate ``(lr_hsi, hr_msi)`` from a ground-truth cube as the paper does.

    Parameters
    ----------
    gt : Cube or np.ndarray
        ``(B, H, W)`` or a batch ``(N, B, H, W)``, values in [0, 1].
    scale : int
        Decimation factor r (4 in the paper). ``H`` and ``W`` must be multiples of it.
    srf : str or np.ndarray
        Packaged SRF name or an ``(s, B)`` matrix. A response tabulated on other wavelengths than the
        cube's (a satellite's, the Nikon's for a 224-band cube) is passed resampled:
        ``srf=load_srf("sentinel2a_10m", wavelengths=cube.wavelengths)``.
    crop : bool
        Crop ``H`` and ``W`` down to multiples of ``scale`` instead of refusing.
    offset : int or None
        Which pixel of each r × r block the LR-HSI keeps (rows and columns): ``None`` is the
        paper's ``r // 2``; any integer 0 ≤ offset < r is allowed (0 reproduces this
        project's simulation before 2026-11-26).

    Returns
    -------
    lr_hsi : ``(B, H/r, W/r)`` (or with the batch axis) float32
    hr_msi : ``(s, H, W)`` float32
    """
    source = gt.source if isinstance(gt, Cube) else None
    z = np.asarray(gt.data if isinstance(gt, Cube) else gt, dtype=np.float32)
    if z.ndim not in (3, 4):
        raise CubeError(f"ground truth must be (B, H, W) or (N, B, H, W), got shape {z.shape}", source)
    if int(scale) != scale or scale < 1:
        raise CubeError(f"the simulation's scale must be a positive integer, got {scale}", source)
    scale = int(scale)
    offset = check_offset(offset, scale, source)
    h, w = z.shape[-2:]
    if h % scale or w % scale:
        if not crop:
            raise CubeError(
                f"spatial size {h}×{w} is not divisible by the scale {scale}; crop it to "
                f"{h - h % scale}×{w - w % scale} (crop=True, CLI --crop)",
                source,
            )
        z = z[..., : h - h % scale, : w - w % scale]
    p = load_srf(srf, bands=z.shape[-3])
    lr = blur_decimate(z, gaussian_kernel(kernel_size, sigma), scale, offset)
    msi = apply_srf(z, p)
    return lr, msi
