#!/usr/bin/env bash
# One GPU check of hssl, one table (tools/benchmarks/gpu_check.py says what it runs):
#   bash tools/benchmarks/gpu_check.sh [--cifar DIR|ARCHIVE] [--out DIR] [--steps ...]
#   bash tools/benchmarks/gpu_check.sh --cpu-smoke      # every step at toy size on the CPU
# On a GPU machine whose Python has torch but not hssl's other dependencies (and no
# network), first run tools/benchmarks/fetch_wheels.sh where pip works and carry the
# repository with its .whl/ folder: the wheels are installed into a private folder
# beside the system's torch (nothing of the system is changed). About 4-5 minutes on
# one H100 / H200; the table is also written to work_dirs/gpu_check/gpu_check.md.
# CIFAR-10: --cifar, else ../shared/data/cifar10-jpeg.tar.gz or shared/data/... if
# present, else generated images.
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python3}
if compgen -G ".whl/*.whl" > /dev/null; then
    SITE=${HSSL_SITE:-/tmp/hssl-site}
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$SITE" .whl/*.whl
    export PYTHONPATH="$SITE${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
"$PY" - <<'PYEOF'
import importlib.util
import sys
need = ['torch', 'torchvision', 'mmengine', 'mmpretrain', 'mmcv', 'kornia', 'timm', 'cv2',
        'sklearn', 'PIL']
missing = [m for m in need if importlib.util.find_spec(m) is None]
if missing:
    sys.exit(f'gpu_check: missing Python packages {missing}: carry their wheels in .whl/ '
             '(tools/benchmarks/fetch_wheels.sh) or pip install -e .')
PYEOF
args=("$@")
if [[ " $* " != *" --cifar "* && " $* " != *" --cpu-smoke "* ]]; then
    for archive in ../shared/data/cifar10-jpeg.tar.gz shared/data/cifar10-jpeg.tar.gz; do
        if [ -f "$archive" ]; then args+=(--cifar "$archive"); break; fi
    done
fi
exec "$PY" -u tools/benchmarks/gpu_check.py "${args[@]}"
