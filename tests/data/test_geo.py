"""Georeferenced pairs (issue 35): GeoTIFF and ENVI map info read into Cube.geo and written back, two files with
different footprints cut to their common footprint, the fused cube written on the HR-MSI's grid, and every .tif
the package writes one multi-band image."""

from __future__ import annotations

import numpy as np
import pytest

import napari_inf3 as ni
from napari_inf3.data.geo import GeoRef, GeoWarning, align_pair
from napari_inf3.data.sample import load_sample

rasterio = pytest.importorskip("rasterio")

UTM = "EPSG:32633"


def write_geotiff(path, data, transform, crs=UTM, nodata=None):
    """``data`` ``(B, H, W)`` as a GeoTIFF written by rasterio, as a GIS would write it (pixel-interleaved)."""
    from rasterio.transform import Affine

    data = np.asarray(data, np.float32)
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0],
                       dtype="float32", crs=crs, transform=Affine(*transform), nodata=nodata) as ds:
        ds.write(data)
    return path


@pytest.fixture(scope="module")
def scene():
    """The sample (31 × 192 × 192) as the truth at 10 m; its LR-HSI (×4, 40 m) and Nikon HR-MSI."""
    gt = np.asarray(load_sample().data, np.float32)
    lr, msi = ni.simulate(gt, 4)
    return gt, lr, msi


def _pair_files(tmp_path, lr, msi, *, pad=(20, 12), cut_right=8, crs=UTM, pixel=10.0, lr_crs=None):
    """The HR-MSI padded by ``pad`` HR pixels at the top and left and cut by ``cut_right`` at the right (so the
    LR-HSI's corner is at HR pixel ``pad`` and its last columns fall outside), both as GeoTIFFs."""
    top, left = pad
    big = np.zeros((msi.shape[0], msi.shape[1] + top, msi.shape[2] + left), np.float32)
    big[:, top:, left:] = msi
    big = big[:, :, : big.shape[2] - cut_right]
    x0, y0 = 500_000.0, 4_000_000.0
    hr = write_geotiff(tmp_path / "msi.tif", big, (pixel, 0, x0, 0, -pixel, y0), crs)
    lr_t = (4 * pixel, 0, x0 + left * pixel, 0, -4 * pixel, y0 - top * pixel)
    lrf = write_geotiff(tmp_path / "hsi.tif", lr, lr_t, lr_crs or crs)
    return lrf, hr


def test_geotiff_reads_into_cube_geo_and_writes_back(tmp_path, scene):
    _, lr, _ = scene
    path = write_geotiff(tmp_path / "a.tif", lr, (30, 0, 600_000, 0, -30, 5_000_000), nodata=-1.0)
    cube = ni.read_cube(path)
    assert cube.geo.transform == (30, 0, 600_000, 0, -30, 5_000_000) and cube.geo.nodata == -1.0
    assert rasterio.crs.CRS.from_wkt(cube.geo.crs).to_epsg() == 32633
    cube.wavelengths = load_sample().wavelengths
    for name in ("b.tif", "b.hdr"):
        out = ni.write_cube(cube, tmp_path / name)
        back = ni.read_cube(out)
        assert back.geo.same_crs(cube.geo) and np.allclose(back.geo.transform, cube.geo.transform)
        assert back.geo.nodata == -1.0
        np.testing.assert_allclose(back.wavelengths, cube.wavelengths)
        np.testing.assert_allclose(back.data, cube.data, atol=1e-6)
    with rasterio.open(tmp_path / "b.tif") as ds:  # a GIS sees every band and where they are
        assert ds.count == 31 and ds.crs.to_epsg() == 32633 and ds.descriptions[0] == "400 nm"


def test_every_tif_written_is_one_multiband_image(tmp_path, scene):
    _, lr, _ = scene
    path = ni.write_cube(ni.Cube(lr, load_sample().wavelengths), tmp_path / "plain.tif")
    with rasterio.open(path) as ds:
        assert ds.count == 31 and ds.width == lr.shape[2]
        np.testing.assert_allclose(ds.read(5), lr[4])
    np.testing.assert_allclose(ni.read_cube(path).wavelengths, load_sample().wavelengths)


def test_two_footprints_are_cut_to_the_common_one(tmp_path, scene):
    _, lr, msi = scene
    lrf, hrf = _pair_files(tmp_path, lr, msi)
    pair = align_pair(ni.read_cube(lrf), ni.read_cube(hrf))
    # the LR-HSI's last 2 columns fall outside the (cut) HR-MSI: 46 LR columns, 184 HR columns from column 12
    assert pair.scale == 4 and pair.lr_hsi.shape == (31, 48, 46) and pair.hr_msi.shape == (3, 192, 184)
    np.testing.assert_array_equal(pair.hr_msi, msi[:, :, :184])
    np.testing.assert_array_equal(pair.lr_hsi, lr[:, :, :46])
    assert pair.geo.transform == pytest.approx((10, 0, 500_120, 0, -10, 3_999_800))
    assert any("common footprint" in n for n in pair.notes)


def test_cli_writes_the_fusion_on_the_hr_grid(tmp_path, scene, capsys):
    from napari_inf3.cli.main import main

    _, lr, msi = scene
    lrf, hrf = _pair_files(tmp_path, lr, msi)
    rc = main(["fuse", "--lr-hsi", str(lrf), "--hr-msi", str(hrf), "--model", "projection", "--out",
               str(tmp_path / "fused.tif")])
    assert rc == 0 and "common footprint" in capsys.readouterr().out
    with rasterio.open(tmp_path / "fused.tif") as ds, rasterio.open(hrf) as hr:
        assert ds.crs == hr.crs and ds.count == 31 and (ds.height, ds.width) == (192, 184)
        t, h = ds.transform, hr.transform
        assert np.allclose([t.a, t.e], [h.a, h.e]) and abs(t.c - (h.c + 12 * h.a)) < 1e-6 * h.a
        assert abs(t.f - (h.f + 20 * h.e)) < 1e-6 * abs(h.e)
        by_hand = ni.fuse("projection", lr[:, :, :46], msi[:, :, :184]).cube
        np.testing.assert_allclose(ds.read(), by_hand, atol=1e-6)
    rc = main(["fuse", "--lr-hsi", str(lrf), "--hr-msi", str(hrf), "--model", "projection", "--out",
               str(tmp_path / "fused.hdr")])
    back = ni.read_cube(tmp_path / "fused.hdr")
    assert rc == 0 and back.geo.same_crs(ni.read_cube(hrf).geo)
    assert back.geo.transform == pytest.approx(ni.read_cube(tmp_path / "fused.tif").geo.transform)
    # a shipped network too: the same as fusing the hand-cropped pair
    rc = main(["fuse", "--lr-hsi", str(lrf), "--hr-msi", str(hrf), "--model", "cosine", "--out",
               str(tmp_path / "cosine.tif")])
    with rasterio.open(tmp_path / "cosine.tif") as ds:
        np.testing.assert_allclose(ds.read(), ni.fuse("cosine", lr[:, :, :46], msi[:, :, :184]).cube, atol=1e-5)


@pytest.mark.parametrize("crs,pixel", [("EPSG:32633", 10.0), ("EPSG:4326", 1e-4)])
def test_utm_and_geographic_ratio_three(tmp_path, crs, pixel):
    gt = np.asarray(load_sample().data, np.float32)[:, :180, :180]
    lr, msi = ni.simulate(gt, 3)
    x0, y0 = (400_000.0, 3_000_000.0) if crs != "EPSG:4326" else (10.0, 45.0)
    hr = write_geotiff(tmp_path / "m.tif", msi, (pixel, 0, x0, 0, -pixel, y0), crs)
    lrf = write_geotiff(tmp_path / "h.tif", lr, (3 * pixel, 0, x0, 0, -3 * pixel, y0), crs)
    pair = align_pair(ni.read_cube(lrf), ni.read_cube(hr))
    assert pair.scale == 3 and pair.hr_msi.shape[1:] == (180, 180)
    np.testing.assert_array_equal(pair.lr_hsi, lr)


def test_nodata_border_is_masked_and_written_as_nodata(tmp_path, scene):
    _, lr, msi = scene
    m = msi.copy()
    m[:, :16] = -5.0  # the HR-MSI's first 16 rows have no data
    hr = write_geotiff(tmp_path / "m.tif", m, (10, 0, 0, 0, -10, 0), nodata=-5.0)
    lrf = write_geotiff(tmp_path / "h.tif", lr, (40, 0, 0, 0, -40, 0))
    pair = align_pair(ni.read_cube(lrf), ni.read_cube(hr))
    assert not pair.valid[:16].any() and pair.valid[16:].all() and (pair.hr_msi[:, :16] == 0).all()
    # the pair-only scores leave the nodata rows out: there the HR-MSI's zeros are not the scene
    # an LR pixel whose block lacks data is 0 too (the fits take it as one without data)
    assert (pair.lr_hsi[:, :4] == 0).all() and (pair.lr_hsi[:, 4:] != 0).any(axis=0).all()

    def scores(lr, msi, valid):
        run = ni.fusion_run(["projection"], ni.RealPair(lr, msi, pair_srf="nikon_d700", valid=valid))
        return run.pair_scores["projection"]["lr_psnr"]

    told = scores(pair.lr_hsi, pair.hr_msi, pair.valid)
    assert told == pytest.approx(scores(pair.lr_hsi[:, 4:], pair.hr_msi[:, 16:], None), abs=0.3)
    assert abs(told - scores(pair.lr_hsi, pair.hr_msi, None)) > 0.1  # not told, the empty rows count
    # and out of a camera fit: stored 0 counts as clipped there, and nodata is 0 in both images
    assert ni.estimate_camera(pair.lr_hsi, pair.hr_msi, 4).clipped.min() >= (~pair.valid).mean()
    out = ni.write_cube(pair.finish(ni.fuse("projection", pair.lr_hsi, pair.hr_msi).cube), tmp_path / "f.tif")
    with rasterio.open(out) as ds:
        assert ds.nodata == -5.0 and (ds.read(1)[:16] == -5.0).all() and (ds.read(1)[16:] >= 0).all()


def test_refusals_say_what_is_wrong(tmp_path, scene):
    _, lr, msi = scene
    hr = write_geotiff(tmp_path / "m.tif", msi, (10, 0, 0, 0, -10, 0))
    far = write_geotiff(tmp_path / "far.tif", lr, (40, 0, 1e6, 0, -40, 0))
    with pytest.raises(ni.CubeError, match="do not overlap"):
        align_pair(ni.read_cube(far), ni.read_cube(hr))
    other = write_geotiff(tmp_path / "o.tif", lr, (40, 0, 0, 0, -40, 0), crs="EPSG:32632")
    with pytest.raises(ni.CubeError, match="different coordinate reference systems"):
        align_pair(ni.read_cube(other), ni.read_cube(hr))
    shifted = write_geotiff(tmp_path / "s.tif", lr, (40, 0, 3.5, 0, -40, 0))
    with pytest.raises(ni.CubeError, match="not a whole number of pixels"):
        align_pair(ni.read_cube(shifted), ni.read_cube(hr))
    with pytest.raises(ni.CubeError, match="no georeferencing"):
        align_pair(ni.Cube(lr), ni.read_cube(hr))


def test_a_non_integer_ratio_is_resampled_with_a_warning(tmp_path, scene):
    _, lr, msi = scene
    hr = write_geotiff(tmp_path / "m.tif", msi, (10, 0, 0, 0, -10, 0))
    lrf = write_geotiff(tmp_path / "h.tif", lr, (41, 0, 0, 0, -41, 0))  # 41 m against 10 m: ratio 4.1
    with pytest.warns(GeoWarning, match="ratio is 4.1000"):
        pair = align_pair(ni.read_cube(lrf), ni.read_cube(hr))
    assert pair.scale == 4 and pair.lr_hsi.shape[1] == 48


def test_envi_map_info_is_read(tmp_path, scene):
    _, lr, _ = scene
    geo = GeoRef("EPSG:32633", (30, 0, 600_000, 0, -30, 5_000_000))
    path = ni.write_cube(ni.Cube(lr, load_sample().wavelengths, geo=geo), tmp_path / "x.hdr")
    text = path.read_text()
    assert "map info = {UTM, 1, 1, 600000, 5000000, 30, 30, 33, North, WGS-84" in text
    back = ni.read_cube(path)
    assert back.geo.transform == geo.transform and back.geo.same_crs(geo)


def test_reproject_when_asked_and_an_envi_lr_hsi(tmp_path, scene, capsys):
    """An LR-HSI in the neighbouring UTM zone is refused, and warped onto the HR-MSI's grid lines with
    --reproject; an ENVI LR-HSI with map info pairs with a GeoTIFF HR-MSI like a GeoTIFF does."""
    from napari_inf3.cli.main import main

    _, lr, msi = scene
    x0, y0 = 500_000.0, 4_000_000.0
    hr = write_geotiff(tmp_path / "m.tif", msi, (10, 0, x0, 0, -10, y0))
    # the same corner expressed in zone 32 (EPSG:32632), 40 m pixels
    from rasterio.warp import transform as warp

    xs, ys = warp("EPSG:32633", "EPSG:32632", [x0], [y0])
    other = write_geotiff(tmp_path / "h32.tif", lr, (40, 0, xs[0], 0, -40, ys[0]), crs="EPSG:32632")
    rc = main(["fuse", "--lr-hsi", str(other), "--hr-msi", str(hr), "--model", "projection", "--out",
               str(tmp_path / "refused.tif")])
    assert rc == 2 and "different coordinate reference systems" in capsys.readouterr().err
    pair = align_pair(ni.read_cube(other), ni.read_cube(hr), reproject=True)
    assert pair.scale == 4 and any("reprojected" in n for n in pair.notes)
    assert pair.hr_msi.shape[1] == 4 * pair.lr_hsi.shape[1] and pair.lr_hsi.shape[1] >= 40
    envi = ni.write_cube(ni.Cube(lr, load_sample().wavelengths, geo=GeoRef("EPSG:32633", (40, 0, x0 + 80, 0, -40,
                                                                                         y0 - 40))),
                         tmp_path / "lr.hdr")
    pair = align_pair(ni.read_cube(envi), ni.read_cube(hr))
    assert pair.window == (4, 192, 8, 192) and pair.lr_hsi.shape[1:] == (47, 46)


def _swath_edges(lr, msi, r=4):
    """The pair with no data in an LR-HSI corner (a diagonal swath edge, whole LR pixels) and along an HR-MSI edge
    that cuts LR blocks, zero-filled as :func:`align_pair` leaves them (an LR pixel whose block is not all data is
    0 too); and the HR ``valid`` mask."""
    h, w = lr.shape[1:]
    ii, jj = np.mgrid[:h, :w]
    lr_nd = (ii + jj) < 0.22 * (h + w)
    yy, xx = np.mgrid[: h * r, : w * r]
    valid = ~(xx > w * r * 0.82 - 0.3 * yy) & ~np.repeat(np.repeat(lr_nd, r, 0), r, 1)
    lr_z, msi_z = np.array(lr, copy=True), np.array(msi, copy=True)
    msi_z[:, ~valid] = 0
    lr_z[:, ~valid.reshape(h, r, w, r).all(axis=(1, 3))] = 0
    return lr_z, msi_z, valid


def test_lr_valid_keeps_whole_blocks_and_their_neighbours():
    from napari_inf3.data.geo import lr_valid

    valid = np.ones((40, 40), bool)
    assert lr_valid(valid, 4) is None and lr_valid(None, 4) is None
    valid[13, 30] = False  # in LR pixel (3, 7)
    keep = lr_valid(valid, 4)
    assert keep.shape == (10, 10) and not keep[2:5, 6:9].any() and keep.sum() == 100 - 9
    assert lr_valid(valid, 4, margin=0).sum() == 99


def test_response_fits_leave_nodata_out(scene):
    """The linear response fit on a pair with nodata edges (zeros in both images, partly inside LR blocks): told
    ``valid`` it finds the response as on a clean pair; not told, the half-empty blocks spoil it."""
    from napari_inf3.camera.srf_fit import estimate_srf

    _, lr, msi = scene
    lr_z, msi_z, valid = _swath_edges(lr, msi)
    clean = estimate_srf(lr, msi, 4)
    told = estimate_srf(lr_z, msi_z, 4, valid=valid)
    blind = estimate_srf(lr_z, msi_z, 4)
    assert told.residual.max() < 0.01 < blind.residual.max()
    np.testing.assert_allclose(told.srf, clean.srf, atol=0.02 * clean.srf.max())


def test_fit_pair_leaves_nodata_out(scene):
    """fit_pair told ``valid`` fits its response and maps on pixels with data only (its response is the clean
    pair's, so its projection is kept), and fuses the pixels with data about as well as a fit on the clean pair."""
    from napari_inf3.evaluation.metrics import psnr
    from napari_inf3.pair import fit_pair

    gt, lr, msi = (a[:, : a.shape[1] * 2 // 3, : a.shape[2] * 2 // 3] for a in scene)
    lr_z, msi_z, valid = _swath_edges(lr, msi)
    told = fit_pair(lr_z, msi_z, valid=valid, seconds=5)
    assert max(told.meta["srf_residual"]) < 0.01 and told.meta["projection"]
    assert told.meta["self_check"]["gain_db"] > 5
    clean = fit_pair(lr, msi, seconds=5)

    def score(z):
        return psnr(np.clip(z[:, valid], 0, 1)[..., None], gt[:, valid][..., None])

    assert score(ni.fuse(told, lr_z, msi_z).cube) > score(ni.fuse(clean, lr, msi).cube) - 1.5
    with pytest.raises(ni.CubeError, match="valid= is"):
        fit_pair(lr_z, msi_z, valid=valid[:-4])


def test_cli_fits_a_pair_model_leaving_nodata_out(tmp_path, capsys):
    """`napari-inf3 fuse --model pair` on two GeoTIFFs, the LR-HSI with a nodata corner: the fit is told the aligned
    pair's mask (the same model as fit_pair(..., valid=) on the aligned pair), the output is nodata where an input
    had none and the fusion elsewhere."""
    from napari_inf3.cli.main import main
    from napari_inf3.pair import fit_pair

    gt = np.asarray(load_sample().data, np.float32)[:, 40:112, 40:112]
    lr, msi = ni.simulate(gt, 4)
    lr = np.array(lr)
    lr[:, :4, :4] = -1.0
    lrf = write_geotiff(tmp_path / "h.tif", lr, (40, 0, 0, 0, -40, 0), nodata=-1.0)
    hrf = write_geotiff(tmp_path / "m.tif", msi, (10, 0, 0, 0, -10, 0))
    assert main(["fuse", "--lr-hsi", str(lrf), "--hr-msi", str(hrf), "--model", "pair", "--out",
                 str(tmp_path / "f.tif")]) == 0
    pair = align_pair(ni.read_cube(lrf), ni.read_cube(hrf))
    by_hand = ni.fuse(fit_pair(pair.lr_hsi, pair.hr_msi, valid=pair.valid), pair.lr_hsi, pair.hr_msi).cube
    with rasterio.open(tmp_path / "f.tif") as ds:
        out = ds.read()
        assert ds.nodata is not None and (out[:, :16, :16] == ds.nodata).all()
    np.testing.assert_allclose(out[:, pair.valid], by_hand[:, pair.valid], atol=1e-5)
