"""Georeferencing in files: a GeoTIFF's GeoKeys (through rasterio) and an ENVI header's ``map info`` /
``coordinate system string``, read into and written from :class:`napari_inf3.data.geo.GeoRef`.

ENVI's ``map info`` is ``{projection, ref x, ref y, easting, northing, pixel x, pixel y[, zone, North|South],
datum[, units=…][, rotation=…]}`` with the reference pixel 1-based and 1.0 at the corner of the first pixel (as
GDAL reads it); a ``coordinate system string`` (WKT) names the CRS when present, else a UTM or geographic
``map info`` on WGS-84 is turned into its EPSG code.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np

from ..data.cube import Cube, CubeError
from ..data.geo import NEED_GEO, GeoRef, GeoWarning, rasterio_or_none

__all__ = ["tiff_is_georeferenced", "read_tiff_georef", "nodata_mask", "write_geotiff", "envi_georef",
           "envi_fields"]

#: TIFF tags that make a GeoTIFF: ModelPixelScale, ModelTiepoint, ModelTransformation, GeoKeyDirectory.
GEO_TAGS = (33550, 33922, 34264, 34735)


def tiff_is_georeferenced(path: str | Path) -> bool:
    """Whether the TIFF's first page carries GeoTIFF tags (never raises)."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            tags = getattr(tif.pages[0], "tags", None)
            return tags is not None and any(code in tags for code in GEO_TAGS)
    except Exception:  # noqa: BLE001 - a damaged file: read_tiff says what is wrong with it
        return False


def read_tiff_georef(path: str | Path) -> tuple[GeoRef | None, list[str] | None]:
    """``(GeoRef, band descriptions)`` of a GeoTIFF through rasterio; ``(None, None)`` with a :class:`GeoWarning`
    when rasterio is not installed (the image is then read without its position)."""
    rio = rasterio_or_none()
    if rio is None:
        warnings.warn(f"{path}: a GeoTIFF, read without its georeferencing: {NEED_GEO}", GeoWarning, stacklevel=3)
        return None, None
    try:
        with rio.open(str(path)) as ds:
            crs = ds.crs.to_wkt() if ds.crs is not None else None
            t = ds.transform
            geo = GeoRef(crs, (t.a, t.b, t.c, t.d, t.e, t.f), None if ds.nodata is None else float(ds.nodata))
            return geo, list(ds.descriptions)
    except CubeError as exc:
        raise CubeError(f"its georeferencing is not usable: {exc}", path) from None
    except Exception as exc:  # noqa: BLE001 - rasterio / GDAL raise their own error types for damaged tags
        raise CubeError(f"its georeferencing could not be read ({type(exc).__name__}: {exc})", path) from None


def nodata_mask(raw: np.ndarray, nodata: float | None) -> np.ndarray | None:
    """``(H, W)`` bool: pixels where any band is ``nodata`` (or NaN), or ``None`` when there are none."""
    bad = ~np.isfinite(raw).all(axis=0) if raw.dtype.kind == "f" else np.zeros(raw.shape[1:], bool)
    if nodata is not None and np.isfinite(nodata):
        bad |= (raw == np.asarray(nodata).astype(raw.dtype)).any(axis=0)
    return bad if bad.any() else None


def band_wavelengths(descriptions: list[str] | None) -> np.ndarray | None:
    """Wavelengths from band descriptions written as ``'<number> nm'`` (ours and many tools'), else ``None``."""
    if not descriptions or any(d is None for d in descriptions):
        return None
    found = [re.fullmatch(r"\s*([0-9.+-eE]+)\s*nm\s*", d) for d in descriptions]
    if not all(found):
        return None
    try:
        return np.asarray([float(m.group(1)) for m in found if m], np.float64)
    except ValueError:
        return None


def write_geotiff(cube: Cube, path: Path) -> None:
    """``cube`` (with ``cube.geo``) as a float32 band-sequential GeoTIFF at ``path``: CRS, transform, nodata, band
    descriptions ``'<λ> nm'`` and a ``wavelength`` tag."""
    rio = rasterio_or_none()
    if rio is None:
        raise CubeError(f"writing a georeferenced GeoTIFF needs rasterio: {NEED_GEO}", path)
    from rasterio.transform import Affine

    geo: GeoRef = cube.geo
    data = np.asarray(cube.data, np.float32)
    b, h, w = data.shape
    profile = {"driver": "GTiff", "width": w, "height": h, "count": b, "dtype": "float32", "interleave": "band",
               "crs": geo.crs, "transform": Affine(*geo.transform), "nodata": geo.nodata}
    with rio.open(str(path), "w", **profile) as ds:
        ds.write(data)
        if cube.wavelengths is not None:
            for i, wl in enumerate(cube.wavelengths, start=1):
                ds.set_band_description(i, f"{float(wl):g} nm")
            ds.update_tags(wavelength=",".join(f"{float(x):g}" for x in cube.wavelengths), wavelength_units="nm")


# -- ENVI ---------------------------------------------------------------------------------------------------------
def envi_georef(meta: dict, path) -> GeoRef | None:
    """The :class:`GeoRef` an ENVI header's ``map info`` (and ``coordinate system string``) gives, or ``None``."""
    info = meta.get("map info")
    if not info:
        return None
    fields = [str(f).strip() for f in (info if isinstance(info, list) else str(info).strip("{}").split(","))]
    if len(fields) < 7:
        raise CubeError(f"header field 'map info' has {len(fields)} entries, at least 7 expected", path)
    try:
        ref_x, ref_y, east, north, dx, dy = (float(f) for f in fields[1:7])
    except ValueError:
        raise CubeError(f"header field 'map info' is not numeric where it must be: {fields[1:7]}", path) from None
    rotation = 0.0
    for f in fields[7:]:
        if f.lower().startswith("rotation="):
            try:
                rotation = float(f.split("=", 1)[1])
            except ValueError:
                raise CubeError(f"header field 'map info' has an unreadable rotation: {f!r}", path) from None
    if rotation:
        raise CubeError(f"its map grid is rotated by {rotation:g}°: not supported", path)
    c = east - (ref_x - 1.0) * dx
    f0 = north + (ref_y - 1.0) * dy
    crs = meta.get("coordinate system string")
    if isinstance(crs, list):
        crs = ",".join(crs)
    return GeoRef(crs.strip("{} ") if crs else _crs_from_map_info(fields), (dx, 0.0, c, 0.0, -dy, f0),
                  _nodata(meta.get("data ignore value"), path))


def _nodata(value, path) -> float | None:
    if value in (None, ""):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise CubeError(f"header field 'data ignore value' is not a number: {value!r}", path) from None


def _crs_from_map_info(fields: list[str]) -> str | None:
    """An EPSG code for UTM / geographic WGS-84 ``map info`` (the common cases), else ``None``."""
    proj = fields[0].lower()
    rest = [f.lower() for f in fields[7:]]
    if "wgs-84" not in rest and "wgs84" not in rest:
        return None
    if proj.startswith("geographic"):
        return "EPSG:4326"
    if proj == "utm" and len(fields) >= 9:
        try:
            zone = int(fields[7])
        except ValueError:
            return None
        return f"EPSG:{32600 + zone if fields[8].strip().lower().startswith('n') else 32700 + zone}"
    return None


def envi_fields(geo: GeoRef) -> dict[str, str]:
    """The ``map info`` (and ``coordinate system string``, ``data ignore value``) header fields for ``geo``."""
    if geo.rotated:
        raise CubeError("a rotated map grid cannot be written to an ENVI header here")
    a, _, c, _, e, f = geo.transform
    utm = _utm_zone(geo.crs)
    head = ["UTM", "1", "1", f"{c:.10g}", f"{f:.10g}", f"{a:.10g}", f"{-e:.10g}", str(abs(utm)),
            "North" if utm > 0 else "South", "WGS-84", "units=Meters"] if utm else \
        ["Arbitrary", "1", "1", f"{c:.10g}", f"{f:.10g}", f"{a:.10g}", f"{-e:.10g}", "0"]
    out = {"map info": "{" + ", ".join(head) + "}"}
    if geo.crs:
        out["coordinate system string"] = "{" + _wkt(geo.crs) + "}"
    if geo.nodata is not None:
        out["data ignore value"] = f"{geo.nodata:g}"
    return out


def _wkt(crs: str) -> str:
    rio = rasterio_or_none()
    if rio is None or crs.lstrip().upper().startswith(("PROJCS", "GEOGCS", "PROJCRS", "GEOGCRS")):
        return crs
    from rasterio.crs import CRS

    return CRS.from_user_input(crs).to_wkt()


def _utm_zone(crs: str | None) -> int:
    """+zone / −zone for a WGS-84 UTM CRS (EPSG 326xx / 327xx), else 0."""
    if not crs:
        return 0
    rio = rasterio_or_none()
    code = None
    if rio is not None:
        from rasterio.crs import CRS

        try:
            code = CRS.from_user_input(crs).to_epsg()
        except Exception:  # noqa: BLE001 - rasterio's CRSError for a CRS it cannot parse
            code = None
    else:
        m = re.fullmatch(r"\s*EPSG:(\d+)\s*", crs, re.IGNORECASE)
        code = int(m.group(1)) if m else None
    if code and 32601 <= code <= 32660:
        return code - 32600
    if code and 32701 <= code <= 32760:
        return -(code - 32700)
    return 0
