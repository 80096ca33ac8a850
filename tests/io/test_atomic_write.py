"""Issue 24: no data lost on write. Every file the package writes goes through napari_inf3.io.atomic: a full
disk or a too-large file gives a WriteError naming the path and the reason, the old file stays byte for byte,
no temporary file is left; a kill mid-write leaves the old file too (and its temporary is removed by the next
write). Bad data is refused before anything is written.

Without root: a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored) in a subprocess makes writes fail part-way
with EFBIG, as a full disk does with ENOSPC; the kill uses the same limit with a SIGXFSZ handler that stalls
the writer mid-file, so the SIGKILL lands while the temporary file is half written.
"""

from __future__ import annotations

import json
import os
import pickle
import select
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from napari_inf3 import Cube, CubeError, read_cube, write_cube
from napari_inf3.io.atomic import WriteError, atomic_path, atomic_write_text

ROOT = Path(__file__).resolve().parents[2]
WL = np.arange(400.0, 701.0, 10)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _temporaries(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*.tmp"))


def _child(code: str, *args: str, **popen) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore",
           "MPLBACKEND": "Agg"}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], env=env, text=True, **popen)


# ---- the helper itself ------------------------------------------------------------------------
def test_write_error_is_a_cube_error_and_an_os_error_naming_the_path(tmp_path):
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(WriteError) as info:  # a read-only folder without root: its parent is a file
        atomic_write_text(tmp_path / "a_file" / "out.csv", "hello")
    exc = info.value
    assert isinstance(exc, CubeError) and isinstance(exc, OSError) and isinstance(exc, ValueError)
    assert str(exc).startswith(str(tmp_path / "a_file" / "out.csv"))
    assert "a part of the path is not a folder" in str(exc)
    assert exc.errno == 20 and exc.filename == str(tmp_path / "a_file" / "out.csv")
    back = pickle.loads(pickle.dumps(exc))
    assert str(back) == str(exc) and back.errno == exc.errno
    with pytest.raises(WriteError, match="the folder does not exist"):
        write_cube(Cube(np.ones((3, 2, 2), np.float32)), tmp_path / "missing" / "c.npz")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into a read-only folder")
def test_permission_denied(tmp_path):
    (tmp_path / "c.npz").write_bytes(b"old")
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(WriteError, match="permission denied"):
            write_cube(Cube(np.ones((3, 2, 2), np.float32)), tmp_path / "c.npz", overwrite=True)
    finally:
        tmp_path.chmod(0o700)
    assert (tmp_path / "c.npz").read_bytes() == b"old" and not _temporaries(tmp_path)


def test_a_failure_inside_the_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "t.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    with pytest.raises(RuntimeError, match="boom"), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert target.read_text() == "old\n" and not _temporaries(tmp_path)
    atomic_write_text(target, "new\n")  # the replacement keeps the old file's permissions
    assert target.read_text() == "new\n" and (target.stat().st_mode & 0o777) == 0o640
    umask = os.umask(0o022)
    os.umask(umask)
    assert (atomic_write_text(tmp_path / "fresh.csv", "x").stat().st_mode & 0o777) == 0o666 & ~umask


def test_stale_temporaries_of_dead_processes_are_swept_by_the_next_write(tmp_path):
    from napari_inf3.io import atomic

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    stale = tmp_path / f".out.csv.{atomic._HOST}-{dead_pid}-0badc0de.tmp"
    alive = tmp_path / f".out.csv.{atomic._HOST}-{os.getppid()}-0badc0de.tmp"  # a live writer's: kept
    other = tmp_path / f".other.csv.{atomic._HOST}-{dead_pid}-0badc0de.tmp"  # another target's: kept
    for p in (stale, alive, other):
        p.write_text("half")
    atomic_write_text(tmp_path / "out.csv", "new")
    assert not stale.exists() and alive.exists() and other.exists()


# ---- bad data on the way out: refused before anything is written ------------------------------
def _cube_with(**change) -> Cube:
    cube = Cube(np.random.default_rng(0).random((31, 6, 5), dtype=np.float32), WL)
    for k, v in change.items():
        setattr(cube, k, v)
    return cube


@pytest.mark.parametrize("suffix", [".npz", ".tif", ".hdr"])
@pytest.mark.parametrize("bad, pattern", [
    ("nan", r"1 NaN or infinite value\(s\); nothing was written"),
    ("inf", r"1 NaN or infinite value\(s\)"),
    ("negative", r"negative values \(min -0.5\); nothing was written.*allow_negative=True"),
    ("complex", r"cannot write data of type complex64"),
    ("object", r"cannot write data of type object"),
    ("2d", r"shape \(6, 5\) \(a single image\)"),
    ("empty", r"empty cube of shape \(31, 0, 5\)"),
    ("wavelengths", r"30 wavelengths for 31 bands"),
    ("wavelengths_text", r"the wavelengths are not numbers"),
    ("not_a_cube", r"write_cube needs a Cube, got ndarray"),
])
def test_bad_data_is_refused_before_anything_is_written(tmp_path, suffix, bad, pattern):
    data = np.random.default_rng(0).random((31, 6, 5), dtype=np.float32)
    if bad in ("nan", "inf", "negative"):
        data[3, 2, 1] = {"nan": np.nan, "inf": np.inf, "negative": -0.5}[bad]
        cube = _cube_with(data=data)
    elif bad == "complex":
        cube = _cube_with(data=data.astype(np.complex64))
    elif bad == "object":
        cube = _cube_with(data=data.astype(object))
    elif bad == "2d":
        cube = _cube_with(data=data[0])
    elif bad == "empty":
        cube = _cube_with(data=data[:, :0])
    elif bad == "wavelengths":
        cube = _cube_with(wavelengths=WL[:30])
    elif bad == "wavelengths_text":
        cube = _cube_with(wavelengths=["red"] * 31)
    else:
        cube = data
    with pytest.raises(CubeError, match=pattern):
        write_cube(cube, tmp_path / f"c{suffix}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".npz", ".tif", ".hdr"])
def test_negative_with_allow_negative_and_non_contiguous_arrays_are_written(tmp_path, suffix):
    base = np.random.default_rng(1).random((31, 12, 10), dtype=np.float32) - 0.1
    for i, view in enumerate([base[:, ::2, ::-1], np.asfortranarray(base), base.astype(np.float64)[:, 1:, :]]):
        path = tmp_path / f"c{i}{suffix}"
        write_cube(Cube(view, WL), path, allow_negative=True)
        back = read_cube(path)
        np.testing.assert_array_equal(back.data, view.astype(np.float32))
        np.testing.assert_allclose(back.wavelengths, WL)
    ints = np.random.default_rng(2).integers(0, 2, (31, 4, 4)).astype(np.uint8)  # integers: written as numbers
    write_cube(Cube(ints), tmp_path / f"i{suffix}")
    assert read_cube(tmp_path / f"i{suffix}").data.max() == 1


# ---- a full disk (here: a file-size limit) for every output ------------------------------------
FULL_DISK_CHILD = """
import contextlib, io, json, resource, signal, sys, traceback, warnings
from pathlib import Path
warnings.simplefilter("ignore")
import numpy as np, torch
from matplotlib.figure import Figure
from napari_inf3 import Cube, write_cube
from napari_inf3.models.checkpoint import atomic_torch_save
from napari_inf3.cli.main import main
from napari_inf3.viz.figures import RunFigure
from napari_inf3.io.atomic import save_figure
from napari_inf3.io.envi import create
from napari_inf3.evaluation.report import Report, SceneResult, write_report
from napari_inf3.data.simulation import write_srf_csv

d = Path(sys.argv[1])
rng = np.random.default_rng(0)
big = Cube(rng.random((31, 40, 40), dtype=np.float32), np.arange(400.0, 701.0, 10))
report = Report([SceneResult(f"scene{i}", m, {"psnr": 30.0 + i, "sam": 3.0, "ergas": 2.0, "ssim": 0.9}, 1.0)
                 for i in range(5) for m in ("bicubic", "cosine")])
figs = []
for cls in (Figure, RunFigure):
    fig = cls(figsize=(3, 3))
    fig.subplots().imshow(rng.random((64, 64)))
    fig.savefig(io.BytesIO(), format="png")  # fonts and caches before the limit
    figs.append(fig)
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (200, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
cases = {
    "c.npz": lambda: write_cube(big, d / "c.npz", overwrite=True),
    "c.tif": lambda: write_cube(big, d / "c.tif", overwrite=True),
    "c.hdr": lambda: write_cube(big, d / "c.hdr", overwrite=True),
    "srf.csv": lambda: write_srf_csv(rng.random((3, 31)), d / "srf.csv", np.arange(400.0, 701.0, 10)),
    "metrics": lambda: write_report(report, d / "rep", overwrite=True),
    "fig.png": lambda: save_figure(figs[0], d / "fig.png"),
    "runfig.png": lambda: figs[1].savefig(d / "runfig.png"),
    "m.pt": lambda: atomic_torch_save({"w": torch.zeros(1000)}, d / "m.pt"),
    "stream.hdr": lambda: create(d / "stream.hdr", (31, 40, 40)),
}
out = {}
for name, write in cases.items():
    try:
        write()
        out[name] = {"type": None}
    except BaseException as exc:
        out[name] = {"type": type(exc).__name__, "msg": str(exc), "tb": traceback.format_exc()[-600:]}
for name, argv in {
    "cli evaluate": ["evaluate", str(d / "scene.npz"), "--models", "projection", "--out-dir", str(d / "cli"),
                     "--overwrite", "--device", "cpu", "--summary-only"],
    "cli fuse": ["fuse", "--gt", str(d / "scene.npz"), "--model", "projection", "--out", str(d / "f.hdr"),
                 "--overwrite", "--device", "cpu"],
}.items():
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main(argv)
    out[name] = {"rc": rc, "msg": err.getvalue()}
print(json.dumps(out))
"""


def test_a_full_disk_keeps_every_old_file_and_leaves_nothing(tmp_path):
    from napari_inf3.data.simulation import write_srf_csv
    from napari_inf3.evaluation.report import Report, SceneResult, write_report

    rng = np.random.default_rng(3)
    small = Cube(rng.random((31, 4, 4), dtype=np.float32), WL)
    for name in ("c.npz", "c.tif", "c.hdr", "stream.hdr", "f.hdr"):
        write_cube(small, tmp_path / name)
    write_cube(Cube(rng.random((31, 32, 32), dtype=np.float32), WL), tmp_path / "scene.npz")
    write_srf_csv(rng.random((3, 31)), tmp_path / "srf.csv", WL)
    old = Report([SceneResult("old", "bicubic", {"psnr": 1.0, "sam": 2.0, "ergas": 3.0, "ssim": 0.5}, 1.0)])
    write_report(old, tmp_path / "rep")
    write_report(old, tmp_path / "cli")
    for name in ("fig.png", "runfig.png", "m.pt"):
        (tmp_path / name).write_bytes(b"old " + name.encode())
    before = _snapshot(tmp_path)

    proc = _child(FULL_DISK_CHILD, str(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    stdout, stderr = proc.communicate(timeout=240)
    assert proc.returncode == 0, stderr[-3000:]
    res = json.loads(stdout.strip().splitlines()[-1])

    too_large = "could not be written: the file is larger than this system allows"
    named = {"c.npz": "c.npz", "c.tif": "c.tif", "c.hdr": "c.img", "srf.csv": "srf.csv", "metrics": "rep/metrics.md",
             "fig.png": "fig.png", "runfig.png": "runfig.png", "m.pt": "m.pt", "stream.hdr": "stream.img"}
    for name, file in named.items():
        r = res[name]
        assert r["type"] == "WriteError", (name, r)
        assert r["msg"].startswith(str(tmp_path / file) + ": ") and too_large in r["msg"], (name, r["msg"])
    for name in ("cli evaluate", "cli fuse"):
        r = res[name]
        assert r["rc"] == 2 and r["msg"].startswith("napari-inf3: error: ") and too_large in r["msg"], (name, r)
        assert "Traceback" not in r["msg"]
    assert str(tmp_path / "cli" / "metrics.md") in res["cli evaluate"]["msg"]
    # byte for byte the old files, and not one file more: no temporaries, no partial fused cube
    assert _snapshot(tmp_path) == before
    assert _temporaries(tmp_path) == []


def test_streaming_output_reserves_its_space_first(tmp_path):
    """envi.create reserves the data file's blocks (posix_fallocate), so a full disk fails there, before the
    fusion runs, and not as a SIGBUS while tiles are written into the memory map."""
    from napari_inf3.io.envi import create

    out = create(tmp_path / "s.hdr", (31, 64, 48), WL, description="test {braces}\nand a line")
    assert isinstance(out, np.memmap) and out.shape == (31, 64, 48) and not out.any()
    data = tmp_path / "s.img"
    assert data.stat().st_size == 31 * 64 * 48 * 4
    if hasattr(os, "posix_fallocate"):
        assert data.stat().st_blocks * 512 >= data.stat().st_size  # reserved, not sparse
    out[:] = 0.25
    out.flush()
    del out
    back = read_cube(tmp_path / "s.hdr")
    assert back.shape == (31, 64, 48) and np.all(back.data == 0.25)
    np.testing.assert_allclose(back.wavelengths, WL)
    assert _temporaries(tmp_path) == []


# ---- SIGKILL mid-write --------------------------------------------------------------------------
KILL_CHILD = """
import resource, signal, sys, time, warnings
from pathlib import Path
warnings.simplefilter("ignore")
import numpy as np
from napari_inf3 import Cube, write_cube
from napari_inf3.data.simulation import write_srf_csv

target = Path(sys.argv[1])
rng = np.random.default_rng(0)

def stall(signum, frame):  # the write crossed the size limit: stop here, mid-file, for the kill
    print("writing", flush=True)
    while True:
        time.sleep(1)

signal.signal(signal.SIGXFSZ, stall)
resource.setrlimit(resource.RLIMIT_FSIZE, (20000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
if target.suffix == ".csv":
    write_srf_csv(rng.random((3, 2000)), target, np.linspace(400.0, 700.0, 2000))
else:
    write_cube(Cube(rng.random((31, 40, 40), dtype=np.float32), np.arange(400.0, 701.0, 10)), target, overwrite=True)
print("finished", flush=True)
"""


def test_a_kill_mid_write_keeps_the_old_file(tmp_path):
    from napari_inf3.data.simulation import write_srf_csv

    rng = np.random.default_rng(4)
    names = ["c.npz", "c.tif", "c.hdr", "srf.csv"]
    folders = {n: tmp_path / n.replace(".", "_") for n in names}
    for n, f in folders.items():
        f.mkdir()
        if n == "srf.csv":
            write_srf_csv(rng.random((3, 31)), f / n, WL)
        else:
            write_cube(Cube(rng.random((31, 4, 4), dtype=np.float32), WL), f / n)
    before = {n: _snapshot(f) for n, f in folders.items()}
    procs = {n: _child(KILL_CHILD, str(f / n), stdout=subprocess.PIPE) for n, f in folders.items()}
    try:
        for n, proc in procs.items():
            ready, _, _ = select.select([proc.stdout], [], [], 120)
            line = proc.stdout.readline().strip() if ready else "(no answer)"
            assert line == "writing", (n, line)
            half = _temporaries(folders[n])
            assert half, n  # the kill lands mid-write: the temporary file is there, partly written
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            assert proc.returncode == -signal.SIGKILL
            assert _snapshot(folders[n]) == {**before[n], **{t: (folders[n] / t).read_bytes() for t in half}}, n
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    # a killed process cannot remove its temporary: the next write of that name does
    for n, f in folders.items():
        assert _temporaries(f), n
        if n == "srf.csv":
            write_srf_csv(rng.random((3, 31)), f / n, WL)
        else:
            new = Cube(rng.random((31, 4, 4), dtype=np.float32), WL)
            write_cube(new, f / n, overwrite=True)
            np.testing.assert_array_equal(read_cube(f / n).data, new.data)
        assert _temporaries(f) == [], n
