#!/usr/bin/env bash
# Runs a tool under torchrun (mmengine's launcher 'pytorch'): one process per GPU (NCCL), or on a
# machine without GPUs NUM_GPUS CPU processes (gloo). dist_train.sh and dist_test.sh call it.
#   bash tools/torchrun.sh NUM_GPUS TOOL [TOOL arguments]     (TOOL: a file in tools/)
# Multi-node: NNODES=2 NODE_RANK=0 MASTER_ADDR=host PORT=29500 bash tools/dist_train.sh ...
# PYTHON selects the interpreter (default: python on PATH, e.g. PYTHON=.venv/bin/python).
set -euo pipefail
GPUS=$1
TOOL=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}

PYTHONPATH="$(dirname "$0")/..${PYTHONPATH:+:$PYTHONPATH}" \
"${PYTHON:-python}" -m torch.distributed.run --nnodes="$NNODES" --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" --nproc_per_node="$GPUS" --master_port="$PORT" \
    "$(dirname "$0")/$TOOL" "${@:3}"
