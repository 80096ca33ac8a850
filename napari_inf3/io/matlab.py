"""MATLAB ``.mat`` cubes: v4–v7 through ``scipy.io.loadmat``, v7.3 (HDF5) through ``h5py``.

MATLAB stores arrays column-major, so ``h5py`` sees a MATLAB ``(H, W, B)`` array as
``(B, W, H)``; v7.3 arrays are transposed back to MATLAB's axis order before the band
axis is detected (see :func:`napari_inf3.io._common.detect_band_axis`). When a file holds
several 3-D arrays the reader takes ``variable=``, else a common name (``gt``, ``hsi``,
``data``, ...), else the largest, and warns which one it chose.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..cube import Cube, CubeError
from ._common import finalize, pick_3d_variable, to_bhw

NAME = "matlab"
EXTENSIONS = (".mat",)
PREFERRED = ("gt", "GT", "hsi", "HSI", "data", "cube", "img", "ref", "rad", "X", "Z", "msi", "truth")
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def can_read(path: str | Path) -> bool:
    return Path(path).suffix.lower() == ".mat"


def _is_hdf5(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(1024)
    return HDF5_MAGIC in head[:8] or head[512:520] == HDF5_MAGIC


def _load_v73(path: Path) -> dict[str, np.ndarray]:
    """All numeric datasets of a v7.3 file, transposed back to MATLAB's axis order."""
    import h5py

    out: dict[str, np.ndarray] = {}
    try:
        with h5py.File(path, "r") as f:
            def visit(name, obj):
                if isinstance(obj, h5py.Dataset) and not name.startswith("#") and obj.dtype.kind in "uifb":
                    out[name] = np.asarray(obj).T
            f.visititems(visit)
    except OSError as exc:
        raise CubeError(f"is not a readable MATLAB v7.3 (HDF5) file ({exc})", path) from None
    return out


def read(path: str | Path, *, variable: str | None = None, band_axis: int | None = None) -> Cube:
    path = Path(path)
    if not path.is_file():
        raise CubeError("file not found", path)
    version = "7.3" if _is_hdf5(path) else "5"
    if version == "7.3":
        arrays = _load_v73(path)
    else:
        import scipy.io

        try:
            arrays = {k: v for k, v in scipy.io.loadmat(str(path)).items() if not k.startswith("__")}
        except (ValueError, OSError, TypeError, NotImplementedError) as exc:
            raise CubeError(f"is not a readable MATLAB file ({exc})", path) from None
    arrays = {k: np.asarray(v) for k, v in arrays.items() if isinstance(v, np.ndarray)}
    name = pick_3d_variable(arrays, path, variable, PREFERRED)
    data, axis = to_bhw(arrays[name], band_axis, path)
    return finalize(
        data, path, NAME, meta={"variable": name, "mat_version": version, "band_axis_in_file": axis}
    )
