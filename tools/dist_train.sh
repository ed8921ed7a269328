#!/usr/bin/env bash
# Distributed training with torchrun (mmengine's launcher 'pytorch'): one process per GPU (NCCL),
# or on a machine without GPUs NUM_GPUS CPU processes (gloo).
#   bash tools/dist_train.sh CONFIG NUM_GPUS [train.py options]
# Multi-node, the interpreter: see tools/torchrun.sh (NNODES, NODE_RANK, MASTER_ADDR, PORT, PYTHON).
set -euo pipefail
exec bash "$(dirname "$0")/torchrun.sh" "$2" train.py "$1" --launcher pytorch "${@:3}"
