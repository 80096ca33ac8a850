"""Shared fixtures: paths to the real CAVE data beside the checkout, small seeded cubes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from napari_inf3.qt_default import prefer_default_binding

# The main run's Qt binding, fixed before any plugin or test imports Qt: PyQt6, the default install's, also where
# the dev extra has installed PyQt5 beside it (tests/test_qt_bindings.py reruns tests/gui under the other one).
# qtpy (napari's shim) follows QT_API; pytest-qt follows PYTEST_QT_API, else guesses on its own.
_QT_API = prefer_default_binding()
if _QT_API in ("pyqt5", "pyqt6", "pyside6"):
    os.environ.setdefault("PYTEST_QT_API", _QT_API)

ROOT = Path(__file__).resolve().parents[1]
CAVE = ROOT.parent / "shared" / "data" / "cave"
SRF_DIR = ROOT.parent / "shared" / "data" / "srf"


def shifted_camera(nm: int = 20) -> np.ndarray:
    """Another camera: the Nikon D700 curves moved ``nm`` to longer wavelengths (10 nm per band),
    the first band's value held below the shift."""
    from napari_inf3.data.simulation import load_srf

    p = load_srf("nikon_d700", bands=31)
    k = nm // 10
    out = np.zeros_like(p)
    out[:, k:] = p[:, :-k]
    out[:, :k] = p[:, :1]
    return out


def cave_scene(name: str) -> Path:
    p = CAVE / name
    if not p.is_dir():
        pytest.skip(f"real CAVE data not found at {p}")
    return p


@pytest.fixture
def superballs() -> Path:
    return cave_scene("superballs_ms")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def smooth_cube(rng) -> np.ndarray:
    """A (31, 32, 40) float32 cube in [0, 1] with smooth spectra and some texture."""
    b, h, w = 31, 32, 40
    y, x = np.mgrid[0:h, 0:w] / 8.0
    base = 0.5 + 0.25 * np.sin(y)[None] * np.cos(x)[None]
    spec = np.linspace(0.6, 1.2, b)[:, None, None]
    return np.clip(base * spec + 0.02 * rng.standard_normal((b, h, w)), 0, 1).astype(np.float32)


@pytest.fixture(scope="session")
def tiny_model():
    """A seeded, very small INFN (fast on the CPU) for plumbing tests."""
    import torch

    from napari_inf3.models.infn import INFN

    torch.manual_seed(0)
    return INFN(preset="lite", n_feats=8, n_resblocks=1, mlp_hidden=[16], out_dim=8).eval()


def photo_camera(curve=None, bits: int | None = 8):
    """A known photo camera: the Nikon D700 curves mixed by a colour-correction matrix (a signed response,
    rows summing to 1), gains 0.8 / 0.7 / 0.9, ``curve`` (default sRGB), ``bits`` quantisation."""
    from napari_inf3.camera import CameraFit, ToneCurve
    from napari_inf3.data.simulation import load_srf

    nikon = load_srf("nikon_d700", bands=31).astype(np.float64)
    mix = np.array([[1.6, -0.45, -0.15], [-0.25, 1.5, -0.25], [-0.05, -0.5, 1.55]])
    p = mix @ nikon
    p /= p.sum(axis=1, keepdims=True)
    return CameraFit(curve=curve or ToneCurve("srgb"), srf=p.astype(np.float32), gain=np.array([0.8, 0.7, 0.9]),
                     black=np.zeros(3), bits=bits)


def photo_pair(gt, camera, scale: int = 4):
    """``(lr, photo, linear)``: the LR-HSI simulated from ``gt`` and the HR-MSI as ``camera`` stores it."""
    from napari_inf3 import simulate

    lr, _ = simulate(gt, scale)
    linear = np.einsum("sb,bhw->shw", camera.srf, np.asarray(gt, np.float32))
    return lr, camera.encode(linear), linear
