#!/usr/bin/env bash
# Pre-training on a Slurm cluster.
#   [GPUS=8] [GPUS_PER_NODE=8] [CPUS_PER_TASK=10] [SRUN_ARGS=...] \
#       tools/slurm_train.sh PARTITION JOB_NAME CONFIG WORK_DIR [train.py args...]
# Paths are relative to the current directory (srun keeps it). The arguments and
# the config are checked once (tools/train.py --check) before the job is submitted.
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG WORK_DIR [train.py args...]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
WORK_DIR=$4
shift 4
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-10}
SRUN_ARGS=${SRUN_ARGS:-""}
PYTHON=${PYTHON:-python}
REPO="$(cd "$(dirname "$0")/.." && pwd)"
export PYTHONPATH="$REPO:${PYTHONPATH:-}"
"$PYTHON" "$REPO/tools/train.py" "$CONFIG" --work-dir="$WORK_DIR" --launcher slurm "$@" \
    --check >/dev/null
srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "$PYTHON" -u "$REPO/tools/train.py" "$CONFIG" --work-dir="$WORK_DIR" --launcher slurm "$@"
