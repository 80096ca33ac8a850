"""Where a cube is on Earth, and a pair from two georeferenced files.

:class:`GeoRef` is what a GeoTIFF's GeoKeys or an ENVI header's ``map info`` / ``coordinate system string`` say:
a coordinate reference system (WKT), the affine transform from pixel to map coordinates and the nodata value.
Readers put it in ``Cube.geo``; writers put it back (GeoTIFF through rasterio, ENVI ``map info``).

:func:`align_pair` makes a fusion pair from an LR-HSI and an HR-MSI that cover different footprints on different
grids: the common footprint in whole LR pixels, the resolution ratio as the scale (a non-integer one: the LR-HSI
resampled to the nearest integer ratio, with a warning saying by how much), the HR-MSI cropped to those LR pixels,
nodata pixels of either image masked. The fused cube is then on the HR-MSI's grid over that footprint
(:attr:`AlignedPair.geo`).

Transforms are in rasterio's (affine) order ``(a, b, c, d, e, f)``: ``x = a·col + b·row + c``, ``y = d·col + e·row
+ f`` for the *corner* of pixel ``(row, col)``; ``a`` is the pixel width and ``e`` the (usually negative) pixel
height, in map units (metres for a projected CRS, degrees for a geographic one). rasterio is an optional extra
(``pip install 'napari-inf3[geo]'``); without it georeferenced files are read as plain images, with a warning.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .cube import Cube, CubeError

__all__ = ["GeoRef", "GeoWarning", "AlignedPair", "align_pair", "rasterio_or_none", "NEED_GEO"]

#: What a user without the extra is told.
NEED_GEO = "pip install 'napari-inf3[geo]' (rasterio)"
#: How far from an integer (in pixels) a ratio or an offset may be and still count as one.
GRID_TOL = 1e-6
#: The nodata value of a fused cube whose inputs had none declared but some pixels without data.
NODATA = -9999.0


class GeoWarning(UserWarning):
    """Georeferencing that was ignored, or a pair that had to be resampled to be fused."""


def rasterio_or_none():
    """The rasterio module, or ``None`` when the ``geo`` extra is not installed."""
    try:
        import rasterio
    except ImportError:
        return None
    return rasterio


@dataclass(frozen=True)
class GeoRef:
    """A raster's place on Earth.

    Attributes
    ----------
    crs : the coordinate reference system as WKT (``None``: a map transform without a known CRS).
    transform : ``(a, b, c, d, e, f)``: map coordinates of pixel corners (module docstring).
    nodata : the value that marks pixels without data in the file, or ``None``.
    """

    crs: str | None
    transform: tuple[float, float, float, float, float, float]
    nodata: float | None = None

    def __post_init__(self) -> None:
        t = tuple(float(v) for v in self.transform)
        if len(t) != 6 or not all(math.isfinite(v) for v in t) or t[0] * t[4] - t[1] * t[3] == 0:
            raise CubeError(f"not a usable map transform: {self.transform!r}")
        object.__setattr__(self, "transform", t)

    @property
    def rotated(self) -> bool:
        """Whether the grid is rotated or sheared against the map axes."""
        return abs(self.transform[1]) > 0 or abs(self.transform[3]) > 0

    @property
    def pixel_size(self) -> tuple[float, float]:
        """``(height, width)`` of a pixel in map units (positive)."""
        return abs(self.transform[4]), abs(self.transform[0])

    def corner(self, row: float, col: float) -> tuple[float, float]:
        """Map ``(x, y)`` of the corner of pixel ``(row, col)`` (fractions allowed)."""
        a, b, c, d, e, f = self.transform
        return a * col + b * row + c, d * col + e * row + f

    def pixel(self, x: float, y: float) -> tuple[float, float]:
        """Fractional ``(row, col)`` of map point ``(x, y)`` (north-up grids)."""
        a, _, c, _, e, f = self.transform
        return (y - f) / e, (x - c) / a

    def shifted(self, row: float, col: float) -> GeoRef:
        """This grid starting at pixel ``(row, col)`` (a crop)."""
        x, y = self.corner(row, col)
        a, b, _, d, e, _ = self.transform
        return replace(self, transform=(a, b, x, d, e, y))

    def bounds(self, shape: tuple[int, int]) -> tuple[float, float, float, float]:
        """``(left, bottom, right, top)`` of a north-up grid of ``shape`` (rows, cols)."""
        x0, y0 = self.corner(0, 0)
        x1, y1 = self.corner(shape[0], shape[1])
        return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)

    def same_crs(self, other: GeoRef) -> bool:
        """Whether both name the same CRS (rasterio compares them when installed; else the WKT text)."""
        if self.crs is None or other.crs is None:
            return self.crs is None and other.crs is None
        rio = rasterio_or_none()
        if rio is not None:
            from rasterio.crs import CRS

            try:
                return bool(CRS.from_user_input(self.crs) == CRS.from_user_input(other.crs))
            except Exception:  # noqa: BLE001 - rasterio raises its own CRSError for text it cannot parse
                pass
        return " ".join(self.crs.split()) == " ".join(other.crs.split())

    def to_dict(self) -> dict[str, Any]:
        return {"crs": self.crs, "transform": list(self.transform), "nodata": self.nodata}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> GeoRef:
        nodata = d.get("nodata")
        return cls(d.get("crs"), tuple(d["transform"]), None if nodata is None else float(nodata))


@dataclass(frozen=True)
class AlignedPair:
    """An LR-HSI and an HR-MSI cut to their common footprint (:func:`align_pair`).

    ``lr_hsi`` ``(S, h, w)`` and ``hr_msi`` ``(s, r·h, r·w)`` float32 (nodata pixels set to 0; an LR pixel whose
    block is not all data too), ``scale`` ``r``,
    ``geo`` the HR-MSI's grid over the footprint (the fused cube's), ``lr_geo`` the LR-HSI's, ``valid`` ``(r·h,
    r·w)`` bool (False where either image has no data), ``wavelengths`` of the LR-HSI, ``window`` the HR-MSI's
    rows and columns kept ``(row0, row1, col0, col1)`` and ``notes`` (what was done that the user should know)."""

    lr_hsi: np.ndarray
    hr_msi: np.ndarray
    scale: int
    geo: GeoRef
    lr_geo: GeoRef
    valid: np.ndarray
    wavelengths: np.ndarray | None
    window: tuple[int, int, int, int]
    notes: tuple[str, ...] = ()

    def finish_geo(self) -> GeoRef:
        """The fused cube's :class:`GeoRef`: :attr:`geo`, with a nodata value (the HR-MSI's, else -9999) when
        part of the footprint has no data."""
        if self.valid.all() or self.geo.nodata is not None:
            return self.geo
        return replace(self.geo, nodata=NODATA)

    def finish(self, fused: np.ndarray) -> Cube:
        """A fused ``(S, r·h, r·w)`` cube as a :class:`Cube` on :attr:`geo` (:meth:`finish_geo`), its nodata
        value where either input had no data."""
        data = np.array(fused, np.float32, copy=True)
        geo = self.finish_geo()
        meta: dict[str, Any] = {}
        if not self.valid.all():
            data[:, ~self.valid] = geo.nodata
            meta["nodata_mask"] = ~self.valid
        return Cube(data, self.wavelengths, None, meta, geo=geo)


def lr_valid(valid: np.ndarray | None, scale: int, *, margin: int = 1) -> np.ndarray | None:
    """The LR pixels a fit may use, from an HR ``(r·h, r·w)`` mask of pixels with data: those whose whole
    ``r × r`` block has data and whose ``margin`` neighbours do too (a blurred HR-MSI, degraded onto the LR grid,
    mixes in its neighbours' pixels). ``(h, w)`` bool; ``None`` when ``valid`` is ``None`` or all True."""
    if valid is None:
        return None
    v = np.asarray(valid, bool)
    if v.all():
        return None
    r = int(scale)
    h, w = v.shape[0] // r, v.shape[1] // r
    whole = np.asarray(v[: h * r, : w * r].reshape(h, r, w, r).all(axis=(1, 3)))
    if margin > 0:
        from scipy.ndimage import binary_erosion

        whole = np.asarray(binary_erosion(whole, np.ones((2 * margin + 1,) * 2, bool), border_value=1))
    return whole


def _valid(cube: Cube) -> np.ndarray:
    mask = cube.meta.get("nodata_mask")
    return np.ones(cube.data.shape[1:], bool) if mask is None else ~np.asarray(mask, bool)


def _integer(v: float, what: str, path) -> int:
    n = round(v)
    if abs(v - n) > GRID_TOL * max(1.0, abs(v)):
        raise CubeError(f"{what} is {v:.6g}, not a whole number of pixels: the grids do not line up "
                        "(resample one of the images onto the other's grid first)", path)
    return int(n)


def align_pair(lr_hsi: Cube, hr_msi: Cube, *, reproject: bool = False) -> AlignedPair:
    """The pair fusion takes, from two georeferenced cubes (``Cube.geo`` set by the readers).

    Refuses (:class:`CubeError`, naming the file) a cube without georeferencing, rotated grids, different CRSs
    (unless ``reproject``: the LR-HSI is warped onto the HR-MSI's CRS with rasterio), footprints that do not
    overlap by a whole LR pixel, and grids whose corners are not a whole number of HR pixels apart. A resolution
    ratio within 1e-6 of an integer is the scale; any other is rounded, the LR-HSI resampled (bilinear) to that
    ratio, and a :class:`GeoWarning` says by how much."""
    for cube, what in ((lr_hsi, "LR-HSI"), (hr_msi, "HR-MSI")):
        if getattr(cube, "geo", None) is None:
            raise CubeError(f"the {what} has no georeferencing (GeoTIFF GeoKeys or ENVI 'map info')", cube.source)
        if cube.geo.rotated:
            raise CubeError(f"the {what}'s grid is rotated against the map axes: not supported", cube.source)
    notes: list[str] = []
    if not lr_hsi.geo.same_crs(hr_msi.geo):
        if not reproject:
            raise CubeError("the LR-HSI and the HR-MSI are in different coordinate reference systems; reproject "
                            "one onto the other (CLI --reproject, align_pair(reproject=True))", lr_hsi.source)
        lr_hsi = _reproject(lr_hsi, hr_msi.geo)
        notes.append("the LR-HSI was reprojected onto the HR-MSI's coordinate reference system (bilinear), on a "
                     f"grid of {lr_hsi.geo.pixel_size[1]:g} that lines up with the HR-MSI's pixels")
    lr_geo, hr_geo = lr_hsi.geo, hr_msi.geo
    ratio = lr_geo.pixel_size[1] / hr_geo.pixel_size[1]
    ratio_y = lr_geo.pixel_size[0] / hr_geo.pixel_size[0]
    if abs(ratio - ratio_y) > 1e-6 * ratio:
        raise CubeError(f"the resolution ratio differs across ({ratio_y:.6g}) and along ({ratio:.6g}) rows",
                        lr_hsi.source)
    scale = round(ratio)
    if scale < 1:
        raise CubeError(f"the LR-HSI's pixels ({lr_geo.pixel_size[1]:g}) are smaller than the HR-MSI's "
                        f"({hr_geo.pixel_size[1]:g}): give the images the other way round", lr_hsi.source)
    if abs(ratio - scale) > GRID_TOL * ratio:
        msg = (f"the resolution ratio is {ratio:.4f}, not an integer: the LR-HSI was resampled to pixels of "
               f"{scale * hr_geo.pixel_size[1]:g} (ratio {scale}, {100 * (scale / ratio - 1):+.2f} %) to be fused")
        warnings.warn(msg, GeoWarning, stacklevel=2)
        notes.append(msg)
        lr_hsi = _resample(lr_hsi, scale * hr_geo.pixel_size[1])
        lr_geo = lr_hsi.geo
    i0, i1, j0, j1, y0, x0 = _footprint(lr_hsi, hr_msi, scale)
    lr = np.asarray(lr_hsi.data[:, i0:i1, j0:j1], np.float32)
    msi = np.asarray(hr_msi.data[:, y0 : y0 + (i1 - i0) * scale, x0 : x0 + (j1 - j0) * scale], np.float32)
    lr_has = _valid(lr_hsi)[i0:i1, j0:j1]
    valid = _valid(hr_msi)[y0 : y0 + msi.shape[1], x0 : x0 + msi.shape[2]] & np.repeat(
        np.repeat(lr_has, scale, 0), scale, 1)
    if not valid.all():  # no data in either image: 0 in both (a camera fit leaves stored 0s out, as clipped)
        msi = np.array(msi, copy=True)
        msi[:, ~valid] = 0
        # an LR pixel whose block is not all data is 0 too: the fits and the pair fusion take an LR pixel that is 0
        # in every band as one without data, so it neither spoils a fit nor carries a residual into its neighbours
        whole = lr_valid(valid, scale, margin=0)
        lr = np.array(lr, copy=True)
        if whole is not None:  # None only when every pixel has data, which this branch excludes
            lr[:, ~whole] = 0
    if (i0, j0, i1, j1) != (0, 0, *lr_hsi.data.shape[1:]) or msi.shape[1:] != hr_msi.data.shape[1:]:
        notes.append(f"common footprint: LR-HSI pixels rows {i0}:{i1}, cols {j0}:{j1}; HR-MSI rows "
                     f"{y0}:{y0 + msi.shape[1]}, cols {x0}:{x0 + msi.shape[2]} (×{scale})")
    if not valid.all():
        notes.append(f"{(~valid).mean():.1%} of the footprint has no data in one of the images: written as nodata")
    return AlignedPair(lr, msi, scale, hr_geo.shifted(y0, x0), lr_geo.shifted(i0, j0), valid, lr_hsi.wavelengths,
                       (y0, y0 + msi.shape[1], x0, x0 + msi.shape[2]), tuple(notes))


def _footprint(lr_hsi: Cube, hr_msi: Cube, scale: int) -> tuple[int, int, int, int, int, int]:
    """The LR-HSI's pixels ``i0:i1, j0:j1`` whose whole ``scale × scale`` block lies in the HR-MSI, and the HR
    pixel ``(y0, x0)`` where the first one starts; refuses grids whose corners are not whole HR pixels apart
    and footprints that do not overlap."""
    r0, c0 = hr_msi.geo.pixel(*lr_hsi.geo.corner(0, 0))
    r0i = _integer(r0, "the LR-HSI's corner on the HR-MSI's rows", hr_msi.source)
    c0i = _integer(c0, "the LR-HSI's corner on the HR-MSI's columns", hr_msi.source)
    h_lr, w_lr = lr_hsi.data.shape[1:]
    h_hr, w_hr = hr_msi.data.shape[1:]
    i0, j0 = max(0, math.ceil(-r0i / scale)), max(0, math.ceil(-c0i / scale))
    i1, j1 = min(h_lr, (h_hr - r0i) // scale), min(w_lr, (w_hr - c0i) // scale)
    if i1 - i0 < 1 or j1 - j0 < 1:
        raise CubeError("the LR-HSI and the HR-MSI do not overlap by a whole LR pixel", lr_hsi.source)
    return i0, i1, j0, j1, r0i + i0 * scale, c0i + j0 * scale


def _need_rasterio(what: str):
    rio = rasterio_or_none()
    if rio is None:
        raise CubeError(f"{what} needs rasterio: {NEED_GEO}")
    return rio


def _resample(cube: Cube, pixel: float) -> Cube:
    """``cube`` resampled (bilinear, rasterio) onto square pixels of ``pixel`` map units, same corner."""
    _need_rasterio("resampling to an integer resolution ratio")
    from rasterio.transform import Affine
    from rasterio.warp import Resampling, reproject

    g = cube.geo
    h, w = cube.data.shape[1:]
    left, bottom, right, top = g.bounds((h, w))
    nh, nw = int((top - bottom) // pixel), int((right - left) // pixel)
    dst = np.zeros((cube.data.shape[0], nh, nw), np.float32)
    new = GeoRef(g.crs, (pixel, 0.0, left, 0.0, -pixel, top), g.nodata)
    reproject(np.asarray(cube.data, np.float32), dst, src_transform=Affine(*g.transform), src_crs=g.crs,
              dst_transform=Affine(*new.transform), dst_crs=g.crs, resampling=Resampling.bilinear)
    return Cube(dst, cube.wavelengths, cube.source, dict(cube.meta, nodata_mask=None), geo=new)


def _reproject(cube: Cube, onto: GeoRef) -> Cube:
    """``cube`` warped (bilinear, rasterio) into ``onto``'s CRS, on a grid whose pixels are a whole number of
    ``onto``'s (the nearest to its own resolution) and whose corner is one of ``onto``'s pixel corners."""
    _need_rasterio("reprojecting")
    from rasterio.transform import Affine
    from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds

    g = cube.geo
    h, w = cube.data.shape[1:]
    guess, _, _ = calculate_default_transform(g.crs, onto.crs, w, h, *g.bounds((h, w)))
    hr_x, hr_y = onto.pixel_size[1], onto.pixel_size[0]
    r = max(1, round(abs(guess.a) / hr_x))
    left, bottom, right, top = transform_bounds(g.crs, onto.crs, *g.bounds((h, w)))
    c0, f0 = onto.transform[2], onto.transform[5]
    x0 = c0 + math.ceil((left - c0) / hr_x - GRID_TOL) * hr_x  # inside the warped footprint, on HR pixel corners
    y0 = f0 - math.ceil((f0 - top) / hr_y - GRID_TOL) * hr_y
    nw, nh = int((right - x0) // (r * hr_x)), int((y0 - bottom) // (r * hr_y))
    if nw < 1 or nh < 1:
        raise CubeError("the LR-HSI reprojected onto the HR-MSI's CRS covers less than one pixel", cube.source)
    new = GeoRef(onto.crs, (r * hr_x, 0.0, x0, 0.0, -r * hr_y, y0), g.nodata)
    dst = np.zeros((cube.data.shape[0], nh, nw), np.float32)
    warp = {"src_transform": Affine(*g.transform), "src_crs": g.crs, "dst_transform": Affine(*new.transform),
            "dst_crs": onto.crs, "resampling": Resampling.bilinear, "dst_nodata": 0}
    reproject(np.asarray(cube.data, np.float32), dst, **warp)
    covered = np.zeros((nh, nw), np.float32)  # where the warped image has data: the rest is nodata
    reproject(np.ones((h, w), np.float32), covered, **warp)
    outside = covered < 1 - 1e-6
    dst[:, outside] = 0
    return Cube(dst, cube.wavelengths, cube.source, dict(cube.meta, nodata_mask=outside if outside.any() else None),
                geo=new)
