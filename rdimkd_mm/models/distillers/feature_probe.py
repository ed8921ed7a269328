"""Probe a model with one eval-mode forward of a zero image: shapes and strides of its modules.

The distiller probes its feature addresses at construction, ``tools/inspect_features.py`` and
``tools/inspect_pair.py`` probe every module; all of them use :func:`probe_modules`.
"""
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple

import torch
from torch import Tensor, nn


class Feature(NamedTuple):
    """One recorded output: its shape without the batch axis and its stride w.r.t. the input.

    ``shape`` is (C, H, W) for a feature map, anything else (e.g. (L, C) tokens) otherwise;
    ``stride`` is the input height over the map height (None when not a map).
    """
    shape: Tuple[int, ...]
    stride: Optional[float]

    @property
    def is_map(self) -> bool:
        return len(self.shape) == 3

    def describe(self) -> str:
        if not self.is_map:
            return f'{self.shape} (not a (C, H, W) map)'
        return f'{self.shape} stride {format_stride(self.stride)}'


def format_stride(stride: float) -> str:
    return f'{stride:g}'


def dummy_batch(scope: str, size: Tuple[int, int]) -> Tuple[Tensor, list]:
    """A (1, 3, H, W) zero image and one data sample of the library ``scope``."""
    h, w = size
    meta = dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w), batch_input_shape=(h, w),
                scale_factor=(1.0, 1.0), img_id=0)
    if scope == 'mmseg':
        from mmseg.structures import SegDataSample as DataSample
    else:
        from mmdet.structures import DetDataSample as DataSample
    return torch.zeros(1, 3, h, w), [DataSample(metainfo=meta)]


def features_of(output, size: Tuple[int, int]) -> List[Feature]:
    """The tensors of a module output (a tensor or a tuple/list of tensors) as features."""
    if isinstance(output, Tensor):
        tensors = [output]
    elif isinstance(output, (tuple, list)) and output and all(
            isinstance(o, Tensor) for o in output):
        tensors = list(output)
    else:
        return []
    features = []
    for tensor in tensors:
        shape = tuple(tensor.shape[1:])
        stride = size[0] / shape[1] if len(shape) == 3 and shape[1] > 0 else None
        features.append(Feature(shape, stride))
    return features


@torch.no_grad()
def probe_modules(model: nn.Module, scope: str, size: Tuple[int, int],
                  names: Optional[Sequence[str]] = None) -> Dict[str, List[List[Feature]]]:
    """Run ``model`` once (eval mode, ``mode='tensor'``) and record module outputs.

    Args:
        model (nn.Module): An mmdet detector or mmseg segmentor.
        scope (str): ``'mmdet'`` or ``'mmseg'``.
        size (tuple[int, int]): (H, W) of the zero input image.
        names (Sequence[str], optional): Modules to record; all named modules when None.

    Returns:
        dict: ``{module name: [features of each call, in call order]}`` for the modules that
        ran and returned tensors.
    """
    modules = dict(model.named_modules())
    names = [n for n in modules if n] if names is None else list(names)
    records: Dict[str, List[List[Feature]]] = {}

    def hook(name):

        def record(module, inputs, output):
            features = features_of(output, size)
            if features:
                records.setdefault(name, []).append(features)

        return record

    handles = [modules[name].register_forward_hook(hook(name)) for name in names]
    was_training = model.training
    model.eval()
    try:
        model(*dummy_batch(scope, size), mode='tensor')
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return records


def single_call(records: Dict[str, List[List[Feature]]], module: str) -> List[Feature]:
    """The outputs of ``module`` if it ran once in the probe (slices index one call's tuple)."""
    calls = records.get(module, [])
    return calls[0] if len(calls) == 1 else []


def same_stride(a: Optional[float], b: Optional[float]) -> bool:
    return a is not None and b is not None and abs(a - b) < 1e-6 * a


def equal_stride_slices(teacher: List[Feature],
                        student: List[Feature]) -> Optional[Tuple[str, str]]:
    """``('[a:b]', '[c:d]')`` selecting, on each side, the levels whose strides both sides have
    (``''`` for all levels, ``'[i]'`` for one); None when they are not contiguous."""
    common = [t.stride for t in teacher
              if any(same_stride(t.stride, s.stride) for s in student)]
    if not common:
        return None
    t_index = [i for i, f in enumerate(teacher) if any(same_stride(f.stride, c) for c in common)]
    s_index = [i for i, f in enumerate(student) if any(same_stride(f.stride, c) for c in common)]
    if len(t_index) != len(s_index) or not (_contiguous(t_index) and _contiguous(s_index)):
        return None

    def text(index: List[int], levels: List[Feature]) -> str:
        if len(index) == len(levels):
            return ''
        return f'[{index[0]}]' if len(index) == 1 else f'[{index[0]}:{index[-1] + 1}]'

    return text(t_index, teacher), text(s_index, student)


def _contiguous(index: List[int]) -> bool:
    return index == list(range(index[0], index[-1] + 1))
