"""The built sdist and wheel carry what users need without a source checkout, and each installs into a fresh
virtual environment and works there: the sample scene opens, a shipped model fuses it better than bicubic,
napari finds the manifest, ``napari-inf3 --help`` runs.

The sdist is built first and the wheel from it (``python -m build``), so the wheel's contents show that the
sdist holds what a wheel build needs. Building needs the build backend (hatchling) from the package index; the
tests skip when the index cannot be reached, and fail on any other build error.

A fresh install: a new venv without pip, the artefact installed into it with ``--no-deps`` from this
interpreter's pip, and then a ``.pth`` that puts this interpreter's site-packages *after* the venv's own, so the
dependencies (torch, scipy, ...) come from here instead of a download, while ``napari_inf3`` itself can only come
from the venv (the checkout's editable-install ``.pth`` is not read: a path a ``.pth`` adds is not a site dir).
The smoke run checks that every ``Requires-Dist`` of the installed package is met, so the declared dependencies
are the ones it needs. ``NAPARI_INF3_TEST_INDEX=1`` also installs the wheel the way a user does, dependencies
from the package index (``torch==2.13.0`` first, the CPU build) into a venv of its own: minutes, and network.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: pip's words for "the index could not be reached" (the only build failure that skips)
OFFLINE = re.compile(r"Could not find a version that satisfies|No matching distribution|Failed to establish|"
                     r"Temporary failure in name resolution|Network is unreachable|ConnectionError|ProxyError|"
                     r"Name or service not known|timed out", re.I)
#: Run in the fresh venv, cwd outside the checkout, ``python -I``: prints one JSON line.
SMOKE = r"""
import importlib.metadata as md, json
from packaging.requirements import Requirement
import napari_inf3 as ni
from napari_inf3.data.sample import load_sample
from napari_inf3.fusion.upsampling import bicubic

unmet = []
for line in md.requires("napari-inf3") or []:
    req = Requirement(line)
    if req.marker is not None and not req.marker.evaluate({"extra": ""}):
        continue  # an extra's requirement
    try:
        have = md.version(req.name)
    except md.PackageNotFoundError:
        unmet.append(line)
        continue
    if not req.specifier.contains(have, prereleases=True):
        unmet.append(f"{line} (have {have})")
gt = load_sample()
lr, msi = ni.simulate(gt, scale=4)
fused = ni.fuse("cosine", lr, msi, device="cpu").cube
out = {"file": ni.__file__, "version": ni.__version__, "dist_version": md.version("napari-inf3"), "unmet": unmet,
       "shape": list(gt.data.shape), "psnr": ni.evaluate(fused, gt, scale=4)["psnr"],
       "bicubic": ni.evaluate(bicubic(lr, gt.data.shape[1:]), gt, scale=4)["psnr"]}
try:
    import npe2
except ImportError:  # the plugin's extras are not installed here: no napari side to check
    pass
else:
    mf = npe2.PluginManifest.from_distribution("napari-inf3")
    out["manifest"] = {"name": mf.name, "visibility": mf.visibility, "categories": [str(c) for c in mf.categories],
                       "widgets": [w.display_name for w in mf.contributions.widgets],
                       "sample": [s.key for s in mf.contributions.sample_data]}
print(json.dumps(out))
"""


def _run(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)


def _build_tool(tmp: Path) -> dict:
    """The environment ``python -m build`` runs in: this one if it has ``build``, else ``build`` installed
    into a folder on PYTHONPATH (the dev extra does not name it)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if _run([sys.executable, "-c", "import build"]).returncode == 0:
        return env
    target = tmp / "buildtool"
    proc = _run([sys.executable, "-m", "pip", "install", "-q", "--target", target, "build"])
    if proc.returncode != 0:
        _skip_if_offline(proc, "install the 'build' frontend")
    return {**env, "PYTHONPATH": str(target)}


def _skip_if_offline(proc: subprocess.CompletedProcess, what: str) -> None:
    text = proc.stdout + proc.stderr
    if OFFLINE.search(text):
        pytest.skip(f"could not {what}: the package index is out of reach ({text.strip()[-300:]})")
    pytest.fail(f"could not {what}:\n{text[-3000:]}")


@pytest.fixture(scope="module")
def dists(tmp_path_factory) -> dict[str, Path]:
    """``{"sdist": ..., "wheel": ...}``: the sdist, and the wheel built from the sdist."""
    tmp = tmp_path_factory.mktemp("dist")
    env = _build_tool(tmp)
    proc = _run([sys.executable, "-m", "build", "--outdir", tmp / "out", ROOT], env=env)
    if proc.returncode != 0:
        _skip_if_offline(proc, "build the sdist and wheel")
    return {"sdist": next((tmp / "out").glob("*.tar.gz")), "wheel": next((tmp / "out").glob("*.whl"))}


@pytest.fixture(scope="module")
def wheel(dists) -> Path:
    return dists["wheel"]


def test_wheel_contents(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "napari_inf3/napari.yaml" in names
    assert "napari_inf3/srf/nikon_d700.csv" in names
    bands = [n for n in names if n.startswith("napari_inf3/sample_data/superballs_crop_ms/")]
    assert len(bands) == 31
    assert "napari_inf3/sample_data/README.md" in names
    for preset in ("lite", "paper"):
        for w in ("area", "net", "cosine"):
            assert f"napari_inf3/shipped/infn_{preset}_{w}_x4.pt" in names
        assert f"napari_inf3/shipped/ensemble_{preset}_x4.json" in names
    assert "napari_inf3/shipped/infn_lite_cosine_jpeg_x4.pt" in names and "napari_inf3/srf/srgb_cie1931.csv" in names
    size = sum(i.file_size for i in zipfile.ZipFile(wheel).infolist() if "sample_data" in i.filename)
    assert size <= 2_000_000
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "docs/", "bench/"))]


def test_sdist_contents(dists):
    """The sdist is the source: the package with its data, the sample the wheel force-includes, and what its
    tests and docs use (examples, scripts); nothing built or cached."""
    with tarfile.open(dists["sdist"]) as tar:
        names = {n.split("/", 1)[1] for n in tar.getnames() if "/" in n}
    for must in ("pyproject.toml", "README.md", "napari_inf3/napari.yaml", "napari_inf3/srf/nikon_d700.csv",
                 "sample_data/README.md", "napari_inf3/shipped/ensemble_lite_x4.json",
                 "napari_inf3/shipped/infn_lite_cosine_x4.pt", "napari_inf3/shipped/infn_paper_cosine_x4.pt",
                 "docs/DOCKS.md", "docs/dock_fusion.png", "scripts/screenshot.py", "tests/test_wheel.py"):
        assert must in names, must
    assert len([n for n in names if n.startswith("sample_data/superballs_crop_ms/")]) == 31
    assert any(n.startswith("examples/") and n.endswith(".ipynb") for n in names)
    assert not [n for n in names if "__pycache__" in n or n.startswith((".venv/", "runs/", "dist/", "build/"))]


def test_wheel_metadata_is_the_hub_page(wheel):
    """What PyPI, and from it the napari hub, shows: the summary, classifiers, keywords, licence, README."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        tomllib = pytest.importorskip("tomli")
    from email.parser import Parser

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    name = next(n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".dist-info/METADATA"))
    meta = Parser().parsestr(zipfile.ZipFile(wheel).read(name).decode())
    assert meta["Name"] == "napari-inf3" and meta["Summary"] == project["description"]
    assert "Framework :: napari" in meta.get_all("Classifier")
    assert set(meta.get_all("Classifier")) == set(project["classifiers"])
    assert meta["Requires-Python"] == project["requires-python"]
    assert "hyperspectral" in meta["Keywords"]
    assert meta["License"] or meta["License-Expression"]
    assert meta["Description-Content-Type"] == "text/markdown" and "# napari-inf3" in meta.get_payload()
    plain = [r for r in meta.get_all("Requires-Dist") if "extra ==" not in r]
    assert sorted(plain) == sorted(project["dependencies"])


def test_installed_wheel_loads_sample_outside_checkout(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    code = ("import napari_inf3, napari_inf3.data.sample as s; c = s.load_sample(); "
            "print(napari_inf3.__file__); print(c.shape); print(s.sample_path()); "
            "from napari_inf3.shipped import available; print(available())")
    env = {"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         check=True)
    lines = out.stdout.splitlines()
    assert lines[0].startswith(str(target)) and lines[1] == "(31, 192, 192)" and lines[2].startswith(str(target))
    assert lines[3] == "['area', 'net', 'cosine']"


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _site_packages(python: Path) -> Path:
    out = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], check=True)
    return Path(out.stdout.strip())


def _check_smoke(venv: Path, cwd: Path, napari: bool) -> dict:
    """Run :data:`SMOKE` and ``napari-inf3 --help`` in ``venv``; ``napari``: npe2 is there, so the manifest is
    checked through the installed entry point."""
    python = _venv_python(venv)
    clean = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd)}
    proc = _run([python, "-I", "-c", SMOKE], cwd=cwd, env=clean)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert Path(got["file"]).is_relative_to(_site_packages(python)), got["file"]  # not the checkout
    assert got["dist_version"] == got["version"] and not got["unmet"], got
    assert got["shape"] == [31, 192, 192]
    assert got["psnr"] > got["bicubic"] + 5, got  # 51.1 dB against 35.2 on the sample
    assert ("manifest" in got) == napari
    if napari:  # npe2 finds the installed manifest through the entry point
        mf = got["manifest"]
        assert mf["name"] == "napari-inf3" and mf["visibility"] == "public" and mf["categories"]
        assert mf["widgets"] == ["Fusion", "Spectrum inspector", "Training"] and mf["sample"] == ["superballs_crop"]
    cli = venv / ("Scripts/napari-inf3.exe" if os.name == "nt" else "bin/napari-inf3")
    proc = _run([cli, "--help"], cwd=cwd, env=clean)
    assert proc.returncode == 0 and all(c in proc.stdout for c in ("train", "fuse", "evaluate", "demo")), proc
    return got


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["wheel", "sdist"])
def test_fresh_venv_install_works(dists, kind, tmp_path):
    """The artefact in a new venv; the dependencies are this environment's (see the module docstring)."""
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    python = _venv_python(venv)
    # before the .pth: pip then sees an empty venv, never this environment's (editable) napari-inf3
    proc = _run([sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-deps", dists[kind]])
    if proc.returncode != 0:
        _skip_if_offline(proc, f"install the {kind}")  # the sdist is built again: hatchling from the index
    import site

    (_site_packages(python) / "zz_dependencies_from_the_test_runner.pth").write_text(
        "\n".join(site.getsitepackages() + ([site.getusersitepackages()] if site.ENABLE_USER_SITE else [])) + "\n")
    _check_smoke(venv, tmp_path, napari=importlib.util.find_spec("npe2") is not None)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("NAPARI_INF3_TEST_INDEX") != "1",
                    reason="set NAPARI_INF3_TEST_INDEX=1: installs torch and the dependencies from the index")
def test_wheel_installs_with_dependencies_from_the_index(wheel, tmp_path):
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], check=True)
    python = _venv_python(venv)
    for spec in (["torch==2.13.0"], [wheel, "packaging"]):
        proc = _run([python, "-m", "pip", "install", "-q", *spec])
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    _check_smoke(venv, tmp_path, napari=False)  # the plain install: no napari, no npe2
