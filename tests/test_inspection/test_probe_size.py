"""A model that needs a larger probe image than the default (SSD300's extra layers fail below
about 300 px): the inspector and the distiller's build probe name the option to set, and the
inspector writes its size into the config as the distiller's ``probe_size``. (The SSD zoo pair
trains from the config the inspector writes, through tools/train.py at 320 px, in
tests/test_tools/test_runner_pairs.py.)"""
import pytest
import torch
from mmengine.registry import init_default_scope

from rdimkd_mm.inspection import Side
from rdimkd_mm.models import FeatureDistiller
from helpers.models import initialised_model

SSD300 = 'mmdet::ssd/ssd300_coco.py'
SSDLITE = 'mmdet::ssd/ssdlite_mobilenetv2-scratch_8xb24-600e_coco.py'


def test_the_inspector_names_size_for_too_small_an_image():
    init_default_scope('mmdet')
    with pytest.raises(ValueError, match=r'ssd300_coco.py cannot be probed with a zero 256x256 '
                       r"image \(RuntimeError: .*Kernel size can't be greater than actual input "
                       r'size\); .*give a larger --size H W'):
        Side(SSD300, (256, 256))


def test_the_distiller_names_probe_size_for_too_small_an_image(tmp_path):
    init_default_scope('mmdet')
    teacher = initialised_model(SSD300)  # built only, its L2Norm weight may hold NaN
    torch.save(dict(state_dict=teacher.state_dict()), tmp_path / 'ssd300.pth')
    point = dict(name='ssd', student='neck[0:3]', teacher='neck[1:4]',
                 loss=dict(type='rdimkd_mm.RdimKDLoss',
                           projection=dict(type='rdimkd_mm.RandomProjection', k=16)))
    with pytest.raises(RuntimeError, match=r"The teacher could not be probed at \['neck'\] with "
                       r'a zero 256x256 image .*set the probe_size of the distiller '
                       r'\(model.probe_size=\(H, W\)\)'):
        FeatureDistiller(SSDLITE, SSD300, str(tmp_path / 'ssd300.pth'), [point])
    distiller = FeatureDistiller(SSDLITE, SSD300, str(tmp_path / 'ssd300.pth'), [point],
                                 probe_size=(320, 320))
    assert distiller.distill_losses['ssd'].level_channels == [(96, 1024), (1280, 512),
                                                              (512, 256)]
