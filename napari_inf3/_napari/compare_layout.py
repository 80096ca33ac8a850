"""*Compare schemes* (the Fusion dock's button): a run's layers side by side, and back on top of each other.

Qt-free: it moves napari layers (``translate``, ``visible``) and adds one points layer of labels.
Layers are laid out with ``translate`` (not grid mode, which would give hidden layers cells too), so
clicks still map to pixels through ``world_to_data``. Layers are found by their ``metadata["inf3"]``
tags (:mod:`.layers`), never by name.
"""

from __future__ import annotations

from .layers import add_layer_data, inf3_metadata, inf3_tag

#: What *Compare schemes* lays out, one row each (rows a run does not have are left out); an ensemble's
#: expected |error| right under the true |error| maps, in the ensemble's column.
COMPARE_ROWS = ("composite", "error", "expected_error", "weight_entropy", "winning_neighbour", "scheme_sam")


def labels_name(run_id: str) -> str:
    return f"scheme labels [{run_id}]"


def _run_layers(viewer, run_id: str) -> list:
    return [lyr for lyr in viewer.layers if inf3_tag(lyr).get("run") == run_id and inf3_tag(lyr).get("role")
            in COMPARE_ROWS]


def side_by_side(viewer, run, run_id: str) -> None:
    """The run's composites in one row (GT first), their error maps below (shared scale), an ensemble's
    expected |error| under its true one, and with weight maps the weight entropy, winning neighbour and
    pairwise scheme-SAM rows; every other layer hidden.
    Each column is labelled above its first row (PSNR etc. are in the table: long labels would overlap)."""
    h, w = run.hr_msi.shape[1:]
    gap = max(4, w // 20)
    columns = (["GT"] if run.gt is not None else []) + list(run.fused)
    mine = _run_layers(viewer, run_id)
    rows = [r for r in COMPARE_ROWS if any(inf3_tag(lyr)["role"] == r for lyr in mine)]
    pairs = [inf3_tag(lyr)["method"] for lyr in mine if inf3_tag(lyr)["role"] == "scheme_sam"]
    first_net = min((columns.index(m) for m in run.weights), default=1)
    for layer in viewer.layers:
        layer.visible = False
    places, texts = [(-gap / 2, i * (w + gap)) for i in range(len(columns))], list(columns)
    for layer in mine:
        t = inf3_tag(layer)
        row = rows.index(t["role"])
        col = first_net + pairs.index(t["method"]) if t["role"] == "scheme_sam" else columns.index(t["method"])
        layer.translate = (row * (h + gap), col * (w + gap))
        layer.visible = True
    for layer in mine:  # an ensemble's expected |error| is under its true one: say which is which
        if inf3_tag(layer)["role"] == "expected_error":
            places.append((rows.index("expected_error") * (h + gap) - gap / 2, layer.translate[-1]))
            texts.append("expected")
    if pairs:  # the pair maps' columns are not the methods': label them where they are
        row = rows.index("scheme_sam")
        for k, pair in enumerate(pairs):
            places.append((row * (h + gap) - gap / 2, (first_net + k) * (w + gap)))
            texts.append(pair.replace(" vs ", "–"))  # short: long labels run into the next cell
    add_layer_data(viewer, [(places, {
        "name": labels_name(run_id), "size": 0.1, "face_color": "transparent", "border_width": 0,
        "text": {"string": texts, "color": "white", "anchor": "lower_left", "size": 10},
        "metadata": inf3_metadata("labels", run=run_id)}, "points")])


def overlay(viewer, run_id: str) -> None:
    """Undo :func:`side_by_side`: the run's layers back on top of each other, its composites (not the
    GT's) shown, the labels removed."""
    for layer in _run_layers(viewer, run_id):
        t = inf3_tag(layer)
        layer.translate = (0,) * layer.ndim
        layer.visible = t["role"] == "composite" and t.get("method") != "GT"
    if labels_name(run_id) in viewer.layers:
        viewer.layers.remove(labels_name(run_id))
