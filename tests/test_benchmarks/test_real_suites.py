"""The real-data suites of benchmarks/run.py: the Slurm / torchrun plans, and the COCO suite end
to end on a COCO-2017-layout stand-in (random-initialised teacher, small images, one epoch of
two images)."""
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from benchmarks.real_run import parse_args
from benchmarks.suites import SUITES
from rdimkd_mm.utils import build_model, pretrained_inits
from synthetic import generate_coco_detection, to_coco2017_layout

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_suite(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, 'benchmarks/run.py', *args], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=timeout)


def plan_lines(*args: str) -> list:
    result = run_suite(*args, '--dry-run')
    assert result.returncode == 0, result.stderr[-3000:]
    return [line for line in result.stdout.splitlines() if not line.startswith('#')]


def test_slurm_dry_run_is_a_complete_plan():
    lines = plan_lines('--suite', 'coco', '--launcher', 'slurm', '--partition', 'gpu',
                       '--gpus', '16', '--seeds', '2')
    suite = SUITES['coco']
    arms = sum(len(p.arms) for p in suite.pairs)
    assert len(lines) == len(suite.pairs) + 2 * arms  # teacher once, each arm on each seed
    for line in lines:
        argv = shlex.split(line)
        assert argv[:2] == ['GPUS=16', 'GPUS_PER_NODE=8'] and argv[2] == 'bash'
        script, partition, job, config = argv[3:7]
        assert partition == 'gpu' and (REPO_ROOT / config).is_file()
        if script == 'tools/slurm_test.sh':  # the teacher: evaluated, with its checkpoint
            assert argv[7] == Config.fromfile(config).model.teacher_checkpoint
            assert '--teacher' in argv and job.endswith('_teacher')
        else:
            assert script == 'tools/slurm_train.sh'
            assert argv[7].startswith('benchmarks/work/real/coco/')  # WORK_DIR
            assert '--no-teacher-eval' in argv
            seed = job.rsplit('_s', 1)[1]
            assert f'randomness.seed={seed}' in argv
    configs = {shlex.split(line)[6] for line in lines}
    assert configs == {c for p in suite.pairs for _, c in p.arms}  # every shipped arm
    assert any('pkd_fpn' in c for c in configs)


def test_torchrun_plan_with_retrained_baseline():
    lines = plan_lines('--suite', 'cityscapes', '--launcher', 'pytorch', '--gpus', '4',
                       '--pairs', 'pspnet_r101-r18', '--retrain-baseline', '--seeds', '2',
                       '--auto-scale-lr', '--data-root', '/data/cs')
    assert len(lines) == 1 + 2 * 3  # teacher; baseline, RdimKD-A and CWD on two seeds
    baseline = [shlex.split(x) for x in lines if 'baseline_seed' in x]
    assert len(baseline) == 2 and baseline[0][1] == 'tools/dist_train.sh'
    assert baseline[0][2].endswith('pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py')
    assert baseline[0][3] == '4' and '--no-teacher-eval' not in baseline[0]
    for line in lines[1:]:
        assert '--auto-scale-lr' in line
        assert 'train_dataloader.dataset.data_root=/data/cs/' in line


def test_slurm_needs_a_partition(capsys):
    with pytest.raises(SystemExit):
        parse_args(['--launcher', 'slurm', '--dry-run'], 'coco')
    assert '--launcher slurm needs --partition' in capsys.readouterr().err


# Small images and one epoch of two images, so that the shipped pair runs in about a minute.
SMALL = ['train_dataloader.dataset.pipeline.2.scale=(320,192)',
         'val_dataloader.dataset.pipeline.1.scale=(320,192)',
         'test_dataloader.dataset.pipeline.1.scale=(320,192)',
         'train_cfg.max_epochs=1', 'train_dataloader.num_workers=0',
         'val_dataloader.num_workers=0', 'test_dataloader.num_workers=0',
         'train_dataloader.persistent_workers=False', 'val_dataloader.persistent_workers=False',
         'test_dataloader.persistent_workers=False']


def test_coco_suite_end_to_end_on_a_stand_in(tmp_path):
    data = tmp_path / 'coco'
    generate_coco_detection(str(data), num_train=2, num_val=1, image_size=(192, 320),
                            progress=False)
    to_coco2017_layout(str(data))
    config = REPO_ROOT / SUITES['coco'].pair('retinanet_r101-r50').default_config
    cfg = Config.fromfile(str(config))
    teacher, _ = build_model(cfg.model.teacher)  # random-initialised stand-in teacher
    checkpoint = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=teacher.state_dict()), checkpoint)
    no_download = [f'model.student.{".".join(k)}=None' for k in pretrained_inits(cfg.model.student)]
    args = ['--suite', 'coco', '--pairs', 'retinanet_r101-r50', '--arms', 'rdimkd-r',
            '--data-root', str(data), '--work-root', str(tmp_path / 'work'),
            '--results-dir', str(tmp_path / 'results'), '--cfg-options',
            f'model.teacher_checkpoint={checkpoint}', *no_download, *SMALL]
    result = run_suite(*args)
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    report = json.loads((tmp_path / 'results' / 'coco.json').read_text())
    pair, = report['pairs']
    assert pair['baseline']['source'] == 'zoo metafile'
    assert pair['reference'] == pair['baseline']['zoo']['metric'] > 30  # mmdet's R50 number
    assert pair['teacher']['measured'] is not None and pair['teacher']['zoo']['metric'] > 30
    measured = {a['arm']: a for a in pair['arms']}
    default = measured['rdimkd-r']
    assert default['mean'] is not None and list(default['seeds']) == ['0']
    assert default['delta'] == pytest.approx(default['mean'] - pair['reference'])
    assert measured['pkd']['mean'] is None  # not run
    markdown = (tmp_path / 'results' / 'coco.md').read_text()
    assert 'zoo metafile' in markdown and 'not measured' in markdown
    assert (tmp_path / 'results' / 'coco.png').stat().st_size > 0
    again = run_suite(*args)  # finished runs are reused
    assert again.returncode == 0 and again.stdout.count('(reused)') == 2
