"""The packaged spectral responses (Nikon D700 and the multispectral satellites) and their resampling onto
a hyperspectral cube's band centres: shapes, row sums, published band edges, FWHM integration, CSV round
trip, simulation with them."""

from __future__ import annotations

import warnings
from importlib import resources

import numpy as np
import pytest

from napari_inf3 import Cube, CubeError, simulate
from napari_inf3.data.responses import PACKAGED
from napari_inf3.data.simulation import (
    SRF_NAMES,
    load_srf,
    parse_srf_csv,
    resample_srf,
    srf_channels,
    srf_wavelengths,
    write_srf_csv,
)

CAVE = np.arange(400.0, 701.0, 10.0)  # 31 bands
AVIRIS = np.linspace(400.0, 2500.0, 224)  # AVIRIS-like, ≈ 9.4 nm apart
ROSIS = np.linspace(430.0, 860.0, 103)  # ROSIS-like (Pavia), ≈ 4.2 nm apart
GRIDS = {"cave": CAVE, "aviris": AVIRIS, "rosis": ROSIS}
NM_1 = np.arange(300.0, 2501.0)  # every packaged table is on integer nm inside this

ASKED = ("nikon_d700", "ikonos", "ikonos_pan", "quickbird", "quickbird_pan", "worldview2", "worldview2_pan",
         "sentinel2a_msi", "sentinel2a_10m", "sentinel2a_20m", "sentinel2b_msi", "sentinel2b_10m", "sentinel2b_20m",
         "landsat8_oli", "landsat8_oli_pan", "landsat9_oli2", "landsat9_oli2_pan")


def _load(name, wavelengths, **kw) -> tuple[np.ndarray, list[warnings.WarningMessage]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        p = load_srf(name, wavelengths=wavelengths, **kw)
    return p, caught


#: The files that are a 3 × 31 ``P`` themselves (10 nm, rows summing to 1), not an operator's 1 nm table.
MATRICES = ("nikon_d700", "srgb_cie1931")


def test_names_channels_and_files():
    assert set(ASKED) <= set(SRF_NAMES) and SRF_NAMES[0] == "nikon_d700"
    assert srf_channels("sentinel2a_10m") == ["B2_blue", "B3_green", "B4_red", "B8_nir"]
    assert srf_channels("sentinel2b_20m") == ["B5_red_edge1", "B6_red_edge2", "B7_red_edge3", "B8A_nir_narrow",
                                              "B11_swir1", "B12_swir2"]
    assert len(srf_channels("sentinel2a_msi")) == 13 and len(srf_channels("landsat8_oli")) == 7
    assert srf_channels("nikon_d700") == ["R", "G", "B"]
    provenance = resources.files("napari_inf3").joinpath("srf/PROVENANCE.md").read_text()
    for entry in {e.file for e in PACKAGED.values()}:
        csv = resources.files("napari_inf3").joinpath(f"srf/{entry}.csv")  # what the wheel ships
        assert csv.is_file() and f"{entry}.csv" in provenance, entry
        if entry not in MATRICES:  # the operators' tables: 1 nm, each row peaking at 1
            matrix, nm = parse_srf_csv(csv.read_text())
            assert np.all(np.diff(nm) == 1.0) and np.all(matrix >= 0), entry
            np.testing.assert_allclose(matrix.max(axis=1), 1.0, err_msg=entry)


@pytest.mark.parametrize("name", SRF_NAMES)
def test_every_name_loads_on_its_own_grid(name):
    p = load_srf(name)
    nm = srf_wavelengths(name)
    assert p.dtype == np.float32 and p.shape == (len(srf_channels(name)), nm.size)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(p >= 0) or name == "srgb_cie1931"  # an sRGB rendering's response is signed


def test_nikon_is_unchanged():
    """The paper's matrix comes back as written, with or without the CAVE wavelengths."""
    text = resources.files("napari_inf3").joinpath("srf/nikon_d700.csv").read_text()
    written = parse_srf_csv(text)[0]
    np.testing.assert_array_equal(load_srf(), written)
    np.testing.assert_array_equal(load_srf("nikon_d700", bands=31, wavelengths=CAVE), written)
    np.testing.assert_allclose(srf_wavelengths(), CAVE)
    arr = np.ones((2, 31), np.float32)
    np.testing.assert_array_equal(load_srf(arr, bands=31, wavelengths=CAVE), arr)  # arrays as they are


def test_srgb_rendering_is_the_cie_observer_through_the_srgb_primaries():
    """Spot values of the CIE 1931 2° observer (x̄, ȳ, z̄ at 450 / 550 / 600 nm, CIE 15) through the sRGB matrix
    (IEC 61966-2-1), each row then divided by its sum: a white reflector renders white."""
    p = load_srf("srgb_cie1931", bands=31)
    nm = srf_wavelengths("srgb_cie1931")
    cmf = {450: (0.3362, 0.038, 1.77211), 550: (0.4334499, 0.9949501, 0.008749999), 600: (1.0622, 0.631, 0.0008)}
    m = np.array([[3.2406, -1.5372, -0.4986], [-0.9689, 1.8758, 0.0415], [0.0557, -0.2040, 1.0570]])
    raw = {k: m @ np.array(v) for k, v in cmf.items()}
    # the rows' sums are not known here: the ratios between wavelengths are
    for a, b in ((450, 550), (600, 550)):
        ia, ib = int(np.argmin(abs(nm - a))), int(np.argmin(abs(nm - b)))
        np.testing.assert_allclose(p[1, ia] / p[1, ib], raw[a][1] / raw[b][1], rtol=1e-3)
    assert p.min() < -0.05 and np.argmax(p[0]) > np.argmax(p[1]) > np.argmax(p[2])  # R, G, B peaks in order


@pytest.mark.parametrize("grid", GRIDS)
def test_every_name_resamples_onto_the_sensor(grid):
    """Rows sum to 1, or are zero where the channel lies outside the cube, with one warning naming them."""
    wl = GRIDS[grid]
    for name in SRF_NAMES:
        p, caught = _load(name, wl, bands=wl.size)
        assert p.dtype == np.float32 and p.shape == (len(srf_channels(name)), wl.size), name
        sums = p.sum(axis=1)
        zero = np.all(p == 0, axis=1)
        np.testing.assert_allclose(sums[~zero], 1.0, atol=1e-5, err_msg=name)
        assert np.all(p >= 0) or name == "srgb_cie1931", name  # an sRGB rendering's response is signed
        if zero.any():
            assert len(caught) == 1 and caught[0].category is UserWarning, (name, caught)
            message = str(caught[0].message)
            assert f"{wl.min():g}–{wl.max():g} nm" in message
            assert all((c in message) == z for c, z in zip(srf_channels(name), zero, strict=True)), message
        else:
            assert not caught, (name, [str(w.message) for w in caught])
    expected_zero = {"cave": {"sentinel2a_msi": {"B11_swir1", "B12_swir2", "B8A_nir_narrow"},
                              "sentinel2a_10m": {"B8_nir"}, "landsat8_oli": {"B5_nir", "B6_swir1", "B7_swir2"}},
                     "rosis": {"sentinel2b_20m": {"B11_swir1", "B12_swir2"}, "landsat9_oli2": {"B6_swir1"}},
                     "aviris": {}}[grid]
    for name, channels in expected_zero.items():
        p, _ = _load(name, wl)
        zero = {c for c, row in zip(srf_channels(name), p, strict=True) if not row.any()}
        assert channels <= zero, (name, zero)
    if grid == "aviris":  # 400–2500 nm holds every channel of every sensor
        assert all(_load(n, wl)[0].any(axis=1).all() for n in SRF_NAMES)


def _half_max(name: str, channel: str) -> tuple[float, float]:
    """The outermost wavelengths (nm) where the channel's response, on a 1 nm grid, crosses half its peak."""
    p = load_srf(name, wavelengths=NM_1)
    r = p[srf_channels(name).index(channel)].astype(np.float64)
    r /= r.max()
    above = np.flatnonzero(r >= 0.5)
    i, j = above[0], above[-1]
    lo = NM_1[i - 1] + (0.5 - r[i - 1]) / (r[i] - r[i - 1])
    hi = NM_1[j] + (r[j] - 0.5) / (r[j] - r[j + 1])
    return float(lo), float(hi)


# Published nominal band edges (nm). Sentinel-2: centre ± bandwidth / 2 of ESA's S2 MSI specification (User
# Handbook); Landsat 8/9 OLI: the Landsat 8 Data Users Handbook's band table; WorldView-2: DigitalGlobe's
# datasheet; IKONOS: GeoEye's band edges (2007).
NOMINAL = [
    ("sentinel2a_msi", "B2_blue", 457.5, 522.5),
    ("sentinel2a_msi", "B4_red", 650.0, 680.0),
    ("sentinel2a_10m", "B4_red", 650.0, 680.0),
    ("sentinel2a_msi", "B8A_nir_narrow", 855.0, 875.0),
    ("sentinel2a_20m", "B11_swir1", 1565.0, 1655.0),
    ("sentinel2b_msi", "B3_green", 542.5, 577.5),
    ("sentinel2b_20m", "B5_red_edge1", 697.5, 712.5),
    ("landsat8_oli", "B4_red", 636.0, 673.0),
    ("landsat8_oli", "B5_nir", 851.0, 879.0),
    ("landsat8_oli", "B6_swir1", 1566.0, 1651.0),
    ("landsat9_oli2", "B5_nir", 851.0, 879.0),
    ("landsat8_oli_pan", "B8_pan", 503.0, 676.0),
    ("landsat9_oli2_cirrus", "B9_cirrus", 1363.0, 1384.0),
    ("worldview2", "B4_yellow", 585.0, 625.0),
    ("worldview2", "B6_red_edge", 705.0, 745.0),
    ("ikonos", "B3_red", 632.0, 698.0),
    ("ikonos", "B4_nir", 757.0, 853.0),
]


@pytest.mark.parametrize(("name", "channel", "lo", "hi"), NOMINAL, ids=[f"{n}-{c}" for n, c, _, _ in NOMINAL])
def test_half_maximum_at_published_edges(name, channel, lo, hi):
    got = _half_max(name, channel)
    assert abs(got[0] - lo) <= 5.0 and abs(got[1] - hi) <= 5.0, got


def test_quickbird_effective_bandwidths():
    """∫R dλ of the peak-normalised curves against DigitalGlobe's (Krause 2005): 68, 99, 71, 114, 398 nm. On
    a 1 nm grid a row summing to 1 has ∫R dλ = 1 / its maximum."""
    ms = load_srf("quickbird", wavelengths=NM_1)
    pan = load_srf("quickbird_pan", wavelengths=NM_1)
    got = 1.0 / np.concatenate([ms.max(axis=1), pan.max(axis=1)])
    np.testing.assert_allclose(got, [68.0, 99.0, 71.0, 114.0, 398.0], rtol=0.01)


def test_fwhm_integration_is_smoother_and_sums_to_one():
    """A broad-band cube (30 nm apart, 30 nm wide): point sampling puts a narrow band on one cube band or
    misses it; the Gaussian average spreads it over the bands that see it."""
    wl = np.arange(400.0, 1001.0, 30.0)
    with pytest.warns(UserWarning, match="B6_red_edge2 fall between its band centres"):
        point = resample_srf("sentinel2a_msi", wl)
    with pytest.warns(UserWarning) as caught:  # only the SWIR channels are left out
        smooth = resample_srf("sentinel2a_msi", wl, fwhm=np.full(wl.size, 30.0))
    assert "B6_red_edge2" not in str(caught[0].message) and "B12_swir2" in str(caught[0].message)
    channels = srf_channels("sentinel2a_msi")
    vnir = [channels.index(c) for c in ("B1_coastal_aerosol", "B2_blue", "B3_green", "B4_red", "B5_red_edge1",
                                        "B6_red_edge2", "B7_red_edge3", "B8_nir", "B8A_nir_narrow",
                                        "B9_water_vapour")]
    np.testing.assert_allclose(smooth[vnir].sum(axis=1), 1.0, atol=1e-5)
    for k in (channels.index("B4_red"), channels.index("B5_red_edge1"), channels.index("B8A_nir_narrow")):
        tv_point, tv_smooth = np.abs(np.diff(point[k])).sum(), np.abs(np.diff(smooth[k])).sum()
        assert smooth[k].max() < point[k].max() and tv_smooth < tv_point, channels[k]
        assert np.count_nonzero(smooth[k] > 1e-3) > np.count_nonzero(point[k] > 1e-3)


def test_fwhm_integration_matches_a_dense_integral():
    """The Gaussian average against an independent one: the table interpolated every 0.01 nm, trapezoids."""
    nm, curve = srf_wavelengths("landsat8_oli_pan"), load_srf("landsat8_oli_pan")[0].astype(np.float64)
    centres, fwhm = np.array([480.0, 505.0, 600.0, 677.0, 700.0]), np.array([12.0, 20.0, 8.0, 10.0, 15.0])
    x = np.arange(380.0, 800.0, 0.01)
    r = np.interp(x, nm, curve, left=0.0, right=0.0)
    sigma = fwhm / (2 * np.sqrt(2 * np.log(2)))
    g = np.exp(-0.5 * ((x[None] - centres[:, None]) / sigma[:, None]) ** 2)
    def trapezoid(f):  # np.trapezoid is numpy ≥ 2 only
        return ((f[:, 1:] + f[:, :-1]) / 2 * np.diff(x)).sum(axis=1)

    dense = trapezoid(r * g) / trapezoid(g)
    got = resample_srf((curve, nm), centres, fwhm=fwhm)[0]  # one curve, no channel axis
    np.testing.assert_allclose(got, dense / dense.sum(), rtol=2e-3, atol=1e-6)


def test_another_sensor_round_trips_through_a_csv(tmp_path):
    nm, p = srf_wavelengths("landsat8_oli"), load_srf("landsat8_oli")
    path = write_srf_csv(p, tmp_path / "oli.csv", nm, srf_channels("landsat8_oli"))
    assert srf_channels(path) == srf_channels("landsat8_oli")
    np.testing.assert_allclose(srf_wavelengths(path), nm)
    np.testing.assert_array_equal(load_srf(path), p)  # on its own grid: as written
    for wl in (AVIRIS, ROSIS):
        got, _ = _load(path, wl, bands=wl.size)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = resample_srf("landsat8_oli", wl)
            pair = resample_srf((p, nm), wl)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
        np.testing.assert_array_equal(got, pair)
    with pytest.raises(CubeError, match=r"1929 columns .* the cube has 224 bands.*wavelengths=cube\.wavelengths"):
        load_srf(path, bands=224)


def test_simulate_with_a_satellite_response_on_a_224_band_cube(rng):
    gt = Cube(rng.random((224, 16, 16)).astype(np.float32), wavelengths=AVIRIS)
    p = load_srf("sentinel2a_10m", wavelengths=gt.wavelengths, bands=gt.shape[0])
    lr, msi = simulate(gt, 4, srf=p)
    assert lr.shape == (224, 4, 4) and msi.shape == (4, 16, 16) and msi.dtype == np.float32
    np.testing.assert_allclose(msi[:, 5, 7], p @ gt.data[:, 5, 7], rtol=1e-5)
    flat = np.full((224, 8, 8), 0.25, np.float32)  # a flat spectrum stays flat: rows sum to 1
    np.testing.assert_allclose(simulate(flat, 4, srf=p)[1], 0.25, rtol=1e-5)
    with pytest.raises(CubeError, match=r"pass the cube's band centres.*'sentinel2a_10m', wavelengths="):
        simulate(gt, 4, srf="sentinel2a_10m")


def test_refusals():
    with pytest.raises(CubeError, match="packaged: nikon_d700, srgb_cie1931, ikonos, .*sentinel2a_10m"):
        load_srf("sentinel3_olci")
    with pytest.raises(CubeError, match="packaged: nikon_d700"):
        srf_wavelengths("nope")
    with pytest.raises(CubeError, match="224 wavelengths given for a cube of 31 bands"):
        load_srf("ikonos", bands=31, wavelengths=AVIRIS)
    with pytest.raises(CubeError, match="fwhm"):
        resample_srf("ikonos", CAVE, fwhm=[10.0, 10.0])
    with pytest.raises(CubeError, match="fwhm"):
        resample_srf("ikonos", CAVE, fwhm=0.0)
    with pytest.raises(CubeError, match="finite"):
        resample_srf("ikonos", [400.0, np.nan])
    with pytest.raises(CubeError, match="pair"):
        resample_srf(np.ones((3, 31)), CAVE)  # an array has no wavelengths of its own
    with pytest.raises(CubeError, match="increase"):
        resample_srf((np.ones((1, 3)), [500.0, 400.0, 600.0]), CAVE)
    with pytest.warns(UserWarning, match="look like µm"):
        load_srf("sentinel2a_10m", wavelengths=CAVE / 1000)
