#!/usr/bin/env bash
# The GPU cost benchmark and an --amp check on a machine that has python3 with a CUDA torch but
# neither the OpenMMLab stack nor internet. What made benchmarks/results/cost_gpu.*:
#
#   WHL=.whl OUT=/tmp/gpu_out bash benchmarks/gpu_cost.sh
#
# WHL holds, for that machine's Python (--no-deps wheels): mmengine, mmdet, mmsegmentation,
# addict, yapf, platformdirs, termcolor, pycocotools, shapely, terminaltables, prettytable,
# wcwidth, ftfy, setuptools<82 (pkg_resources for mmengine's mmdet:: lookup), and either an mmcv
# wheel built earlier by this script (whole, or split in 15 MB parts *.whl.partNN) or the
# mmcv-2.1.0.tar.gz sdist. From the sdist, mmcv is built with its CPU ops only
# (CUDA_VISIBLE_DEVICES= hides the GPU from its setup.py, which would otherwise compile every
# CUDA kernel; about 3 min on 16 cores); the wheel (32 MB for Python 3.12) goes to OUT in 15 MB
# parts for reuse. Without mmcv's CUDA ops, RetinaNet's FocalLoss runs mmdet's PyTorch
# implementation (--pytorch-focal-loss, noted in cost_gpu.md), and the --amp runs skip
# validation (mmcv's nms). Results and logs land in OUT. On an H100 the whole script took 6 min, on
# an H200 4.6 min.
set -uo pipefail
WHL=${WHL:-.whl}
OUT=${OUT:?set OUT to a folder for the results}
SITE=${SITE:-/tmp/site}
export PYTHONUNBUFFERED=1 PYTHONWARNINGS=ignore
mkdir -p "$OUT"
nvidia-smi -L
python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name(0))'

step() { echo "=== $* ($(date +%T))"; }

step install wheels
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target "$SITE" $(ls "$WHL"/*.whl | grep -v '/mmcv-') || exit 1
export PYTHONPATH="$SITE:$PWD"
if ls "$WHL"/mmcv-2.1.0-*.whl.part00 >/dev/null 2>&1; then  # a split wheel: join it
    part=$(ls "$WHL"/mmcv-2.1.0-*.whl.part00)
    MMCV_WHEEL=/tmp/$(basename "${part%.part00}")
    cat "${part%.part00}".part* > "$MMCV_WHEEL"
elif ! ls "$WHL"/mmcv-2.1.0-*.whl >/dev/null 2>&1; then
    step build mmcv 2.1.0, CPU ops only
    rm -rf /tmp/mmcv-build && mkdir -p /tmp/mmcv-build
    tar xzf "$WHL/mmcv-2.1.0.tar.gz" -C /tmp/mmcv-build
    (cd /tmp/mmcv-build/mmcv-2.1.0 && CUDA_VISIBLE_DEVICES= MMCV_WITH_OPS=1 FORCE_CUDA=0 \
        MAX_JOBS=$(nproc) python3 setup.py -q bdist_wheel > /tmp/mmcv-build/build.log 2>&1) \
        || { tail -40 /tmp/mmcv-build/build.log; cp /tmp/mmcv-build/build.log "$OUT/"; exit 1; }
    MMCV_WHEEL=$(ls /tmp/mmcv-build/mmcv-2.1.0/dist/mmcv-2.1.0-*.whl)
    ls -l "$MMCV_WHEEL"
    split -b 15M -d "$MMCV_WHEEL" "$OUT/$(basename "$MMCV_WHEEL").part"
else
    MMCV_WHEEL=$(ls "$WHL"/mmcv-2.1.0-*.whl)
fi
python3 -m pip install -q --no-index --no-deps --no-compile --target "$SITE" "$MMCV_WHEEL" \
    || exit 1
python3 -c 'import mmcv.ops, mmdet, mmseg, mmengine
print("mmcv", mmcv.__version__, "mmdet", mmdet.__version__, "mmseg", mmseg.__version__,
      "mmengine", mmengine.__version__)' || exit 1

step cost benchmark
python3 benchmarks/run.py --parts cost --device cuda --pytorch-focal-loss 2>&1 \
    | tee "$OUT/cost_gpu.log"
cost_rc=${PIPESTATUS[0]}
cp benchmarks/results/cost_gpu.* "$OUT/" 2>/dev/null

step AMP checks
# 1. Under CUDA float16 autocast the distillers' KD losses are float32 (student features are
#    float16) and gradients reach the connector. 2. tools/train.py --amp, 5 iterations of each
#    benchmark KD config on its random teacher (validation off: mmcv's nms has no CUDA op here):
#    every logged loss_kd_* is finite.
cat > /tmp/amp_check.py <<'EOF'
import math, re, subprocess, sys
from pathlib import Path

import torch

from benchmarks.cost import CostArms, use_pytorch_focal_loss
from benchmarks.tasks import TASKS

use_pytorch_focal_loss()
work, ok = Path('benchmarks/work/cost'), True
for name in ('det', 'seg'):
    arms = CostArms(TASKS[name], 'cuda', work, 2)
    model = arms.build('rdimkd-r', True)
    batch = model.data_preprocessor(arms.batch, True)
    plain = {k: float(v) for k, v in model.loss(batch['inputs'], batch['data_samples']).items()
             if k.startswith('loss_kd_')}
    with torch.autocast('cuda', dtype=torch.float16):
        feats = model.student.extract_feat(batch['inputs'])
        losses = model.loss(batch['inputs'], batch['data_samples'])
    kd = {k: v for k, v in losses.items() if k.startswith('loss_kd_')}
    sum(kd.values()).backward()
    grads = [p.grad for p in model.distill_losses.parameters()]
    print(f'{name}: student features {sorted({str(f.dtype) for f in feats})} under autocast; '
          + ', '.join(f'{k} {v.dtype} {float(v):.6g} (no autocast {plain[k]:.6g})'
                      for k, v in kd.items())
          + f'; connector grads finite: {all(g is not None and torch.isfinite(g).all() for g in grads)}')
    ok &= all(v.dtype == torch.float32 and torch.isfinite(v) for v in kd.values())
    ok &= all(g is not None and bool(torch.isfinite(g).all()) for g in grads)

wrapper = ('import runpy, sys; from benchmarks.cost import use_pytorch_focal_loss; '
           'use_pytorch_focal_loss(); sys.argv[0] = "tools/train.py"; '
           'runpy.run_path("tools/train.py", run_name="__main__")')
for name in ('det', 'seg'):
    cmd = [sys.executable, '-c', wrapper, f'benchmarks/configs/{name}/rdimkd-r.py', '--amp',
           '--work-dir', f'/tmp/amp_{name}', '--cfg-options',
           f'model.teacher_checkpoint={work}/{name}_random_teacher.pth',
           'train_cfg.max_iters=5', 'default_hooks.logger.interval=1',
           'default_hooks.checkpoint.interval=5', 'val_cfg=None', 'val_dataloader=None',
           'val_evaluator=None']
    print('$ tools/train.py', ' '.join(cmd[3:]), flush=True)
    run = subprocess.run(cmd, capture_output=True, text=True)
    lines = (run.stdout + run.stderr).splitlines()
    iters = [line for line in lines if 'Iter(train)' in line]
    print('\n'.join(line for line in lines if 'AmpOptimWrapper' in line or 'Error' in line))
    print('\n'.join(iters) or '\n'.join(lines[-40:]))
    values = [float(v) for line in iters for v in re.findall(r'loss_kd_\w+: (\S+)', line)]
    good = run.returncode == 0 and len(values) == 5 and all(map(math.isfinite, values))
    print(f'{name} --amp: rc {run.returncode}, loss_kd values {values}: '
          f'{"OK" if good else "FAILED"}', flush=True)
    ok &= good
print('AMP checks', 'passed' if ok else 'FAILED')
sys.exit(0 if ok else 1)
EOF
python3 /tmp/amp_check.py 2>&1 | tee "$OUT/amp_check.log"
amp_rc=${PIPESTATUS[0]}
echo "cost rc $cost_rc, amp rc $amp_rc"
exit $((cost_rc || amp_rc))
