"""Small *valid* files of every format the package reads, one writer per format (the fuzzer's seeds,
:mod:`.fuzz`): a CAVE folder of 16-bit PNGs, ENVI, ``.mat`` v5 and v7.3, ``.npy`` / ``.npz``, ``.tif`` in its many
layouts (:data:`TIFF_LAYOUTS`), GeoTIFF, JPEG, HEIC, a Bayer DNG and a checkpoint. Each ``seed_<format>(folder,
rng)`` writes one, varied by the seeded ``rng``, and returns its path."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _cube(rng, bands=31, h=8, w=10) -> np.ndarray:
    return rng.random((bands, h, w), dtype=np.float32)


def seed_cave(d: Path, rng) -> Path:
    from PIL import Image

    f = d / "scene_ms"
    f.mkdir()
    for i, band in enumerate(_cube(rng), 1):
        Image.fromarray((band * 65535).astype(np.uint16)).save(f / f"scene_ms_{i:02d}.png")
    return f


def seed_envi(d: Path, rng) -> Path:
    interleave = ["bsq", "bil", "bip"][rng.integers(3)]
    dtype = np.dtype([np.uint8, np.int16, np.uint16, np.float32, np.float64][rng.integers(5)])
    order = "<" if rng.random() < 0.7 else ">"
    cube = _cube(rng, bands=int(rng.integers(3, 32)))
    data = (cube * (255 if dtype.kind in "ui" else 1)).astype(dtype.newbyteorder(order))
    axes = {"bsq": (0, 1, 2), "bil": (1, 0, 2), "bip": (1, 2, 0)}[interleave]
    (d / "cube.img").write_bytes(np.ascontiguousarray(data.transpose(axes)).tobytes())
    code = {"uint8": 1, "int16": 2, "uint16": 12, "float32": 4, "float64": 5}[dtype.name]
    wl = ", ".join(f"{400 + 10 * i}" for i in range(cube.shape[0]))
    (d / "cube.hdr").write_text(
        "ENVI\ndescription = {fuzz seed}\n"
        f"samples = {cube.shape[2]}\nlines = {cube.shape[1]}\nbands = {cube.shape[0]}\nheader offset = 0\n"
        f"file type = ENVI Standard\ndata type = {code}\ninterleave = {interleave}\n"
        f"byte order = {0 if order == '<' else 1}\nwavelength units = nm\nwavelength = {{{wl}}}\n"
    )
    return d / "cube.hdr"


def seed_mat5(d: Path, rng) -> Path:
    """scipy's layout, or MATLAB's own (:mod:`napari_inf3.testing.matlab_v5`: compressed variables one right
    after the other, unpadded): a cube beside a wavelength vector, or an unmixing dataset's ``(bands, pixels)``
    matrix with ``nRow`` / ``nCol``."""
    import scipy.io

    from .matlab_v5 import write_matlab

    p = d / "cube.mat"
    cube = _cube(rng)
    kind = int(rng.integers(3))
    if kind == 0:
        scipy.io.savemat(p, {"cube": cube.transpose(1, 2, 0), "note": "fuzz"})
    elif kind == 1:
        wl = np.linspace(0.4, 0.7, cube.shape[0])[:, None]
        write_matlab(p, {"wavelength": wl, "cube": cube.transpose(1, 2, 0).astype(np.float64)},
                     compress=bool(rng.random() < 0.8))
    else:
        b, h, w = cube.shape
        flat = cube.transpose(0, 2, 1).reshape(b, h * w).astype(np.float64)  # MATLAB's column-major pixels
        write_matlab(p, {"SlectBands": np.arange(1.0, b + 1)[:, None], "nRow": float(h), "nCol": float(w),
                         "nBand": float(b), "Y": np.round(flat * 4000), "maxValue": 4000.0},
                     compress=bool(rng.random() < 0.8))
    return p


def seed_mat73(d: Path, rng) -> Path:
    import h5py

    p = d / "cube.mat"
    with h5py.File(p, "w", userblock_size=512) as f:
        f.create_dataset("cube", data=_cube(rng).transpose(0, 2, 1))  # MATLAB writes transposed
    with open(p, "r+b") as fh:
        fh.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: fuzz HDF5 schema 1.00 .".ljust(116))
    return p


def seed_npy(d: Path, rng) -> Path:
    p = d / "cube.npy"
    np.save(p, _cube(rng))
    return p


def seed_npz(d: Path, rng) -> Path:
    from napari_inf3 import Cube, write_cube

    p = d / "cube.npz"
    write_cube(Cube(_cube(rng), np.arange(400.0, 710.0, 10), "fuzz", {}), p)
    return p


#: the TIFF layouts the seeds cover: one page per band, bands as the samples of one page (planar
#: separate / contig), tiled, BigTIFF, ImageJ hyperstacks (CYX, ZCYX, TZCYX), OME-TIFF, several series,
#: and the files write_cube writes (JSON description with wavelengths)
TIFF_LAYOUTS = ("pages", "separate", "contig", "tiled", "bigtiff", "imagej", "imagej_zcyx", "imagej_tzcyx", "ome",
                "two_series", "ours")


def seed_tif(d: Path, rng) -> Path:
    """A valid TIFF of a random layout, dtype and compression (zlib, lzma, deflate; with or without the
    horizontal predictor): every codec tifffile has without imagecodecs."""
    import tifffile

    p = d / "cube.tif"
    layout = TIFF_LAYOUTS[rng.integers(len(TIFF_LAYOUTS))]
    if layout == "ours":
        from napari_inf3 import Cube, write_cube

        write_cube(Cube(_cube(rng), np.arange(400.0, 710.0, 10), "fuzz", {}), p)
        return p
    dtype = np.dtype([np.uint8, np.uint16, np.int16, np.float32, np.float64][rng.integers(5)])
    if layout.startswith("imagej"):
        dtype = np.dtype([np.uint8, np.uint16, np.float32][rng.integers(3)])  # ImageJ's own types
    cube = _cube(rng, bands=int(rng.integers(3, 32)), h=int(rng.integers(4, 20)), w=int(rng.integers(4, 20)))
    data = (cube * (np.iinfo(dtype).max if dtype.kind in "ui" else 1)).astype(dtype)
    comp = [None, None, "zlib", "lzma", "deflate"][rng.integers(5)]
    kw = {"compression": comp}
    if comp is not None and rng.random() < 0.5 and dtype.kind in "ui":
        kw["predictor"] = True
    if layout == "pages":
        tifffile.imwrite(p, data, photometric="minisblack", **kw)
    elif layout == "separate":
        tifffile.imwrite(p, data, photometric="minisblack", planarconfig="separate", **kw)
    elif layout == "contig":
        tifffile.imwrite(p, data.transpose(1, 2, 0), photometric="minisblack", planarconfig="contig", **kw)
    elif layout == "tiled":
        tifffile.imwrite(p, data, photometric="minisblack", tile=(16, 16), **kw)
    elif layout == "bigtiff":
        tifffile.imwrite(p, data, photometric="minisblack", bigtiff=True, **kw)
    elif layout == "imagej":
        tifffile.imwrite(p, data, imagej=True, metadata={"axes": "CYX"}, **kw)
    elif layout == "imagej_zcyx":
        z = int(rng.integers(1, 3))
        tifffile.imwrite(p, np.stack([data] * z), imagej=True, metadata={"axes": "ZCYX"}, **kw)
    elif layout == "imagej_tzcyx":
        tifffile.imwrite(p, data[None, None], imagej=True, metadata={"axes": "TZCYX"}, **kw)
    elif layout == "ome":
        tifffile.imwrite(p, data, ome=True, photometric="minisblack", metadata={"axes": "CYX"}, **kw)
    else:  # two_series: the cube, then a small 2-D image (a thumbnail, a mask)
        with tifffile.TiffWriter(p) as tw:
            tw.write(data, photometric="minisblack", **kw)
            tw.write(data[0, :4, :4], photometric="minisblack")
    return p


def seed_pt(d: Path, rng) -> Path:
    import torch

    from napari_inf3.models.checkpoint import save_checkpoint
    from napari_inf3.models.infn import INFN

    torch.manual_seed(int(rng.integers(1 << 30)))
    m = INFN(weighting=["area", "net", "cosine"][rng.integers(3)], preset="lite", n_feats=4, n_resblocks=1,
             mlp_hidden=[8], out_dim=4)
    p = d / "model.pt"
    save_checkpoint(m, p, meta={"fuzz": True})
    return p


def seed_geotiff(d: Path, rng) -> Path:
    """A small georeferenced cube as rasterio writes it (pixel- or band-interleaved, with or without nodata)."""
    import rasterio
    from rasterio.transform import Affine

    data = _cube(rng, bands=int(rng.integers(1, 6)))
    p = d / "geo.tif"
    with rasterio.open(p, "w", driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0],
                       dtype="float32", crs=["EPSG:32633", "EPSG:4326"][int(rng.integers(2))],
                       transform=Affine(30.0, 0, 5e5, 0, -30.0, 4e6), nodata=[None, -1.0][int(rng.integers(2))],
                       interleave=["pixel", "band"][int(rng.integers(2))]) as ds:
        ds.write(data)
    return p


def _photo(rng, h=16, w=24) -> np.ndarray:
    return (rng.random((h, w, 3)) * 255).astype(np.uint8)


def seed_jpeg(d: Path, rng) -> Path:
    from PIL import Image

    p = d / "photo.jpg"
    Image.fromarray(_photo(rng)).save(p, quality=int(rng.integers(30, 100)), subsampling=int(rng.integers(3)))
    return p


def seed_heic(d: Path, rng) -> Path:
    import pillow_heif
    from PIL import Image

    pillow_heif.register_heif_opener()
    p = d / "photo.heic"
    Image.fromarray(_photo(rng)).save(p, quality=int(rng.integers(30, 100)))
    return p


def seed_dng(d: Path, rng) -> Path:
    from napari_inf3.testing.dng import PATTERNS, write_dng

    return write_dng(d / "photo.dng", rng.random((3, 24, 32)), pattern=list(PATTERNS)[int(rng.integers(4))])


SEEDS = {"cave": seed_cave, "envi": seed_envi, "mat5": seed_mat5, "mat73": seed_mat73, "npy": seed_npy,
         "npz": seed_npz, "tif": seed_tif, "geotiff": seed_geotiff, "jpeg": seed_jpeg, "heic": seed_heic,
         "dng": seed_dng, "pt": seed_pt}


# ---- mutations ------------------------------------------------------------------------------
