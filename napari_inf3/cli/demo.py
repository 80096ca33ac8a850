"""``napari-inf3 demo``: napari with the sample fused, or the same pictures written headless."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def cmd_demo(args) -> int:
    from ..demo import run_demo

    headless = args.headless or not os.environ.get("DISPLAY") and sys.platform.startswith("linux")
    if not headless:  # napari on PyQt6 even where PyQt5 is installed too (before anything imports Qt)
        from ..qt_default import prefer_default_binding

        prefer_default_binding()
    out = Path(args.out) if args.out else _free_folder(Path("inf3-demo"))
    return run_demo(headless=headless, out_dir=out, overwrite=args.overwrite, device=args.device, scene=args.scene,
                    offset=args.offset)


def _free_folder(base: Path) -> Path:
    """``base``, or ``base-2``, ``base-3``, ... : the first that does not exist or is empty."""
    candidate, k = base, 1
    while candidate.exists() and any(candidate.iterdir()):
        k += 1
        candidate = base.with_name(f"{base.name}-{k}")
    return candidate


def add_demo_args(sub) -> None:
    """``demo``: the sample scene fused by the shipped checkpoints, in napari or as files (:func:`cmd_demo`)."""
    p = sub.add_parser("demo", help="the sample scene fused by the three shipped checkpoints",
                       description="With a display: napari opens with the sample scene, its fusions, error maps "
                       "and the spectrum inspector. Headless (no DISPLAY, or --headless): writes composites, error "
                       "maps, a spectra plot and the metrics table to --out.")
    p.add_argument("--headless", action="store_true", help="write files instead of opening napari")
    p.add_argument("--out", default=None,
                   help="output folder for --headless (default ./inf3-demo, or inf3-demo-2, ... if that is taken)")
    p.add_argument("--scene", default=None, help="a ground-truth cube to use instead of the sample")
    p.add_argument("--device", default="auto")
    p.add_argument("--overwrite", action="store_true")
    p.add_argument("--offset", type=int, default=None, help="decimation offset 0..3 (default 2 = r // 2, the paper's)")
    p.set_defaults(func=cmd_demo)
