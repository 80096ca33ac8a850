"""``napari-inf3``: train, fuse and evaluate INF³ fusion from the command line, or run the demo.

Every failure the user can fix (a bad file, a wrong size, an existing output) ends with a
one-line ``napari-inf3: error: ...`` message and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from .demo import add_demo_args
from .evaluate import add_evaluate_args
from .fuse import add_fuse_args
from .train import add_train_args

EPILOG = """\
examples:
  napari-inf3 demo                               napari with a sample scene fused (or --headless)
  napari-inf3 evaluate cave/superballs_ms cave/face_ms --models area net cosine
  napari-inf3 evaluate cave/ --out-dir results   every scene folder inside cave/
  napari-inf3 fuse --gt scene/ --model cosine --out fused.npz
  napari-inf3 fuse --lr-hsi lr.npz --hr-msi msi.tif --model my.pt --out fused.hdr
  napari-inf3 fuse --lr-hsi aviris.mat --hr-msi s2.tif --model pair --out fused.hdr   any sensor: fit to the pair
  napari-inf3 evaluate scene.mat --models pair projection --srf sentinel2a_10m        other sensors, simulated
  napari-inf3 train cave/ --exclude superballs_ms --val cave/superballs_ms --out my.pt
  torchrun --nproc_per_node=2 -m napari_inf3 train cave/ --out my.pt   DDP: 2 processes, one global batch
  napari-inf3 grid cave/ --out runs/g --variants full no_hr --test-also superballs_ms --jobs 2   ablations

Cubes: CAVE PNG folders, ENVI .hdr, MATLAB .mat (v5 and v7.3), .npy/.npz, .tif/.tiff.
Models: 'area', 'net', 'cosine' (the shipped lite checkpoints), 'paper:area' etc. (the shipped paper-preset
ones), 'projection' (SRF projection of bicubic, the no-learning baseline), 'pair' (a fusion fitted to the
pair itself: any band count and camera, no ground truth needed) or a checkpoint file.
The simulation keeps pixel r // 2 of each r x r block (the paper's protocol; --offset changes it).
"""


def build_parser() -> argparse.ArgumentParser:
    """The ``napari-inf3`` parser: ``--version`` and the evaluate, fuse, train and demo subcommands."""
    ap = argparse.ArgumentParser(
        prog="napari-inf3",
        description="Fuse a low-resolution hyperspectral image with a high-resolution multispectral image "
        "using INF3 (Implicit Neural Feature Fusion Function).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from .. import __version__

    ap.add_argument("--version", action="version", version=f"napari-inf3 {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")
    add_evaluate_args(sub)
    add_fuse_args(sub)
    add_train_args(sub)
    add_demo_args(sub)
    from .grid import add_grid_args

    add_grid_args(sub)
    return ap


@contextlib.contextmanager
def notes_in_words():
    """While a command runs, the engine's user warnings (a fusion's notes: which weights a JPEG took, a
    response the checkpoint was not trained with, …) print as ``note: …`` lines on stderr, without the source
    file, line and code Python's default shows: they are messages to the user, not to a programmer. Other
    warnings keep the default; the previous handler is put back afterwards."""
    import warnings

    package = Path(__file__).resolve().parents[1]
    default = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, UserWarning) and Path(filename).resolve().is_relative_to(package):
            print(f"note: {message}", file=file if file is not None else sys.stderr)
            return
        default(message, category, filename, lineno, file, line)

    warnings.showwarning = show
    try:
        yield
    finally:
        warnings.showwarning = default


def main(argv: list[str] | None = None) -> int:
    from ..data.cube import CubeError
    from ..models.checkpoint import CheckpointError

    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # the command's words (grid --jobs repeats them)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        with notes_in_words():
            return int(args.func(args) or 0)
    except (CubeError, CheckpointError, FileNotFoundError, ValueError) as exc:
        print(f"napari-inf3: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("napari-inf3: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
