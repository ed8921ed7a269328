"""The study's checks of first_step_band.py (not part of the test suite; run with
``pytest benchmarks/studies/loss_scale``): each swept weight at its first-step KD/task ratio,
the weights that meet the quality criteria, and the narrowest band holding one per family."""
import json
import subprocess
import sys

import pytest

from benchmarks.quality import REPO_ROOT
from benchmarks.studies.loss_scale import first_step_band as fsb


def _row(arm, group, seed, metric, label='', step1=None, task='det-yolox'):
    return dict(task=task, arm=arm, group=group, seed=seed, metric=metric, label=label,
                kd_ratio_step1=step1)


def test_weights_are_placed_at_their_first_step_ratio_and_judged():
    rows = [_row('baseline', 'main', s, 5.0) for s in (0, 1)]
    rows += [_row('rdimkd-r', 'main', 0, 9.0), _row('rdimkd-r', 'main', 1, 8.0)]
    rows += [_row('rdimkd-r', 'sweep', 0, 8.5, 'RdimKD-R weight x0.25', step1=0.6),
             _row('rdimkd-r', 'sweep', 1, 8.3, 'RdimKD-R weight x0.25', step1=0.4),
             _row('rdimkd-r', 'sweep', 0, 5.5, 'RdimKD-R weight x16'),
             _row('rdimkd-r', 'sweep', 1, 4.0, 'RdimKD-R weight x16'),
             _row('rdimkd-r', 'sweep', 0, 7.0, 'RdimKD-R k=C_t/8'),  # not a weight
             _row('pkd', 'sweep', 0, 7.0, 'PKD weight=40'),
             _row('rdimkd-r', 'main', 0, 1.0, task='det')]  # another family
    probe = [dict(task='det-yolox', seed=0, loss_weight=640, bbox_mAP=0.03, kd_ratio_step1=160),
             dict(task='det-yolox', seed=0, loss_weight=10, bbox_mAP=0.09, kd_ratio_step1=2.5)]
    runs = fsb.weight_runs('det-yolox', rows, probe)
    assert sorted(runs) == [0.0, 0.25, 1.0, 16.0, 64.0]
    assert runs[1.0] == {0: (9.0, None), 1: (8.0, None)}  # the probe's x1 is only a check
    assert runs[64.0] == {0: (3.0, 160)}
    entries = {e['factor']: e for e in fsb.summarise(runs, {0: 2.0, 1: 3.0})}
    assert sorted(entries) == [0.25, 1.0, 16.0]  # x64 has one seed of the baseline's two
    assert entries[1.0]['ratio_step1'] == pytest.approx(2.5)  # the seeds' own first steps
    assert entries[16.0]['ratio_step1'] == pytest.approx(16 * 2.5)
    assert entries[0.25]['ratio_step1'] == pytest.approx(0.5) and entries[0.25]['ratio_read']
    assert not entries[16.0]['ratio_read']
    # x1: best (8.5); x0.25 (8.4 ± 0.14) is 0.1 below it: good; x16 loses seed 1: not good.
    assert [entries[f]['good'] for f in (0.25, 1.0, 16.0)] == [True, True, False]
    assert [entries[f]['wins'] for f in (0.25, 1.0, 16.0)] == [2, 2, 1]


def test_narrowest_band_takes_one_weight_per_family():
    def entry(ratio, good=True, beats=True):
        return dict(ratio_step1=ratio, good=good, beats_baseline=beats, factor=ratio)
    families = {'a': [entry(1), entry(4), entry(100, good=False)],
                'b': [entry(30, good=False), entry(300), entry(600)]}
    assert fsb.narrowest_band(families, 'good') == dict(band=75.0, weights=dict(a=4, b=300))
    assert fsb.narrowest_band(families, 'beats_baseline') == dict(band=3.0,
                                                                  weights=dict(a=100, b=300))
    families['b'] = [entry(30, good=False)]
    assert fsb.narrowest_band(families, 'good') is None


def test_linearity_compares_read_ratios_with_the_default_times_the_factor():
    runs = {0.0: {0: (1.0, None)}, 1.0: {0: (2.0, 2.0), 1: (2.0, None)},
            4.0: {0: (2.0, 8.4), 1: (2.0, 9.0)}}
    assert fsb.linearity(runs) == pytest.approx(0.05)  # seed 1 has no x1 reading to compare


def test_committed_band_is_what_the_committed_runs_give():
    """first_step_band.json is the analysis of the committed quality results, the probe and
    the default arms' first-step ratios it stores (the RetinaNet and RTMDet ones from reruns
    whose logs are not committed)."""
    path = fsb.RESULTS / 'first_step_band.json'
    committed = json.loads(path.read_text())
    quality, probe = fsb.read_runs()
    assert probe, fsb.PROBE
    result = json.loads(json.dumps(fsb.analyse(quality, probe, fsb.read_first_steps(path))))
    for key in ('families', 'narrowest', 'at_default', 'linearity'):
        assert result[key] == committed[key], key
    # The defaults are good in every family, and no band of good weights is within 10x.
    for family, entries in result['families'].items():
        assert next(e for e in entries if e['factor'] == 1)['good'], family
    assert all(bands['good']['band'] > fsb.BAND for bands in result['narrowest'].values())
    assert (fsb.RESULTS / 'first_step_band.md').read_text().count('(the default)') == 5


def test_stored_first_steps_that_do_not_fit_are_refused(tmp_path):
    """``--first-steps-from``: a missing file, or one whose seeds are not the runs', stops the
    script before it writes anything, naming the file and what to give instead."""
    script = [sys.executable, fsb.__file__]
    missing = subprocess.run([*script, '--first-steps-from', str(tmp_path / 'none.json')],
                             capture_output=True, text=True, cwd=REPO_ROOT)
    assert missing.returncode == 2 and 'no such file' in missing.stderr, missing.stderr
    committed = json.loads((fsb.RESULTS / 'first_step_band.json').read_text())
    committed['first_steps']['det'].pop('4')
    stored = tmp_path / 'four_seeds.json'
    stored.write_text(json.dumps(committed))
    before = (fsb.RESULTS / 'first_step_band.json').stat().st_mtime_ns
    wrong = subprocess.run([*script, '--first-steps-from', str(stored)], capture_output=True,
                           text=True, cwd=REPO_ROOT)
    assert wrong.returncode != 0, wrong.stdout
    assert 'det first steps of seeds [0, 1, 2, 3], the runs seeds [0, 1, 2, 3, 4]' in wrong.stderr
    assert 'rerun without --first-steps-from' in wrong.stderr, wrong.stderr
    assert (fsb.RESULTS / 'first_step_band.json').stat().st_mtime_ns == before
