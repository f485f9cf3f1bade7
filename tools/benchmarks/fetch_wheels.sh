#!/usr/bin/env bash
# Download, on a machine with pip access, the wheels that gpu_check.sh installs
# beside a GPU machine's own torch (which has no network): hssl's dependencies
# that such an image (PyTorch, torchvision, timm, OpenCV, scikit-learn, ...) lacks.
#   bash tools/benchmarks/fetch_wheels.sh [DIR=.whl] [PYTHON_VERSION=3.12]
# Then copy the repository with DIR to the GPU machine and run gpu_check.sh there.
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR=${1:-.whl}
PYV=${2:-3.12}
mkdir -p "$DIR"
PY=${PYTHON:-python3}
# pure-Python wheels (any platform)
"$PY" -m pip download -q --no-deps -d "$DIR" \
    mmengine==0.10.7 mmpretrain==1.2.0 mmcv-lite==2.2.0 kornia==0.9.0 \
    addict==2.4.0 termcolor==3.3.0 yapf==0.43.0 platformdirs==4.14.9 mat4py==0.6.0 \
    modelindex==0.0.2 model-index==0.1.11 ordered-set==4.1.0 importlib-metadata
# kornia's compiled companion, for the GPU machine's Python and platform
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version "$PYV" \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$DIR" kornia-rs==0.2.0
ls "$DIR"
