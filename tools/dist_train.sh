#!/usr/bin/env bash
# Distributed pre-training with torchrun.
#   tools/dist_train.sh CONFIG NGPUS [train.py args...]
# Multi-node: set NNODES, NODE_RANK, MASTER_ADDR and PORT on every node.
# Without CUDA the processes run on the CPU with the gloo backend.
# Paths (CONFIG, --work-dir, --resume PATH) are relative to the current directory.
# The arguments and the config are checked once (tools/train.py --check) before
# the processes start: a mistake is one line on stderr, not one traceback per rank.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 CONFIG NGPUS [train.py args...]" >&2
    exit 2
fi
CONFIG=$1
NGPUS=$2
shift 2
if ! [[ "$NGPUS" =~ ^[1-9][0-9]*$ ]]; then
    echo "dist_train.sh: error: NGPUS must be an integer >= 1, got '$NGPUS'" >&2
    exit 2
fi
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PYTHON=${PYTHON:-python}
REPO="$(cd "$(dirname "$0")/.." && pwd)"
export PYTHONPATH="$REPO:${PYTHONPATH:-}"
"$PYTHON" "$REPO/tools/train.py" "$CONFIG" --launcher pytorch "$@" --check >/dev/null
exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NGPUS" --master_port="$PORT" \
    "$REPO/tools/train.py" "$CONFIG" --launcher pytorch "$@"
