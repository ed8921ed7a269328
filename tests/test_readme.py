"""The README's commands run as written: the Quick start block, with a tiny data set and
schedule added by a ``python`` shell function, in a fresh directory."""
import re
import subprocess
import sys

from conftest import REPO_ROOT, light_loader_options

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


def readme_block(heading: str) -> str:
    """The first ```bash block after ``heading`` in the README."""
    text = (REPO_ROOT / 'README.md').read_text()
    section = text[text.index(heading):]
    match = re.search(r'```bash\n(.*?)```', section, re.S)
    assert match, f'no bash block after {heading!r}'
    return match.group(1)


def tiny_python_function() -> str:
    cases = '\n'.join(f'    {tool}) command python "$tool" "$@" {" ".join(args)} ;;'
                      for tool, args in TINY.items())
    return ('python() {\n  local tool=$1; shift\n  case "$tool" in\n' + cases +
            '\n    *) command python "$tool" "$@" ;;\n  esac\n}\n')


def test_quick_start_runs_as_written(tmp_path):
    block = readme_block('## Quick start')
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
