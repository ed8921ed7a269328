#!/usr/bin/env bash
# Exploratory probe, not part of `make bench`: a detection task's shipped default (RdimKD-R,
# benchmarks/configs/<task>/rdimkd-r.py) at loss weights beyond the benchmark's sweep (x1/16 to
# x16), with the benchmark's own trained teacher, student schedule and seeds, so that the runs
# compare with that task's committed quality.json. It asks how far a task's weight can move
# before the student loses: what a rule that scales the weight per detector (e.g. by its first
# task loss; the default's first-step KD/task ratio spans 111x across the benchmark's four
# detector families, results/first_step_band.md) would need.
# Usage, with the .venv active and the task's teacher trained (python benchmarks/run.py
# --tasks TASK --parts quality --arms teacher):
#   bash benchmarks/studies/loss_scale/weight_probe.sh TASK "WEIGHT..." SEED...
# Appends one JSON line per run to benchmarks/studies/loss_scale/results/weight_probe.jsonl;
# logs in benchmarks/work/weight_probe/.
set -euo pipefail
if [ $# -lt 3 ] || [ "$1" = -h ] || [ "$1" = --help ]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
  case "${1:-}" in -h|--help) exit 0 ;; *) exit 1 ;; esac
fi
cd "$(dirname "$0")/../../.."
TASK=$1 WEIGHTS=$2
shift 2
OUT=benchmarks/studies/loss_scale/results/weight_probe.jsonl
WORK=benchmarks/work/weight_probe/$TASK
TEACHER=$(python -c "import json; print(json.load(open('benchmarks/work/$TASK/teacher/result.json'))['checkpoint'])" 2>/dev/null) \
  || { echo "No trained $TASK teacher: run python benchmarks/run.py --tasks $TASK --parts quality --arms teacher first" >&2; exit 1; }
read -ra SCHEDULE <<< "$(python -c "from benchmarks.tasks import TASKS; t = TASKS['$TASK']; \
print(' '.join(t.schedule_options(t.schedules['full'].student_iters)))")"

run() {  # SEED WEIGHT
  local seed=$1 weight=$2 dir=$WORK/w${2}_seed$1
  OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONWARNINGS=ignore python tools/train.py \
    "benchmarks/configs/$TASK/rdimkd-r.py" --work-dir "$dir" --overwrite --no-teacher-eval \
    --cfg-options model.teacher_checkpoint="$TEACHER" default_hooks.logger.interval=50 \
    "${SCHEDULE[@]}" randomness.seed="$seed" model.distill.0.loss.loss_weight="$weight" \
    > "$dir.log" 2>&1
  local map step1
  map=$(grep -o 'coco/bbox_mAP: [0-9.]*' "$dir.log" | tail -1 | cut -d' ' -f2)
  step1=$(grep -o '[0-9.e+]*x at the first step' "$dir.log" | head -1 | cut -d'x' -f1)
  echo "{\"task\": \"$TASK\", \"seed\": $seed, \"loss_weight\": $weight, \"bbox_mAP\": ${map:-null}, \"kd_ratio_step1\": ${step1:-null}}" >> "$OUT"
  echo "$TASK weight $weight seed $seed: bbox_mAP ${map:-none}, KD/task at step 1 ${step1:-?}x"
}

mkdir -p "$WORK"
jobs=()
for seed in "$@"; do
  for weight in $WEIGHTS; do
    run "$seed" "$weight" & jobs+=($!)
    if [ ${#jobs[@]} -eq 2 ]; then
      wait "${jobs[0]}" && wait "${jobs[1]}" || { echo "A run failed; see $WORK/*.log" >&2; exit 1; }
      jobs=()
    fi
  done
done
for job in ${jobs[@]+"${jobs[@]}"}; do wait "$job" || { echo "A run failed; see $WORK/*.log" >&2; exit 1; }; done
