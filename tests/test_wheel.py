"""The built wheel carries what users need without a source checkout: sample scene, SRF, manifest, checkpoints."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(out), str(ROOT)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"could not build a wheel here (no network for the build backend?): {proc.stderr[-300:]}")
    return next(out.glob("*.whl"))


def test_wheel_contents(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "napari_inf3/napari.yaml" in names
    assert "napari_inf3/srf/nikon_d700.csv" in names
    bands = [n for n in names if n.startswith("napari_inf3/sample_data/superballs_crop_ms/")]
    assert len(bands) == 31
    assert "napari_inf3/sample_data/README.md" in names
    for w in ("area", "net", "cosine"):
        assert f"napari_inf3/shipped/infn_lite_{w}_x4.pt" in names
    size = sum(i.file_size for i in zipfile.ZipFile(wheel).infolist() if "sample_data" in i.filename)
    assert size <= 2_000_000


def test_installed_wheel_loads_sample_outside_checkout(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    code = ("import napari_inf3, napari_inf3.sample as s; c = s.load_sample(); "
            "print(napari_inf3.__file__); print(c.shape); print(s.sample_path()); "
            "from napari_inf3.shipped import available; print(available())")
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         check=True)
    lines = out.stdout.splitlines()
    assert lines[0].startswith(str(target)) and lines[1] == "(31, 192, 192)" and lines[2].startswith(str(target))
    assert lines[3] == "['area', 'net', 'cosine']"
