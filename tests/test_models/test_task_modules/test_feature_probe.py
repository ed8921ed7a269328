"""The one probe step and the one flatten, as the taps, the probe and the inspector use them."""
import torch
from torch import nn

from rdimkd_mm.models.task_modules import (Feature, FeatureTaps, features_of, head_feature_module,
                                           output_tensors, probe_forward, probe_modules)


class TinyDetector(nn.Module):
    """An mmdet-style model: ``forward(inputs, data_samples, mode)``; records what it saw."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.neck = nn.BatchNorm2d(4)
        self.head = nn.Dropout(0.5)
        self.seen = []

    def forward(self, inputs, data_samples=None, mode='tensor'):
        self.seen.append((inputs.shape, torch.is_grad_enabled(), self.training,
                          self.neck.training, float(inputs.abs().sum())))
        return self.head(self.neck(self.backbone(inputs)))


class TinySegmentor(TinyDetector):
    """An mmseg-style segmentor: the classifier ``decode_head.conv_seg`` reads the output of
    ``decode_head.fuse`` through a dropout."""

    def __init__(self):
        super().__init__()
        self.decode_head = nn.ModuleDict(dict(fuse=nn.Conv2d(4, 4, 1), dropout=nn.Dropout2d(0.1),
                                              conv_seg=nn.Conv2d(4, 2, 1)))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        head = self.decode_head
        features = super().forward(inputs, data_samples, mode)
        return head['conv_seg'](head['dropout'](head['fuse'](features)))


def test_probe_forward_runs_a_zero_batch_in_eval_mode_and_restores_each_mode():
    model = TinyDetector()
    model.neck.eval()  # a frozen norm inside a training model keeps its own mode
    output = probe_forward(model, 'mmdet', (32, 24))
    assert model.seen == [(torch.Size([1, 3, 32, 24]), False, False, False, 0.0)]
    assert output.shape == (1, 4, 16, 12) and not output.requires_grad
    assert model.training and model.backbone.training and model.head.training
    assert not model.neck.training
    running = model.neck.running_mean.clone()
    probe_forward(model, 'mmdet', (32, 24))  # eval mode: the norm's statistics stay
    assert torch.equal(model.neck.running_mean, running)


def test_output_tensors_is_the_one_flatten():
    a, b = torch.zeros(1, 2, 4, 4), torch.zeros(1, 2, 2, 2)
    assert output_tensors(a) == [a]
    assert output_tensors((a, b)) == [a, b] and output_tensors([a]) == [a]
    assert output_tensors(()) == []
    assert output_tensors({'x': a}) is None and output_tensors((a, 'x')) is None
    assert features_of((a, b), (8, 8)) == [Feature((2, 4, 4), 2.0), Feature((2, 2, 2), 4.0)]
    assert features_of({'x': a}, (8, 8)) == [] and features_of((), (8, 8)) == []


def test_taps_probe_and_inspector_share_the_probe_step():
    model = TinySegmentor()
    taps = FeatureTaps(model, ['neck'], 'student')
    assert taps.calibrate(model, 'mmseg', (32, 32)) == {'neck': [Feature((4, 16, 16), 2.0)]}
    assert probe_modules(model, 'mmseg', (32, 32), ['backbone'])['backbone'] == [
        [Feature((4, 16, 16), 2.0)]]
    assert head_feature_module(model, 'mmseg', (32, 32)) == 'decode_head.fuse'
    assert head_feature_module(TinyDetector(), 'mmdet', (32, 32)) is None  # no classifier
    assert [seen[1:4] for seen in model.seen] == [(False, False, False)] * 3
    assert model.training and model.neck.training and model.decode_head.training
