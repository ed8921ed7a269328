"""How far one loss weight transfers: the first KD/task loss ratio of 8 diverse zoo pairs, with
the standardised (default), teacher-normalised and raw loss, each with the projection of the
task's default (random for detection, the fitted autoencoder for segmentation), random teachers
with the libraries' own initialisation and batch-norm statistics of their own activations, as a
trained teacher has. The measurement is ``benchmarks/loss_scale.py``'s.

Measured (README, "Loss scale"): the standardised KD loss starts at 1 per level on every pair
(1 - r with r about 0), so its KD/task band is the first task loss's own (238x); the
teacher-normalised loss spans 400x and the raw one 2,900x. At each task's shipped default
the segmentation pairs lie within 1.4x, the detection pairs span their task losses' 240x.
Over the first 50 steps, which the distiller's start-of-training check averages, RTMDet's task
loss rises under its own warm-up, and the check stays silent on it."""
import sys

from conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT))
from benchmarks.loss_scale import PAIRS, first_ratios, start_ratios  # noqa: E402
from rdimkd_mm.models.distillers import KDScaleMonitor  # noqa: E402


def test_standardised_kd_loss_starts_at_one_per_level_on_every_pair(tmp_path):
    # The segmentation default's autoencoder fitted on 2 batches, not the hook's 20: the same
    # claims, in half the time (what loss_scale.py measures fits on 20).
    rows = {f"{p[0].split('/')[-1][:-3]} -> {p[1].split('/')[-1][:-3]}":
            first_ratios(p, tmp_path, fit_batches=2) for p in PAIRS}
    print('\nfirst KD/task ratio at loss_weight 1 (standardised | teacher-normalised | raw), '
          'standardised KD loss per level:')
    for name, r in rows.items():
        print(f"  {r['standardised']:8.3g} | {r['teacher_normalised']:8.3g} | {r['raw']:10.4g}"
              f"  {r['kd_per_level']:.3f}  at the default {r['at_default']:.3g}  {name}")

    def band(key, pairs=tuple(rows.values())):
        values = [r[key] for r in pairs]
        assert all(v > 0 for v in values), (key, values)
        return max(values) / min(values)

    # The standardised KD loss no longer depends on the pair: what is left of the KD/task band
    # is the task loss's own.
    assert all(0.8 < r['kd_per_level'] < 1.2 for r in rows.values()), rows
    assert band('standardised') < 1.5 * band('task'), rows
    assert band('teacher_normalised') * 5 < band('raw'), rows
    # At each task's own default: the segmentation pairs within the 10x band the project aimed
    # for; what is left among the detection pairs is, again, their task losses' spread.
    det = [r for pair, r in zip(PAIRS, rows.values()) if pair[0].startswith('mmdet')]
    seg = [r for pair, r in zip(PAIRS, rows.values()) if pair[0].startswith('mmseg')]
    assert len(det) == 5 and len(seg) == 3
    assert band('at_default', seg) < 10, rows
    assert band('task', det) / 1.2 < band('at_default', det) < band('task', det) * 1.2, rows


def test_start_of_training_check_on_rtmdet_under_its_own_warm_up(tmp_path):
    """RTMDet's quality-focal head starts with a task loss near 0.06, which puts the detection
    default at about 500x at the first step. Over the steps the distiller's check averages, with
    RTMDet's own AdamW and linear warm-up, its task loss rises and the check stays below its
    threshold: the zoo pair gets no false alarm (README, "Loss scale")."""
    pair = next(p for p in PAIRS if 'rtmdet' in p[1])
    start = start_ratios(pair, tmp_path)
    print('\nRTMDet-S -> tiny at the detection default:', start)
    assert start['steps'] == KDScaleMonitor.kd_check_iters
    assert 0.04 < start['lr_factor'] < 0.06  # 1e-5 -> 1 over 1000 steps: the warm-up ran
    assert start['step1'] > KDScaleMonitor.kd_dominance_ratio > start['mean']
    assert start['task_mean'] > 3 * start['task_step1']
