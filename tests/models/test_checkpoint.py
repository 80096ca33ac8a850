"""The one checkpoint format (napari_inf3/models/checkpoint.py): self-describing (config, weights, training
metadata), written atomically, refused with a message that says what is wrong (truncated, foreign, edited, newer)."""

from __future__ import annotations

import pytest
import torch

from napari_inf3.models.checkpoint import CheckpointError, load_checkpoint, read_checkpoint


def test_checkpoint_errors(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        read_checkpoint(bad)
    torch.save({"hello": 1}, tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not a napari-inf3 checkpoint"):
        read_checkpoint(tmp_path / "foreign.pt")
    with pytest.raises(CheckpointError, match="not found"):
        read_checkpoint(tmp_path / "missing.pt")


def test_half_checkpoint_loads_as_float(tmp_path, tiny_model):
    from napari_inf3 import save_checkpoint

    p = save_checkpoint(tiny_model, tmp_path / "h.pt", half=True, meta={"note": "x"})
    model, ckpt = load_checkpoint(p), read_checkpoint(p)
    assert ckpt["dtype"] == "float16" and ckpt["meta"]["note"] == "x"
    assert all(v.dtype == torch.float32 for v in model.state_dict().values())
    assert not list(tmp_path.glob(".*tmp"))  # the atomic write leaves no temp file


def test_truncated_checkpoint(tmp_path, tiny_model):
    from napari_inf3 import save_checkpoint

    p = save_checkpoint(tiny_model, tmp_path / "m.pt")
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or not a torch file"):
        load_checkpoint(p)


def _edited(tmp_path, model, edit):
    """A checkpoint of ``model`` saved, then read back as torch reads it, changed by ``edit(dict)`` and saved again
    (as a user or another tool might); its path."""
    from napari_inf3 import save_checkpoint

    p = save_checkpoint(model, tmp_path / "m.pt")
    ck = torch.load(p, weights_only=True)
    edit(ck)
    torch.save(ck, p)
    return p


def _set(ck: dict, path: tuple[str, ...], value) -> None:
    for key in path[:-1]:
        ck = ck[key]
    ck[path[-1]] = value


@pytest.mark.parametrize(("path", "value", "message"), [
    (("config", "out_dim"), 99, "does not match its config hash"),
    (("version",), 99, "newer napari-inf3"),
])
def test_an_edited_checkpoint_is_refused(tmp_path, tiny_model, path, value, message):
    p = _edited(tmp_path, tiny_model, lambda ck: _set(ck, path, value))
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(p)


def test_weights_not_fitting_config(tmp_path, tiny_model):
    from napari_inf3.models.checkpoint import config_hash

    def narrower(ck: dict) -> None:  # a config edited consistently (its hash too): the weights no longer fit it
        ck["config"]["n_feats"] = 12
        ck["config_hash"] = config_hash(ck["config"])

    with pytest.raises(CheckpointError, match="weights do not fit the stored config"):
        load_checkpoint(_edited(tmp_path, tiny_model, narrower))
