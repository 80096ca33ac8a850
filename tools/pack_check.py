"""What the 8-bit scene pack costs training: the same short ``lite`` run from the pack and from the PNGs.

    python -m tools.pack_check --pack .pack --steps 120 [--scenes face_ms paints_ms ...]

Both runs use :func:`napari_inf3.train` with the same scenes, seed, batches and steps; only the
source of the ground truth differs (16-bit PNGs, or the pack's top 8 bits). Each validates on the
superballs sample crop (16-bit, never trained on). The issue's bar: the two validation PSNRs
agree within 0.05 dB (the run before the GPU training: +0.011 dB, docs/results/gpu/pack_check.json,
docs/REPRODUCTION.md). Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CAVE = ROOT.parent / "shared" / "data" / "cave"


def run(scenes, val, steps: int, batch: int, seed: int) -> dict:
    from napari_inf3 import train

    t = time.perf_counter()
    events = list(train(scenes, val_scenes=[val], weighting="cosine", preset="lite", epochs=1,
                        patches_per_epoch=steps * batch, batch_size=batch, lr=2e-4, schedule="cosine",
                        seed=seed, device="cpu", val_crop=192))
    done = [e for e in events if e.kind == "epoch"][-1]
    return {"val_psnr": done.val_psnr, "loss": done.loss, "seconds": round(time.perf_counter() - t, 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pack", type=Path, default=ROOT / ".pack")
    ap.add_argument("--scenes", nargs="*", default=["face_ms", "paints_ms", "beads_ms", "thread_spools_ms"])
    ap.add_argument("--steps", type=int, default=120)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--source", choices=["png", "pack", "both"], default="both")
    a = ap.parse_args(argv)
    from napari_inf3 import read_cube

    from .pack_scenes import read_pack

    val = read_cube(ROOT / "sample_data" / "superballs_crop_ms")
    res = {}
    if a.source in ("png", "both"):
        res["png"] = run([read_cube(CAVE / s) for s in a.scenes], val, a.steps, a.batch, a.seed)
        print("png ", res["png"], flush=True)
    if a.source in ("pack", "both"):
        packed = read_pack(a.pack, a.scenes)
        res["pack"] = run([packed[s] for s in a.scenes], val, a.steps, a.batch, a.seed)
        print("pack", res["pack"], flush=True)
    if len(res) == 2:
        res["difference_db"] = round(res["pack"]["val_psnr"] - res["png"]["val_psnr"], 4)
    print(json.dumps({"scenes": a.scenes, "steps": a.steps, "batch": a.batch, **res}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
