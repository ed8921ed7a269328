"""Two CPU ranks (gloo): fitted projections are identical on every rank and equal to the fit
on the union of their data; DDP-wrapped distillation keeps the ranks' students identical."""
import os
from pathlib import Path

import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

import rdimkd_mm  # noqa: F401
from test_distiller import (RETINA_STUDENT, RETINA_TEACHER, build_distiller, fpn_point, model_cfg,
                            raw_batch, save_teacher)

WORLD_SIZE = 2
PCA = [fpn_point(k=8, projection='rdimkd_mm.PCAProjection')]


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
    distiller.fit_projections(batches_of(rank), num_batches=2, progress=False)
    model = MMDistributedDataParallel(module=distiller)
    optim = build_optim_wrapper(model, dict(optimizer=dict(type='SGD', lr=0.01)))
    model.train_step(raw_batch(seed=100 + rank), optim)
    torch.save(dict(projections=distiller.fitted_state_dict(),
                    student=distiller.student.state_dict()), f'{tmp}/rank{rank}.pth')
    torch_dist.destroy_process_group()


def test_two_ranks_agree(tmp_path: Path):
    init_default_scope('mmdet')
    checkpoint = save_teacher(model_cfg(RETINA_TEACHER), tmp_path / 'teacher.pth')
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
    single.fit_projections(union, num_batches=4, progress=False)
    reference = single.fitted_state_dict()
    for key, value in reference.items():
        if key.endswith(('eigenvalues', 'mean', 'explained_variance_ratio')):
            torch.testing.assert_close(ranks[0]['projections'][key], value, atol=1e-5,
                                       rtol=1e-4)
    # Directions are compared where the spectrum has a clear gap (level 0: after the 3rd);
    # nearly equal eigenvalues make individual later directions ill-conditioned.
    ours, theirs = (w['fpn.projections.0.weight'][:, :3]
                    for w in (ranks[0]['projections'], reference))
    torch.testing.assert_close(ours @ ours.t(), theirs @ theirs.t(), atol=1e-4, rtol=0)
