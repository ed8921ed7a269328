"""List the feature maps a model produces, to choose distillation points.

    python tools/inspect_features.py CONFIG [--side student|teacher] [--depth 2] [--size H W]

Runs one eval-mode forward (mode='tensor', zero image) of the model of CONFIG (for a
distillation config, of its student or teacher, built from config only, no weights) and prints
every module whose output is a tensor or a tuple of tensors: its name (what ``distill``'s
``student=``/``teacher=`` take, with ``[i]`` for one element of a tuple), how often it runs per
forward, and the output shapes (C, H, W). Modules that never run are not listed; note that a
head whose forward() mmdet/mmseg call directly shows only through its submodules.
"""
import argparse
import os.path as osp
import sys
from collections import defaultdict

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402
from torch import Tensor  # noqa: E402

import rdimkd_mm  # noqa: E402,F401
from rdimkd_mm.utils import build_model  # noqa: E402


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='List module outputs and their shapes')
    parser.add_argument('config', help='model or distillation config')
    parser.add_argument('--side', choices=['student', 'teacher'], default='student',
                        help='which model of a distillation config')
    parser.add_argument('--depth', type=int, default=2,
                        help='deepest module level listed (dots in the name + 1)')
    parser.add_argument('--size', type=int, nargs=2, default=[256, 256], metavar=('H', 'W'))
    return parser.parse_args()


def shapes_of(output) -> list:
    if isinstance(output, Tensor):
        return [tuple(output.shape[1:])]
    if isinstance(output, (tuple, list)) and output and all(
            isinstance(o, Tensor) for o in output):
        return [tuple(o.shape[1:]) for o in output]
    return []


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    spec = cfg.model
    if str(spec.get('type', '')).endswith('Distiller'):
        spec = spec[args.side]
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        model, scope = build_model(spec)
    model.eval()
    records = defaultdict(list)
    names = [n for n, _ in model.named_modules() if n and n.count('.') < args.depth]
    modules = dict(model.named_modules())
    for name in names:
        modules[name].register_forward_hook(
            lambda module, inputs, output, name=name: records[name].append(shapes_of(output)))

    h, w = args.size
    meta = dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w), batch_input_shape=(h, w),
                scale_factor=(1.0, 1.0), img_id=0)
    if scope == 'mmseg':
        from mmseg.structures import SegDataSample as DataSample
    else:
        from mmdet.structures import DetDataSample as DataSample
    with torch.no_grad():
        model(torch.zeros(1, 3, h, w), [DataSample(metainfo=meta)], mode='tensor')

    print(f'{type(model).__name__} ({scope}), input 1x3x{h}x{w}; shapes are (C, H, W)')
    print(f'{"module":<40} {"calls":>5}  output')
    for name in names:
        calls = records.get(name)
        if not calls or not calls[0]:
            continue
        shapes = calls[0]
        shown = (str(shapes[0]) if len(shapes) == 1 else
                 f'tuple of {len(shapes)}: ' + ', '.join(map(str, shapes)))
        print(f'{name:<40} {len(calls):>5}  {shown}')


if __name__ == '__main__':
    main()
