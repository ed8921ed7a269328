"""The distiller's start-of-training check (KD/task loss averaged over its first
``kd_check_iters`` steps) on a zoo pair whose first task loss is tiny: RTMDet-S -> RTMDet-tiny
at the detection default, with RTMDet's own AdamW and linear warm-up."""
from rdimkd_mm.models.distillers import KDScaleMonitor
from helpers.loss_scale import PAIRS, start_ratios


def test_start_of_training_check_on_rtmdet_under_its_own_warm_up(tmp_path):
    """RTMDet's quality-focal head starts with a task loss near 0.06, which puts the detection
    default far above the check's threshold at the first step. Over the steps the check
    averages, its task loss rises under the warm-up and the check stays below its threshold:
    the zoo pair gets no false alarm."""
    pair = next(p for p in PAIRS if 'rtmdet' in p[1])
    start = start_ratios(pair, tmp_path)
    print('\nRTMDet-S -> tiny at the detection default:', start)
    assert start['steps'] == KDScaleMonitor.kd_check_iters
    assert 0.04 < start['lr_factor'] < 0.06  # 1e-5 -> 1 over 1000 steps: the warm-up ran
    assert start['step1'] > KDScaleMonitor.kd_dominance_ratio > start['mean']
    assert start['task_mean'] > 3 * start['task_step1']
