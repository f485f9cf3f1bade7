#!/usr/bin/env bash
# CIFAR-10 study: iBOT ViT-T/4 baseline vs the same + HSSL (depth-3 ConvNeXt
# head), equal epochs and seed, then k-NN top-1 (k = 20 and 200) of the teacher
# backbone at random init and after every epoch, and a table + plot.
#
#   tools/benchmarks/cifar10_study.sh DATA_DIR [options]
#
# DATA_DIR holds train/<class>/*.jpg and test/<class>/*.jpg (the shared copy:
# tar xzf ../shared/data/cifar10-jpeg.tar.gz -C ~/.cache/hssl-data, then
# DATA_DIR=~/.cache/hssl-data/cifar10). Options (defaults = the GPU run):
#   --out DIR                  results (default work_dirs/cifar10_study)
#   --epochs E (100)           pre-training epochs, equal for both
#   --warmup-epochs W (10)     lr warm-up epochs
#   --temp-warmup-epochs T (30) teacher temperature 0.04 -> 0.07 warm-up
#   --freeze-last-epochs F (3) epochs with the projection head's last layer frozen
#   --momentum M (0.996)       teacher EMA momentum at the start (cosine to 1)
#   --batch B (256)            total batch
#   --lr LR (5e-4)             peak lr (not scaled; set it for your batch)
#   --local-crops L (6)        16 px local crops per image
#   --train-per-class N|all    pre-training images per class (all = 5000)
#   --knn-train-per-class N|all  k-NN memory bank images per class (all = 5000)
#   --knn-test-per-class N|all   k-NN test images per class (all = 1000)
#   --seed S (0)
#   --device cpu|cuda (cuda when available)
#   --threads T (1)            torch threads per process on the CPU
#   --parallel                 train baseline and HSSL at the same time
#                              (two processes; on a CPU with --threads 1 they
#                              share the cores equally)
#   --workers N (8 on cuda, 0 on cpu)  data-loader workers per process
#   --amp                      bf16 autocast (GPU)
#   --hssl-cfg "K=V ..."       extra --cfg-options of the HSSL run only (another
#                              head: "model.network.auxiliary.type=ResNetHead")
#   --no-baseline              train and evaluate the HSSL run only
#   --runs "base hssl dts"     the runs to make (default "base hssl"); dts =
#                              deep-to-shallow supervision, the Tab. XIX
#                              comparison (configs/dts/ibot-dts_vitt4_100e_cifar10.py)
# Output: DIR/<run>/epoch_*.pth, DIR/knn/<run>_epoch<E>.json,
# DIR/knn_curve.md and DIR/knn_curve.png (tools/benchmarks/knn_curve.py), titled
# with $DATA_NAME (default: DATA_DIR), e.g. DATA_NAME="CIFAR-10 (JPEG q75)".
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PYTHON:-python}
[ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && PY=.venv/bin/python

usage() { sed -n '2,39p' "$0"; exit "${1:-0}"; }
[ $# -ge 1 ] || usage 1
[ "$1" = -h ] || [ "$1" = --help ] && usage 0
DATA=$(cd "$1" && pwd) || { echo "cifar10_study: no directory $1" >&2; exit 1; }
shift
for split in train test; do
  [ -d "$DATA/$split" ] || { echo "cifar10_study: $DATA/$split missing (want DATA_DIR/{train,test}/<class>/)" >&2; exit 1; }
done
OUT=work_dirs/cifar10_study EPOCHS=100 WARMUP=10 TEMP_WARMUP=30 FREEZE=3 MOMENTUM=0.996
BATCH=256 LR=5e-4 LOCAL=6 TRAIN_PC=all KNN_TRAIN_PC=all KNN_TEST_PC=all SEED=0
DEVICE="" THREADS=1 PARALLEL=0 WORKERS="" AMP="" HSSL_CFG="" RUNS="base hssl"
while [ $# -gt 0 ]; do
  case $1 in
    --out) OUT=$2; shift ;;
    --epochs) EPOCHS=$2; shift ;;
    --warmup-epochs) WARMUP=$2; shift ;;
    --temp-warmup-epochs) TEMP_WARMUP=$2; shift ;;
    --freeze-last-epochs) FREEZE=$2; shift ;;
    --momentum) MOMENTUM=$2; shift ;;
    --batch) BATCH=$2; shift ;;
    --lr) LR=$2; shift ;;
    --local-crops) LOCAL=$2; shift ;;
    --train-per-class) TRAIN_PC=$2; shift ;;
    --knn-train-per-class) KNN_TRAIN_PC=$2; shift ;;
    --knn-test-per-class) KNN_TEST_PC=$2; shift ;;
    --seed) SEED=$2; shift ;;
    --device) DEVICE=$2; shift ;;
    --threads) THREADS=$2; shift ;;
    --parallel) PARALLEL=1 ;;
    --workers) WORKERS=$2; shift ;;
    --amp) AMP=--amp ;;
    --hssl-cfg) HSSL_CFG=$2; shift ;;
    --no-baseline) RUNS=hssl ;;
    --runs) RUNS=$2; shift ;;
    -h|--help) usage 0 ;;
    *) echo "cifar10_study: unknown option $1" >&2; usage 1 ;;
  esac
  shift
done
[ "$WARMUP" -lt "$EPOCHS" ] || { echo "cifar10_study: --warmup-epochs $WARMUP must be below --epochs $EPOCHS" >&2; exit 1; }
[ -n "$DEVICE" ] || DEVICE=$($PY -c 'import torch; print("cuda" if torch.cuda.is_available() else "cpu")')
[ -n "$WORKERS" ] || { [ "$DEVICE" = cpu ] && WORKERS=0 || WORKERS=8; }
PERSIST=False; [ "$WORKERS" -gt 0 ] && PERSIST=True
mkdir -p "$OUT/knn" "$OUT/data"
OUT=$(cd "$OUT" && pwd)
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS

# balanced subsets (symbolic links) where a per-class count is given
subset() {  # SPLIT PER_CLASS NAME -> prints the folder to use
  if [ "$2" = all ]; then echo "$DATA/$1"; else
    $PY tools/benchmarks/class_subset.py "$DATA/$1" "$OUT/data/$3" --per-class "$2" --seed "$SEED" >&2
    echo "$OUT/data/$3"; fi
}
TRAIN_DIR=$(subset train "$TRAIN_PC" pretrain)
KNN_TRAIN_DIR=$(subset train "$KNN_TRAIN_PC" knn_train)
KNN_TEST_DIR=$(subset test "$KNN_TEST_PC" knn_test)

# the ImageNet schedule of the configs, shortened to EPOCHS (configs/_base_/schedules/ibot_100e.py)
SCHEDULE=(train_cfg.max_epochs=$EPOCHS
  param_scheduler.0.warmup=$WARMUP param_scheduler.0.end=$EPOCHS param_scheduler.1.end=$EPOCHS
  custom_hooks.0.momentum=$MOMENTUM custom_hooks.1.warmup_epochs=$TEMP_WARMUP
  custom_hooks.2.epochs=$FREEZE
  optim_wrapper.optimizer.lr=$LR randomness.seed=$SEED
  train_dataloader.batch_size=$BATCH train_dataloader.num_workers=$WORKERS
  train_dataloader.persistent_workers=$PERSIST train_dataloader.pin_memory=$PERSIST
  train_dataloader.dataset.data_root=$TRAIN_DIR
  train_dataloader.dataset.pipeline.1.local_crops_number=$LOCAL
  default_hooks.checkpoint.interval=1 default_hooks.checkpoint.max_keep_ckpts=-1
  default_hooks.logger.interval=10)
declare -A CONFIG=([base]=configs/ibot/ibot_vitt4_100e_cifar10.py
                   [hssl]=configs/hssl/ibot_vitt4_convnext_100e_cifar10.py
                   [dts]=configs/dts/ibot-dts_vitt4_100e_cifar10.py)

extra_cfg() {  # RUN -> EXTRA: the run's own --cfg-options (--hssl-cfg), for training and k-NN
  EXTRA=()
  if [ "$1" = hssl ] && [ -n "$HSSL_CFG" ]; then read -ra EXTRA <<< "$HSSL_CFG"; fi
}
train() {  # RUN
  extra_cfg "$1"
  CIFAR10_ROOT=$DATA $PY tools/train.py "${CONFIG[$1]}" --work-dir "$OUT/$1" $AMP \
    --cfg-options "${SCHEDULE[@]}" "${EXTRA[@]}" > "$OUT/$1.train.log" 2>&1
}
knn() {  # RUN  (random init, then every saved epoch)
  extra_cfg "$1"
  local common=(--train-dir "$KNN_TRAIN_DIR" --val-dir "$KNN_TEST_DIR" --k 20 200
                --device "$DEVICE" --num-workers "$WORKERS" --no-cache)
  [ ${#EXTRA[@]} -eq 0 ] || common+=(--cfg-options "${EXTRA[@]}")
  [ -f "$OUT/knn/$1_epoch0.json" ] || CIFAR10_ROOT=$DATA $PY tools/knn_eval.py "${CONFIG[$1]}" \
    --random-init "${common[@]}" --out "$OUT/knn/$1_epoch0.json" >> "$OUT/$1.knn.log" 2>&1
  for e in $(seq 1 "$EPOCHS"); do
    ckpt=$OUT/$1/epoch_$e.pth
    [ -f "$ckpt" ] && [ ! -f "$OUT/knn/$1_epoch$e.json" ] || continue
    CIFAR10_ROOT=$DATA $PY tools/knn_eval.py "${CONFIG[$1]}" "$ckpt" "${common[@]}" \
      --out "$OUT/knn/$1_epoch$e.json" >> "$OUT/$1.knn.log" 2>&1
  done
}
pipeline() { echo "$(date -u +%T) train $1"; train "$1"; echo "$(date -u +%T) k-NN $1"; knn "$1"; echo "$(date -u +%T) done $1"; }

echo "cifar10_study: device $DEVICE, threads $THREADS, epochs $EPOCHS, batch $BATCH, lr $LR," \
     "local crops $LOCAL, pre-train $TRAIN_DIR, k-NN $KNN_TRAIN_DIR -> $KNN_TEST_DIR, out $OUT"
if [ "$PARALLEL" = 1 ]; then
  pids=(); for run in $RUNS; do pipeline "$run" & pids+=($!); done
  for pid in "${pids[@]}"; do wait "$pid"; done
else
  for run in $RUNS; do pipeline "$run"; done
fi
declare -A LABEL=([base]="iBOT (baseline)" [hssl]="iBOT + HSSL${HSSL_CFG:+ ($HSSL_CFG)}"
                  [dts]="iBOT + DTS")
labels=(); for run in $RUNS; do labels+=("${LABEL[$run]}"); done
$PY tools/benchmarks/knn_curve.py "$OUT/knn" --runs $RUNS --labels "${labels[@]}" \
  --png "$OUT/knn_curve.png" --data "${DATA_NAME:-$DATA}" | tee "$OUT/knn_curve.md"
