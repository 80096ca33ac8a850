"""Fine-tuning a shipped checkpoint against training from scratch, on the CPU.

    OMP_NUM_THREADS=1 .venv/bin/python -m experiments finetune --init cosine --srf other --steps 300 \\
        --eval-every 50 --threads 1 --out runs/finetune/init_other.json

Trains on the paper's 19 training scenes (``../shared/data/cave``, never superballs) with the
shipped recipe (lite, batch 16, lr 2e-4 with cosine decay, 64² patches, offset r // 2) and scores
the whole superballs scene (512², ×4, simulated with the same response) every ``--eval-every``
steps, step 0 included. ``--init cosine`` starts from the shipped ``lite`` cosine weights
(``napari_inf3.train(init=)``), ``--init none`` from a new network, whose step 0 is the SRF
projection of bicubic. ``--srf nikon`` is the Nikon D700 the shipped weights learned with;
``--srf other`` is experiments/real_pairs.py's "another camera" (the Nikon curves moved 20 nm to longer
wavelengths), where the shipped cosine scores 1.4 dB *below* the projection (docs/REAL_PAIRS.md).
Writes the curve as JSON. The runs docs/REAL_PAIRS.md and docs/REPRODUCTION.md report: the configs
``finetune_init_*`` (experiments/configs/), their curves in docs/results/finetune.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CAVE = ROOT.parent / "shared" / "data" / "cave"
VALIDATION = "superballs_ms"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--init", default="cosine", help="a pretrained name or checkpoint; 'none' for a new network")
    ap.add_argument("--srf", default="other", choices=["nikon", "other", "other-estimated"],
                    help="other-estimated: train with the response estimate_srf fits to the other camera's superballs "
                         "pair (what a user has), score with the true one")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--eval-every", type=int, default=50)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args(argv)

    from napari_inf3 import estimate_srf, fuse, load_checkpoint, read_cube, simulate, train
    from napari_inf3.data.simulation import load_srf
    from napari_inf3.evaluation.metrics import psnr
    from napari_inf3.io import scene_paths
    from napari_inf3.models.load import load_model, projection_model, with_srf

    from .real_pairs import shifted_camera

    nikon = load_srf("nikon_d700")
    srf = nikon if a.srf == "nikon" else shifted_camera(nikon)
    scenes = scene_paths([CAVE], [VALIDATION])
    val = read_cube(CAVE / VALIDATION).data
    lr_v, msi_v = simulate(val, 4, srf)  # the validation pair, through the true response

    def true_pair_psnr(model) -> float:
        return float(psnr(fuse(model, lr_v, msi_v, "cpu").cube, val))

    # train() validates on pairs simulated with its own response; with an estimate the pair must come from the
    # true camera, so each epoch's checkpoint is scored here instead
    own = a.srf == "other-estimated"
    train_srf = estimate_srf(lr_v, msi_v, 4).srf if own else srf
    init = None if a.init == "none" else a.init
    a.out.parent.mkdir(parents=True, exist_ok=True)
    rec = {"args": {k: str(v) for k, v in vars(a).items()}, "scenes": [p.name for p in scenes], "curve": []}
    t0 = time.perf_counter()
    epochs = -(-a.steps // a.eval_every)
    if init is None:  # step 0 of a new network with the projection is the projection of bicubic
        rec["curve"].append({"step": 0, "psnr": round(true_pair_psnr(projection_model(train_srf)), 3), "seconds": 0.0})
    elif own:
        start = true_pair_psnr(with_srf(load_model(init, "cpu"), train_srf))
        rec["curve"].append({"step": 0, "psnr": round(start, 3), "seconds": 0.0})
    if rec["curve"]:
        print(f"step 0: {rec['curve'][0]['psnr']:.3f} dB", flush=True)
    for ev in train(scenes, val_scenes=[] if own else [val], val_crop=512, init=init, weighting="cosine",
                    preset="lite", srf=train_srf, batch_size=a.batch, lr=a.lr, schedule="cosine", epochs=epochs,
                    patches_per_epoch=a.batch * a.eval_every, seed=a.seed, device="cpu", num_threads=a.threads,
                    out=a.out.with_suffix(".pt") if own else None, overwrite=True):
        if ev.extra.get("start_val_psnr") is not None:
            rec["curve"].append({"step": 0, "psnr": round(ev.extra["start_val_psnr"], 3), "seconds": 0.0})
            print(f"step 0: {ev.extra['start_val_psnr']:.3f} dB", flush=True)
        if ev.kind == "epoch":
            score = true_pair_psnr(load_checkpoint(ev.checkpoint, device="cpu")) if own else ev.val_psnr
            rec["curve"].append({"step": ev.step, "psnr": round(score, 3), "loss": round(ev.loss, 6),
                                 "seconds": round(time.perf_counter() - t0, 1)})
            print(f"step {ev.step}: {score:.3f} dB, loss {ev.loss:.5f}, {time.perf_counter() - t0:.0f} s", flush=True)
            a.out.write_text(json.dumps(rec, indent=1))
    a.out.write_text(json.dumps(rec, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
