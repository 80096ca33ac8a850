"""napari sample: "CAVE superballs (crop)", the package's 192×192×31 crop of a real CAVE scene."""

from __future__ import annotations


def superballs_crop():
    from ..data.sample import CITATION, load_sample
    from .layers import cube_layer_data

    cube = load_sample()
    data, kw, kind = cube_layer_data(cube, name="superballs (crop) GT", role="gt")
    kw["metadata"]["citation"] = CITATION
    return [(data, kw, kind)]
