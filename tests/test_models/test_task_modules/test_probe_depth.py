"""The probe goes only as far as the probed modules: backbone and neck features are probed
through ``extract_feat``, without a head that needs a real batch (Sparse R-CNN's,
Mask2Former's; both pairs train through tools/train.py in tests/test_runner_pairs.py)."""
import pytest
import torch
from torch import nn

from rdimkd_mm.models.task_modules import FeatureTaps


class NeedsDataSamples(nn.Module):
    """A head whose forward needs annotations a zero probe image does not have."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(8, 8, 1)

    def forward(self, x, data_samples):
        if not hasattr(data_samples[0], 'gt_instances'):
            raise AttributeError("'DetDataSample' object has no attribute '_gt_instances'")
        return self.conv(x)


class Detector(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.neck = nn.Conv2d(4, 8, 1)
        self.head = NeedsDataSamples()

    def extract_feat(self, inputs):
        return self.neck(self.backbone(inputs))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        return self.head.conv(self.head(self.extract_feat(inputs), data_samples))


def test_backbone_and_neck_are_probed_without_the_head():
    model = Detector()
    taps = FeatureTaps(model, ['neck', 'backbone'], 'teacher')
    feats = taps.calibrate(model, 'mmdet', (32, 32))
    assert [(f.shape, f.stride) for f in feats['neck']] == [((8, 16, 16), 2.0)]
    assert taps.expected_calls == {'neck': 1, 'backbone': 1}
    # Training's early exit stops the whole forward after the neck, before the head.
    with taps.recording(stop_when_complete=True):
        model(torch.zeros(1, 3, 32, 32), [object()])
    assert taps.collect()['neck'][0].shape == (1, 8, 16, 16)


def test_a_head_point_that_needs_a_real_batch_names_the_fix():
    model = Detector()
    taps = FeatureTaps(model, ['head.conv'], 'student')
    with pytest.raises(RuntimeError, match=r"The student could not be probed at \['head.conv'\] "
                       r"with a zero 32x32 image and no annotations: AttributeError: .*distil "
                       r"backbone or neck features .*model.probe_size"):
        taps.calibrate(model, 'mmdet', (32, 32))
