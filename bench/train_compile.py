"""Eager against ``torch.compile`` training steps, alternated in one process (the fair comparison on a
noisy machine: both see the same drift), with the FLOP ratio of each.

    .venv/bin/python -m bench train_compile [--preset lite] [--rounds 6] [--batch 16]

One INFN per mode (same weights, cosine weighting, SRF projection), random 64² patches ×4; each
round times one step of each mode (forward, L1 loss, backward, Adam); the first two rounds (warm-up
and compilation) are not timed. FLOP ratio as bench/train.py: 3 × the straightforward forward FLOPs
per step over the seconds per step, over a 2048² ``torch.mm`` timed after every round. Prints a
table, then one JSON line.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time

from . import emit
from .fuse import matmul_flops


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--preset", default="lite")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--batch", type=int, default=16)
    args = ap.parse_args(argv)
    import torch

    from napari_inf3.data.simulation import load_srf
    from napari_inf3.models.infn import INFN
    from napari_inf3.models.infn.flops import straightforward_flops

    torch.manual_seed(0)
    srf = load_srf("nikon_d700", bands=31)
    eager = INFN(31, 3, weighting="cosine", preset=args.preset, consistency="srf", srf=srf)
    models = {"eager": eager, "compiled": copy.deepcopy(eager)}
    nets = {"eager": models["eager"], "compiled": torch.compile(models["compiled"])}
    opts = {k: torch.optim.Adam(m.parameters(), 1e-4) for k, m in models.items()}
    b = args.batch
    lr, msi, gt = torch.rand(b, 31, 16, 16), torch.rand(b, 3, 64, 64), torch.rand(b, 31, 64, 64)
    flops = 3 * straightforward_flops(eager.config, 4)["total"] * b * 64 * 64
    times = {k: [] for k in nets}
    mm = []
    for r in range(args.rounds + 2):
        for k, net in nets.items():
            t = time.perf_counter()
            loss = torch.nn.functional.l1_loss(net(lr, msi), gt)
            opts[k].zero_grad()
            loss.backward()
            opts[k].step()
            loss.item()
            if r >= 2:
                times[k].append(time.perf_counter() - t)
        if r >= 2:
            mm.append(matmul_flops(reps=3))
    rate = statistics.median(mm)
    out = {"bench": "train_compile", "preset": args.preset, "batch": b, "matmul_gflops": rate / 1e9}
    for k, ts in times.items():
        s = statistics.median(ts)
        out[k] = {"s_per_step": s, "flop_ratio": flops / s / rate}
    out["compiled_over_eager"] = out["compiled"]["s_per_step"] / out["eager"]["s_per_step"]
    print(f"{args.preset}, batch {b}, matmul {rate / 1e9:.0f} GFLOP/s\n| mode | s/step | flop_ratio |\n|---|---|---|")
    for k in times:
        print(f"| {k} | {out[k]['s_per_step']:.3f} | {out[k]['flop_ratio']:.3f} |")
    emit(out)


if __name__ == "__main__":
    main()
