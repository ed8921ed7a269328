"""Run the tools on the tiny synthetic sets: their ``--cfg-options`` and the subprocesses."""
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from helpers.paths import REPO_ROOT


def det_data_options(root: Path) -> List[str]:
    """--cfg-options pointing a synthetic-COCO config at ``root``, with light loaders."""
    ann = f'{root}/annotations/instances_val.json'
    return [
        f'train_dataloader.dataset.data_root={root}/',
        f'val_dataloader.dataset.data_root={root}/',
        f'test_dataloader.dataset.data_root={root}/',
        f'val_evaluator.ann_file={ann}', f'test_evaluator.ann_file={ann}',
        *light_loader_options()
    ]


def seg_data_options(root: Path) -> List[str]:
    """--cfg-options pointing a synthetic-Cityscapes config at ``root``, with light loaders."""
    return [
        f'train_dataloader.dataset.data_root={root}/',
        f'val_dataloader.dataset.data_root={root}/',
        f'test_dataloader.dataset.data_root={root}/', *light_loader_options()
    ]


def light_loader_options() -> List[str]:
    options = ['train_dataloader.batch_size=2', 'randomness.seed=0']
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        options += [f'{loader}.num_workers=0', f'{loader}.persistent_workers=False']
    return options


def run_tool(tool: str, *args: str, timeout: int = 600) -> str:
    """Run ``tools/<tool>`` from the repo root; return its output, fail with it on error."""
    env = dict(os.environ, PYTHONWARNINGS='ignore')
    result = subprocess.run([sys.executable, f'tools/{tool}', *map(str, args)],
                            cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                            timeout=timeout)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f'tools/{tool} failed:\n{output[-6000:]}'
    return output


# Runs the cases of argv[1] (JSON) one after the other; ``tool`` cases as ``python TOOL ARGS``
# (runpy, in this process), ``code`` cases with exec. Nothing of the project is imported up
# front; mmengine's config module is, to save what repeats in every case: each of the
# libraries' ~100 metafiles is parsed once for all cases, not once per ``mmdet::``/``mmseg::``
# path (as tests/conftest.py does in-process), and the config text the Runner logs and saves
# 3-4 times per run is checked to parse, not formatted by yapf (about 1 s each on 2 cores; as
# tests/test_tools/test_runner_pairs.py does). Each case starts without the message hubs and
# loggers of the cases before it, as a process of its own would: mmengine keeps one of each per
# experiment name (config name and start time to the second), which two quick runs of one
# config would otherwise share (with the first run's last checkpoint among its information).
_CASES_DRIVER = r"""
import ast, functools, json, runpy, sys
from mmengine.config import config, utils
from mmengine.logging import MessageHub, MMLogger
utils.load = functools.lru_cache(maxsize=None)(utils.load)


def parse_only(text, **kwargs):
    ast.parse(text)
    return text, False


config.FormatCode = parse_only
for case in json.loads(sys.argv[1]):
    print('=== CASE ' + case['name'], flush=True)
    error = None
    for manager in (MessageHub, MMLogger):
        manager._instance_dict.clear()
    try:
        if 'code' in case:
            exec(case['code'], {'__name__': '__case__'})
        else:
            sys.argv = [case['tool'], *case['args']]
            runpy.run_path(case['tool'], run_name='__main__')
    except BaseException as e:  # SystemExit (argparse) included
        error = f'{type(e).__name__}: {e}'
    print('\n=== RESULT ' + json.dumps(error), flush=True)  # after a last unended line
"""


def run_cases(cases: Sequence[dict], env: Optional[Dict[str, str]] = None,
              timeout: int = 900) -> Dict[str, dict]:
    """Run several tool command lines in one Python process (one interpreter start and one set
    of imports for all), in order, from the repo root.

    Args:
        cases: ``dict(name=..., tool='tools/train.py', args=[...])`` or
            ``dict(name=..., code='python source')``.
        env: Extra environment variables (``PYTHONPATH`` entries are put before the current
            ones).

    Returns:
        ``{name: {'error': 'Type: message' or None, 'output': the case's stdout and stderr}}``.
    """
    full_env = dict(os.environ, PYTHONWARNINGS='ignore', PYTHONUNBUFFERED='1')
    for key, value in (env or {}).items():
        full_env[key] = (os.pathsep.join([value, os.environ['PYTHONPATH']])
                         if key == 'PYTHONPATH' and os.environ.get('PYTHONPATH') else value)
    cases = [dict(c, args=[str(a) for a in c.get('args', [])]) for c in cases]
    result = subprocess.run([sys.executable, '-c', _CASES_DRIVER, json.dumps(cases)],
                            cwd=REPO_ROOT, env=full_env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, timeout=timeout)
    outcomes, name, lines = {}, None, []
    for line in result.stdout.splitlines():
        if line.startswith('=== CASE '):
            name, lines = line[len('=== CASE '):], []
        elif line.startswith('=== RESULT '):
            outcomes[name] = dict(error=json.loads(line[len('=== RESULT '):]),
                                  output='\n'.join(lines))
        else:
            lines.append(line)
    missing = [c['name'] for c in cases if c['name'] not in outcomes]
    assert not missing, f'cases {missing} did not finish:\n{result.stdout[-6000:]}'
    return outcomes
