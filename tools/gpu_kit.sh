#!/usr/bin/env bash
# Ready the kit issue 12 needs on a lent GPU machine, from a fresh clone with ../shared beside it:
#   .pack/    the 19 training scenes + superballs, top 8 bits, lzma (tools/pack_scenes.py; its size:
#             docs/REPRODUCTION.md, "Commands")
#   .wheels/  pytest and its dependencies for the machine's Python 3.12 (it has no pytest)
# then print the size that will travel and the device call to make. Idempotent: what exists is kept.
#
#   bash tools/gpu_kit.sh [--python .venv/bin/python]     (bench/gpu_kit.sh forwards here)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
[ "${1:-}" = "--python" ] && PY=$2
CAVE=../shared/data/cave
if [ ! -f .pack/index.json ]; then
    [ -d "$CAVE" ] || { echo "gpu_kit: $CAVE not found (the CAVE scenes); cannot build .pack" >&2; exit 2; }
    "$PY" -m tools.pack_scenes "$CAVE" --out .pack
fi
if ! ls .wheels/pytest-*.whl >/dev/null 2>&1; then
    mkdir -p .wheels
    # pure-Python wheels: any platform; --python-version makes pip pick ones that install on 3.12
    "$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation py \
        --platform any -d .wheels pytest iniconfig packaging pluggy
fi
"$PY" - <<'PYEOF'
import json, subprocess
from pathlib import Path
idx = json.loads(Path(".pack/index.json").read_text())
names = sorted(e["name"] for e in idx["scenes"])
assert "superballs_ms" in names and len(names) == 20, f".pack holds {len(names)} scenes: {names}"
tracked = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], capture_output=True, check=True).stdout
size = sum(Path(p).stat().st_size for p in tracked.decode().split("\0") if p and Path(p).is_file())
carry = sum(p.stat().st_size for d in (".pack", ".wheels") for p in Path(d).rglob("*") if p.is_file())
total = (size + carry) / 2**20
print(f"working tree {size / 2**20:.1f} MiB + carried {carry / 2**20:.1f} MiB = {total:.1f} MiB (limit 64)")
assert total < 64, "too big to travel"
PYEOF
cat <<'TXT'
device call (carry [".pack", ".wheels"], timeout_s 540: a run that fails early leaves time to retry); continues the shipped paper checkpoints:
  PYTHONUNBUFFERED=1 python3 -m tools.gpu_run --pack .pack --out $OUT --budget 400 \
      --init shipped --lr 1e-4 --wheels .wheels 2>&1 | tee $OUT/gpu_run.log
then here: cp the returned files to runs/gpu_paper/, python -m tools.ship_pretrained runs/gpu_paper/infn_paper_*_x4.pt,
python -m experiments reproduce --overwrite (docs/REPRODUCTION.md).
TXT
