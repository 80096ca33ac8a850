"""Camera RAW read linearly (a DNG written here, napari_inf3.testing.dng) and HEIC photos (issue 33)."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from PIL import Image

import napari_inf3 as ni
from napari_inf3.data.sample import load_sample
from napari_inf3.data.simulation import load_srf
from napari_inf3.evaluation.metrics import psnr
from napari_inf3.testing.dng import PATTERNS, write_dng


@pytest.mark.parametrize("pattern", list(PATTERNS))
def test_dng_is_read_linearly_with_its_black_and_white_level(tmp_path, pattern):
    lin = np.random.default_rng(1).random((3, 24, 32)) * 0.95
    cube = ni.read_cube(write_dng(tmp_path / "x.dng", lin, black=256, white=4000, pattern=pattern))
    assert cube.data.shape == (3, 24, 32) and cube.meta["white_level"] == 4000 and cube.meta["linear"]
    codes = PATTERNS[pattern]
    for k, (dy, dx) in enumerate(((0, 0), (0, 1), (1, 0), (1, 1))):  # measured values kept where measured
        c = codes[k]
        np.testing.assert_allclose(cube.data[c, dy::2, dx::2], lin[c, dy::2, dx::2], atol=1 / 3744)
    flat = ni.read_cube(write_dng(tmp_path / "flat.dng", np.full((3, 24, 24), 0.25)))
    np.testing.assert_allclose(flat.data, 0.25, atol=1e-3)  # filled in linearly: a flat field stays flat


def test_the_camera_fit_finds_a_raw_file_linear(tmp_path):
    gt = np.asarray(load_sample().data, np.float32)
    lr, _ = ni.simulate(gt, 4)
    linear = np.einsum("sb,bhw->shw", load_srf("nikon_d700", bands=31), gt)
    cube = ni.read_cube(write_dng(tmp_path / "scene.dng", 0.9 * linear / linear.max()))
    fit = ni.estimate_camera(lr, cube, 4)
    assert fit.curve.is_linear, fit.describe()
    bic = psnr(np.maximum(ni.inference.bicubic(lr, gt.shape[1:]), 0), gt)
    # above bicubic, though the mosaic (R and B on a quarter of the pixels each) costs resolution: +2.4 dB here
    assert psnr(ni.fuse("projection", lr, cube, camera=fit).cube, gt) > bic + 1.5


def test_heic_photo(tmp_path):
    import pillow_heif

    pillow_heif.register_heif_opener()
    yy, xx = np.mgrid[0:48, 0:64]
    rgb = np.stack([xx * 4, yy * 5, 128 + 0 * xx], -1).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "p.heic", quality=90)
    cube = ni.read_cube(tmp_path / "p.heic")
    assert cube.data.shape == (3, 48, 64) and cube.meta["photo"]
    assert psnr(cube.data, np.moveaxis(rgb, -1, 0) / 255.0) > 30


def test_missing_extras_are_named(tmp_path, monkeypatch):
    write_dng(tmp_path / "x.dng", np.zeros((3, 4, 4)))
    (tmp_path / "x.heic").write_bytes(b"\0" * 16)
    monkeypatch.setitem(sys.modules, "rawpy", None)
    monkeypatch.setitem(sys.modules, "pillow_heif", None)
    with pytest.raises(ni.CubeError, match=r"napari-inf3\[raw\]"):
        ni.read_cube(tmp_path / "x.dng")
    with pytest.raises(ni.CubeError, match=r"napari-inf3\[heic\]"):
        ni.read_cube(tmp_path / "x.heic")
