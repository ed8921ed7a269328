"""The shipped default distillation of each library, read from its base config."""
import os.path as osp
from typing import List

from mmengine.config import Config

#: The repository root, which holds ``configs/``.
REPO_ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
#: Per scope: the default's base config, the variable of its distillation points (whose first
#: point's loss a written config copies to every point) and that of the hooks it needs (None:
#: nothing to fit before training).
DEFAULTS = {
    'mmdet': ('configs/_base_/distill/rdimkd-r_fpn.py', 'fpn_distill', None),
    'mmseg': ('configs/_base_/distill/rdimkd-a_seg.py', 'seg_distill', 'seg_distill_hooks'),
}
#: The method name of each projection type.
METHODS = {'RandomProjection': 'RdimKD-R', 'PCAProjection': 'RdimKD-P',
           'AutoencoderProjection': 'RdimKD-A'}


def default_config(scope: str) -> Config:
    """The base config of the default for ``scope`` (``'mmdet'`` or ``'mmseg'``)."""
    path = osp.join(REPO_ROOT, DEFAULTS[scope][0])
    if not osp.isfile(path):
        raise FileNotFoundError(f'The default distillation config {path!r} is missing: the pair '
                                'inspector reads the configs/ folder of a source checkout of '
                                'rdimkd-mm (pip install -e .).')
    return Config.fromfile(path)


def default_loss(scope: str) -> dict:
    """The loss of the default for ``scope`` ('mmdet' or 'mmseg'), from its base config."""
    return default_config(scope)[DEFAULTS[scope][1]][0].loss.to_dict()


def default_hooks(scope: str) -> List[dict]:
    """The hooks the default for ``scope`` needs (e.g. its projection fit)."""
    name = DEFAULTS[scope][2]
    return [] if name is None else [h.to_dict() for h in default_config(scope)[name]]


def method_name(loss: dict) -> str:
    """``'RdimKD-R'``, ``'RdimKD-P'`` or ``'RdimKD-A'`` by the loss's projection type."""
    return METHODS.get(loss['projection']['type'].split('.')[-1], 'RdimKD')
