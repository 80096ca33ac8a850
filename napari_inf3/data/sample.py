"""The shipped sample: a 192×192×31 crop of CAVE's *superballs* (see sample_data/README.md)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

SAMPLE_NAME = "superballs_crop_ms"
CITATION = (
    'F. Yasuma, T. Mitsunaga, D. Iso, S. K. Nayar, "Generalized Assorted Pixel Camera: Post-Capture '
    'Control of Resolution, Dynamic Range and Spectrum", Tech. Rep. CUCS-061-08, Columbia University, 2008.'
)


def sample_path() -> Path:
    """Folder of the sample's band PNGs, in an installed wheel or in a source checkout."""
    inside = Path(str(resources.files("napari_inf3"))) / "sample_data" / SAMPLE_NAME
    if inside.is_dir():
        return inside
    checkout = Path(__file__).resolve().parents[2] / "sample_data" / SAMPLE_NAME
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"the sample scene {SAMPLE_NAME} is missing from this install ({inside})")


def load_sample():
    """The sample as a :class:`~napari_inf3.data.cube.Cube` ``(31, 192, 192)`` in [0, 1], 400–700 nm."""
    from ..io import read_cube

    cube = read_cube(sample_path())
    cube.meta["citation"] = CITATION
    return cube
