"""Spectral responses (SRF / RSR): the packaged ones, reading them, and resampling them onto a cube's bands.

A response ``P`` is an ``(s, B)`` float32 matrix: one row per MSI band (channel), one column per band of
the hyperspectral cube, so that ``Y = P · Z`` per pixel (:func:`napari_inf3.data.simulation.apply_srf`); each
row sums to 1, as the Nikon D700's does in the paper.

Packaged (``SRF_NAMES``; the files are in ``napari_inf3/srf/``, their sources in ``srf/PROVENANCE.md``):

* ``nikon_d700``: the paper's camera, R, G, B at 400–700 nm every 10 nm (31 columns); the file *is* ``P``.
* the operators' published relative spectral responses of multispectral satellites, on a 1 nm grid, each
  row peak-normalised to 1 in the file: ``ikonos`` (+ ``_pan``), ``quickbird`` (+ ``_pan``), ``worldview2``
  (+ ``_pan``), ``sentinel2a_msi`` / ``sentinel2b_msi`` (13 bands; ``_10m``: B2, B3, B4, B8; ``_20m``: B5,
  B6, B7, B8A, B11, B12), ``landsat8_oli`` / ``landsat9_oli2`` (B1–B7; + ``_pan``, ``_cirrus``).

:func:`resample_srf` evaluates any of them (or a CSV, or a matrix with its wavelengths) at a cube's band
centres; :func:`load_srf` does it when given the cube's ``wavelengths``. Pure numpy.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

import numpy as np

from .cube import CubeError

__all__ = ["SRF_NAMES", "PACKAGED", "PackagedResponse", "load_srf", "parse_srf_csv", "resample_srf",
           "srf_channels", "srf_wavelengths"]


@dataclass(frozen=True)
class PackagedResponse:
    """One packaged name: ``file`` (``srf/<file>.csv``), the ``channels`` it keeps (``None``: every row, in
    the file's order), what it is (``about``), and ``curves``: whether the rows are response curves (peak 1,
    divided by their sums to make ``P``) rather than ``P`` itself (the Nikon's, rows summing to 1)."""

    file: str
    about: str
    channels: tuple[str, ...] | None = None
    curves: bool = True


_S2_10M = ("B2_blue", "B3_green", "B4_red", "B8_nir")
_S2_20M = ("B5_red_edge1", "B6_red_edge2", "B7_red_edge3", "B8A_nir_narrow", "B11_swir1", "B12_swir2")

PACKAGED: dict[str, PackagedResponse] = {
    "nikon_d700": PackagedResponse("nikon_d700", "Nikon D700 R, G, B, 400–700 nm at 10 nm (CAVE)", curves=False),
    "srgb_cie1931": PackagedResponse("srgb_cie1931", "an sRGB rendering: CIE 1931 2° observer → linear sRGB, "
                                     "R, G, B (signed), 400–700 nm at 10 nm", curves=False),
    "ikonos": PackagedResponse("ikonos", "IKONOS-2 B1–B4 (blue, green, red, NIR), GeoEye/Maxar"),
    "ikonos_pan": PackagedResponse("ikonos_pan", "IKONOS-2 panchromatic, GeoEye/Maxar"),
    "quickbird": PackagedResponse("quickbird", "QuickBird-2 B1–B4 (blue, green, red, NIR), DigitalGlobe/Maxar"),
    "quickbird_pan": PackagedResponse("quickbird_pan", "QuickBird-2 panchromatic, DigitalGlobe/Maxar"),
    "worldview2": PackagedResponse("worldview2", "WorldView-2 B1–B8 (coastal … NIR2), DigitalGlobe/Maxar"),
    "worldview2_pan": PackagedResponse("worldview2_pan", "WorldView-2 panchromatic, DigitalGlobe/Maxar"),
    "sentinel2a_msi": PackagedResponse("sentinel2a_msi", "Sentinel-2A MSI B1–B12 and B8A (13 bands), ESA"),
    "sentinel2a_10m": PackagedResponse("sentinel2a_msi", "Sentinel-2A MSI 10 m bands B2, B3, B4, B8, ESA", _S2_10M),
    "sentinel2a_20m": PackagedResponse("sentinel2a_msi", "Sentinel-2A MSI 20 m bands B5–B7, B8A, B11, B12, ESA",
                                       _S2_20M),
    "sentinel2b_msi": PackagedResponse("sentinel2b_msi", "Sentinel-2B MSI B1–B12 and B8A (13 bands), ESA"),
    "sentinel2b_10m": PackagedResponse("sentinel2b_msi", "Sentinel-2B MSI 10 m bands B2, B3, B4, B8, ESA", _S2_10M),
    "sentinel2b_20m": PackagedResponse("sentinel2b_msi", "Sentinel-2B MSI 20 m bands B5–B7, B8A, B11, B12, ESA",
                                       _S2_20M),
    "landsat8_oli": PackagedResponse("landsat8_oli", "Landsat 8 OLI B1–B7, NASA/USGS"),
    "landsat8_oli_pan": PackagedResponse("landsat8_oli_pan", "Landsat 8 OLI B8 panchromatic, NASA/USGS"),
    "landsat8_oli_cirrus": PackagedResponse("landsat8_oli_cirrus", "Landsat 8 OLI B9 cirrus, NASA/USGS"),
    "landsat9_oli2": PackagedResponse("landsat9_oli2", "Landsat 9 OLI-2 B1–B7, NASA/USGS"),
    "landsat9_oli2_pan": PackagedResponse("landsat9_oli2_pan", "Landsat 9 OLI-2 B8 panchromatic, NASA/USGS"),
    "landsat9_oli2_cirrus": PackagedResponse("landsat9_oli2_cirrus", "Landsat 9 OLI-2 B9 cirrus, NASA/USGS"),
}
SRF_NAMES = tuple(PACKAGED)

# FWHM → σ of a Gaussian band profile
_FWHM_TO_SIGMA = 1.0 / (2.0 * math.sqrt(2.0 * math.log(2.0)))


@dataclass(frozen=True)
class _Table:
    """A response as tabulated: ``matrix`` (s, K), ``wavelengths`` (K,) nm, channel names, whether the rows
    are curves to normalise (see :class:`PackagedResponse`), and how to name it in messages."""

    matrix: np.ndarray
    wavelengths: np.ndarray
    channels: tuple[str, ...]
    curves: bool
    label: str


def _parse(text: str, source) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    lines = [ln.split(",") for ln in text.strip().splitlines() if ln.strip()]
    try:
        if len(lines) < 2:
            raise ValueError("it needs a header of wavelengths and at least one band row")
        wavelengths = np.array([float(v) for v in lines[0][1:]])
        rows = [[float(v) for v in ln[1:]] for ln in lines[1:]]
        if any(len(r) != wavelengths.size for r in rows):
            raise ValueError(f"every row needs {wavelengths.size} values, one per wavelength of the header")
    except ValueError as exc:
        raise CubeError(f"not a spectral response CSV (header 'channel,<nm>,...', rows '<band>,<values>'): {exc}",
                        source) from None
    matrix = np.asarray(rows, dtype=np.float32)
    if not np.all(np.isfinite(matrix)):
        raise CubeError("the spectral response holds NaN or infinite values", source)
    return matrix, wavelengths, tuple(ln[0].strip() for ln in lines[1:])


def parse_srf_csv(text: str, source="the SRF file") -> tuple[np.ndarray, np.ndarray]:
    """``(matrix (s, B) float32, wavelengths (B,) nm)`` from the CSV layout of ``srf/nikon_d700.csv``:
    a header ``channel,<nm>,<nm>,...`` and one row per MSI band ``<name>,<response>,...``."""
    return _parse(text, source)[:2]


def _unknown(name: str) -> CubeError:
    return CubeError(f"unknown spectral response {name!r}; packaged: {', '.join(SRF_NAMES)}")


@cache
def _packaged(name: str) -> _Table:
    """The packaged ``name``: its file's rows (those it keeps, trimmed to their non-zero columns plus one
    zero column each side), read-only."""
    entry = PACKAGED[name]
    text = resources.files("napari_inf3").joinpath(f"srf/{entry.file}.csv").read_text()
    matrix, wl, channels = _parse(text, f"the packaged {entry.file}.csv")
    if entry.channels is not None:
        matrix = matrix[[channels.index(c) for c in entry.channels]]
        channels = entry.channels
        used = np.flatnonzero(np.any(matrix != 0, axis=0))
        lo, hi = max(used[0] - 1, 0), min(used[-1] + 1, wl.size - 1)
        matrix, wl = matrix[:, lo : hi + 1], wl[lo : hi + 1]
    matrix, wl = np.ascontiguousarray(matrix), np.ascontiguousarray(wl)
    matrix.flags.writeable = wl.flags.writeable = False
    return _Table(matrix, wl, channels, entry.curves, f"the packaged {name!r}")


def _is_csv(srf) -> bool:
    return isinstance(srf, Path) or (isinstance(srf, str) and (srf.lower().endswith(".csv") or Path(srf).is_file()))


def _table(srf) -> _Table:
    """A packaged name, a CSV path or a ``(matrix (s, K) or one curve (K,), wavelengths (K,))`` pair as a
    :class:`_Table`."""
    if _is_csv(srf):
        path = Path(srf)
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as exc:
            raise CubeError(f"cannot read the spectral response: {exc}", path) from None
        matrix, wl, channels = _parse(text, path)
        return _Table(matrix, wl, channels, False, str(path))
    if isinstance(srf, str):
        if srf not in PACKAGED:
            raise _unknown(srf)
        return _packaged(srf)
    if isinstance(srf, tuple) and len(srf) == 2:
        matrix, wl = np.atleast_2d(np.asarray(srf[0], dtype=np.float32)), _as_nm(srf[1], "response's wavelengths")
        if matrix.ndim == 2 and wl.size == matrix.shape[1]:
            if not np.all(np.isfinite(matrix)):
                raise CubeError("the spectral response holds NaN or infinite values")
            return _Table(matrix, wl, tuple(f"row {k + 1}" for k in range(matrix.shape[0])), False,
                          "the spectral response")
    raise CubeError("a spectral response here is a packaged name, a CSV path or a pair (matrix (s, K), "
                    f"wavelengths (K,) nm); got {type(srf).__name__}")


def _as_nm(values, what: str) -> np.ndarray:
    """``values`` as a 1-D float64 array of finite numbers, else a :class:`CubeError` naming ``what``."""
    try:
        arr = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise CubeError(f"the {what} must be numbers (nm), got {values!r}") from None
    if arr.size == 0 or not np.all(np.isfinite(arr)):
        raise CubeError(f"the {what} must be a non-empty list of finite numbers (nm)")
    return arr


def srf_channels(name: str | Path = "nikon_d700") -> list[str]:
    """The band (channel) names of a packaged response, in the order of its rows (or of a CSV's rows):
    ``srf_channels("sentinel2a_10m") == ["B2_blue", "B3_green", "B4_red", "B8_nir"]``."""
    return list(_table(name).channels)


def srf_wavelengths(name: str | Path = "nikon_d700") -> np.ndarray:
    """The wavelengths (nm, float64 ``(K,)``) of a packaged response's columns, as tabulated (or of a CSV's):
    400–700 nm every 10 nm for ``nikon_d700``, a 1 nm grid for the satellites."""
    return _table(name).wavelengths.copy()


def _point(table: _Table, centres: np.ndarray) -> np.ndarray:
    return np.stack([np.interp(centres, table.wavelengths, row, left=0.0, right=0.0)
                     for row in table.matrix.astype(np.float64)])


def _gaussian(table: _Table, centres: np.ndarray, fwhm: np.ndarray) -> np.ndarray:
    """Each row averaged over each band's Gaussian profile (centre, FWHM nm): the linearly interpolated
    curve sampled every ``min(0.2 nm, σ / 5)`` over ± 5 σ, 0 outside its table."""
    rows = table.matrix.astype(np.float64)
    out = np.empty((rows.shape[0], centres.size))
    for j, (c, sigma) in enumerate(zip(centres, fwhm * _FWHM_TO_SIGMA, strict=True)):
        step = min(0.2, sigma / 5.0)
        half = math.ceil(5.0 * sigma / step)
        x = c + step * np.arange(-half, half + 1)
        g = np.exp(-0.5 * ((x - c) / sigma) ** 2)
        g /= g.sum()
        out[:, j] = [np.interp(x, table.wavelengths, row, left=0.0, right=0.0) @ g for row in rows]
    return out


def _warn_zero_rows(table: _Table, zero: np.ndarray, centres: np.ndarray, stacklevel: int) -> None:
    """One warning naming the channels whose rows came out zero: outside the cube's range, or (a narrow
    band, point-sampled) between two of its band centres."""
    lo, hi = centres.min(), centres.max()
    outside: list[str] = []
    between: list[str] = []
    for channel, row, z in zip(table.channels, table.matrix, zero, strict=True):
        if z:
            support = table.wavelengths[row != 0]
            inside = bool(support.size) and support.max() >= lo and support.min() <= hi
            (between if inside else outside).append(channel)
    parts = [f"{', '.join(outside)} lie outside the cube's wavelengths ({lo:g}–{hi:g} nm)"] if outside else []
    parts += [f"{', '.join(between)} fall between its band centres (pass fwhm= to integrate over the bands' "
              "widths)"] if between else []
    hint = " (the cube's wavelengths look like µm; the responses are in nm)" if hi < 100 else ""
    warnings.warn(f"{table.label}: channel(s) {'; '.join(parts)}{hint}; their rows are zero, so those MSI "
                  "bands will be 0", UserWarning, stacklevel=stacklevel)


def _resample(table: _Table, wavelengths, fwhm, stacklevel: int) -> np.ndarray:
    centres = _as_nm(wavelengths, "cube's wavelengths")
    if table.wavelengths.size > 1 and np.any(np.diff(table.wavelengths) <= 0):
        raise CubeError(f"the wavelengths of {table.label} must increase strictly")
    if fwhm is None:
        out = _point(table, centres)
    else:
        widths = _as_nm(fwhm, "FWHM")
        if widths.size not in (1, centres.size) or np.any(widths <= 0):
            raise CubeError(f"fwhm must be one positive width (nm) or one per band ({centres.size}), got {fwhm!r}")
        out = _gaussian(table, centres, np.broadcast_to(widths, centres.shape))
    sums = out.sum(axis=1)
    zero = ~np.any(out != 0, axis=1)
    if np.any(~zero & (sums <= 0)):
        raise CubeError(f"{table.label} has rows whose values on the cube's wavelengths sum to ≤ 0")
    if np.any(zero):
        _warn_zero_rows(table, zero, centres, stacklevel + 1)
    out[~zero] /= sums[~zero, None]
    return out.astype(np.float32)


def resample_srf(srf, wavelengths, *, fwhm=None) -> np.ndarray:
    """A response resampled onto a hyperspectral cube's bands: the ``(s, B)`` float32 ``P`` of ``Y = P · Z``.

    ``srf`` is a packaged name (``SRF_NAMES``), a CSV path (:func:`parse_srf_csv`'s layout) or a pair
    ``(matrix (s, K) or one curve (K,), wavelengths (K,) nm)``, with strictly increasing wavelengths.
    ``wavelengths`` are the cube's ``B`` band centres (nm). Each row is evaluated at them (linear
    interpolation of its table, 0 outside the table's range); with ``fwhm`` (nm: one per band, or one for
    all) it is instead averaged over each band's Gaussian profile of that full width at half maximum, which
    keeps a narrow feature of the response from falling between two broad bands. Each row is then divided
    by its sum (rows sum to 1, as the Nikon D700's do), which assumes roughly even band spacing. A channel
    that gets nothing (outside the cube's wavelengths, e.g. Sentinel-2's SWIR on a 400–700 nm cube, or a
    narrow band between two band centres) keeps a zero row, and one ``UserWarning`` names all such channels
    and the cube's range.
    """
    return _resample(_table(srf), wavelengths, fwhm, stacklevel=3)


def _same_grid(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=0.0, atol=1e-3))


def load_srf(srf: str | Path | np.ndarray = "nikon_d700", bands: int | None = None, *,
             wavelengths=None) -> np.ndarray:
    """The ``(s, B)`` spectral response matrix ``P`` as float32.

    ``srf`` is a packaged name (``SRF_NAMES``: ``'nikon_d700'`` is 3 × 31, 400–700 nm at 10 nm; the
    satellites are tabulated every 1 nm), a path to a CSV in the packaged layout (:func:`parse_srf_csv`), or
    an array (taken as it is). ``bands`` checks that ``P`` has one column per band of the cube it will be
    applied to. ``wavelengths`` (nm, the cube's ``B`` band centres, e.g. ``cube.wavelengths``): a name or CSV
    tabulated on other wavelengths is resampled onto them with :func:`resample_srf` (rows summing to 1); on
    the same wavelengths, the Nikon's matrix and a CSV are returned as written. Without ``wavelengths`` a
    name or CSV comes on its own grid (:func:`srf_wavelengths`), a satellite's rows divided by their sums.
    """
    wl = None if wavelengths is None else _as_nm(wavelengths, "cube's wavelengths")
    if wl is not None and bands is not None and wl.size != bands:
        raise CubeError(f"{wl.size} wavelengths given for a cube of {bands} bands")
    if not isinstance(srf, (str, Path)):
        matrix = np.asarray(srf, dtype=np.float32)
        if matrix.ndim != 2:
            raise CubeError(f"a spectral response must be a 2-D (s, B) array, got shape {matrix.shape}")
        if wl is not None and matrix.shape[1] != wl.size:
            raise CubeError(f"the spectral response has {matrix.shape[1]} columns (bands) but {wl.size} "
                            "wavelengths were given; an array is not resampled: use resample_srf((matrix, its "
                            "wavelengths), wavelengths)")
        if bands is not None and matrix.shape[1] != bands:
            raise CubeError(
                f"the spectral response has {matrix.shape[1]} columns (bands) but the cube has {bands} bands"
            )
        return matrix
    table = _table(srf)
    if wl is not None and (table.curves or not _same_grid(table.wavelengths, wl)):
        return _resample(table, wl, None, stacklevel=3)
    own = table.wavelengths
    if bands is not None and own.size != bands:
        raise CubeError(
            f"the spectral response has {own.size} columns (bands) but the cube has {bands} bands: "
            f"{table.label} is tabulated at {own[0]:g}–{own[-1]:g} nm; pass the cube's band centres to "
            f"resample it: srf=load_srf({str(srf)!r}, wavelengths=cube.wavelengths)"
        )
    if table.curves:
        return _resample(table, own, None, stacklevel=3)
    return table.matrix.copy()
