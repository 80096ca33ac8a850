"""Pack CAVE scenes small enough to travel to a GPU machine, and read the pack back.

The GPU machine gets only the working tree (≤ 64 MiB with what is carried), and the 19 training
scenes are 233 MB as PNG. A pack keeps the top ``bits`` bits of every 16-bit value
(``value >> (16 - bits)``), as band-to-band differences (lossless, :func:`band_difference`)
compressed with lzma, one file per scene plus ``index.json``;
reading restores the middle of each quantisation step (``(q + 0.5) · 2^(16-bits) / 65535``),
so the error is uniform in ±half a step: at 8 bits a quantisation PSNR of 58.9–59.6 dB, 1.07–2.72 MB a
scene (35.5 MB for the 20 CAVE scenes here). Those figures, per scene: docs/results/pack_scenes.json.

What that costs training is measured, not assumed: ``tests/test_gpu_run.py`` checks the round
trip, and ``tools/pack_check.py`` compares a short ``lite`` run from the pack with the same
run from the PNGs (docs/REPRODUCTION.md has the figure, docs/results/gpu/pack_check.json the run).

    python -m tools.pack_scenes ../shared/data/cave --out .pack --exclude superballs_ms
    python -m tools.pack_scenes ../shared/data/cave --only superballs_ms --out .pack --append

Reading needs numpy and the standard library only (the GPU machine has no napari, no spectral).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import lzma
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

INDEX = "index.json"
FORMAT = "napari-inf3-scene-pack"
VERSION = 2  # 2: band differences before lzma (smaller); 1: raw values
CODING = "band-diff"


def quantise(cube_u16: np.ndarray, bits: int) -> np.ndarray:
    """Top ``bits`` bits of a uint16 cube, as uint8 (bits ≤ 8) or uint16."""
    if not 1 <= bits <= 16:
        raise ValueError(f"bits must be 1..16, got {bits}")
    q = np.asarray(cube_u16, np.uint16) >> (16 - bits)
    return q.astype(np.uint8 if bits <= 8 else np.uint16)


def dequantise(q: np.ndarray, bits: int) -> np.ndarray:
    """float32 reflectance in [0, 1] from quantised values: the middle of each step."""
    step = float(1 << (16 - bits))
    return ((q.astype(np.float32) + np.float32(0.5 if bits < 16 else 0.0)) * np.float32(step / 65535.0)).astype(
        np.float32)


def band_difference(q: np.ndarray) -> np.ndarray:
    """Each band minus the one before it, wrapping in ``q``'s unsigned type (band 0 as it is):
    neighbouring bands are alike, so the differences compress to 57–98 % of the raw values (lzma; cloth
    4.63 → 2.63 MB, egyptian_statue 1.33 → 1.07 MB, all 20 CAVE scenes 49.1 → 35.5 MB:
    docs/results/pack_scenes.json). Lossless."""
    d = np.array(q, copy=True)
    d[1:] = q[1:] - q[:-1]  # unsigned arithmetic wraps: exact, undone by band_cumsum
    return np.ascontiguousarray(d)


def band_cumsum(d: np.ndarray) -> np.ndarray:
    """The inverse of :func:`band_difference`."""
    return np.cumsum(d, axis=0, dtype=d.dtype)


def _pack_one(args: tuple[str, str, int]) -> dict:
    folder, out_dir, bits = args
    from napari_inf3.io.cave import _band_files, _read_png, find_band_folder  # noqa: PLC0415

    band_dir = find_band_folder(folder)
    if band_dir is None:
        raise SystemExit(f"{folder}: not a CAVE scene folder")
    cube = np.stack([_read_png(p) for _, p in _band_files(band_dir)]).astype(np.uint16)
    q = quantise(cube, bits)
    name = Path(folder).name
    payload = lzma.compress(band_difference(q).tobytes(), preset=9)
    (Path(out_dir) / f"{name}.xz").write_bytes(payload)
    rec = dequantise(q, bits).astype(np.float64)
    mse = float(np.mean((rec - cube / 65535.0) ** 2))
    return {"name": name, "shape": list(q.shape), "dtype": str(q.dtype), "bits": bits, "coding": CODING,
            "bytes": len(payload),
            "sha256_16bit": hashlib.sha256(cube.tobytes()).hexdigest()[:16],
            "quantisation_psnr_db": round(10 * np.log10(1.0 / max(mse, 1e-20)), 3)}


def pack(folders: list[Path], out: Path, bits: int = 8, append: bool = False, jobs: int = 2) -> dict:
    """Write ``out/<scene>.xz`` for every folder and ``out/index.json``; returns the index."""
    out.mkdir(parents=True, exist_ok=True)
    index = {"format": FORMAT, "version": VERSION, "scenes": []}
    if append and (out / INDEX).exists():
        index = json.loads((out / INDEX).read_text())
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as ex:
        entries = list(ex.map(_pack_one, [(str(f), str(out), bits) for f in folders]))
    names = {e["name"] for e in entries}
    index["scenes"] = [e for e in index["scenes"] if e["name"] not in names] + entries
    (out / INDEX).write_text(json.dumps(index, indent=1))
    return index


def read_pack(folder: str | Path, names: list[str] | None = None) -> dict[str, np.ndarray]:
    """``{scene name: (B, H, W) float32 in [0, 1]}`` from a pack (all scenes, or ``names``)."""
    folder = Path(folder)
    index = json.loads((folder / INDEX).read_text())
    if index.get("format") != FORMAT:
        raise ValueError(f"{folder / INDEX}: not a scene pack")
    if index.get("version", 1) > VERSION:
        raise ValueError(f"{folder / INDEX}: pack format version {index['version']} is newer than this "
                         f"reader's {VERSION}")
    out = {}
    for e in index["scenes"]:
        if names is not None and e["name"] not in names:
            continue
        raw = lzma.decompress((folder / f"{e['name']}.xz").read_bytes())
        q = np.frombuffer(raw, dtype=np.dtype(e["dtype"])).reshape(e["shape"])
        if e.get("coding", "raw") == CODING:  # packs of format version 1 hold the values as they are
            q = band_cumsum(q)
        elif e.get("coding", "raw") != "raw":
            raise ValueError(f"{folder / INDEX}: unknown coding {e['coding']!r} for {e['name']}")
        out[e["name"]] = dequantise(q, int(e["bits"]))
    if names is not None and set(names) - set(out):
        raise KeyError(f"{folder}: no scene(s) {sorted(set(names) - set(out))} in the pack")
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", type=Path, help="a folder of CAVE scene folders")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--bits", type=int, default=8)
    ap.add_argument("--exclude", nargs="*", default=[])
    ap.add_argument("--only", nargs="*", default=None)
    ap.add_argument("--append", action="store_true", help="add to an existing pack")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args(argv)
    folders = sorted(d for d in a.root.iterdir() if d.is_dir() and d.name not in a.exclude
                     and (a.only is None or d.name in a.only))
    index = pack(folders, a.out, a.bits, a.append, a.jobs)
    total = sum(e["bytes"] for e in index["scenes"])
    for e in index["scenes"]:
        print(f"{e['name']:32s} {e['bytes'] / 1e6:6.2f} MB  quantisation PSNR {e['quantisation_psnr_db']:.2f} dB")
    print(f"{len(index['scenes'])} scenes, {total / 1e6:.1f} MB in {a.out}")
    print(json.dumps({"scenes": len(index["scenes"]), "bytes": total, "bits": a.bits}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
