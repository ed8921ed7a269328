#!/usr/bin/env bash
# Exploratory probe, not part of `make bench`: does the detection default still help when the
# student trains with SGD (as most zoo detectors do) instead of the benchmark's AdamW, and does
# a weight whose KD loss is far above the task losses (x16: 278x at iteration 50) still train?
# The benchmark's det student and RdimKD-R arm, its trained teacher (`make bench`, or
# `python benchmarks/run.py --arms teacher --tasks det`, first), 300 iterations, the benchmark's
# schedule and grad clipping (max_norm 10), SGD lr 0.02 momentum 0.9 weight decay 1e-4.
# Usage, with the .venv active: bash benchmarks/studies/loss_scale/sgd_probe.sh SEED...
# Appends one JSON line per run to benchmarks/studies/loss_scale/results/sgd_probe.jsonl; logs in
# benchmarks/work/sgd_probe/.
set -euo pipefail
if [ $# -lt 1 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  case "${1:-}" in -h|--help) exit 0 ;; *) exit 1 ;; esac
fi
cd "$(dirname "$0")/../../.."
OUT=benchmarks/studies/loss_scale/results/sgd_probe.jsonl
WORK=benchmarks/work/sgd_probe
# The benchmark's own teacher checkpoint and student schedule (benchmarks/tasks.py), so that
# the probe changes nothing but the optimizer.
TEACHER=$(python -c "import json; print(json.load(open('benchmarks/work/det/teacher/result.json'))['checkpoint'])" 2>/dev/null) \
  || { echo "No trained det teacher in benchmarks/work/det/teacher: run python benchmarks/run.py --arms teacher --tasks det first" >&2; exit 1; }
read -ra SCHEDULE <<< "$(python -c "from benchmarks.tasks import TASKS; det = TASKS['det']; \
print(' '.join(det.schedule_options(det.schedules['full'].student_iters)))")"

run() {  # NAME SEED KD_WEIGHT (none: the student alone)
  local name=$1 seed=$2 weight=$3 dir=$WORK/${1}_seed$2
  local config=benchmarks/configs/det/rdimkd-r.py kd=(--no-teacher-eval) options=()
  if [ "$weight" = none ]; then
    config=benchmarks/configs/det/student.py kd=()
  else
    options=(model.teacher_checkpoint=$TEACHER model.distill.0.loss.loss_weight=$weight)
  fi
  OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONWARNINGS=ignore python tools/train.py "$config" \
    --work-dir "$dir" --overwrite ${kd[@]+"${kd[@]}"} --cfg-options \
    default_hooks.logger.interval=50 "${SCHEDULE[@]}" randomness.seed="$seed" \
    optim_wrapper.optimizer.type=SGD optim_wrapper.optimizer.lr=0.02 \
    optim_wrapper.optimizer.momentum=0.9 optim_wrapper.optimizer.weight_decay=0.0001 \
    ${options[@]+"${options[@]}"} > "$dir.log" 2>&1
  local map
  map=$(grep -o 'coco/bbox_mAP: [0-9.]*' "$dir.log" | tail -1 | cut -d' ' -f2)
  echo "{\"arm\": \"$name\", \"seed\": $seed, \"loss_weight\": \"$weight\", \"bbox_mAP\": $map}" >> "$OUT"
  echo "$name seed $seed: bbox_mAP $map"
}

pair() {  # two runs side by side (each: NAME SEED KD_WEIGHT); stop if either fails
  local a b
  run $1 $2 $3 & a=$!
  run $4 $5 $6 & b=$!
  wait $a && wait $b || { echo "A run failed; see $WORK/*.log" >&2; exit 1; }
}

mkdir -p "$WORK"
for seed in "$@"; do
  pair baseline "$seed" none default "$seed" 10
  pair x4 "$seed" 40 x16 "$seed" 160
done
