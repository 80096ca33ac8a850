"""The paper's ablations on CAVE: ``napari-inf3 grid`` over the 19 training scenes, superballs tested by all.

    python -m experiments ablation_lite_schemes          # the documented runs: experiments/configs/ablation_*.toml
    python -m experiments ablation --out runs/g --variants full --seeds 0 1 2 --run-folds 0 --jobs 2

Every option is ``napari-inf3 grid``'s (``napari-inf3 grid --help``); this adds the data (``--data``, default
the CAVE scenes in ``../shared/data/cave``) and ``--test-also superballs_ms``, so a config names only what
varies. Results and their reading: docs/REPRODUCTION.md ("Ablations"), files in docs/results/ablation_*.
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CAVE = ROOT.parent / "shared" / "data" / "cave"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(add_help=False)
    ap.add_argument("--data", type=Path, default=CAVE)
    known, rest = ap.parse_known_args(argv)
    from napari_inf3.cli.main import main as cli

    extra = [] if "--test-also" in rest else ["--test-also", "superballs_ms"]
    return int(cli(["grid", str(known.data), *rest, *extra]) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
