"""Fuzz every reader and the checkpoint loader with mutated files (issue 14).

    .venv/bin/python -m napari_inf3.testing.fuzz --seconds 60 [--format npy] [--seed 0] [--keep escapes/]
    .venv/bin/python -m napari_inf3.testing.fuzz --cases 20000    # a fixed number of cases instead of a time

A seeded mutator of our own (no new dependency): it writes small *valid* files of every format we
read — a CAVE folder of 16-bit PNGs, ENVI ``.hdr`` + data (bsq / bil / bip; uint8, int16, uint16,
float32, float64, both byte orders), ``.mat`` v5 and v7.3, ``.npy``, ``.npz``, ``.tif`` (one page per
band, planar separate and contig samples, tiled, BigTIFF, ImageJ hyperstacks, OME, two series, ours;
uint8 to float64; uncompressed, zlib, lzma, deflate, with and without predictor: :data:`TIFF_LAYOUTS`) and
our checkpoints ``.pt`` — and mutates copies of them: truncation at a random offset, byte flips,
insertions, deletions and duplicated runs; ENVI header lines deleted, duplicated or given absurd
values (negative, zero, 10¹², 1e308, non-numbers, unknown data type codes); ``.npy`` headers with
absurd shapes and dtypes; CAVE folders with a band missing, truncated, of another size or bit depth.

Each case is read in a worker process (``read_cube`` or ``load_checkpoint``) under an address-space
limit, with a 5 s deadline. The outcome must be a cube, or a ``CubeError`` / ``CheckpointError``
whose message names the file. Anything else is an **escape** (another exception type, an error
not naming the file), a **hang** (over 5 s) or a **crash** (the worker died). Escapes are copied to
``--keep`` when given. Prints a table per format and one JSON line; exit 1 on any escape.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .seeds import SEEDS, TIFF_LAYOUTS  # noqa: F401 - TIFF_LAYOUTS: the layouts this docstring names

# the folder this napari_inf3 was imported from: the worker processes import the same copy
PACKAGE_PARENT = Path(__file__).resolve().parents[2]
FORMATS = ("cave", "envi", "mat5", "mat73", "npy", "npz", "tif", "geotiff", "jpeg", "heic", "dng", "pt")
DEADLINE_S = 5.0
MEMORY_LIMIT = 6 * 2**30  # bytes of address space for a worker: a memory bomb fails instead of swapping
ABSURD = ["-1", "0", "1000000000000", "1e308", "nan", "abc", "", "{", "3.5", "-0"]


def mutate_bytes(data: bytes, rng) -> bytes:
    """One to three random byte-level edits."""
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 4))):
        op = rng.integers(6)
        n = len(b)
        if n == 0:
            b += bytes(rng.integers(0, 256, 8, dtype=np.uint8))
            continue
        i = int(rng.integers(n))
        if op == 0:  # truncate
            del b[i:]
        elif op == 1:  # flip bytes
            for j in rng.integers(0, n, int(rng.integers(1, 9))):
                b[j] = int(rng.integers(256))
        elif op == 2:  # insert junk
            b[i:i] = bytes(rng.integers(0, 256, int(rng.integers(1, 64)), dtype=np.uint8))
        elif op == 3:  # delete a run
            del b[i : i + int(rng.integers(1, 256))]
        elif op == 4:  # duplicate a run
            b[i:i] = b[i : i + int(rng.integers(1, 256))]
        else:  # an "interesting" 32-bit value (sizes, counts, offsets)
            v = [0, 0xFFFFFFFF, 0x7FFFFFFF, 0x80000000, 1 << 20, 1 << 30][rng.integers(6)]
            b[i : i + 4] = int(v).to_bytes(4, "little")
    return bytes(b)


def mutate_header(text: str, rng) -> str:
    """ENVI header edits: lines deleted / duplicated, values made absurd, data types unknown."""
    lines = text.splitlines()
    for _ in range(int(rng.integers(1, 3))):
        op = rng.integers(5)
        i = int(rng.integers(len(lines))) if lines else 0
        if not lines:
            break
        if op == 0:
            del lines[i]
        elif op == 1:
            lines.insert(i, lines[i])
        elif op == 2 and "=" in lines[i]:
            key = lines[i].split("=")[0]
            lines[i] = f"{key}= {ABSURD[rng.integers(len(ABSURD))]}"
        elif op == 3:
            key = ["samples", "lines", "bands", "data type", "header offset", "byte order", "interleave"][
                rng.integers(7)]
            val = ["100000", "1000", "99", "7", "15", "bsqx", str(rng.integers(-5, 200))][rng.integers(7)]
            lines = [f"{key} = {val}" if ln.split("=")[0].strip() == key else ln for ln in lines]
        else:
            lines[i] = mutate_bytes(lines[i].encode(), rng).decode("latin-1")
    return "\n".join(lines) + "\n"


def mutate_npy_header(path: Path, rng) -> None:
    """Rewrite the .npy header with an absurd shape or dtype over the same (small) data."""
    raw = path.read_bytes()
    hlen = int.from_bytes(raw[8:10], "little")
    body = raw[10 + hlen :]
    shape = [(100000, 100000, 1000), (31, 8, 10), (0, 8, 10), (31, 8), (2**40, 2**40), (31, 80, 100),
             (1, 1, 1, 1, 1)][rng.integers(7)]
    descr = ["<f4", "<f8", "|u1", "<c16", "|O", "<U4", "|V8", ">i2"][rng.integers(8)]
    header = f"{{'descr': '{descr}', 'fortran_order': {bool(rng.random() < 0.3)}, 'shape': {tuple(shape)}, }}"
    header = header.ljust(118) + "\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + body)


def mutate_cave(folder: Path, rng) -> None:
    from PIL import Image

    bands = sorted(folder.glob("*.png"))
    op = rng.integers(5)
    victim = bands[int(rng.integers(len(bands)))]
    if op == 0:
        victim.unlink()
    elif op == 1:
        victim.write_bytes(mutate_bytes(victim.read_bytes(), rng))
    elif op == 2:  # another size
        Image.fromarray((rng.random((5, 7)) * 65535).astype(np.uint16)).save(victim)
    elif op == 3:  # another bit depth / mode
        mode = ["L", "RGB", "RGBA", "I;16", "LA", "1", "P"][rng.integers(7)]
        Image.new(mode, (10, 8)).save(victim)
    else:  # an extra, odd band file
        shutil.copy(victim, folder / f"{folder.name}_{int(rng.integers(32, 100))}.png")


def make_case(fmt: str, d: Path, rng) -> Path:
    """A mutated file (or folder) of format ``fmt`` in the empty folder ``d``."""
    p = SEEDS[fmt](d, rng)
    if fmt == "cave":
        mutate_cave(p, rng)
    elif fmt == "envi":
        r = rng.random()
        if r < 0.5:
            p.write_text(mutate_header(p.read_text(), rng))
        elif r < 0.8:
            data = d / "cube.img"
            data.write_bytes(mutate_bytes(data.read_bytes(), rng))
        else:
            p.write_bytes(mutate_bytes(p.read_bytes(), rng))
    elif fmt == "npy" and rng.random() < 0.4:
        mutate_npy_header(p, rng)
    else:
        p.write_bytes(mutate_bytes(p.read_bytes(), rng))
    return p


# ---- the worker -----------------------------------------------------------------------------
def worker() -> None:
    """Read requests (JSON lines: path, kind) from stdin; answer one JSON line each."""
    import resource
    import warnings

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    warnings.simplefilter("ignore")
    import torch  # noqa: F401  (imported once, before the limit matters)

    from napari_inf3 import CubeError, read_cube
    from napari_inf3.models.checkpoint import CheckpointError, load_checkpoint

    for line in sys.stdin:
        req = json.loads(line)
        path = Path(req["path"])
        try:
            if req["kind"] == "pt":
                load_checkpoint(path, device="cpu")
            else:
                cube = read_cube(path)
                np.asarray(cube.data[:, :1, :1])
            res = {"outcome": "ok"}
        except (CubeError, CheckpointError) as exc:
            named = path.name in str(exc) or str(path) in str(exc) or path.parent.name in str(exc)
            res = {"outcome": "error" if named else "escape", "type": type(exc).__name__, "msg": str(exc)[:300]}
        except BaseException as exc:  # noqa: BLE001 -- the point: report whatever escaped
            res = {"outcome": "escape", "type": type(exc).__name__, "msg": str(exc)[:300]}
        sys.stdout.write(json.dumps(res) + "\n")
        sys.stdout.flush()


class Worker:
    def __init__(self):
        self.proc = None
        self.warm = False  # has answered once: its start-up (imports) is behind it

    def start(self) -> None:
        path = os.pathsep.join([str(PACKAGE_PARENT), os.environ.get("PYTHONPATH", "")])
        env = {**os.environ, "PYTHONPATH": path, "OMP_NUM_THREADS": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "napari_inf3.testing.fuzz", "--worker"],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, env=env)

    def ask(self, path: Path, kind: str) -> dict:
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        self.proc.stdin.write(json.dumps({"path": str(path), "kind": kind}) + "\n")
        self.proc.stdin.flush()
        # the first answer includes the worker's start-up (imports): allow for it once
        limit = DEADLINE_S + (0.0 if self.warm else 30.0)
        ready, _, _ = select.select([self.proc.stdout], [], [], limit)
        if not ready:
            self.stop()
            return {"outcome": "hang", "type": "timeout", "msg": f"no answer in {limit:.0f} s"}
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            self.proc = None
            self.warm = False
            return {"outcome": "crash", "type": f"exit {code}", "msg": "the worker died"}
        self.warm = True
        return json.loads(line)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None
            self.warm = False


def run(seconds: float, formats: list[str], seed: int = 0, keep: Path | None = None, log=print,
        cases: int | None = None) -> dict:
    """Fuzz ``formats`` round-robin for ``seconds`` (or, given ``cases``, until that many cases have run,
    however long it takes); returns counts per format and the escapes."""
    rng = np.random.default_rng(seed)
    counts = {f: {"ok": 0, "error": 0, "escape": 0, "hang": 0, "crash": 0} for f in formats}
    bad = []
    w = Worker()
    t0 = time.perf_counter()
    n = 0
    try:
        with tempfile.TemporaryDirectory(prefix="inf3-fuzz-") as tmp:
            while (n < cases) if cases is not None else (time.perf_counter() - t0 < seconds):
                fmt = formats[n % len(formats)]
                case_seed = int(rng.integers(1 << 62))
                d = Path(tmp) / f"case{n}"
                d.mkdir()
                path = make_case(fmt, d, np.random.default_rng(case_seed))
                res = w.ask(path, "pt" if fmt == "pt" else "cube")
                counts[fmt][res["outcome"]] += 1
                if res["outcome"] not in ("ok", "error"):
                    bad.append({"format": fmt, "case_seed": case_seed, **res})
                    log(f"{res['outcome']}: {fmt} case seed {case_seed}: {res['type']}: {res['msg']}")
                    if keep is not None:
                        shutil.copytree(d, keep / f"{fmt}-{case_seed}", dirs_exist_ok=True)
                shutil.rmtree(d, ignore_errors=True)
                n += 1
    finally:
        w.stop()
    return {"seconds": round(time.perf_counter() - t0, 1), "cases": n, "seed": seed, "counts": counts,
            "escapes": bad}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--format", choices=FORMATS, action="append", help="repeatable; default: all")
    ap.add_argument("--cases", type=int, default=None, help="run this many cases (round-robin over the formats) "
                    "instead of --seconds")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, default=None, help="copy each escaping case into this folder")
    ap.add_argument("--case", type=int, default=None, help="rebuild one case from its case seed (with --format)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        worker()
        return 0
    if a.case is not None:
        out = Path(tempfile.mkdtemp(prefix="inf3-case-"))
        print(make_case(a.format[0], out, np.random.default_rng(a.case)))
        return 0
    if a.keep:
        a.keep.mkdir(parents=True, exist_ok=True)
    res = run(a.seconds, a.format or list(FORMATS), a.seed, a.keep, cases=a.cases)
    print("| format | cases | ok | CubeError / CheckpointError | escape | hang | crash |\n"
          "|---|---|---|---|---|---|---|")
    for f, c in res["counts"].items():
        print(f"| {f} | {sum(c.values())} | {c['ok']} | {c['error']} | {c['escape']} | {c['hang']} | {c['crash']} |")
    print(json.dumps({k: v for k, v in res.items() if k != "escapes"} | {"n_escapes": len(res["escapes"])}))
    return 1 if res["escapes"] else 0


if __name__ == "__main__":
    sys.exit(main())
