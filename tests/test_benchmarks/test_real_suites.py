"""The real-data suites of benchmarks/run.py: the Slurm / torchrun plans, and the COCO and
Cityscapes suites end to end on stand-ins in the real layouts (random-initialised teachers,
tiny images, one training iteration)."""
import json
import os
import shlex
import signal
import subprocess
import sys
import time

import pytest
from mmengine.config import Config

from benchmarks.real_run import parse_args
from benchmarks.suites import SUITES
from helpers.models import save_random_teacher
from helpers.paths import REPO_ROOT
from helpers.real_data import cityscapes_stand_in, coco_stand_in, no_pretrained_download


def run_suite(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    """``benchmarks/run.py ARGS`` and the jobs it runs, each on one intra-op thread: on a few
    busy cores, threads that wait for each other make the tiny steps several times slower."""
    env = dict(os.environ, OMP_NUM_THREADS='1')
    with subprocess.Popen([sys.executable, 'benchmarks/run.py', *args], cwd=REPO_ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          start_new_session=True) as process:
        try:
            stdout, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # and the job run.py is running
            raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


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


# Tiny images and one training iteration (the configs' batch of two images), so that each
# suite's default arm runs end to end in about a minute on two cores.
LIGHT_LOADERS = [f'{loader}_dataloader.{option}' for loader in ('train', 'val', 'test')
                 for option in ('num_workers=0', 'persistent_workers=False')]
STAND_INS = {
    # suite: (pair, arm run, arm left out, stand-in, image (H, W), --cfg-options)
    'coco': ('retinanet_r101-r50', 'rdimkd-r', 'pkd', coco_stand_in, (192, 320), [
        'train_dataloader.dataset.pipeline.2.scale=(320,192)',
        'val_dataloader.dataset.pipeline.1.scale=(320,192)',
        'test_dataloader.dataset.pipeline.1.scale=(320,192)', 'train_cfg.max_epochs=1']),
    'cityscapes': ('pspnet_r101-r18', 'rdimkd-a', 'cwd', cityscapes_stand_in, (64, 128), [
        'train_dataloader.dataset.pipeline.2.scale=(128,64)',
        'train_dataloader.dataset.pipeline.3.crop_size=(64,128)',
        'val_dataloader.dataset.pipeline.1.scale=(128,64)',
        'test_dataloader.dataset.pipeline.1.scale=(128,64)', 'train_cfg.max_iters=1',
        # the preprocessors pad every batch to their size (512x1024 in the configs)
        'data_preprocessor.size=(64,128)', 'model.student.data_preprocessor.size=(64,128)',
        'train_cfg.val_interval=1', 'custom_hooks.0.num_batches=1', 'model.probe_size=(64,64)']),
}


@pytest.mark.parametrize('suite', sorted(STAND_INS))
def test_suite_end_to_end_on_a_stand_in(suite, tmp_path):
    """The suite's default arm on a stand-in in the real layout, from a random-initialised
    teacher: the teacher evaluated, the arm trained and evaluated, the report written with
    the zoo baseline; run again, every finished job is reused."""
    pair_name, arm, peer, make_data, size, small = STAND_INS[suite]
    data = make_data(tmp_path / suite, size, num_train=2, num_val=1)
    config = SUITES[suite].pair(pair_name).default_config
    checkpoint = save_random_teacher(config, tmp_path / 'teacher.pth')
    args = ['--suite', suite, '--pairs', pair_name, '--arms', arm, '--data-root', str(data),
            '--work-root', str(tmp_path / 'work'), '--results-dir', str(tmp_path / 'results'),
            '--cfg-options', f'model.teacher_checkpoint={checkpoint}',
            *no_pretrained_download(config), *LIGHT_LOADERS, *small]
    start = time.time()
    result = run_suite(*args)
    assert result.returncode == 0, (result.stdout + result.stderr)[-5000:]
    print(f'{suite}: teacher + {arm} in {time.time() - start:.0f} s')
    report = json.loads((tmp_path / 'results' / f'{suite}.json').read_text())
    pair, = report['pairs']
    assert pair['baseline']['source'] == 'zoo metafile'
    assert pair['reference'] == pair['baseline']['zoo']['metric'] > 30  # mmdet's / mmseg's
    assert pair['teacher']['measured'] is not None and pair['teacher']['zoo']['metric'] > 30
    measured = {a['arm']: a for a in pair['arms']}
    default = measured[arm]
    assert default['mean'] is not None and list(default['seeds']) == ['0']
    assert default['delta'] == pytest.approx(default['mean'] - pair['reference'])
    assert measured[peer]['mean'] is None  # not run
    markdown = (tmp_path / 'results' / f'{suite}.md').read_text()
    assert 'zoo metafile' in markdown and 'not measured' in markdown
    assert (tmp_path / 'results' / f'{suite}.png').stat().st_size > 0
    again = run_suite(*args)  # finished runs are reused
    assert again.returncode == 0 and again.stdout.count('(reused)') == 2
