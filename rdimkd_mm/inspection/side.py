"""One model of a teacher-student pair as the pair inspector sees it: built, probed, described."""
from typing import Dict, List, Tuple

from mmengine.config import Config
from mmengine.registry import DefaultScope

from rdimkd_mm.models.task_modules import (FEATURE_MODULES, Feature, format_stride,
                                           head_feature_module, probe_modules, single_call)
from rdimkd_mm.utils import build_model, resolve_config_path

Levels = List[Feature]


class Side:
    """One model of the pair: its config, the built model and its probed features.

    Args:
        spec (str): A model config: a local path or an ``mmdet::``/``mmseg::`` name.
        size (tuple[int, int]): (H, W) of the probe image.
    """

    def __init__(self, spec: str, size: Tuple[int, int]) -> None:
        self.spec, self.size = spec, tuple(size)
        self.cfg = Config.fromfile(resolve_config_path(spec))
        if 'model' not in self.cfg:
            raise KeyError(f'Config {spec!r} has no `model`.')
        if 'rdimkd_mm' in str(self.cfg.model.get('type', '')):
            raise ValueError(f'{spec!r} is a distillation config; give the plain teacher and '
                             'student model configs.')
        with DefaultScope.overwrite_default_scope(self.cfg.get('default_scope')):
            self.model, self.scope = build_model(spec)
        self.note = ''
        try:
            self.records = probe_modules(self.model, self.scope, size)
        except Exception as error:  # a head that needs a real batch, or too small an image
            self.records = self._probe_features(size, error)
            self.head_feature = None
            return
        self.head_feature = (head_feature_module(self.model, self.scope, size)
                             if self.scope == 'mmseg' else None)

    def _probe_features(self, size: Tuple[int, int], error: Exception) -> Dict[str, list]:
        """The backbone and the neck alone, after the whole forward failed with ``error``;
        :attr:`note` says why. A failure here too (an image too small for the model) raises
        an error that names ``--size``."""
        names = [n for n in dict(self.model.named_modules()) if n.split('.')[0] in
                 FEATURE_MODULES]
        failure = f'{type(error).__name__}: {error}'
        try:
            records = probe_modules(self.model, self.scope, size, names)
        except Exception as again:
            raise ValueError(
                f'{self.spec} cannot be probed with a zero {size[0]}x{size[1]} image '
                f'({type(again).__name__}: {again}); the image is likely too small for the '
                'model: give a larger --size H W (e.g. its test pipeline\'s scale).') from again
        self.note = (f'{self.spec}: its head could not be probed with a zero image and no '
                     f'annotations ({failure}); only its backbone and neck are listed.')
        return records

    def levels(self, module: str) -> Levels:
        """The outputs of ``module`` when it ran once; empty otherwise."""
        return single_call(self.records, module)

    def point_levels(self, address: str) -> Levels:
        """The levels a feature address (``'neck'``, ``'neck[1]'``, ``'neck[0:3]'``) selects."""
        module, _, index = address.partition('[')
        levels = self.levels(module)
        if not index:
            return levels
        start, colon, stop = index.rstrip(']').partition(':')
        return levels[int(start):int(stop)] if colon else [levels[int(start)]]


def describe_levels(levels: Levels) -> str:
    """Levels as ``C x H x W /stride`` text, ``'; '``-separated; ``'-'`` for none."""
    if not levels:
        return '-'
    return '; '.join(f'{f.shape[0]}x{f.shape[1]}x{f.shape[2]} /{format_stride(f.stride)}'
                     if f.is_map else f'{f.shape} (tokens?)' for f in levels)
