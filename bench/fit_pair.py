"""What fitting a fusion to a pair costs (:func:`napari_inf3.fit_pair`): seconds to fit and to fuse a 100² × 200-band
pair and a 512² × 31-band one, and the peak memory of a 2048² × 200-band flight line with the LR-HSI memory-mapped
and the result written tile by tile.

    python -m bench fit_pair                    # 100² × 200 (Indian Pines, 200 of its bands) and 512² × 31 (superballs)
    python -m bench fit_pair --flight-line      # also 2048² × 200 bands (synthetic, ≈ 4 GB of files in --tmp)
    python -m bench fit_pair --device cuda      # on a GPU (the spectral map's training and evaluation)

Targets (issue 32): ≤ 60 s for 100² × 200 and ≤ 5 min for 512² × 31 on a 2-core CPU; the flight line within 8 GB.
The ×4 pairs follow the paper's protocol; the HR-MSI is Sentinel-2's 10 m bands (200 bands) or the Nikon D700 (31).
The flight line runs in a child process so its peak resident memory (``ru_maxrss``) is its own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench import emit

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def _timed_fit(lr, msi, srf, device) -> dict:
    import napari_inf3 as ni
    from napari_inf3.pair import fit_pair

    t = time.perf_counter()
    model = fit_pair(lr, msi, srf=srf, device=device)
    fit_s = time.perf_counter() - t
    t = time.perf_counter()
    cube = ni.fuse(model, lr, msi, device).cube
    return {"fit_s": round(fit_s, 2), "fuse_s": round(time.perf_counter() - t, 2), "shape": list(cube.shape),
            "self_check_db": model.meta["self_check"]["held_out_db"]}


def _aviris_100(bands: int = 200):
    """100² × ``bands`` of the shared Indian Pines cube (its first ``bands`` bands, nominal wavelengths), or a
    synthetic mixture of the same size without it."""
    import napari_inf3 as ni

    path = SHARED / "other_sensors" / "indian_pines_Ori_H.mat"
    if path.is_file():
        cube = ni.read_cube(path).data[:bands, :100, :100]
        wl = np.linspace(400.0, 2500.0, 224)[:bands]
    else:
        cube, wl = _mixture(bands, 100)
    return cube / cube.max(), wl


def _mixture(bands: int, size: int):
    """A synthetic ``size``² scene of ``bands`` bands (:func:`_strip`'s, whole), for when the shared data is absent."""
    return _strip(bands, size, size, 0)


def _small_pairs(device) -> list[dict]:
    import napari_inf3 as ni

    rows = []
    cube, wl = _aviris_100()
    p = ni.load_srf("sentinel2a_10m", wavelengths=wl)
    lr, msi = ni.simulate(cube, 4, p)
    rows.append({"pair": f"100² × {cube.shape[0]} bands, Sentinel-2 10 m", **_timed_fit(lr, msi, p, device)})
    scene = SHARED / "cave" / "superballs_ms"
    gt = ni.read_cube(scene).data if scene.is_dir() else _mixture(31, 512)[0]
    lr, msi = ni.simulate(gt, 4)
    rows.append({"pair": "512² × 31 bands, Nikon D700", **_timed_fit(lr, msi, ni.load_srf("nikon_d700"), device)})
    return rows


def write_flight_line(folder: Path, size: int = 2048, bands: int = 200, strip: int = 256) -> tuple[Path, Path]:
    """A ``size``² × ``bands`` scene simulated strip by strip (never whole in memory): the LR-HSI as an ENVI file
    (read lazily), the 4-band HR-MSI (Sentinel-2 10 m) as ``.npy``."""
    import napari_inf3 as ni
    from napari_inf3.io.envi import create

    wl = np.linspace(400.0, 2500.0, bands)
    p = ni.load_srf("sentinel2a_10m", wavelengths=wl)
    lr = create(folder / "lr.hdr", (bands, size // 4, size // 4), wl)
    msi = np.lib.format.open_memmap(folder / "msi.npy", mode="w+", dtype=np.float32, shape=(4, size, size))
    for y0 in range(0, size, strip):
        gt, _ = _strip(bands, strip, size, y0)
        a, b = ni.simulate(gt, 4, p)
        lr[:, y0 // 4 : (y0 + strip) // 4] = a
        msi[:, y0 : y0 + strip] = b
    lr.flush()
    msi.flush()
    return folder / "lr.hdr", folder / "msi.npy"


def _strip(bands: int, rows: int, size: int, y0: int):
    """Rows ``y0:y0+rows`` (all columns) of the flight line's scene."""
    wl = np.linspace(400.0, 2500.0, bands)
    spectra = 0.3 + 0.5 * np.abs(np.sin(np.outer(np.arange(1, 6), np.linspace(0, 3, bands)) + np.arange(5)[:, None]))
    y, x = np.mgrid[y0 : y0 + rows, 0:size] / size
    logits = np.stack([3 * np.sin(2 * np.pi * ((k + 1) * 7 * x + (5 - k) * 5 * y + 0.3 * k)) for k in range(5)])
    ab = np.exp(logits) / np.exp(logits).sum(0)
    return np.einsum("eb,ehw->bhw", spectra, ab).astype(np.float32) / 0.8, wl


def _flight_line_child(folder: str, device: str) -> None:
    """In the child process: read lazily, fit, fuse tile by tile into an ENVI memory map; print one JSON line."""
    import resource

    import napari_inf3 as ni
    from napari_inf3.io.envi import create
    from napari_inf3.pair import fit_pair

    f = Path(folder)
    lr = ni.read_cube(f / "lr.hdr", lazy=True)
    msi = np.load(f / "msi.npy", mmap_mode="r")
    ticks = []
    t = time.perf_counter()
    model = fit_pair(lr, np.asarray(msi), srf=ni.load_srf("sentinel2a_10m", wavelengths=lr.wavelengths),
                     device=device, progress=lambda d, n: ticks.append(d))
    fit_s = time.perf_counter() - t
    out = create(f / "fused.hdr", (lr.bands, msi.shape[1], msi.shape[2]), lr.wavelengths)
    t = time.perf_counter()
    tiles = []
    ni.fuse(model, lr, msi, device, out=out, progress=lambda d, n: tiles.append((d, n)))
    out.flush()
    fuse_s = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB → GiB
    print(json.dumps({"fit_s": round(fit_s, 1), "fuse_s": round(fuse_s, 1), "peak_rss_gib": round(peak, 2),
                      "fit_progress_reports": len(ticks), "tiles": tiles[-1][1] if tiles else 0,
                      "self_check_db": model.meta["self_check"]["held_out_db"]}))


def _flight_line(tmp: Path | None, device: str) -> dict:
    with tempfile.TemporaryDirectory(dir=tmp) as d:
        t = time.perf_counter()
        write_flight_line(Path(d))
        made = time.perf_counter() - t
        res = subprocess.run([sys.executable, "-m", "bench.fit_pair", "--child", d, "--device", device],
                             capture_output=True, text=True, check=False)
        if res.returncode != 0:
            raise RuntimeError(f"the flight line's child failed:\n{res.stderr[-3000:]}")
        row = json.loads(res.stdout.strip().splitlines()[-1])
    return {"pair": "2048² × 200 bands, LR-HSI memory-mapped", "written_s": round(made, 1), **row}


def main(argv=None) -> None:
    import torch

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--flight-line", action="store_true", help="also the 2048² × 200-band pair (≈ 4 GB of files)")
    ap.add_argument("--only-flight-line", action="store_true")
    ap.add_argument("--tmp", type=Path, default=None, help="where the flight line's files go (default: the system's)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.child:
        _flight_line_child(args.child, args.device)
        return
    rows = [] if args.only_flight_line else _small_pairs(args.device)
    if args.flight_line or args.only_flight_line:
        rows.append(_flight_line(args.tmp, args.device))
    print(f"fit_pair, {args.threads} threads, device {args.device}:")
    print("| pair | fit (s) | fuse (s) | self-check (dB) | peak memory (GiB) |\n|---|---|---|---|---|")
    for r in rows:
        gib = r.get('peak_rss_gib', '—')
        print(f"| {r['pair']} | {r['fit_s']} | {r['fuse_s']} | {r['self_check_db']:.2f} | {gib} |")
    emit({"device": args.device, "threads": args.threads, "rows": rows})


if __name__ == "__main__":
    main()
