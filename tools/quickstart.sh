#!/usr/bin/env bash
# The main job, on the CPU in minutes: install hssl, pre-train DINO + HSSL
# (ViT with a ConvNeXt auxiliary head) on the embedded digits, then k-NN
# classify the test split with the trained teacher backbone and with the same
# network at random initialisation.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/setup_venv.sh cpu

CONFIG=${CONFIG:-configs/hssl/dino_vitmini8_convnext_12e_digits.py}
WORK_DIR=${WORK_DIR:-work_dirs/quickstart}
start=$(date +%s)
python tools/train.py "$CONFIG" --work-dir "$WORK_DIR" "$@"
CKPT=$(cat "$WORK_DIR/last_checkpoint")
python tools/knn_eval.py "$CONFIG" "$CKPT" --k 20 --out "$WORK_DIR/knn_trained.json"
python tools/knn_eval.py "$CONFIG" --random-init --k 20 --out "$WORK_DIR/knn_random.json"
echo "[hssl] quickstart took $(( $(date +%s) - start )) s after install; work dir: $WORK_DIR"
python - "$WORK_DIR" <<'PY'
import json, sys
read = lambda name: json.load(open(f'{sys.argv[1]}/{name}'))['top1']['20']
print(f'k-NN top-1 (k=20): trained {read("knn_trained.json"):.1f}% | '
      f'random init {read("knn_random.json"):.1f}%')
PY
