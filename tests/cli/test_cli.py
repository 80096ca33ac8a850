"""The napari-inf3 command: help, evaluate on real scenes, fuse, train, and clean errors."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from napari_inf3 import read_cube, save_checkpoint
from napari_inf3.cli.main import main
from tests.conftest import cave_scene


@pytest.fixture(scope="module")
def tiny_ckpt(tmp_path_factory, tiny_model):
    return save_checkpoint(tiny_model, tmp_path_factory.mktemp("ck") / "tiny.pt", meta={"note": "test"})


def test_help_runs_as_a_program():
    out = subprocess.run([sys.executable, "-m", "napari_inf3", "--help"], capture_output=True, text=True, check=True)
    for word in ("evaluate", "fuse", "train", "demo", "examples:"):
        assert word in out.stdout
    for cmd in ("evaluate", "fuse", "train", "demo"):
        sub = subprocess.run([sys.executable, "-m", "napari_inf3", cmd, "--help"], capture_output=True, text=True)
        assert sub.returncode == 0 and "usage: napari-inf3 " + cmd in sub.stdout


def test_evaluate_two_real_scenes(tmp_path, tiny_ckpt, capsys):
    scenes = [str(cave_scene("superballs_ms")), str(cave_scene("face_ms"))]
    rc = main(["evaluate", *scenes, "--models", str(tiny_ckpt), "--out-dir", str(tmp_path), "--device", "cpu"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "| bicubic |" in out and "| tiny |" in out and "superballs_ms" in out
    csv = (tmp_path / "metrics.csv").read_text().splitlines()
    assert csv[0] == "scene,method,psnr,sam,ergas,ssim,seconds"
    assert len(csv) == 1 + 4 + 4  # 2 scenes × 2 methods, mean+std × 2 methods
    bicubic_psnr = float(csv[1].split(",")[2])
    assert 25 < bicubic_psnr < 45
    # refuses to overwrite the table
    assert main(["evaluate", scenes[0], "--models", str(tiny_ckpt), "--out-dir", str(tmp_path)]) == 2
    assert "already exists" in capsys.readouterr().err


def test_fuse_from_gt_writes_cube(tmp_path, tiny_ckpt, capsys):
    from napari_inf3.data.sample import sample_path

    out = tmp_path / "fused.npz"
    assert main(["fuse", "--gt", str(sample_path()), "--model", str(tiny_ckpt), "--out", str(out), "--tile", "16"]) == 0
    cube = read_cube(out)
    assert cube.shape == (31, 192, 192)
    assert "psnr=" in capsys.readouterr().out


def test_fuse_pair_files(tmp_path, tiny_ckpt, rng):
    np.save(tmp_path / "lr.npy", rng.random((31, 12, 12)).astype(np.float32))
    np.save(tmp_path / "msi.npy", rng.random((3, 48, 48)).astype(np.float32))
    rc = main(["fuse", "--lr-hsi", str(tmp_path / "lr.npy"), "--hr-msi", str(tmp_path / "msi.npy"),
               "--model", str(tiny_ckpt), "--out", str(tmp_path / "f.hdr")])
    assert rc == 0 and read_cube(tmp_path / "f.hdr").shape == (31, 48, 48)


def test_errors_are_one_line_exit_2(tmp_path, tiny_ckpt):
    np.save(tmp_path / "lr.npy", np.random.default_rng(0).random((31, 12, 12)).astype(np.float32))
    np.save(tmp_path / "msi.npy", np.random.default_rng(0).random((3, 40, 48)).astype(np.float32))
    proc = subprocess.run(
        [sys.executable, "-m", "napari_inf3", "fuse", "--lr-hsi", str(tmp_path / "lr.npy"), "--hr-msi",
         str(tmp_path / "msi.npy"), "--model", str(tiny_ckpt), "--out", str(tmp_path / "o.npz")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("napari-inf3: error:") and "uniform upscale" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "napari_inf3", "evaluate", str(tmp_path / "nope")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "no such file" in proc.stderr


def test_train_command_short_run(tmp_path, capsys):
    from napari_inf3 import Cube, write_cube

    face = read_cube(cave_scene("face_ms")).data[:, 200:264, 200:264]
    src = write_cube(Cube(face), tmp_path / "face.npz")
    out = tmp_path / "m.pt"
    rc = main(["train", str(src), "--out", str(out), "--epochs", "1", "--patches-per-epoch", "4", "--batch-size", "2",
               "--patch", "32", "--device", "cpu"])
    assert rc == 0 and out.exists()
    assert main(["train", str(src), "--out", str(out), "--epochs", "1"]) == 2  # exists, no --overwrite


def test_train_command_trains_an_ablation_variant(tmp_path, capsys):
    """issue 26: --no-hr-injection trains the variant; the checkpoint's model and its training config say so."""
    from napari_inf3 import Cube, write_cube
    from napari_inf3.models.checkpoint import read_checkpoint

    face = read_cube(cave_scene("face_ms")).data[:, 200:264, 200:264]
    src = write_cube(Cube(face), tmp_path / "face.npz")
    out = tmp_path / "v.pt"
    rc = main(["train", str(src), "--out", str(out), "--epochs", "1", "--patches-per-epoch", "4", "--batch-size", "2",
               "--patch", "32", "--device", "cpu", "--no-hr-injection"])
    assert rc == 0
    assert "training cosine/lite (no HR injection) on 1 scene(s)" in capsys.readouterr().out
    ck = read_checkpoint(out)
    assert ck["config"]["hr_injection"] is False and ck["config"]["lr_injection"] is True
    assert ck["meta"]["train_config"]["model_options"] == {"hr_injection": False}


def test_train_ablation_options_and_their_errors(tmp_path, capsys):
    """The switches become model_options only when something differs from the full network; with --init or
    --resume, or --no-rel-coord with another upsampler, a one-line error before any training."""
    from napari_inf3.cli.main import build_parser
    from napari_inf3.cli.train import UPSAMPLERS, _model_options
    from napari_inf3.models.infn.upsamplers import UPSAMPLERS as MODEL_UPSAMPLERS

    assert UPSAMPLERS == MODEL_UPSAMPLERS

    def options(*extra):
        return _model_options(build_parser().parse_args(["train", "s/", "--out", "o.pt", *extra]))

    assert options() is None and options("--upsampler", "inf3") is None
    assert options("--no-lr-injection", "--no-rel-coord") == {"lr_injection": False, "rel_coord": False}
    assert options("--upsampler", "pixelshuffle", "--scale", "8") == {"upsampler": "pixelshuffle",
                                                                       "upsampler_scale": 8}
    assert options("--upsampler", "bicubic") == {"upsampler": "bicubic"}
    scene = str(cave_scene("face_ms"))
    for extra, words in ((["--init", "cosine", "--no-hr-injection"], "--init keeps its model's own architecture"),
                         (["--resume", str(tmp_path / "r.pt"), "--upsampler", "bilinear"], "--resume keeps"),
                         (["--no-rel-coord", "--upsampler", "bilinear"], "bilinear upsampler has no relative")):
        assert main(["train", scene, "--out", str(tmp_path / "e.pt"), "--device", "cpu", *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith("napari-inf3: error:") and words in err and "Traceback" not in err, err
    assert not (tmp_path / "e.pt").exists()


def test_demo_headless_writes_pictures_and_table(tmp_path, monkeypatch, capsys):
    """The README's main job without a display: files written, a second run goes to a new folder."""
    from napari_inf3.shipped import available

    if not available():
        pytest.skip("no shipped checkpoint in this checkout")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DISPLAY", raising=False)
    assert main(["demo", "--device", "cpu"]) == 0
    files = {p.name for p in (tmp_path / "inf3-demo").iterdir()}
    assert {"overview.png", "spectra.png", "metrics.md", "metrics.csv", "composite_GT.png"} <= files
    for name in available():
        assert f"error_{name}.png" in files and f"composite_{name}.png" in files
    table = (tmp_path / "inf3-demo" / "metrics.md").read_text()
    assert "| bicubic |" in table
    assert main(["demo", "--device", "cpu"]) == 0
    assert (tmp_path / "inf3-demo-2" / "overview.png").exists()
    assert main(["demo", "--out", "inf3-demo"]) == 2  # an explicit, non-empty folder is not overwritten


def test_evaluate_default_rows_include_the_projection_baseline(capsys):
    """evaluate's default models start with the SRF projection of bicubic, the rows the networks must beat."""
    from napari_inf3.data.sample import sample_path

    rc = main(["evaluate", str(sample_path()), "--models", "projection", "cosine", "--device", "cpu",
               "--summary-only"])
    assert rc == 0
    rows = {line.split("|")[1].strip(): line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")}
    assert {"bicubic", "projection", "cosine"} <= set(rows)
    psnr = {k: float(rows[k].split("|")[2].split("±")[0]) for k in ("bicubic", "projection", "cosine")}
    assert psnr["bicubic"] < psnr["projection"] < psnr["cosine"]
    assert rows["projection"].rstrip().endswith("| — |")  # a fixed linear step has no model size
    from napari_inf3.cli.main import build_parser

    assert build_parser().parse_args(["evaluate", "x"]).models[0] == "projection"


def test_offset_option_reaches_the_simulation(tmp_path, tiny_ckpt, capsys):
    """--offset 0 and the default (r // 2) simulate different LR-HSIs, so bicubic scores differ; a bad one is
    refused."""
    from napari_inf3.data.sample import sample_path

    scores = {}
    for off in (["--offset", "0"], []):
        out = tmp_path / f"f{len(off)}.npz"
        assert main(["fuse", "--gt", str(sample_path()), "--model", str(tiny_ckpt), "--out", str(out),
                     "--device", "cpu", *off]) == 0
        scores[len(off)] = capsys.readouterr().out.strip().splitlines()[-1]
        assert read_cube(out).meta["offset"] == (0 if off else 2)
    assert scores[0] != scores[2]
    rc = main(["fuse", "--gt", str(sample_path()), "--model", str(tiny_ckpt), "--out", str(tmp_path / "bad.npz"),
               "--offset", "4"])
    assert rc == 2
    assert "offset must be an integer 0 ≤ offset < 4" in capsys.readouterr().err


def test_a_named_response_fuses_a_pair_of_any_scale(tmp_path, capsys):
    """``--srf NAME`` without ``--align`` fits nothing, so a non-integer scale (the networks take one) is fused
    as before the one pair preparation; the response is read on the LR-HSI's wavelengths."""
    import numpy as np

    from napari_inf3 import Cube, write_cube
    from napari_inf3.cli.main import main

    rng = np.random.default_rng(0)
    write_cube(Cube(rng.random((31, 10, 10)).astype(np.float32), np.arange(400.0, 701.0, 10)), tmp_path / "lr.npz")
    write_cube(Cube(rng.random((3, 25, 25)).astype(np.float32)), tmp_path / "msi.npz")
    rc = main(["fuse", "--lr-hsi", str(tmp_path / "lr.npz"), "--hr-msi", str(tmp_path / "msi.npz"), "--srf",
               "nikon_d700", "--model", "projection", "--out", str(tmp_path / "f.npz")])
    assert rc == 0, capsys.readouterr().err
    assert "wrote" in capsys.readouterr().out
