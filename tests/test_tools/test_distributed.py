"""Two CPU ranks (gloo): fitted projections are identical on every rank and equal to the fit
on the union of their data; DDP-wrapped distillation keeps the ranks' students identical."""
import os
import pickle
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

import rdimkd_mm  # noqa: F401
from rdimkd_mm.engine.projection_fit import fit_projections, fitted_state_dict
from helpers.distillers import (RETINA_STUDENT, RETINA_TEACHER, build_distiller, fpn_point,
                                model_cfg, raw_batch)
from helpers.models import save_random_model
from helpers.paths import REPO_ROOT
from helpers.tools import det_data_options

WORLD_SIZE = 2
DET_DISTILL = 'rdimkd-r_retinanet_r50-w32_r18-w16_synthetic-coco.py'
PCA = [fpn_point(k=8, projection='rdimkd_mm.PCAProjection')]


def failure_report(output: str) -> str:
    """The output's tail, then every line naming an error: a rank's own message (e.g.
    "terminate called ...") can sit far above torchrun's summary at the end."""
    errors = [line for line in output.splitlines()
              if re.search(r'terminate called|what\(\)|Error|Exception|Signal|Traceback', line)]
    return output[-4000:] + '\n--- lines naming an error ---\n' + '\n'.join(errors[-40:])


def batches_of(rank: int) -> list:
    return [raw_batch(seed=10 * rank + i) for i in range(2)]


def worker(rank: int, tmp: str, checkpoint: str) -> None:
    torch.set_num_threads(1)
    torch_dist.init_process_group('gloo', init_method=f'file://{tmp}/rendezvous', rank=rank,
                                  world_size=WORLD_SIZE)
    init_default_scope('mmdet')
    torch.manual_seed(rank)  # different student init per rank: DDP must broadcast rank 0's
    distiller = build_distiller(model_cfg(RETINA_STUDENT), model_cfg(RETINA_TEACHER), checkpoint,
                                distill=PCA)
    fit_projections(distiller, batches_of(rank), num_batches=2, progress=False)
    model = MMDistributedDataParallel(module=distiller)
    optim = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.01)))
    model.train_step(raw_batch(seed=100 + rank), optim)
    torch.save(dict(projections=fitted_state_dict(distiller),
                    student=distiller.student.state_dict()), f'{tmp}/rank{rank}.pth')
    torch_dist.destroy_process_group()


def test_two_ranks_agree(tmp_path: Path):
    init_default_scope('mmdet')
    checkpoint = save_random_model(model_cfg(RETINA_TEACHER), tmp_path / 'teacher.pth')
    os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
    mp.spawn(worker, args=(str(tmp_path), checkpoint), nprocs=WORLD_SIZE, join=True)
    ranks = [torch.load(tmp_path / f'rank{r}.pth') for r in range(WORLD_SIZE)]

    for key, value in ranks[0]['projections'].items():
        assert torch.equal(value, ranks[1]['projections'][key]), key
    for key, value in ranks[0]['student'].items():
        if value.is_floating_point():  # BN running stats are per rank; weights are synced
            if 'running_' in key:
                continue
            assert torch.equal(value, ranks[1]['student'][key]), key

    single = build_distiller(model_cfg(RETINA_STUDENT), model_cfg(RETINA_TEACHER), checkpoint,
                             distill=PCA)
    union = [b for pair in zip(batches_of(0), batches_of(1)) for b in pair]
    fit_projections(single, union, num_batches=4, progress=False)
    reference = fitted_state_dict(single)
    for key, value in reference.items():
        if key.endswith(('eigenvalues', 'mean', 'explained_variance_ratio')):
            torch.testing.assert_close(ranks[0]['projections'][key], value, atol=1e-5,
                                       rtol=1e-4)
    # Directions are compared where the spectrum has a clear gap (level 0: after the 3rd);
    # nearly equal eigenvalues make individual later directions ill-conditioned.
    ours, theirs = (w['fpn.projections.0.weight'][:, :3]
                    for w in (ranks[0]['projections'], reference))
    torch.testing.assert_close(ours @ ours.t(), theirs @ theirs.t(), atol=1e-4, rtol=0)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_dist_train_sh_runs_two_cpu_ranks(det_root, tmp_path: Path):
    """`bash tools/dist_train.sh CONFIG 2` on a machine without GPUs: 2 gloo ranks fit the same
    PCA projections, end with the same student, and only rank 0 writes checkpoints and logs."""
    init_default_scope('mmdet')
    teacher = save_random_model(model_cfg(RETINA_TEACHER), tmp_path / 'teacher.pth')
    config = tmp_path / 'dist.py'
    config.write_text(
        f"_base_ = '{REPO_ROOT / 'configs/rdimkd/' / DET_DISTILL}'\n"
        "custom_imports = dict(imports=['helpers.rank_state_hook'], allow_failed_imports=False)\n"
        "custom_hooks = [dict(type='rdimkd_mm.FitProjectionsHook', num_batches=2),\n"
        "                dict(type='RankStateHook')]\n")
    work_dir = tmp_path / 'work'
    (work_dir / 'rank_state').mkdir(parents=True)
    env = dict(os.environ, PYTHON=sys.executable, PORT=str(free_port()),
               PYTHONWARNINGS='ignore',
               PYTHONPATH=os.pathsep.join([str(REPO_ROOT / 'tests'), str(REPO_ROOT)]))
    result = subprocess.run(
        ['bash', 'tools/dist_train.sh', str(config), '2', '--work-dir', str(work_dir),
         '--no-teacher-eval', '--cfg-options', f'model.teacher_checkpoint={teacher}',
         'model.distill.0.loss.projection.type=rdimkd_mm.PCAProjection',
         'train_cfg.max_iters=3', 'train_cfg.val_interval=3',
         'default_hooks.checkpoint.interval=3', 'default_hooks.logger.interval=1',
         *det_data_options(det_root)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, failure_report(output)
    assert "'backend': 'gloo'" in output or 'backend: gloo' in output, output[-3000:]

    ranks = [torch.load(work_dir / 'rank_state' / f'{r}.pth') for r in range(WORLD_SIZE)]
    assert all(r['wrapped'] == 'MMDistributedDataParallel' for r in ranks)
    assert ranks[0]['projections'] and bool(ranks[0]['projections']['fpn.projections.0.fitted'])
    for key, value in ranks[0]['projections'].items():
        assert torch.equal(value, ranks[1]['projections'][key]), key
    for key, value in ranks[0]['student'].items():
        if value.is_floating_point() and 'running_' not in key:  # BN statistics are per rank
            assert torch.equal(value, ranks[1]['student'][key]), key
    # mmengine wraps the model with broadcast_buffers=False: each rank keeps the batch-norm
    # statistics of its own batches (what the docs state); the checkpoint holds rank 0's.
    assert any(not torch.equal(value, ranks[1]['student'][key])
               for key, value in ranks[0]['student'].items() if 'running_' in key)
    # Only rank 0 writes: one checkpoint set, one run directory with one text log.
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['iter_3.pth']
    logs = list(work_dir.glob('*/*.log'))
    assert len(logs) == 1 and len(list(work_dir.glob('*/vis_data/scalars.json'))) == 1, logs

    # tools/dist_test.sh: the 2 CPU ranks' predictions, gathered, are those of one process.
    def predictions(launch: list, out: str) -> list:
        result = subprocess.run(
            [*launch, '--work-dir', str(tmp_path / out), '--out', str(tmp_path / f'{out}.pkl'),
             '--cfg-options', 'model.student.test_cfg.score_thr=0.0',
             *det_data_options(det_root)],
            cwd=REPO_ROOT, env=dict(env, OMP_NUM_THREADS='1'),  # as torchrun sets per rank
            capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, failure_report(result.stdout + result.stderr)
        with open(tmp_path / f'{out}.pkl', 'rb') as f:
            return pickle.load(f)

    checkpoint = str(work_dir / 'iter_3.pth')
    two = predictions(['bash', 'tools/dist_test.sh', str(config), checkpoint, '2'], 'two')
    one = predictions([sys.executable, 'tools/test.py', str(config), checkpoint], 'one')
    assert [p['img_id'] for p in two] == [p['img_id'] for p in one] and len(one) == 8
    for a, b in zip(two, one):
        assert len(b['pred_instances']['scores']) > 0
        for key in ('bboxes', 'scores', 'labels'):
            torch.testing.assert_close(a['pred_instances'][key], b['pred_instances'][key])


def test_cpu_launch_errors_name_the_fix(monkeypatch):
    from mmengine.config import Config

    from rdimkd_mm.utils import prepare_cpu_distributed
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(RuntimeError, match=r'--launcher slurm needs GPUs .* tools/dist_train.sh'):
        prepare_cpu_distributed(Config(), 'slurm')
    for name in ('RANK', 'LOCAL_RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError, match=r'RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, '
                       r'MASTER_PORT not set\. Start the ranks with torchrun'):
        prepare_cpu_distributed(Config(), 'pytorch')
    assert prepare_cpu_distributed(Config(), 'none') is False
