"""A photograph stored as JPEG, as part of its camera: what the file says it did, and fusion that knows it.

A JPEG encoder (libjpeg, as Pillow, phones and cameras use it) turns the stored RGB values into YCbCr (JFIF,
full range), averages the chroma over 2 × 2 pixels (4:2:0) or 2 × 1 (4:2:2), takes the 8 × 8 DCT of each
block of each component and divides it by the component's quantisation table, rounding to integers; the
decoder multiplies back, inverts the DCT and upsamples the chroma with a triangle filter.

:class:`JpegStorage` keeps what the file says about that (the tables, the chroma subsampling, the quality
they correspond to); the photo reader puts it in ``Cube.meta['jpeg']`` and :func:`napari_inf3.estimate_camera`
into the :class:`~napari_inf3.camera.CameraFit`, which then

- puts back the chroma detail the subsampling lost from the luminance, which the file kept at full
  resolution, where the stored chroma follows the luminance (:func:`restore_chroma`), and reads saturation
  after it (a decoded 255 is mostly ringing, not light the sensor could not hold);
- fits its response with a stronger smoothness (:data:`napari_inf3.camera.fit.JPEG_SMOOTHNESS`);
- fuses with the shipped lite networks' JPEG-tuned weights too (:data:`napari_inf3.shipped.JPEG_TUNED`: fine-tuned
  through :meth:`~napari_inf3.camera.CameraFit.generic_jpeg`, an sRGB rendering stored at quality 85) and keeps
  whichever result reproduces the LR-HSI better (:mod:`napari_inf3.fusion.jpeg_choice`; so does any 8-bit photo);
- says, from the file alone, what the storage costs the fusion (:func:`estimated_loss`).

Measured (CAVE's sRGB renderings saved by Pillow at quality 85, 4:2:0; docs/REAL_PAIRS.md has the table): the
restored chroma recovers most of what 4:4:4 storage would have given. Tried and lost: projecting the fused
cube onto the set of images the file allows (each DCT coefficient clipped into its quantisation interval, the
"quantisation constraint set" of JPEG deblocking) instead of onto the decoded photo: +0.8 dB with the
response fitted at the lossless smoothness, −0.1 dB once the response is fitted smoother; the same for what
the network is shown (−0.3 dB); a luminance deblocking (smoothing clipped into the intervals, −0.1 dB).

Shapes: images ``(3, H, W)`` (channels R, G, B, stored values in [0, 1]) or ``(1, H, W)`` (grey).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["JpegStorage", "estimated_loss", "ijg_quality", "quantisation_noise", "read_storage", "restore_chroma"]

#: The IJG (libjpeg) base tables at quality 50, natural (row-major) order: luminance and chrominance.
IJG_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], np.float64).reshape(8, 8)
IJG_CHROMA = np.array([
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99] + [99] * 32, np.float64).reshape(8, 8)

#: Chroma subsampling (horizontal, vertical) factors by name.
SUBSAMPLING = {"4:4:4": (1, 1), "4:2:2": (2, 1), "4:2:0": (2, 2), "4:4:0": (1, 2), "4:1:1": (4, 1)}


def ijg_table(base: np.ndarray, quality: float) -> np.ndarray:
    """The table libjpeg writes for ``quality`` (1–100) from a base table (``jpeg_quality_scaling``)."""
    q = float(np.clip(quality, 1, 100))
    scale = 5000.0 / q if q < 50 else 200.0 - 2.0 * q
    return np.clip(np.floor((base * scale + 50.0) / 100.0), 1, 255)


def ijg_quality(table: np.ndarray, *, chroma: bool = False) -> float:
    """The IJG quality (1–100) whose table is closest to ``table`` (8 × 8, natural order), in the mean
    log ratio: the number a user knows ("saved at 85"). A camera's own tables land near one too."""
    t = np.maximum(np.asarray(table, np.float64).reshape(8, 8), 1)
    base = IJG_CHROMA if chroma else IJG_LUMA
    qs = np.arange(1, 101)
    err = [float(np.mean(np.abs(np.log(ijg_table(base, float(q))) - np.log(t)))) for q in qs]
    return float(qs[int(np.argmin(err))])


@dataclass(frozen=True, eq=False)
class JpegStorage:
    """How a photograph was stored as JPEG (read from its file by :func:`read_storage`).

    Attributes
    ----------
    tables : ``(k, 8, 8)`` quantisation tables, natural (row-major) order, in units of the 0–255 DCT.
    component_tables : which table each component (Y, Cb, Cr; or Y alone for grey) used.
    subsampling : ``'4:4:4'``, ``'4:2:2'``, ``'4:2:0'`` … (chroma resolution).
    quality : the IJG quality of the luminance table (1–100; see :func:`ijg_quality`).
    """

    tables: np.ndarray
    component_tables: tuple[int, ...]
    subsampling: str
    quality: float

    @property
    def chroma_factors(self) -> tuple[int, int]:
        """Chroma subsampling as ``(horizontal, vertical)`` factors."""
        return SUBSAMPLING.get(self.subsampling, (1, 1))

    def table(self, component: int) -> np.ndarray:
        """The ``(8, 8)`` table of component ``component`` (0 = Y)."""
        idx = self.component_tables[min(component, len(self.component_tables) - 1)]
        return np.asarray(self.tables[min(idx, len(self.tables) - 1)], np.float64)

    def describe(self) -> str:
        return f"JPEG quality ≈ {self.quality:.0f}, chroma {self.subsampling}"

    def roundtrip(self, stored: np.ndarray) -> np.ndarray:
        """``stored`` ``(c, H, W)`` (values in [0, 1], c = 1 or 3) saved as this file was (its own tables
        and chroma subsampling, by libjpeg through Pillow) and decoded again: what the camera would have
        stored. float32 in [0, 1] (multiples of 1/255)."""
        import io

        from PIL import Image

        y = np.asarray(stored, np.float32)
        if y.ndim != 3 or y.shape[0] not in (1, 3):
            raise ValueError(f"a JPEG holds 1 or 3 channels; got an image of shape {y.shape}")
        arr = np.round(np.clip(y, 0.0, 1.0) * 255.0).astype(np.uint8)
        img = Image.fromarray(arr[0] if y.shape[0] == 1 else np.moveaxis(arr, 0, -1))
        n = 1 if y.shape[0] == 1 else min(len(self.tables), 2)
        tables = [np.asarray(self.tables[i], np.int64).ravel().tolist() for i in range(n)]
        sub = {"4:4:4": 0, "4:2:2": 1}.get(self.subsampling, 2)
        buf = io.BytesIO()
        img.save(buf, "JPEG", qtables=tables, subsampling=sub)
        buf.seek(0)
        with Image.open(buf) as back:
            out = np.asarray(back, np.float32) / 255.0
        return (out[None] if out.ndim == 2 else np.moveaxis(out, -1, 0)).astype(np.float32)

    def to_dict(self) -> dict:
        return {"tables": np.asarray(self.tables, np.int64).reshape(-1, 64).tolist(),
                "component_tables": list(self.component_tables), "subsampling": self.subsampling,
                "quality": self.quality}

    @classmethod
    def ijg(cls, quality: float, subsampling: str = "4:2:0") -> JpegStorage:
        """The storage libjpeg (Pillow's encoder) writes at ``quality`` with ``subsampling``: its scaled base tables,
        luminance for Y and chrominance for Cb and Cr."""
        if subsampling not in SUBSAMPLING:
            raise ValueError(f"unknown chroma subsampling {subsampling!r}")
        tables = np.stack([ijg_table(IJG_LUMA, quality), ijg_table(IJG_CHROMA, quality)])
        return cls(tables, (0, 1, 1), subsampling, float(quality))

    @classmethod
    def from_dict(cls, d: dict) -> JpegStorage:
        tables = np.asarray(d["tables"], np.float64).reshape(-1, 8, 8)
        if tables.shape[0] == 0 or np.any(tables < 1) or not np.all(np.isfinite(tables)):
            raise ValueError("JPEG quantisation tables must be ≥ 1")
        sub = str(d["subsampling"])
        if sub not in SUBSAMPLING:
            raise ValueError(f"unknown chroma subsampling {sub!r}")
        return cls(tables, tuple(int(i) for i in d["component_tables"]), sub, float(d["quality"]))


def read_storage(image) -> JpegStorage | None:
    """What a JPEG file opened with Pillow (``PIL.Image.open``) says about its storage; ``None`` for any
    other image (or a JPEG without the usual 1 or 3 components)."""
    from PIL import JpegImagePlugin

    if getattr(image, "format", None) != "JPEG" or not getattr(image, "quantization", None):
        return None
    layers = getattr(image, "layer", None) or []
    if len(layers) not in (1, 3):
        return None  # CMYK / YCCK: not a photo the camera model reads
    ids = sorted(image.quantization)
    tables = np.stack([np.asarray(image.quantization[i], np.float64).reshape(8, 8) for i in ids])
    comp = tuple(ids.index(layer[3]) if layer[3] in ids else 0 for layer in layers)
    sampling = JpegImagePlugin.get_sampling(image) if len(layers) == 3 else 0
    sub = {0: "4:4:4", 1: "4:2:2", 2: "4:2:0"}.get(sampling, "4:2:0")
    if len(layers) == 3 and sampling == -1:  # an unusual layout: name it from the luminance sampling factors
        h, v = layers[0][1], layers[0][2]
        sub = {(1, 1): "4:4:4", (2, 1): "4:2:2", (2, 2): "4:2:0", (1, 2): "4:4:0", (4, 1): "4:1:1"}.get((h, v), "4:2:0")
    return JpegStorage(tables, comp, sub, ijg_quality(tables[comp[0]]))


# -- the transform a JPEG encoder applies -------------------------------------------------------------------
def _dct_matrix() -> np.ndarray:
    k = np.arange(8)
    m = np.cos((2 * k[None, :] + 1) * k[:, None] * np.pi / 16) * np.sqrt(2 / 8)
    m[0] /= np.sqrt(2)
    return m  # orthonormal: JPEG's FDCT of a block B is M B Mᵀ


_D = _dct_matrix()

_TO_YCC = np.array([[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]])
_FROM_YCC = np.linalg.inv(_TO_YCC)


def _blocks(plane: np.ndarray) -> np.ndarray:
    """``(H, W)`` → ``(H8/8, W8/8, 8, 8)`` DCT coefficients of the plane padded to whole blocks by repeating
    its last row and column (as libjpeg pads)."""
    h, w = plane.shape
    p = np.pad(plane, ((0, -h % 8), (0, -w % 8)), mode="edge")
    b = p.reshape(p.shape[0] // 8, 8, p.shape[1] // 8, 8).transpose(0, 2, 1, 3)
    return np.einsum("ij,abjk,lk->abil", _D, b, _D, optimize=True)


def _down(plane: np.ndarray, fy: int, fx: int) -> np.ndarray:
    """Box average over ``fy × fx`` pixels (libjpeg's downsampling), edges repeated to whole cells."""
    if fy == fx == 1:
        return plane
    h, w = plane.shape
    p = np.pad(plane, ((0, -h % fy), (0, -w % fx)), mode="edge")
    return p.reshape(p.shape[0] // fy, fy, p.shape[1] // fx, fx).mean(axis=(1, 3))


def _up(plane: np.ndarray, fy: int, fx: int, shape: tuple[int, int]) -> np.ndarray:
    """Back to full resolution: libjpeg's "fancy" (triangle, ¾ ¼) upsampling for factor 2, repetition otherwise."""
    out = plane
    for axis, f in ((0, fy), (1, fx)):
        if f == 1:
            continue
        if f == 2:
            prev = np.concatenate([np.take(out, [0], axis), np.take(out, np.arange(out.shape[axis] - 1), axis)], axis)
            nxt = np.concatenate([np.take(out, np.arange(1, out.shape[axis]), axis), np.take(out, [-1], axis)], axis)
            lo, hi = 0.75 * out + 0.25 * prev, 0.75 * out + 0.25 * nxt
            out = np.stack([lo, hi], axis=axis + 1).reshape(
                *[n * 2 if i == axis else n for i, n in enumerate(out.shape)])
        else:
            out = np.repeat(out, f, axis=axis)
    return out[: shape[0], : shape[1]]


def _undo_fancy(plane: np.ndarray, fy: int, fx: int) -> np.ndarray:
    """The subsampled chroma a decoder upsampled into ``plane``: box-averaging the triangle upsampling gives
    ``¾ c_i + ⅛ (c_{i−1} + c_{i+1})`` per factor-2 axis, inverted here by a few Jacobi sweeps (contraction ⅓)."""
    b = _down(plane, fy, fx)
    for axis, f in ((0, fy), (1, fx)):
        if f != 2 or b.shape[axis] < 2:
            continue
        x = b.copy()
        for _ in range(12):
            prev = np.concatenate([np.take(x, [0], axis), np.take(x, np.arange(x.shape[axis] - 1), axis)], axis)
            nxt = np.concatenate([np.take(x, np.arange(1, x.shape[axis]), axis), np.take(x, [-1], axis)], axis)
            x = (b - 0.125 * (prev + nxt)) / 0.75
        b = x
    return b


def _ycc(rgb255: np.ndarray) -> np.ndarray:
    out = np.einsum("ij,jhw->ihw", _TO_YCC, rgb255, optimize=True)
    out[1:] += 128.0
    return out


def _rgb(ycc: np.ndarray) -> np.ndarray:
    y = ycc.copy()
    y[1:] -= 128.0
    return np.einsum("ij,jhw->ihw", _FROM_YCC, y, optimize=True)


def restore_chroma(stored: np.ndarray, storage: JpegStorage, *, radius: int = 1, eps: float = 100.0) -> np.ndarray:
    """The decoded photo ``stored`` ``(3, H, W)`` (values in [0, 1]) with the chroma detail its subsampling lost
    put back from the luminance, which the file kept at full resolution: per window of ``2·radius + 1`` stored
    chroma pixels, the slope ``a`` of the stored chroma against the luminance averaged to the chroma grid
    (ridge ``eps``, in (0–255)² units, so a window without a clear relation adds nothing), and each chroma
    channel gets ``a ·`` (the luminance's own detail below the chroma grid: ``Y`` minus ``Y`` averaged and
    upsampled the decoder's way). Where chroma does not follow luminance the decoded photo is kept; a 4:4:4 or
    grey photo comes back as it is. float32.

    On the 20 CAVE renderings (stored values against the lossless PNG): quality 95, 4:2:0 40.74 → 41.22 dB
    (4:4:4 storage: 43.52), quality 85 38.35 → 38.63 (40.16); never lower on a scene (+0.08 … +1.16 dB).
    A plain guided upsampling of the chroma (``a · Y + b`` from the stored chroma) was better on one scene and
    1.8 dB *worse* on average (windows holding two colours)."""
    from scipy.ndimage import uniform_filter

    y = np.asarray(stored, np.float64)
    fx, fy = storage.chroma_factors
    if y.ndim != 3 or y.shape[0] != 3 or (fx, fy) == (1, 1):
        return np.asarray(stored, np.float32)
    ycc = _ycc(y * 255.0)
    lum = ycc[0]
    lum_lo = _down(lum, fy, fx)
    detail = lum - _up(lum_lo, fy, fx, lum.shape)
    size = 2 * radius + 1

    def box(a: np.ndarray) -> np.ndarray:
        return uniform_filter(a, size, mode="nearest")

    m_y = box(lum_lo)
    var = box(lum_lo * lum_lo) - m_y * m_y
    for c in (1, 2):
        chroma_lo = _undo_fancy(ycc[c], fy, fx)
        slope = (box(lum_lo * chroma_lo) - m_y * box(chroma_lo)) / (var + eps)
        ycc[c] += _up(slope, fy, fx, lum.shape) * detail
    return np.clip(_rgb(ycc) / 255.0, 0.0, 1.0).astype(np.float32)


def quantisation_noise(stored: np.ndarray, storage: JpegStorage) -> float:
    """The storage's noise in the decoded photo ``stored`` ``(c, H, W)``, from the file alone: the variance
    ``q² / 12`` of every DCT coefficient the file holds as non-zero (rounded in a quantisation step), averaged
    over each component's coefficients (the chroma at the resolution it was stored at, each of its pixels
    reaching ``fx · fy`` full-resolution ones) and summed over the components; in dB re the full scale
    (0–255 → 1). Lower (more negative) is cleaner."""
    y = np.asarray(stored, np.float64) * 255.0
    planes = [y[0]] if y.shape[0] == 1 else list(_ycc(y))
    fx, fy = storage.chroma_factors
    total = 0.0
    for comp, plane in enumerate(planes):
        sub = comp > 0 and (fx, fy) != (1, 1)
        q = storage.table(comp)
        coef = _blocks((_undo_fancy(plane, fy, fx) if sub else plane) - 128.0)
        nonzero = np.abs(np.round(coef / q)) >= 1
        total += float(np.mean(nonzero * (q * q / 12.0)))
    return float(10.0 * np.log10(max(total, 1e-12) / 255.0**2))


#: The fused cube's loss against a lossless photo of the same camera, in dB, as ``a + b · (100 − quality)`` per
#: chroma subsampling: fitted on CAVE's 20 sRGB renderings saved by Pillow at qualities 95 / 85 / 75 (4:2:0) and
#: 95 / 85 (4:4:4), each fused with the shipped lite ``cosine`` through its own estimated camera (a JPEG with its
#: own and JPEG-tuned weights, the result reproducing the LR-HSI better kept, and so the lossless 8-bit photo),
#: against the same rendering stored losslessly
#: (``python -m experiments jpeg_camera_table``, docs/results/jpeg_camera.json).
LOSS_MODEL = {"4:2:0": (2.92, 0.123), "4:4:4": (1.12, 0.206)}
#: How far a scene typically strays from it (mean |error| 1.01 / 0.92 dB for 4:2:0 / 4:4:4; 77 % of the files within
#: 1.5 dB; the worst 2.9 dB, on the scenes the camera path fuses best: the loss grows with what a lossless photo
#: would give, which the file alone does not tell).
LOSS_SPREAD = 1.0


def estimated_loss(storage: JpegStorage) -> tuple[float, float]:
    """``(dB, ± dB)``: how far below a lossless photo of the same camera a fusion through this JPEG is expected to
    score, from its quality and chroma subsampling (:data:`LOSS_MODEL`), and how far a scene strayed from that.
    Subsamplings other than 4:4:4 count as 4:2:0."""
    a, b = LOSS_MODEL["4:4:4" if storage.subsampling == "4:4:4" else "4:2:0"]
    return max(0.0, a + b * (100.0 - storage.quality)), LOSS_SPREAD
