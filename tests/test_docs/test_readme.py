"""The README: short, its Quick start block runs as written (with a tiny data set and schedule
added by a ``python`` shell function, in a fresh directory) and is the docs' quick-run block,
and its results table is the committed benchmark's."""
import json
import re
import subprocess
import sys

from helpers.paths import REPO_ROOT
from helpers.tools import light_loader_options

README = REPO_ROOT / 'README.md'
QUICK_RUN = REPO_ROOT / 'docs' / 'get_started' / 'quick_run.md'
MAX_README_LINES = 250

# What the shell function appends to each tool's command line.
TINY = {
    'tools/make_synthetic_data.py': ['--num-train', '16', '--num-val', '8'],
    'tools/train.py': [
        '--cfg-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2', 'default_hooks.logger.interval=1',
        *light_loader_options()
    ],
    'tools/test.py': ['--cfg-options', *light_loader_options()],
}


def bash_block(path, heading: str) -> str:
    """The first ```bash block after ``heading`` in the Markdown file ``path``."""
    text = path.read_text()
    section = text[text.index(heading):]
    match = re.search(r'```bash\n(.*?)```', section, re.S)
    assert match, f'no bash block after {heading!r} in {path}'
    return match.group(1)


def tiny_python_function() -> str:
    cases = '\n'.join(f'    {tool}) command python "$tool" "$@" {" ".join(args)} ;;'
                      for tool, args in TINY.items())
    return ('python() {\n  local tool=$1; shift\n  case "$tool" in\n' + cases +
            '\n    *) command python "$tool" "$@" ;;\n  esac\n}\n')


def test_readme_is_short():
    lines = len(README.read_text().splitlines())
    assert lines <= MAX_README_LINES, (
        f'README.md has {lines} lines; keep it under {MAX_README_LINES} and move the rest to '
        'a page in docs/')


def test_readme_quick_start_is_the_docs_quick_run():
    assert bash_block(README, '## Quick start') == bash_block(QUICK_RUN, '# Quick run')


def test_quick_start_runs_as_written(tmp_path):
    block = bash_block(README, '## Quick start')
    assert 'iter_' not in block, 'name checkpoints through last_checkpoint, not by guess'
    for name in ('configs', 'tools'):
        (tmp_path / name).symlink_to(REPO_ROOT / name)
    (tmp_path / '.venv').symlink_to(sys.prefix)  # the environment running the tests
    script = 'set -euo pipefail\n' + tiny_python_function() + block
    result = subprocess.run(['bash', '-c', script], cwd=tmp_path, capture_output=True,
                            text=True, timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert 'loss_kd_fpn' in output and 'Evaluating bbox' in output  # trained, then tested
    assert (tmp_path / 'work_dirs/student/student.pth').is_file()


def test_readme_results_are_the_committed_benchmark():
    """The README's synthetic results table: teacher, student alone, each task's shipped
    default and its peer, as ``benchmarks/results/quality.json`` has them."""
    quality = json.loads((REPO_ROOT / 'benchmarks/results/quality.json').read_text())
    summaries = {s['task']: s for s in quality['summaries']}
    det_summary, seg_summary = summaries['det'], summaries['seg']
    det, seg = ({a['arm']: a for a in s['arms']} for s in (det_summary, seg_summary))
    readme = README.read_text()

    def cell(arm: dict) -> str:
        return f'{arm["mean"]:.2f} ± {arm["std"]:.2f}'

    rows = [
        f'| teacher | {det_summary["teacher"]:.2f} | {seg_summary["teacher"]:.2f} |',
        f'| student alone | {cell(det["baseline"])} | {cell(seg["baseline"])} |',
        f'| + RdimKD at one point (det: the default, R on P3-P5; seg: A at the head feature) | '
        f'{cell(det["rdimkd-r"])} | {cell(seg["rdimkd-a"])} |',
        f'| + PKD (det) / + CWD (seg) | {cell(det["pkd"])} | {cell(seg["cwd"])} |',
    ]
    # The segmentation default's row: the segmentation study's two-point arm.
    study = json.loads((REPO_ROOT / 'benchmarks/studies/seg_recipe/results/quality.json')
                       .read_text())['summaries'][0]
    two_points = {a['arm']: a for a in study['arms']}['rdimkd-a-layer4']
    rows.append('| + RdimKD-A at the head feature and the backbone\'s last stage (the seg default) '
                f'| | {cell(two_points)} |')
    vs_cwd = two_points['paired']['cwd']
    assert (f'{vs_cwd["mean"]:+.2f} [{vs_cwd["low"]:+.2f}, {vs_cwd["high"]:+.2f}]'
            in ' '.join(readme.split()))
    for row in rows:
        assert row in readme, row
    assert 'synthetic' in readme[readme.index('## Results'):readme.index('| model |')].lower()


def test_readme_counts_the_tested_pairs():
    from helpers.zoo_pairs import ZOO_PAIRS
    counts = re.findall(r'(\d+) mmdet/mmseg model-zoo pairs', README.read_text())
    assert counts == [str(len(ZOO_PAIRS))], counts
