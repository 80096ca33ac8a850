"""What returning INF³'s neighbour weights costs a CUDA fusion, and that they still sum to 1 in bf16 (issue 11).

    python bench/weights_cuda.py          # on the lent GPU: OUT=folder for the JSON (default /tmp)

Fuses the superballs sample crop mirrored up to 512² (128² on a CPU, as a rehearsal), simulated ×4, with the
shipped paper-preset checkpoints (area, net, cosine) in bf16, with and without ``return_weights``: the median of
10 timed calls after 2 warm-ups (``gpu_run.timed``), and the largest |Σ weights − 1| over the scene.
Needs only torch, numpy and pillow (no napari), like ``tools/gpu_run.py``.
"""

import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from napari_inf3 import fuse, pretrained, simulate  # noqa: E402
from tools.gpu_run import read_png_folder, timed  # noqa: E402


def main() -> dict:
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    n = 512 if dev.type == "cuda" else 128
    gt = read_png_folder(ROOT / "sample_data" / "superballs_crop_ms")
    pad = ((0, 0), (0, max(0, n - gt.shape[1])), (0, max(0, n - gt.shape[2])))
    gt = np.pad(gt, pad, mode="reflect")[:, :n, :n]
    lr, msi = simulate(gt, 4)
    out = {"device": torch.cuda.get_device_name() if dev.type == "cuda" else "cpu", "size": n}
    for w in ("area", "net", "cosine"):
        m = pretrained(w, device=dev, preset="paper")
        for rw in (False, True):
            ms = timed(lambda m=m, rw=rw: fuse(m, lr, msi, device=dev, precision="bf16", return_weights=rw), dev, 10,
                       warmup=2)
            out[f"{w}_weights={rw}_ms"] = round(float(np.median(ms)), 1)
        _, weights = fuse(m, lr, msi, device=dev, precision="bf16", return_weights=True)
        out[f"{w}_wsum_maxerr"] = float(np.abs(weights.sum(0) - 1).max())
    return out


if __name__ == "__main__":
    res = main()
    print(json.dumps(res))
    Path(os.environ.get("OUT", "/tmp"), "weights_cuda.json").write_text(json.dumps(res, indent=1))
