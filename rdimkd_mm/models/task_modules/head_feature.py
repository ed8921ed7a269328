"""Find a segmentor's head feature: the decode-head module whose output the classifier reads."""
from typing import Optional, Tuple

import torch
from torch import nn

from .feature_probe import probe_forward


def head_feature_module(model: nn.Module, scope: str, size: Tuple[int, int]) -> Optional[str]:
    """The decode-head submodule whose output the classifier (``conv_seg``) reads.

    Found from one probe forward (:func:`probe_forward`): the shallowest module of the head
    whose output tensor is the input of its ``conv_seg`` (or of its dropout), whatever the head
    calls that module. The head is ``decode_head``, or the last of a cascade's heads
    (``decode_head`` a list, as in OCRNet: ``decode_head.1``), whose prediction is the model's.

    Args:
        model (nn.Module): An mmseg segmentor.
        scope (str): ``'mmseg'``.
        size (tuple[int, int]): (H, W) of the probe image.

    Returns:
        str | None: The module name; None when the model has no ``decode_head.conv_seg`` or
        no module's output reaches it.
    """
    modules = dict(model.named_modules())
    head = decode_head_name(model)
    if f'{head}.conv_seg' not in modules:
        return None
    inputs, outputs = set(), []

    def record_input(module, args):
        inputs.add(args[0].data_ptr())

    def record_output(name):

        def record(module, args, output):
            if isinstance(output, torch.Tensor):
                outputs.append((name, output))

        return record

    skip = (f'{head}.conv_seg', f'{head}.dropout')
    handles = [modules[n].register_forward_pre_hook(record_input) for n in skip if n in modules]
    handles += [
        module.register_forward_hook(record_output(name)) for name, module in modules.items()
        if name.startswith(f'{head}.') and name not in skip
    ]
    try:
        probe_forward(model, scope, size)
    finally:
        for handle in handles:
            handle.remove()
    found = [name for name, out in outputs if out.data_ptr() in inputs]
    return min(found, key=lambda n: n.count('.')) if found else None


def decode_head_name(model: nn.Module) -> str:
    """``'decode_head'``, or ``'decode_head.<i>'`` of the last head of a cascade (mmseg's
    ``CascadeEncoderDecoder`` keeps its heads in a list)."""
    head = getattr(model, 'decode_head', None)
    if isinstance(head, (nn.ModuleList, nn.Sequential)) and len(head):
        return f'decode_head.{len(head) - 1}'
    return 'decode_head'
