"""MAT v5 files written byte by byte the way MATLAB itself writes them (``save`` with its default ``-v7``),
not the way scipy does, for the reader's tests and the fuzzer's seeds.

What MATLAB does that scipy's ``savemat`` (uncompressed by default) does not:

- every variable is one ``miCOMPRESSED`` element (a zlib stream of its ``miMATRIX`` element), and the next
  variable starts right after it, **not padded to 8 bytes** (a compressed variable of 85 bytes ends at an
  odd offset);
- a double array whose values are whole numbers is stored in the narrowest integer type that holds them
  (``nRow = 100`` as one ``miUINT8`` byte), in a *small data element* (tag and data in 8 bytes) when its data
  fits in 4 bytes, as the array's name does when it has at most 4 characters;
- a 116-byte text header ``MATLAB 5.0 MAT-file, Platform: PCWIN64, Created on: ...``, the subsystem offset,
  version ``0x0100`` and ``IM``.

Arrays are stored column-major (MATLAB's order): pass them in MATLAB's axis order, e.g. a cube as
``(rows, cols, bands)`` and an unmixing matrix as ``(bands, pixels)``.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

__all__ = ["matlab_bytes", "write_matlab"]

_MI = {"int8": 1, "uint8": 2, "int16": 3, "uint16": 4, "int32": 5, "uint32": 6, "single": 7, "double": 9}
_MX_CLASS = {np.dtype(np.float64): 6, np.dtype(np.float32): 7, np.dtype(np.int8): 8, np.dtype(np.uint8): 9,
             np.dtype(np.int16): 10, np.dtype(np.uint16): 11, np.dtype(np.int32): 12, np.dtype(np.uint32): 13}
_MX_CHAR = 4
_MI_UTF16 = 17


def _pad8(b: bytes) -> bytes:
    return b + b"\0" * (-len(b) % 8)


def _element(mi: int, data: bytes) -> bytes:
    """One data element: the small format when its data fits in 4 bytes (as MATLAB writes it), else a
    regular 8-byte tag and the data padded to 8 bytes."""
    if 0 < len(data) <= 4:
        return struct.pack("<I", (len(data) << 16) | mi) + data.ljust(4, b"\0")
    return struct.pack("<II", mi, len(data)) + _pad8(data)


def _narrowest(values: np.ndarray) -> tuple[int, bytes]:
    """MATLAB's storage of a double array: the narrowest integer type holding whole values, else double."""
    flat = values.reshape(-1, order="F")
    if flat.size and np.all(np.isfinite(flat)) and np.all(flat == np.round(flat)):
        lo, hi = float(flat.min()), float(flat.max())
        for name, dt in (("uint8", np.uint8), ("int8", np.int8), ("uint16", np.uint16), ("int16", np.int16),
                         ("uint32", np.uint32), ("int32", np.int32)):
            info = np.iinfo(dt)
            if info.min <= lo and hi <= info.max:
                return _MI[name], flat.astype(dt).tobytes()
    return _MI["double"], flat.astype("<f8").tobytes()


def _matrix(name: str, value) -> bytes:
    """The ``miMATRIX`` element of one variable: a numeric array or a char row."""
    if isinstance(value, str):
        dims = (1, len(value))
        flags = _MX_CHAR
        data_mi, data = _MI_UTF16, value.encode("utf-16-le")
    else:
        arr = np.asarray(value)
        if arr.dtype not in _MX_CLASS:
            arr = arr.astype(np.float64)
        dims = arr.shape if arr.ndim >= 2 else (1, arr.size) if arr.ndim == 1 else (1, 1)
        flags = _MX_CLASS[arr.dtype]
        if arr.dtype == np.float64:
            data_mi, data = _narrowest(arr)
        else:
            data_mi = {np.dtype(np.float32): _MI["single"]}.get(arr.dtype, _MI[arr.dtype.name])
            data = arr.reshape(-1, order="F").astype(arr.dtype.newbyteorder("<")).tobytes()
    body = (struct.pack("<II", 6, 8) + struct.pack("<II", flags, 0)  # array flags (miUINT32)
            + _element(_MI["int32"], struct.pack(f"<{len(dims)}i", *dims))  # dimensions
            + _element(_MI["int8"], name.encode("ascii"))  # array name
            + _element(data_mi, data))  # real part
    return struct.pack("<II", 14, len(body)) + body


def matlab_bytes(variables: dict, *, compress: bool = True,
                 created: str = "Mon Dec 07 09:00:00 2026") -> bytes:
    """The bytes of a MAT v5 file holding ``variables`` (name → array or str) in order, as MATLAB lays it out.

    ``compress=False`` writes plain ``miMATRIX`` elements (MATLAB's ``-v6``), 8-byte aligned by construction.
    """
    head = f"MATLAB 5.0 MAT-file, Platform: PCWIN64, Created on: {created}".encode("ascii").ljust(116, b" ")
    out = [head, b"\0" * 8, struct.pack("<H", 0x0100), b"IM"]
    for name, value in variables.items():
        m = _matrix(name, value)
        if compress:
            z = zlib.compress(m)
            out.append(struct.pack("<II", 15, len(z)) + z)  # no padding after it: MATLAB writes none
        else:
            out.append(m)
    return b"".join(out)


def write_matlab(path: str | Path, variables: dict, *, compress: bool = True) -> Path:
    """Write :func:`matlab_bytes` to ``path`` (a test fixture: plain write, not atomic)."""
    path = Path(path)
    path.write_bytes(matlab_bytes(variables, compress=compress))
    return path
