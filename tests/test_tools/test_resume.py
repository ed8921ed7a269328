"""Resume is bit-exact for fitted projections too: 4 iterations straight equal 2 + --resume + 2.

The fit before training (FitProjectionsHook) draws batches through the training pipeline; it
restores the Python/NumPy/torch random states, so the uninterrupted run (which fits) and the
resumed one (which does not) see the same augmentations, with and without loader workers.
The loss scales (``normalize='teacher'``) are fitted for every variant, so RdimKD-R's run fits
too. The random states the fit restores are the same for every projection, so each projection
and each loader setting is covered once (pairwise, not every combination): RdimKD-R with no
workers is tests/test_tools/test_train_test_export.py::test_distill_resume_is_exact.
"""
import pytest
import torch

from helpers.models import DET_DISTILL
from helpers.tools import det_data_options, run_tool


@pytest.mark.parametrize('projection,workers', [('PCAProjection', 0),
                                                ('RandomProjection', 2),
                                                ('AutoencoderProjection', 2)])
def test_resume_is_bit_exact(projection, workers, det_root, random_teacher, tmp_path):
    options = [f'model.teacher_checkpoint={random_teacher}',
               f'model.distill.0.loss.projection.type=rdimkd_mm.{projection}',
               'model.distill.0.loss.projection.k=8', 'custom_hooks.0.num_batches=2',
               'model.distill.0.loss.normalize=teacher',  # scales fitted for R too
               'train_cfg.max_iters=4', 'train_cfg.val_interval=4',
               'default_hooks.checkpoint.interval=2', *det_data_options(det_root),
               f'train_dataloader.num_workers={workers}']
    straight, resumed = tmp_path / 'straight', tmp_path / 'resumed'
    output = run_tool('train.py', DET_DISTILL, '--work-dir', straight, '--cfg-options', *options)
    assert 'Fitting projections and loss scales' in output
    resumed.mkdir()
    (resumed / 'iter_2.pth').write_bytes((straight / 'iter_2.pth').read_bytes())
    output = run_tool('train.py', DET_DISTILL, '--work-dir', resumed, '--resume',
                      resumed / 'iter_2.pth', '--cfg-options', *options)
    assert 'resumed epoch: 0, iter: 2' in output and 'Fitting projections' not in output
    a = torch.load(straight / 'iter_4.pth')['state_dict']
    b = torch.load(resumed / 'iter_4.pth')['state_dict']
    assert a.keys() == b.keys()
    differ = [key for key in a if not torch.equal(a[key], b[key])]
    assert not differ, f'{len(differ)} of {len(a)} tensors differ, e.g. {differ[:3]}'
