"""Cubes larger than RAM: lazy ENVI reading, tile-by-tile fusion from and into memory maps."""

from __future__ import annotations

import numpy as np
import pytest

from napari_inf3 import CubeError, fuse
from napari_inf3.data.cube import Cube
from napari_inf3.io import read_cube
from napari_inf3.io.lazy import ScaledArray


def _write_envi_uint16(path, cube01: np.ndarray, scale: float = 10000.0, wl=None):
    """A reflectance cube as uint16 ENVI with a reflectance scale factor (as many sensors ship)."""
    from spectral.io import envi

    meta = {"reflectance scale factor": scale}
    if wl is not None:
        meta["wavelength"] = [str(x) for x in wl]
        meta["wavelength units"] = "nm"
    raw = np.round(np.moveaxis(cube01, 0, -1) * scale).astype(np.uint16)
    envi.save_image(str(path), raw, interleave="bil", metadata=meta, force=True, ext=".img")
    return path


def test_lazy_envi_reads_nothing_until_sliced_and_equals_eager(tmp_path, smooth_cube):
    p = _write_envi_uint16(tmp_path / "c.hdr", smooth_cube, wl=np.linspace(400, 700, 31))
    lazy = read_cube(p, lazy=True)
    eager = read_cube(p, lazy=False)
    assert isinstance(lazy.data, ScaledArray) and lazy.meta["lazy"]
    assert lazy.data.shape == eager.data.shape == smooth_cube.shape
    assert lazy.data.dtype == np.float32
    np.testing.assert_array_equal(lazy.data[:, 3:9, 5:20], eager.data[:, 3:9, 5:20])
    np.testing.assert_allclose(np.asarray(lazy.data), smooth_cube, atol=1e-4)
    np.testing.assert_allclose(lazy.data.band_means(), eager.data.mean(axis=(1, 2)), rtol=1e-6)
    np.testing.assert_allclose(lazy.wavelengths, eager.wavelengths)


def test_big_files_open_lazily_by_default(tmp_path, smooth_cube, monkeypatch):
    from napari_inf3.io import envi

    p = _write_envi_uint16(tmp_path / "c.hdr", smooth_cube)
    assert not isinstance(read_cube(p).data, ScaledArray)
    monkeypatch.setattr(envi, "LAZY_BYTES", 1000)
    assert isinstance(read_cube(p).data, ScaledArray)


def test_fuse_lazy_inputs_into_a_memory_map_equals_in_memory(tmp_path, rng, tiny_model):
    from napari_inf3.io.envi import create

    lr = rng.random((31, 24, 20)).astype(np.float32)
    msi = rng.random((3, 96, 80)).astype(np.float32)
    lr_lazy = read_cube(_write_envi_uint16(tmp_path / "lr.hdr", lr), lazy=True)
    msi_lazy = read_cube(_write_envi_uint16(tmp_path / "msi.hdr", msi), lazy=True)
    ref = fuse(tiny_model, np.asarray(lr_lazy.data), np.asarray(msi_lazy.data), "cpu", tile="off").cube
    target = create(tmp_path / "out.hdr", ref.shape)
    got = fuse(tiny_model, lr_lazy, msi_lazy, "cpu", tile=8, out=target).cube
    assert got is target
    target.flush()
    back = read_cube(tmp_path / "out.hdr").data
    assert np.abs(back - ref).max() <= 1e-5


def test_lazy_nan_is_named_with_the_file(tmp_path, rng, tiny_model):
    lr = rng.random((31, 16, 16)).astype(np.float32)
    lr[4, 10, 3] = np.nan
    np.save(tmp_path / "lr.npy", lr)
    lazy = Cube(ScaledArray(np.load(tmp_path / "lr.npy", mmap_mode="r")), None, str(tmp_path / "lr.npy"))
    with pytest.raises(CubeError, match="lr.npy: LR-HSI contains NaN"):
        fuse(tiny_model, lazy, rng.random((3, 64, 64)).astype(np.float32), "cpu", tile=8)
    # a bare numpy memory map is lazy too (never loaded whole), and checked tile by tile the same way
    with pytest.raises(CubeError, match="LR-HSI contains NaN"):
        fuse(tiny_model, np.load(tmp_path / "lr.npy", mmap_mode="r"), rng.random((3, 64, 64)).astype(np.float32),
             "cpu", tile=8)


def test_cli_fuse_streams_envi_output(tmp_path, rng, monkeypatch, capsys):
    import torch

    from napari_inf3.cli.main import main
    from napari_inf3.models.checkpoint import save_checkpoint
    from napari_inf3.models.infn import INFN

    torch.manual_seed(0)
    model = INFN(preset="lite", n_feats=8, n_resblocks=1, mlp_hidden=[16], out_dim=8)
    save_checkpoint(model, tmp_path / "m.pt")
    lr = rng.random((31, 20, 20)).astype(np.float32)
    msi = rng.random((3, 80, 80)).astype(np.float32)
    _write_envi_uint16(tmp_path / "lr.hdr", lr)
    _write_envi_uint16(tmp_path / "msi.hdr", msi)
    from napari_inf3.io import envi

    monkeypatch.setattr(envi, "LAZY_BYTES", 1000)  # the inputs open as memory maps
    out = tmp_path / "fused.hdr"
    assert main(["fuse", "--lr-hsi", str(tmp_path / "lr.hdr"), "--hr-msi", str(tmp_path / "msi.hdr"),
                 "--model", str(tmp_path / "m.pt"), "--out", str(out), "--device", "cpu", "--tile", "8"]) == 0
    ref = fuse(tmp_path / "m.pt", read_cube(tmp_path / "lr.hdr", lazy=False),
               read_cube(tmp_path / "msi.hdr", lazy=False), "cpu", tile="off").cube
    assert np.abs(read_cube(out, lazy=False).data - ref).max() <= 1e-5
    assert sorted(p.name for p in tmp_path.iterdir() if "partial" in p.name) == []  # no temporary left
