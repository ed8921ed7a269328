"""Probe a model with one eval-mode forward of a zero image: shapes and strides of its modules.

:func:`probe_forward` is the one probe step (eval mode, no grad, a zero batch, ``mode='tensor'``,
modes restored). The distiller's taps calibrate with it, :func:`probe_modules` records every
module with it (``tools/inspect_features.py``, ``tools/inspect_pair.py``, the stride checks),
and the pair inspector finds a segmentor's head feature with it.
"""
from typing import Any, Dict, List, NamedTuple, Optional, Sequence, Tuple

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


def output_tensors(output: Any) -> Optional[List[Tensor]]:
    """The tensors of a module output: ``[output]`` for a tensor, the list of a tuple/list of
    tensors; None for anything else (a dict, a data sample, a mixed tuple)."""
    if isinstance(output, Tensor):
        return [output]
    if isinstance(output, (tuple, list)) and all(isinstance(o, Tensor) for o in output):
        return list(output)
    return None


FEATURE_MODULES = ('backbone', 'neck')  # what mmdet's and mmseg's ``extract_feat`` runs


def in_extract_feat(model: nn.Module, modules: Optional[Sequence[str]]) -> bool:
    """Whether every module of ``modules`` runs inside ``model.extract_feat`` (the backbone
    and the neck), so that a probe of them needs no head."""
    return bool(modules) and hasattr(model, 'extract_feat') and all(
        name.split('.')[0] in FEATURE_MODULES for name in modules)


@torch.no_grad()
def probe_forward(model: nn.Module, scope: str, size: Tuple[int, int],
                  modules: Optional[Sequence[str]] = None) -> Any:
    """The probe step: one forward of a zero image of ``size`` (H, W) in eval mode without
    gradients; every module's train/eval mode is restored afterwards.

    The forward goes only as far as the probed ``modules`` need: when all of them are in the
    backbone or the neck, only ``extract_feat`` runs, so heads that need a real batch's data
    samples (Sparse R-CNN's, Mask2Former's) are never called; otherwise the whole
    ``mode='tensor'`` forward runs.

    Args:
        model (nn.Module): An mmdet detector or mmseg segmentor.
        scope (str): ``'mmdet'`` or ``'mmseg'`` (the data sample type).
        size (tuple[int, int]): (H, W) of the (1, 3, H, W) zero input.
        modules (Sequence[str], optional): Names of the modules the caller records; None for
            all (the whole forward).

    Returns:
        The output of ``extract_feat`` or of the ``tensor`` forward.
    """
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    inputs, data_samples = dummy_batch(scope, size)
    try:
        if in_extract_feat(model, modules):
            return model.extract_feat(inputs)
        return model(inputs, data_samples, mode='tensor')
    finally:
        for module, training in modes:
            module.training = training


def features_of(output: Any, size: Tuple[int, int]) -> List[Feature]:
    """The tensors of a module output (a tensor or a tuple/list of tensors) as features; empty
    for any other output."""
    features = []
    for tensor in output_tensors(output) or []:
        shape = tuple(tensor.shape[1:])
        stride = size[0] / shape[1] if len(shape) == 3 and shape[1] > 0 else None
        features.append(Feature(shape, stride))
    return features


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
    try:
        probe_forward(model, scope, size, names)
    finally:
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
    """``('[a:b]', '[c:d]')`` selecting, on each side, the longest run of consecutive levels whose
    strides agree level by level (``''`` for all levels, ``'[i]'`` for one; the finest run of
    the longest). A level outside it is left out, such as SSD's last 1x1 map, whose stride
    equals the other side's only because both maps shrank to one pixel. None when no stride
    is on both sides."""
    length, t_start, s_start = 0, 0, 0
    for i in range(len(teacher)):
        for j in range(len(student)):
            n = 0
            while (i + n < len(teacher) and j + n < len(student)
                   and same_stride(teacher[i + n].stride, student[j + n].stride)):
                n += 1
            if n > length:
                length, t_start, s_start = n, i, j
    if not length:
        return None

    def text(start: int, levels: List[Feature]) -> str:
        if length == len(levels):
            return ''
        return f'[{start}]' if length == 1 else f'[{start}:{start + length}]'

    return text(t_start, teacher), text(s_start, student)
