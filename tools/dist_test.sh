#!/usr/bin/env bash
# Distributed testing with torchrun (mmengine's launcher 'pytorch'): one process per GPU (NCCL),
# or on a machine without GPUs NUM_GPUS CPU processes (gloo).
#   bash tools/dist_test.sh CONFIG CHECKPOINT NUM_GPUS [test.py options]
# Multi-node, the interpreter: see tools/torchrun.sh (NNODES, NODE_RANK, MASTER_ADDR, PORT, PYTHON).
set -euo pipefail
exec bash "$(dirname "$0")/torchrun.sh" "$3" test.py "$1" "$2" --launcher pytorch "${@:4}"
