"""A photo stored as JPEG (issue 33): the file's storage read, kept in the camera and its JSON, the chroma
restored at the resolution it was stored at, the storage's cost estimated from the file, and fusion through it
scoring above the same photo read as if it were lossless."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import napari_inf3 as ni
from napari_inf3.camera import CameraFit
from napari_inf3.camera.jpeg import IJG_LUMA, JpegStorage, ijg_quality, ijg_table, read_storage, restore_chroma
from napari_inf3.data.sample import load_sample
from napari_inf3.evaluation.metrics import psnr
from tests.conftest import photo_camera, photo_pair


def save_jpeg(path, stored: np.ndarray, quality: int = 85, subsampling: int = 2):
    """``stored`` ``(3, H, W)`` in [0, 1] written as Pillow writes a JPEG (4:2:0 by default)."""
    rgb = np.moveaxis(np.round(np.clip(stored, 0, 1) * 255).astype(np.uint8), 0, -1)
    Image.fromarray(rgb).save(path, quality=quality, subsampling=subsampling)
    return path


@pytest.fixture(scope="module")
def gt():
    return np.asarray(load_sample().data, np.float32)  # the shipped 192² superballs crop


@pytest.mark.parametrize(("quality", "subsampling", "name"), [(85, 2, "4:2:0"), (95, 0, "4:4:4"), (60, 1, "4:2:2")])
def test_the_reader_keeps_what_the_file_says(tmp_path, quality, subsampling, name):
    rng = np.random.default_rng(0)
    path = save_jpeg(tmp_path / "p.jpg", rng.random((3, 32, 40)), quality, subsampling)
    cube = ni.read_cube(path)
    storage = JpegStorage.from_dict(cube.meta["jpeg"])
    assert storage.subsampling == name and storage.quality == quality
    with Image.open(path) as im:
        np.testing.assert_array_equal(storage.tables[0].ravel(), im.quantization[0])
    np.testing.assert_array_equal(storage.table(0), ijg_table(IJG_LUMA, quality))
    png = tmp_path / "p.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(png)
    assert "jpeg" not in ni.read_cube(png).meta and read_storage(Image.open(png)) is None


def test_ijg_quality_inverts_the_scaling():
    for q in (10, 50, 75, 85, 92, 100):
        assert ijg_quality(ijg_table(IJG_LUMA, q)) == q


def test_tables_round_trip_through_the_camera_json(gt, tmp_path):
    cam = photo_camera()
    lr, photo, _ = photo_pair(gt, cam)
    cube = ni.read_cube(save_jpeg(tmp_path / "photo.jpg", photo))
    fit = ni.estimate_camera(lr, cube, 4)
    assert fit.jpeg is not None and fit.jpeg.subsampling == "4:2:0" and "JPEG quality ≈ 85" in fit.describe()
    back = CameraFit.load(fit.save(tmp_path / "cam.json"))
    np.testing.assert_array_equal(back.jpeg.tables, fit.jpeg.tables)
    assert back.jpeg.component_tables == fit.jpeg.component_tables and back.jpeg.quality == fit.jpeg.quality
    np.testing.assert_array_equal(back.prepare(cube)[0], fit.prepare(cube)[0])
    d = json.loads((tmp_path / "cam.json").read_text())
    d["jpeg"]["subsampling"] = "3:1:1"
    (tmp_path / "bad.json").write_text(json.dumps(d))
    with pytest.raises(ni.CubeError, match="damaged camera file"):
        CameraFit.load(tmp_path / "bad.json")


def test_restored_chroma_is_closer_to_the_lossless_photo(gt, tmp_path):
    lr, photo, _ = photo_pair(gt, photo_camera())
    cube = ni.read_cube(save_jpeg(tmp_path / "photo.jpg", photo))
    storage = JpegStorage.from_dict(cube.meta["jpeg"])
    restored = restore_chroma(cube.data, storage)
    assert psnr(restored, photo) > psnr(cube.data, photo) + 0.2
    full = ni.read_cube(save_jpeg(tmp_path / "full.jpg", photo, subsampling=0))
    same = restore_chroma(full.data, JpegStorage.from_dict(full.meta["jpeg"]))
    np.testing.assert_array_equal(same, full.data)  # 4:4:4: nothing to restore


def test_fusion_knowing_the_jpeg_beats_reading_it_as_lossless(gt, tmp_path):
    lr, photo, _ = photo_pair(gt, photo_camera())
    cube = ni.read_cube(save_jpeg(tmp_path / "photo.jpg", photo))
    knowing = ni.fuse("cosine", lr, cube, camera=ni.estimate_camera(lr, cube, 4)).cube
    blind = ni.Cube(cube.data, None, None, {k: v for k, v in cube.meta.items() if k != "jpeg"})
    not_knowing = ni.fuse("cosine", lr, blind, camera=ni.estimate_camera(lr, blind, 4)).cube
    bic = psnr(np.maximum(ni.inference.bicubic(lr, gt.shape[1:]), 0), gt)
    assert psnr(knowing, gt) > psnr(not_knowing, gt) + 0.3 and psnr(knowing, gt) > bic + 3


def test_cli_and_notebook_say_what_the_storage_costs(gt, tmp_path, capsys):
    from napari_inf3.cli.main import main

    lr, photo, _ = photo_pair(gt, photo_camera())
    ni.write_cube(ni.Cube(lr, load_sample().wavelengths), tmp_path / "lr.npz")
    jpg = save_jpeg(tmp_path / "photo.jpg", photo, quality=75)
    rc = main(["fuse", "--lr-hsi", str(tmp_path / "lr.npz"), "--hr-msi", str(jpg), "--camera", "estimate",
               "--camera-out", str(tmp_path / "cam.json"), "--model", "projection", "--out", str(tmp_path / "f.npz")])
    out = capsys.readouterr().out
    assert rc == 0 and "JPEG quality ≈ 75, chroma 4:2:0" in out and "below what a lossless photo" in out
    assert CameraFit.load(tmp_path / "cam.json").jpeg.quality == 75
    # the API's run reads the Cube's storage too (RealPair.msi_storage), and its findings say it
    run = ni.fusion_run(["projection"], ni.RealPair(lr, ni.read_cube(jpg), camera="estimate"))
    assert run.camera.jpeg is not None and any(f.kind == "storage" for f in run.findings)
    # simulating through a JPEG camera (--gt with its JSON): the HR-MSI is compressed with its tables
    stored = CameraFit.load(tmp_path / "cam.json").store(np.einsum("sb,bhw->shw", photo_camera().srf, gt))
    assert np.allclose(stored * 255, np.round(stored * 255), atol=1e-3)
