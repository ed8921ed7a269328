#!/usr/bin/env bash
# Create (or update) the project-local virtualenv with the full OpenMMLab stack.
#
#   bash scripts/setup_env.sh            # -> .venv/ with torch, mmcv (+ops), mmdet, mmseg, rdimkd_mm
#   VENV=/path/to/env bash scripts/setup_env.sh
#
# Order matters: torch first (the CPU build on disk; an unpinned torch would pull a multi-GB CUDA
# build), then the build tools, then mmcv built from its sdist with the compiled ops, then the rest.
# The first mmcv build takes ~10 minutes on 2 cores; pip caches the wheel, so later runs on the
# same machine take seconds. Never add --no-cache-dir to the CPU build (only a CUDA build skips
# the cache, which may hold a CPU-only wheel of the same version).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"

log() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
start=$(date +%s)

if [ ! -x "$VENV/bin/python" ]; then
  log "creating virtualenv $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip install --disable-pip-version-check -q)

# 1. torch: keep the one already present if setup.py's range (>=2.6,<2.14) allows it (pip would
#    otherwise replace it with a PyPI build), otherwise the pinned CPU build.
if "$PY" -c 'import torch' 2>/dev/null; then
  installed=$("$PY" -c 'import torch; print(torch.__version__)')
  if ! "$PY" -c 'import re, sys, torch
v = tuple(int(x) for x in re.match(r"(\d+)\.(\d+)", torch.__version__).groups())
sys.exit(not (2, 6) <= v < (2, 14))'; then
    log "torch $installed is outside the tested range >=2.6,<2.14 (docs/get_started/install.md):"
    log "install one in it first (for GPUs the CUDA build from pytorch.org), then rerun"
    exit 1
  fi
  log "keeping installed torch $installed"
else
  log "installing $TORCH_SPEC"
  "${PIP[@]}" "$TORCH_SPEC"
fi

# 2. build tools (torch needs setuptools>=77.0.3; mmengine's pkg:: config lookup needs
#    pkg_resources, removed in setuptools 82).
"${PIP[@]}" 'setuptools>=77.0.3,<82' wheel ninja

# 3. mmcv with compiled ops (mmcv-lite is not enough: mmdet imports the ops). OpenMMLab's
#    prebuilt mmcv 2.1.0 wheels stop at torch 2.1, below this project's torch range, so mmcv is
#    built here. With a CUDA build of torch, the CUDA ops are built too (FORCE_CUDA=1: RPN/NMS
#    and RoIAlign on GPU tensors need them); that needs nvcc of the CUDA version torch was built
#    with. FORCE_CUDA=0 builds the CPU ops only, on purpose.
TORCH_CUDA=$("$PY" -c 'import torch; print(torch.version.cuda or "")')
if [ -n "$TORCH_CUDA" ] && [ -z "${FORCE_CUDA:-}" ]; then
  if ! command -v nvcc >/dev/null 2>&1; then
    log "torch is a CUDA $TORCH_CUDA build, but no nvcc is on PATH to build mmcv's CUDA ops:"
    log "install the CUDA toolkit $TORCH_CUDA (e.g. conda install -c nvidia cuda-toolkit=$TORCH_CUDA,"
    log "or NVIDIA's cuda-toolkit-${TORCH_CUDA/./-} package), put its bin/ on PATH and set"
    log "CUDA_HOME, then rerun; or FORCE_CUDA=0 to build the CPU ops only (no GPU detection)"
    exit 1
  fi
  NVCC_CUDA=$(nvcc --version | sed -n 's/.*release \([0-9]*\.[0-9]*\).*/\1/p')
  if [ "${NVCC_CUDA%%.*}" != "${TORCH_CUDA%%.*}" ]; then
    log "nvcc is CUDA $NVCC_CUDA but torch was built with CUDA $TORCH_CUDA: put the toolkit"
    log "of torch's major version first on PATH (and CUDA_HOME), or install the torch build for"
    log "CUDA $NVCC_CUDA, then rerun"
    exit 1
  fi
  FORCE_CUDA=1
fi
MMCV_CUDA=$("$PY" -c 'from mmcv.ops import get_compiling_cuda_version as v; print(v())' \
  2>/dev/null || echo missing)
if [ "$MMCV_CUDA" != missing ] && { [ "${FORCE_CUDA:-0}" != 1 ] || [ "$MMCV_CUDA" != "not available" ]; }; then
  log "keeping installed mmcv $("$PY" -c 'import mmcv; print(mmcv.__version__)') with ops (CUDA: $MMCV_CUDA)"
else
  if [ "$MMCV_CUDA" = "not available" ]; then
    log "the installed mmcv has no CUDA ops: rebuilding it with them"
    "$PY" -m pip uninstall -y -q mmcv
  fi
  # A CUDA build must not reuse a CPU-only mmcv wheel from pip's cache (same name and version).
  NO_CACHE=()
  if [ "${FORCE_CUDA:-0}" = 1 ]; then NO_CACHE=(--no-cache-dir); fi
  log "building mmcv==2.1.0 with ops, CUDA ops: ${FORCE_CUDA:-0} (~10 min on 2 cores CPU-only,"
  log "longer with CUDA; pip caches a CPU-only wheel afterwards)"
  "${PIP[@]}" 'numpy' 'opencv-python' 'packaging' 'pyyaml' 'addict' 'yapf' 'mmengine>=0.10.7,<0.11'
  MMCV_WITH_OPS=1 FORCE_CUDA="${FORCE_CUDA:-0}" MAX_JOBS="${MAX_JOBS:-2}" \
    "$PY" -m pip install --disable-pip-version-check --no-build-isolation ${NO_CACHE[@]+"${NO_CACHE[@]}"} \
    mmcv==2.1.0
fi

# 4. the rest of the stack, the package itself (editable) and the test extras (which include the
#    docs' Sphinx and myst-parser).
log "installing mmdet, mmseg and rdimkd_mm"
"${PIP[@]}" --no-build-isolation -e "$ROOT[tests]"

"$PY" - <<'PY'
import mmcv, mmcv.ops, mmdet, mmengine, mmseg, torch, rdimkd_mm
print(f'torch {torch.__version__} | mmengine {mmengine.__version__} | mmcv {mmcv.__version__} '
      f'(ops) | mmdet {mmdet.__version__} | mmseg {mmseg.__version__} | rdimkd_mm {rdimkd_mm.__version__}')
PY
if [ "${FORCE_CUDA:-0}" = 1 ]; then
  "$PY" "$ROOT/tools/check_gpu.py" || { log "mmcv's CUDA ops or the GPU step failed (above)"; exit 1; }
fi
log "done in $(( $(date +%s) - start )) s: activate with 'source ${VENV}/bin/activate'"
