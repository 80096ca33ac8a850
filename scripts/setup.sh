#!/usr/bin/env bash
# Set up everything napari-inf3 needs on a fresh Debian/Ubuntu machine, idempotently:
#   - the system libraries Qt and napari need, and Xvfb for headless GUI tests (apt, as root or via sudo)
#   - a virtual environment in ./.venv with torch (CPU build pinned, see TORCH_SPEC) and napari-inf3[all,dev]:
#     `all` is the default install, napari on PyQt6; `dev` adds the test tools and PyQt5, which the tests'
#     second run uses (tests/test_qt_bindings.py)
# Override the torch requirement with TORCH_SPEC, e.g. TORCH_SPEC="torch" for your platform's default build.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(xvfb xauth libfontconfig1 libglib2.0-0 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0
  libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render0 libxcb-render-util0 libxcb-shape0
  libxcb-xinerama0 libxcb-xkb1 libxcb-cursor0 libxcb-randr0 libxcb-xfixes0 libxcb-sync1 libxcb-shm0
  libx11-xcb1 libgl1 libegl1 libglx-mesa0 libgl1-mesa-dri)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
TORCH_SPEC=${TORCH_SPEC:-torch==2.13.0}
.venv/bin/python -m pip install -q "$TORCH_SPEC"
.venv/bin/python -m pip install -q -e ".[all,dev]"
echo "setup: done ($(.venv/bin/python -c 'import torch, napari; print("torch", torch.__version__, "napari", napari.__version__)'))"
# qtpy, and so napari, takes PyQt5 first where both are installed: the napari-inf3 command and the tests ask for
# PyQt6 themselves, a plain `napari` started from this .venv does with QT_API=pyqt6
echo "setup: Qt binding PyQt6 (with PyQt5 installed too, start a plain \`napari\` here with QT_API=pyqt6)"
