#!/usr/bin/env bash
# Create (or update) the project-local virtualenv with the full OpenMMLab stack.
#
#   bash scripts/setup_env.sh            # -> .venv/ with torch, mmcv (+ops), mmdet, mmseg, rdimkd_mm
#   VENV=/path/to/env bash scripts/setup_env.sh
#
# Order matters: torch first (the CPU build on disk; an unpinned torch would pull a multi-GB CUDA
# build), then the build tools, then mmcv built from its sdist with the compiled ops, then the rest.
# The first mmcv build takes ~10 minutes on 2 cores; pip caches the wheel, so later runs on the
# same machine take seconds. Never add --no-cache-dir here.
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

# 3. mmcv with compiled ops (mmcv-lite is not enough: mmdet imports the ops).
if "$PY" -c 'import mmcv, mmcv.ops' 2>/dev/null; then
  log "keeping installed mmcv $("$PY" -c 'import mmcv; print(mmcv.__version__)') with ops"
else
  log "building mmcv==2.1.0 with ops (first time ~10 min on 2 cores; cached afterwards)"
  "${PIP[@]}" 'numpy' 'opencv-python' 'packaging' 'pyyaml' 'addict' 'yapf' 'mmengine>=0.10.7,<0.11'
  MMCV_WITH_OPS=1 FORCE_CUDA="${FORCE_CUDA:-0}" MAX_JOBS="${MAX_JOBS:-2}" \
    "$PY" -m pip install --disable-pip-version-check --no-build-isolation mmcv==2.1.0
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
log "done in $(( $(date +%s) - start )) s: activate with 'source ${VENV}/bin/activate'"
