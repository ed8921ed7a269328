"""The numbers the docs quote from the committed benchmark and study results are the JSON's:
each table row the JSON gives is in the docs, each number of a paragraph that cites a result
file is that file's (a changed digit fails; the wording and the line wraps are the docs' own).
The docs: the README, benchmarks/README.md and the pages under docs/, not the generated
results."""
import json
import re
from functools import lru_cache
from typing import List

import pytest

from helpers.paths import REPO_ROOT

RESULTS = REPO_ROOT / 'benchmarks' / 'results'
STUDY_RESULTS = REPO_ROOT / 'benchmarks' / 'studies' / 'loss_scale' / 'results'


@lru_cache(maxsize=None)
def docs_lines() -> List[str]:
    """Every line of the docs, its runs of white space made one space."""
    pages = [REPO_ROOT / 'README.md', REPO_ROOT / 'benchmarks' / 'README.md',
             *sorted((REPO_ROOT / 'docs').rglob('*.md'))]
    return [' '.join(line.split()) for page in pages if page.is_file()
            for line in page.read_text().splitlines()]


def docs_text() -> str:
    return '\n'.join(docs_lines())


def quoted(fragment: str) -> bool:
    """Whether the docs hold ``fragment`` (e.g. a table row), white space aside."""
    return ' '.join(fragment.split()) in docs_text()


def blocks_citing(name: str) -> List[str]:
    """The paragraphs and list items of the docs that name ``name``, each on one line."""
    blocks = re.split(r'\n(?:\n|(?=- |\* |\d+\. ))', docs_text())
    return [' '.join(b.split()) for b in blocks if name in b]


def _interval_cell(diff) -> str:
    return '' if not diff else (f'{diff["mean"]:+.2f} [{diff["low"]:+.2f}, '
                                f'{diff["high"]:+.2f}]')


def test_docs_quote_the_committed_results():
    """The docs' benchmark tables are the committed JSON results, rounded."""
    quality = json.loads((RESULTS / 'quality.json').read_text())
    summaries = {s['task']: s for s in quality['summaries']}
    det, seg = summaries['det'], summaries['seg']
    assert quoted(f'| teacher (1 run) | {det["teacher"]:.2f} | | {seg["teacher"]:.2f} | |')
    titles = {'baseline': 'student alone', 'rdimkd-r': '+ RdimKD-R', 'rdimkd-p': '+ RdimKD-P',
              'rdimkd-a': '+ RdimKD-A', 'fitnet-l2': '+ full L2 (FitNet)',
              'pkd': '+ PKD (det) / + CWD (seg)'}
    assert [a['arm'] for a in det['arms']] == list(titles)
    assert [a['arm'] for a in seg['arms']] == [*list(titles)[:-1], 'cwd']
    for d, s in zip(det['arms'], seg['arms']):
        cells = [f'{d["mean"]:.2f} ± {d["std"]:.2f}',
                 '' if d.get('gap_closed') is None else f'{d["gap_closed"] * 100:.0f}%',
                 f'{s["mean"]:.2f} ± {s["std"]:.2f}',
                 '' if s.get('gap_closed') is None else f'{s["gap_closed"] * 100:.0f}%']
        row = f'| {titles[d["arm"]]} | ' + ' | '.join(cells) + ' |'
        assert quoted(row), row
        if d['arm'].startswith('rdimkd'):  # paired differences: baseline, full L2, peer
            cells = [_interval_cell(summary['paired'][ref]) for summary, refs in (
                (d, ('baseline', 'fitnet-l2', 'pkd')), (s, ('baseline', 'fitnet-l2', 'cwd')))
                for ref in refs]
            row = f'| {titles[d["arm"]]} | ' + ' | '.join(cells) + ' |'
            assert quoted(row), row
            # and against each task's default (the variant's choice)
            cells = [_interval_cell(d['paired'].get('rdimkd-r')),
                     _interval_cell(s['paired'].get('rdimkd-a'))]
            row = f'| {titles[d["arm"]]} | ' + ' | '.join(cells) + ' |'
            assert quoted(row), row
    for summary in (det, seg):
        for run in summary['sweep']:  # one seed: the difference, more: with its interval
            delta = _interval_cell(run['paired']) or f'{run["delta"]:+.2f}'
            ratio = '' if run.get('kd_ratio') is None else f'{run["kd_ratio"]:.3g}x'
            row = (f'| {run["label"]} | {run["mean"]:.2f} ± {run["std"]:.2f} | {delta} | '
                   f'{run["wins"]} | {_interval_cell(run.get("vs_centre"))} | {ratio} |')
            assert quoted(row), row
    labels = {
        'KD RdimKD-R step / student step': 'KD step (RdimKD-R) / student step',
        'KD RdimKD-R step / (student step + teacher feature forward)':
        'KD step / (student step + teacher forward to the features)',
        'KD step, full teacher / early exit':
        "KD step with the teacher's full forward / with early exit",
        'teacher forward, full / to the distilled features':
        'teacher forward, full / up to the distilled features',
        'RdimKD-R loss alone / KD RdimKD-R step':
        'RdimKD loss alone (connector + projection + L2, fwd + bwd) / KD step',
        'full L2 loss alone / RdimKD-R loss alone': 'full-L2 loss alone / RdimKD loss alone',
        'KD peer step / KD RdimKD-R step': 'KD step with PKD (det) / CWD (seg) / with RdimKD-R',
        'peer loss alone / RdimKD-R loss alone':
        'PKD (det) / CWD (seg) loss alone / RdimKD loss alone',
    }
    for device in ('cpu', 'gpu'):
        cost = {t['task']: t['ratios'] for t in
                json.loads((RESULTS / f'cost_{device}.json').read_text())['tasks']}
        # Files measured before the peers' rows were added lack them; every row a file has is
        # quoted.
        assert set(cost['det']) <= set(labels)
        for key in cost['det']:
            row = f'| {labels[key]} | {cost["det"][key]:.2f} | {cost["seg"][key]:.2f} |'
            assert quoted(row), (device, row)


def test_docs_quote_the_ten_seed_segmentation_run():
    """The docs' 10-seed segmentation table is ``results/seg_10_seeds/quality.json``'s."""
    data = json.loads((RESULTS / 'seg_10_seeds/quality.json').read_text())
    assert '--seeds 10' in data['command'] and data['schedules']['seg']['seeds'] == list(range(10))
    (seg, ) = data['summaries']
    for arm in seg['arms']:
        assert arm['seeds'] == list(range(10)), arm['arm']
        paired = arm.get('paired', {})
        cells = [f'{arm["mean"]:.2f} ± {arm["std"]:.2f}', _interval_cell(paired.get('baseline')),
                 arm.get('wins', ''), _interval_cell(paired.get('rdimkd-a')),
                 _interval_cell(paired.get('cwd'))]
        row = f'| {arm["title"]} | ' + ' | '.join(cells) + ' |'
        assert quoted(row), row


@pytest.mark.parametrize('task,results', [('det-rtmdet', 'det_rtmdet'),
                                          ('det-yolox', 'det_yolox'),
                                          ('det-frcnn', 'det_frcnn')])
def test_docs_quote_the_other_detector_families(task, results):
    """The docs' RTMDet, YOLOX and Faster R-CNN tables are
    ``results/<family>/quality.json``'s: the baseline, then the default and its sweep, every run
    on seeds 0-4 (with the first step's KD/task ratio where the runs logged it)."""
    data = json.loads((RESULTS / f'{results}/quality.json').read_text())
    assert f'--tasks {task} ' in data['command'] and '--sweep-seeds 5' in data['command']
    (det, ) = data['summaries']
    baseline = det['arms'][0]
    assert baseline['arm'] == 'baseline' and baseline['seeds'] == list(range(5))
    assert quoted(f'| student (baseline) | {baseline["mean"]:.2f} ± {baseline["std"]:.2f} |')
    assert det['sweep'][0]['label'] == 'RdimKD-R weight x1 (the default)'
    for run in det['sweep']:
        assert run['seeds'] == list(range(5)), run['label']
        row = (f'| {run["label"]} | {run["mean"]:.2f} ± {run["std"]:.2f} | '
               f'{_interval_cell(run["paired"])} | {run["wins"]} | '
               f'{_interval_cell(run.get("vs_centre"))} | {run["kd_ratio"]:.3g}x |')
        if run.get('kd_ratio_step1') is not None:
            row += f' {run["kd_ratio_step1"]:.3g}x |'
        assert quoted(row), row


def test_docs_quote_the_committed_demo_results():
    """The docs' demo tables are ``results/demo/<task>_results.json`` (written by
    tools/distill_demo.py), rounded: teacher, student alone, student + the default (RdimKD-R
    for detection; for segmentation RdimKD-A in the default's head-only form)."""
    for task, digits, model, method, form in (('det', 1, 'RetinaNet', 'R', 'the shipped default'),
                                              ('seg', 2, 'PSPNet', 'A', 'head-only form')):
        rows = json.loads((REPO_ROOT / 'results' / 'demo' / f'{task}_results.json').read_text())
        assert [r['model'] for r in rows['rows']] == [
            'teacher', 'student (baseline)', f'student + RdimKD-{method}']
        teacher, alone, distilled = (f'{r["metric"]:.{digits}f}' for r in rows['rows'])
        for pattern in (rf'^\| teacher: {model} .* \| {teacher} \|$',
                        rf'^\| student alone: {model} .* \| {alone} \|$',
                        rf'^\| student \+ RdimKD-{method} \({form}\) \| '
                        rf'{distilled} \|$'):
            assert len(re.findall(pattern, docs_text(), re.M)) == 1, (task, pattern)


def test_docs_quote_the_loss_scale_at_the_shipped_defaults():
    """The docs' "Loss scale" rows at the shipped defaults, at the first step and over the
    first 50, are ``loss_scale.json``'s."""
    rows = json.loads((STUDY_RESULTS / 'loss_scale.json').read_text())['rows']

    def number(value: float) -> str:
        return f'{value:.2f}' if value < 10 else f'{value:.0f}'

    for label, scope, key in (
            ('at the shipped defaults: all eight pairs', 'mm', 'at_default'),
            ('the same, the five detection pairs', 'mmdet', 'at_default'),
            ('the same, the three segmentation pairs', 'mmseg', 'at_default'),
            ('over the first 50 steps, with each student', 'mmdet', 'start'),
            ('over the first 50 steps: the three segmentation pairs', 'mmseg', 'start')):
        values = [r['start']['mean'] if key == 'start' else r[key]
                  for r in rows if r['teacher'].startswith(scope)]
        line = next(line for line in docs_lines() if line.startswith('|') and label in line)
        low, high, band = line.split('|')[2:5]
        assert low.split()[0] == number(min(values)), line
        assert high.split()[0] == number(max(values)), line
        assert band.strip() == number(max(values) / min(values)) + 'x', line


def test_docs_quote_rdimkd_a_segmentation_sweep():
    """The docs' RdimKD-A sweep rows are ``seg_a_sweep/quality.json``'s (a changed digit
    fails)."""
    data = json.loads((RESULTS / 'seg_a_sweep/quality.json').read_text())
    sweep = [s for s in data['summaries'][0]['sweep'] if s['arm'] == 'rdimkd-a']
    assert [s['label'] for s in sweep] == ['RdimKD-A weight x1 (the default)'] + [
        f'RdimKD-A weight x{f:g}' for f in (0.25, 0.5, 2, 4)]

    def interval(d):
        return f'{d["mean"]:+.2f} [{d["low"]:+.2f}, {d["high"]:+.2f}]'

    for s in sweep:
        factor = s['label'].split(' x')[1].split()[0]
        name = 'RdimKD-A weight 2.5 (x1)' if factor == '1' else f'RdimKD-A x{factor}'
        centre = f' {interval(s["vs_centre"])}' if 'vs_centre' in s else ' '
        row = (f'| {name} | {s["mean"]:.2f} ± {s["std"]:.2f} | {interval(s["paired"])} | '
               f'{s["wins"]} |{centre} |')
        assert quoted(row), row


def test_docs_quote_the_sgd_probe():
    """The paragraph that cites the SGD probe's results quotes its means over the seeds (in
    percent) and the gain x16 keeps of the default's."""
    probe = [json.loads(line) for line in
             (STUDY_RESULTS / 'sgd_probe.jsonl').read_text().splitlines()]
    means = {arm: 100 * sum(r['bbox_mAP'] for r in probe if r['arm'] == arm)
             / sum(r['arm'] == arm for r in probe) for arm in ('baseline', 'default', 'x4', 'x16')}
    numbers = [f'{means[arm]:.2f}' for arm in ('baseline', 'default', 'x4', 'x16')] + [
        f'{means["x16"] - means["baseline"]:.2f}', f'{means["default"] - means["baseline"]:.2f}']
    blocks = blocks_citing('sgd_probe.jsonl')
    assert any(set(numbers) <= set(re.findall(r'\d+\.\d\d\b', block)) for block in blocks), (
        numbers, blocks)
