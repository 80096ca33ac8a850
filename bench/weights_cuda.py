"""What returning INF³'s neighbour weights costs a CUDA fusion, and that they still sum to 1 in bf16 (issue 11).

    python -m bench weights_cuda          # on the lent GPU: OUT=folder for the JSON (default /tmp)

Fuses the superballs sample crop mirrored up to 512² (128² on a CPU, as a rehearsal), simulated ×4, with the
shipped paper-preset checkpoints (area, net, cosine) in bf16, with and without ``weights=True``: the median of
10 timed calls after 2 warm-ups (``gpu_run.timed``), and the largest |Σ weights − 1| over the scene.
Needs only torch, numpy and pillow (no napari), like ``tools/gpu_run.py``. Prints a table, then one JSON
line, and writes it to ``$OUT/weights_cuda.json``. The H200 run: docs/results/gpu/weights_cuda_h200.json,
docs/PERFORMANCE.md.
"""

import argparse
import json
import os
from pathlib import Path

import numpy as np
import torch

from napari_inf3 import fuse, pretrained, simulate
from tools.gpu_run import read_png_folder, timed

from . import emit

ROOT = Path(__file__).resolve().parents[1]


def measure() -> dict:
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
            ms = timed(lambda m=m, rw=rw: fuse(m, lr, msi, device=dev, precision="bf16", weights=rw), dev, 10,
                       warmup=2)
            out[f"{w}_weights={rw}_ms"] = round(float(np.median(ms)), 1)
        weights = fuse(m, lr, msi, device=dev, precision="bf16", weights=True).weights
        out[f"{w}_wsum_maxerr"] = float(np.abs(weights.sum(0) - 1).max())
    return out


def main(argv=None) -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    res = measure()
    print(f"{res['device']}, {res['size']}², bf16")
    print("| weighting | ms | ms with weights | max abs(sum w - 1) |\n|---|---|---|---|")
    for w in ("area", "net", "cosine"):
        plain, with_w, err = res[f"{w}_weights=False_ms"], res[f"{w}_weights=True_ms"], res[f"{w}_wsum_maxerr"]
        print(f"| {w} | {plain} | {with_w} | {err:.2e} |")
    emit(res)
    Path(os.environ.get("OUT", "/tmp"), "weights_cuda.json").write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
