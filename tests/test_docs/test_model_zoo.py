"""docs/model_zoo.md is the page benchmarks/model_zoo.py generates from the installed metafiles
and the gathered results; the distilled column reads a gathered result once one exists."""
import json
import subprocess
import sys
from pathlib import Path

from benchmarks.model_zoo import page
from benchmarks.suites import SUITES
from rdimkd_mm.zoo import find_entry

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_committed_page_is_the_generated_one():
    result = subprocess.run([sys.executable, 'benchmarks/model_zoo.py', '--check'],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_page_lists_every_shipped_arm_with_zoo_numbers():
    text = (REPO_ROOT / 'docs/model_zoo.md').read_text()
    for suite in SUITES.values():
        assert f'python benchmarks/run.py --suite {suite.name}' in text
        for pair in suite.pairs:
            for _, config in pair.arms:
                assert f'](../{config})' in text and (REPO_ROOT / config).is_file()
    retina = find_entry('mmdet::retinanet/retinanet_r101_fpn_1x_coco.py')
    row = next(line for line in text.splitlines() if 'rdimkd-r_fpn_retinanet-r101' in line)
    assert f'[{retina.metrics["box AP"]:.1f}]({retina.weights})' in row
    assert 'not measured' in row  # no gathered COCO result is committed


def test_distilled_column_reads_gathered_results(tmp_path):
    results = tmp_path / 'results'
    results.mkdir()
    arms = [dict(arm='rdimkd-r', mean=37.25, seeds={'0': 37.0, '1': 37.5}, delta=0.75),
            dict(arm='pkd', mean=None, seeds={}, delta=None)]
    (results / 'coco.json').write_text(json.dumps(dict(pairs=[dict(
        pair='retinanet_r101-r50', baseline=dict(retrained=None), arms=arms)])))
    text = page(str(results))
    row = next(line for line in text.splitlines()
               if 'rdimkd-r_fpn_retinanet-r101_retinanet-r50' in line)
    assert '37.2 (2 seeds, +0.8 vs zoo student)' in row
    pkd = next(line for line in text.splitlines() if 'pkd_fpn_retinanet' in line)
    assert pkd.endswith('| not measured |')
