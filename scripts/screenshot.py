"""Make docs/screenshot.png: the demo window (sample fused by the shipped checkpoints, three docks).

    xvfb-run -a .venv/bin/python scripts/screenshot.py [out.png] [--overwrite]
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image


def main() -> None:
    from napari_inf3.qt_default import prefer_default_binding

    prefer_default_binding()  # PyQt6, the default install's, also where PyQt5 is installed beside it
    import napari

    from napari_inf3._napari.demo_viewer import build_demo_viewer
    from napari_inf3.demo import compute

    args = [a for a in sys.argv[1:] if a != "--overwrite"]
    out = Path(args[0]) if args else Path(__file__).resolve().parents[1] / "docs" / "screenshot.png"
    if out.exists() and "--overwrite" not in sys.argv:
        sys.exit(f"{out} exists; pass --overwrite to replace it")
    viewer = napari.Viewer(title="napari-inf3 demo", show=True)
    viewer.window.resize(1600, 1000)
    build_demo_viewer(compute(), viewer)
    shot = viewer.screenshot(canvas_only=False, flash=False)
    Image.fromarray(shot).save(out)
    print(f"wrote {out} {shot.shape}")
    viewer.close()


if __name__ == "__main__":
    main()
