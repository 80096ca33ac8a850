"""Every broken input gives a CubeError naming the file (API) and a one-line exit-2 message (CLI)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_inf3 import CubeError, fuse, read_cube, simulate
from napari_inf3.cli.main import main
from tests.bad_inputs import CASES


@pytest.mark.parametrize("case", sorted(CASES))
def test_api(case, tmp_path):
    make, kind, pattern = CASES[case]
    path = make(tmp_path)
    if kind == "error":
        with pytest.raises(CubeError, match=pattern) as info:
            read_cube(path)
        assert str(path.name) in str(info.value) or str(path) in str(info.value) or path.parent.name in str(info.value)
    else:
        with pytest.warns(UserWarning, match=pattern):
            cube = read_cube(path)
        assert cube.data.ndim == 3 and np.isfinite(cube.data).all()


@pytest.mark.parametrize("case", sorted(c for c in CASES if CASES[c][1] == "error"))
def test_cli(case, tmp_path, capsys, tiny_model):
    make, _, pattern = CASES[case]
    path = make(tmp_path)
    rc = main(["fuse", "--gt", str(path), "--model", "cosine", "--out", str(tmp_path / "o.npz")])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and err.startswith("napari-inf3: error:")
    import re

    assert re.search(pattern, err), err


def test_cli_no_traceback_as_a_process(tmp_path, tiny_model):
    import subprocess
    import sys

    from napari_inf3 import save_checkpoint

    ckpt = save_checkpoint(tiny_model, tmp_path / "tiny.pt")
    path = CASES["cave_missing_band"][0](tmp_path)
    proc = subprocess.run([sys.executable, "-m", "napari_inf3", "evaluate", str(path), "--models", str(ckpt)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "missing band file(s) [12]" in proc.stderr


# ---- pipeline errors: sizes, scales, band counts, checkpoints ---------------------------------------

def test_not_divisible_by_scale(rng):
    with pytest.raises(CubeError, match="not divisible by the scale 4"):
        simulate(rng.random((31, 30, 32)).astype(np.float32), 4)


def test_pair_not_matching_scale(tiny_model, rng):
    with pytest.raises(CubeError, match="not a uniform upscale"):
        fuse(tiny_model, rng.random((31, 8, 8)).astype(np.float32), rng.random((3, 32, 30)).astype(np.float32))


def test_band_count_vs_checkpoint(tiny_model, rng):
    with pytest.raises(CubeError, match="LR-HSI has 20 bands but the model was trained for 31"):
        fuse(tiny_model, rng.random((20, 8, 8)).astype(np.float32), rng.random((3, 32, 32)).astype(np.float32))


def test_band_count_vs_srf(rng):
    with pytest.raises(CubeError, match="has 31 columns .* the cube has 28 bands"):
        simulate(rng.random((28, 16, 16)).astype(np.float32), 4)


def test_train_refuses_to_overwrite(tmp_path, rng):
    from napari_inf3 import train

    out = tmp_path / "m.pt"
    out.write_bytes(b"user's file")
    with pytest.raises(CubeError, match="already exists"):
        next(train([rng.random((31, 64, 64)).astype(np.float32)], out=out))
    assert out.read_bytes() == b"user's file"
