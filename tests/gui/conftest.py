"""GUI tests: a real napari viewer under Xvfb (run pytest through `xvfb-run -a`)."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("napari")
pytest.importorskip("qtpy")

if not os.environ.get("DISPLAY"):
    pytest.skip("no X server: run the tests through `xvfb-run -a`", allow_module_level=True)


def pytest_report_header(config):
    import qtpy

    return f"qt binding: {qtpy.API_NAME} {qtpy.QT_VERSION}"


@pytest.fixture(autouse=True)
def _own_config_dir(tmp_path_factory, monkeypatch):
    """The docks remember their choices in a per-test folder, never the user's config."""
    monkeypatch.setenv("NAPARI_INF3_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))


@pytest.fixture(scope="session")
def scheme_checkpoints(tmp_path_factory):
    """Three tiny seeded checkpoints, one per weighting, named like the shipped ones."""
    import torch

    from napari_inf3 import save_checkpoint
    from napari_inf3.models.infn import INFN

    d = tmp_path_factory.mktemp("schemes")
    out = {}
    for i, w in enumerate(("area", "net", "cosine")):
        torch.manual_seed(i)
        m = INFN(weighting=w, preset="lite", n_feats=8, n_resblocks=1, mlp_hidden=[16], out_dim=8)
        torch.nn.init.normal_(m.decoder[-1].weight, std=0.02)  # differ from bicubic, and from each other
        out[w] = save_checkpoint(m, d / f"{w}.pt")
    return out
