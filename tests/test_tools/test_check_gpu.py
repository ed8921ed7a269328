"""tools/check_gpu.py: without CUDA it stops with what to install; with CUDA (a GPU machine)
mmcv's CUDA ops and a distillation step run."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_check() -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, 'tools/check_gpu.py'], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.skipif(torch.cuda.is_available(), reason='a CUDA device is present')
def test_without_cuda_it_says_what_to_install():
    result = run_check()
    assert result.returncode == 1
    assert 'No CUDA device visible' in result.stderr and 'pytorch.org' in result.stderr


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA device')
def test_cuda_ops_and_a_distillation_step_run_on_the_gpu():
    result = run_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'match the CPU' in result.stdout and 'one distillation step' in result.stdout
