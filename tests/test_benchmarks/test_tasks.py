"""benchmarks/tasks.py: each task's arms are the configs they claim to be."""
import sys

import pytest
from mmengine.config import Config

from helpers.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT))
from benchmarks.tasks import TASKS  # noqa: E402


@pytest.mark.parametrize('task', sorted(TASKS))
def test_arm_configs(task):
    """The default arm (RdimKD-R for detection, RdimKD-A for segmentation) is the shipped default
    untouched, its hooks included; the other RdimKD arms change only the projection (P and A
    add the fit hook); full L2 is the identity projection on the teacher-normalised loss at
    weight 1; each peer arm is its own loss at its published weight, without the fit hook."""
    spec = TASKS[task]
    losses, points = {}, {}
    for arm in spec.arms[1:]:
        cfg = Config.fromfile(str(REPO_ROOT / spec.config(arm)))
        assert cfg.model.type == 'rdimkd_mm.FeatureDistiller'
        assert (REPO_ROOT / cfg.model.teacher).is_file()
        (point, ) = cfg.model.distill
        losses[arm], points[arm] = point.loss, (point.student, point.teacher)
        assert point.loss.loss_weight == spec.peers.get(
            arm, 1.0 if arm == 'fitnet-l2' else spec.default_weight)
        assert point.loss.get('normalize') == {'fitnet-l2': 'teacher'}.get(
            arm, None if arm in spec.peers else 'standardize')
        assert (cfg.get('custom_hooks', []) == []) == (arm not in spec.fit_hook_arms)
    peers = {arm: losses.pop(arm).type for arm in spec.peers}
    assert peers == {'det': {'pkd': 'rdimkd_mm.PKDLoss'},
                     'seg': {'cwd': 'rdimkd_mm.CWDLoss'}}.get(task, {})
    if 'pkd' in peers:  # PKD on RdimKD's FPN levels
        assert points['pkd'] == points['rdimkd-r']
    if 'cwd' in peers:  # CWD on the logits, its published point
        assert points['cwd'] == ('decode_head.conv_seg', 'decode_head.conv_seg')
    projections = {arm: loss.projection.type.split('.')[-1] for arm, loss in losses.items()}
    expected = {'rdimkd-r': 'RandomProjection', 'rdimkd-p': 'PCAProjection',
                'rdimkd-a': 'AutoencoderProjection', 'fitnet-l2': 'IdentityProjection'}
    assert projections == {arm: expected[arm] for arm in spec.kd_arms}
    assert {loss.projection.get('k') for arm, loss in losses.items()
            if arm != 'fitnet-l2'} == {0.25}
    default = Config.fromfile(str(REPO_ROOT / spec.default_config))
    shipped = default.fpn_distill if spec.kind == 'det' else default.seg_distill
    distill = Config.fromfile(str(REPO_ROOT / spec.config(spec.default_arm)))
    assert distill.model.distill == shipped
    assert distill.get('custom_hooks', []) == default.get('seg_distill_hooks', [])
    student = Config.fromfile(str(REPO_ROOT / spec.config('baseline')))
    assert distill.model.student == student.model
    assert distill.train_dataloader == student.train_dataloader
