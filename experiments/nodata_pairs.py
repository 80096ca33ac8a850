"""Georeferenced pairs with nodata: what leaving it out of the fits gives (issue 35).

    .venv/bin/python -m experiments nodata_pairs [--scenes superballs cloth ...] [--out FILE.json]

Per CAVE scene (``../shared/data/cave``, cropped to 256 × 256): the LR-HSI simulated ×4 (the paper's protocol),
written as a 40 m GeoTIFF whose north-west corner has no data (a diagonal swath edge, nodata −9999), and the
HR-MSI (Nikon D700) as a 10 m GeoTIFF with no data east of a slanted edge that cuts LR blocks (nodata −1); both read
back with ``read_cube`` and cut to their common footprint by ``align_pair`` (which zero-fills what has no data,
and the LR pixels whose block lacks some). Then ``fit_pair`` told the aligned pair's ``valid`` mask, not told it
(only its rule that an LR pixel 0 in every band has no data), and, for reference, fitted on the same pair without
any nodata; and ``estimate_srf``'s response residual told and not told. PSNR (dB) against the cube on the pixels
with data, also split into the ring within 8 HR pixels of the nodata and the inner part.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SIDE, R = 256, 4


def _geotiff(path: Path, data: np.ndarray, pixel: float, nodata: float) -> Path:
    import rasterio
    from rasterio.transform import Affine

    with rasterio.open(path, "w", driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0],
                       dtype="float32", crs="EPSG:32633", transform=Affine(pixel, 0, 500_000, 0, -pixel, 4_000_000),
                       nodata=nodata) as ds:
        ds.write(data.astype(np.float32))
    return path


def _pair(gt: np.ndarray, d: Path):
    """The scene's aligned georeferenced pair with nodata edges, and the clean simulated pair."""
    import napari_inf3 as ni
    from napari_inf3.data.geo import align_pair

    lr, msi = (np.asarray(a, np.float32) for a in ni.simulate(gt, R))
    h, w = lr.shape[1:]
    ii, jj = np.mgrid[:h, :w]
    lr_file = np.where(((ii + jj) < 0.22 * (h + w))[None], np.float32(-9999), lr)
    yy, xx = np.mgrid[: h * R, : w * R]
    msi_file = np.where((xx > w * R * 0.82 - 0.3 * yy)[None], np.float32(-1), msi)
    aligned = align_pair(ni.read_cube(_geotiff(d / "hsi.tif", lr_file, 10.0 * R, -9999)),
                         ni.read_cube(_geotiff(d / "msi.tif", msi_file, 10.0, -1)))
    return aligned, lr, msi


def scene_row(sc: str) -> dict:
    from scipy.ndimage import binary_erosion

    import napari_inf3 as ni
    from napari_inf3.camera.srf_fit import estimate_srf
    from napari_inf3.evaluation.metrics import psnr
    from napari_inf3.pair import fit_pair

    gt = np.asarray(ni.read_cube(DATA / "cave" / f"{sc}_ms").data, np.float32)[:, :SIDE, :SIDE]
    with tempfile.TemporaryDirectory() as d:
        pair, lr, msi = _pair(gt, Path(d))
    valid = pair.valid
    inner = binary_erosion(valid, np.ones((17, 17), bool), border_value=1)
    regions = {"": valid, " inner": inner, " ring": valid & ~inner}

    def scores(cube, key):
        return {key + name: round(psnr(np.clip(cube[:, m], 0, 1)[..., None], gt[:, m][..., None]), 3)
                for name, m in regions.items()}

    row: dict = {"scene": sc, "valid": round(float(valid.mean()), 3)}
    for key, told in (("not told", None), ("told", valid)):
        model = fit_pair(pair.lr_hsi, pair.hr_msi, valid=told, seed=0)
        row.update(scores(ni.fuse(model, pair.lr_hsi, pair.hr_msi).cube, f"fit_pair {key}"))
        row[f"self-check gain {key}"] = model.meta["self_check"]["gain_db"]
        row[f"srf residual {key}"] = round(float(max(estimate_srf(pair.lr_hsi, pair.hr_msi, R, valid=told).residual)),
                                           4)
    row.update(scores(ni.fuse(fit_pair(lr, msi, seed=0), lr, msi).cube, "fit_pair clean pair"))
    return row


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenes", nargs="*", default=["superballs", "cloth", "paints"])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "results" / "nodata_pairs.json")
    args = ap.parse_args(argv)
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for sc in args.scenes:
            rows.append(scene_row(sc))
            print(json.dumps(rows[-1]), flush=True)
    means = {k: round(float(np.mean([r[k] for r in rows])), 3) for k in rows[0] if k != "scene"}
    print("mean:", json.dumps(means))
    from napari_inf3.io.atomic import atomic_write_text

    atomic_write_text(args.out, json.dumps({"rows": rows, "mean": means}, indent=1) + "\n")


if __name__ == "__main__":
    main()
