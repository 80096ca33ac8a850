"""Which patches a training run sees: the scenes loaded as ``(B, H, W)`` arrays, the grid of overlapping
``patch × patch`` corners over them (stride ≈ patch / 2, the paper's 196 patches a 512² scene), and each epoch's
order and augmentation codes, which depend only on ``(seed, epoch)`` so a resumed run continues the same sequence.
Numpy only; the patches themselves are cut and simulated on the device (:mod:`.data`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..data.cube import Cube, CubeError

__all__ = ["load_scenes", "patch_grid", "default_stride", "epoch_order"]


def load_scenes(scenes: Sequence, what: str) -> tuple[list[np.ndarray], list[str]]:
    from ..io import read_cube

    arrays: list[np.ndarray] = []
    names: list[str] = []
    for s in scenes:
        if isinstance(s, Cube):
            arrays.append(np.asarray(s.data, np.float32))
            names.append(Path(s.source).name if s.source else f"cube{len(names)}")
        elif isinstance(s, np.ndarray):
            arrays.append(np.asarray(s, np.float32))
            names.append(f"array{len(names)}")
        else:
            arrays.append(read_cube(s).data)
            names.append(Path(s).name)
        if arrays[-1].ndim != 3:
            raise CubeError(f"{what} scene {names[-1]} is not a (B, H, W) cube")
    bands = {a.shape[0] for a in arrays}
    if len(bands) > 1:
        raise CubeError(f"{what} scenes have different band counts: {sorted(bands)}")
    return arrays, names


def patch_grid(shapes: Sequence[tuple[int, ...]], patch: int, stride: int) -> np.ndarray:
    """All ``(scene, row, col)`` top-left corners of overlapping patches, ``(P, 3)`` int64."""
    out = []
    for i, shp in enumerate(shapes):
        H, W = shp[-2:]
        if H < patch or W < patch:  # noqa: SIM300 - H and W are the scene's height and width, not constants
            raise CubeError(f"scene {i} ({H}×{W}) is smaller than the {patch}×{patch} training patch")
        ys = list(range(0, H - patch + 1, stride))
        xs = list(range(0, W - patch + 1, stride))
        if ys[-1] != H - patch:
            ys.append(H - patch)
        if xs[-1] != W - patch:
            xs.append(W - patch)
        out += [(i, y, x) for y in ys for x in xs]
    return np.asarray(out, dtype=np.int64)


def default_stride(patch: int, scale: int) -> int:
    """The patch grid's stride: ≈ patch / 2 and a multiple of the scale, + 2 (the paper's 196 patches a 512² scene)."""
    return max(scale, patch // 2 // scale * scale + 2)


def epoch_order(n_patches: int, per_epoch: int, seed: int, epoch: int) -> tuple[np.ndarray, np.ndarray]:
    """Patch indices and augmentation codes (0–7) of one epoch; depends only on (seed, epoch)."""
    rng = np.random.default_rng([seed, epoch])
    reps = math.ceil(per_epoch / n_patches)
    idx = np.concatenate([rng.permutation(n_patches) for _ in range(reps)])[:per_epoch]
    aug = rng.integers(0, 8, size=per_epoch)
    return idx, aug
