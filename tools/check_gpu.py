"""Check a GPU install: mmcv's CUDA ops and one distillation step on the GPU.

    python tools/check_gpu.py                  # Faster R-CNN-style ops + a RetinaNet KD step
    python tools/check_gpu.py --config CONFIG  # the step of your own distillation config

Runs ``mmcv.ops.nms`` and ``mmcv.ops.roi_align`` on CUDA tensors (two-stage detectors' RPN and
RoI head need them) against their CPU results, then one training step of a distiller on the
GPU (random teacher, random batch). Exits 1, naming the fix, where CUDA or mmcv's CUDA ops are
missing.
"""
import argparse
import os.path as osp
import sys
import time

import torch

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEFAULT = 'configs/rdimkd/rdimkd-r_retinanet_r50-w32_r18-w16_synthetic-coco.py'
BUILD_HINT = ('build mmcv with its CUDA ops: with a CUDA toolkit whose version matches '
              'torch.version.cuda (nvcc on PATH), run FORCE_CUDA=1 bash scripts/setup_env.sh '
              '(pip uninstall mmcv first), see the installation guide')


def check_ops() -> str:
    """nms and roi_align on CUDA tensors, compared with their CPU results."""
    from mmcv.ops import nms, roi_align
    generator = torch.Generator().manual_seed(0)
    xy = torch.rand(200, 2, generator=generator) * 400
    boxes = torch.cat([xy, xy + 20 + torch.rand(200, 2, generator=generator) * 80], 1)
    scores = torch.rand(200, generator=generator)
    try:
        _, keep_gpu = nms(boxes.cuda(), scores.cuda(), 0.5)
    except (RuntimeError, NotImplementedError) as error:
        raise SystemExit(f'mmcv.ops.nms fails on CUDA tensors ({str(error).splitlines()[0]}): '
                         f'{BUILD_HINT}.') from None
    _, keep_cpu = nms(boxes, scores, 0.5)
    if not torch.equal(keep_gpu.cpu(), keep_cpu):
        raise SystemExit('mmcv.ops.nms keeps other boxes on the GPU than on the CPU: rebuild '
                         f'mmcv ({BUILD_HINT}).')
    features = torch.rand(2, 8, 64, 64, generator=generator)
    rois = torch.tensor([[0, 4., 4., 40., 50.], [1, 10., 0., 63., 30.]])
    aligned = roi_align(features.cuda(), rois.cuda(), (7, 7), 1.0, 2, 'avg', True)
    if not torch.allclose(aligned.cpu(), roi_align(features, rois, (7, 7), 1.0, 2, 'avg', True),
                          atol=1e-4):
        raise SystemExit(f'mmcv.ops.roi_align differs between GPU and CPU: rebuild mmcv '
                         f'({BUILD_HINT}).')
    return 'mmcv.ops.nms and roi_align run on CUDA tensors and match the CPU'


def check_step(config: str) -> str:
    """One training step of the config's distiller on the GPU, from a random teacher."""
    import tempfile

    from mmengine.config import Config
    from mmengine.optim import OptimWrapper
    from mmengine.registry import DefaultScope

    from rdimkd_mm.registry import MODELS
    from rdimkd_mm.utils import build_model
    from synthetic.batches import fake_batch
    cfg = Config.fromfile(config)
    teacher, scope = build_model(cfg.model.teacher)
    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = osp.join(tmp, 'teacher.pth')
        torch.save(dict(state_dict=teacher.state_dict()), checkpoint)
        with DefaultScope.overwrite_default_scope(scope):
            model = MODELS.build(dict(cfg.model, teacher_checkpoint=checkpoint))
    model = model.cuda()
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1e-3))
    start = time.time()
    losses = model.train_step(fake_batch(scope, n=2), optim)
    torch.cuda.synchronize()
    total = sum(v for k, v in losses.items() if 'loss' in k)
    if not torch.isfinite(total):
        raise SystemExit(f'The distillation step on the GPU gave a non-finite loss: {losses}')
    return (f'one distillation step of {osp.basename(config)} on {torch.cuda.get_device_name()}'
            f' in {time.time() - start:.2f} s, loss {float(total):.3f}, peak memory '
            f'{torch.cuda.max_memory_allocated() / 2**20:.0f} MiB')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default=osp.join(REPO_ROOT, DEFAULT),
                        help='distillation config whose step to run (its teacher is random)')
    args = parser.parse_args()
    if not torch.cuda.is_available():
        sys.exit(f'No CUDA device visible to torch {torch.__version__} (torch.version.cuda='
                 f'{torch.version.cuda}): install the CUDA build of torch from pytorch.org '
                 'and check nvidia-smi.')
    import rdimkd_mm  # noqa: F401
    print(check_ops(), flush=True)
    print(check_step(args.config), flush=True)


if __name__ == '__main__':
    main()
