"""What the subcommands share: a progress bar and the options every subcommand takes."""

from __future__ import annotations

import argparse


def progress_bar_for(total: int, desc: str, unit: str = "it"):
    from ..progress import progress_bar

    return progress_bar(total, desc, unit, disable=None)


def add_common_args(p: argparse.ArgumentParser) -> None:
    """The options evaluate, fuse and train share: --scale, --offset, --device, --overwrite."""
    p.add_argument("--scale", type=int, default=4, help="HR/LR size ratio r of the simulation (default 4)")
    p.add_argument("--offset", type=int, default=None,
                   help="which pixel of each r×r block the simulated LR-HSI keeps, 0..r-1 "
                   "(default r // 2, the paper's protocol; 0 = this tool before 2026-11-26)")
    p.add_argument("--device", default="auto", help="auto (GPU when torch sees one), cpu, cuda, cuda:N")
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
