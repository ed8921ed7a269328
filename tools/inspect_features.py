"""List the feature maps a model produces, to choose distillation points.

    python tools/inspect_features.py CONFIG [--side student|teacher] [--depth 2] [--size H W]

CONFIG is a model or distillation config: a local path or an ``mmdet::``/``mmseg::`` name.
Runs one eval-mode forward (mode='tensor', zero image) of the model (for a distillation
config, of its student or teacher, built from config only, no weights) and prints every module
whose output is a tensor or a tuple of tensors: its name (what ``distill``'s
``student=``/``teacher=`` take, with ``[i]`` for one element of a tuple), how often it runs per
forward, the output shapes (C, H, W) and strides (input size / map size). Modules that never
run are not listed; a head whose forward() mmdet/mmseg call directly shows only through its
submodules. To match a teacher with a student, use ``tools/inspect_pair.py``.
"""
import argparse

from mmengine.config import Config
from mmengine.registry import DefaultScope

import rdimkd_mm  # noqa: F401
from rdimkd_mm.models.task_modules import probe_modules
from rdimkd_mm.utils import build_model, is_distill_config, resolve_config_path


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='List module outputs and their shapes')
    parser.add_argument('config', help='model or distillation config (path or mmdet::/mmseg::)')
    parser.add_argument('--side', choices=['student', 'teacher'], default='student',
                        help='which model of a distillation config')
    parser.add_argument('--depth', type=int, default=2,
                        help='deepest module level listed (dots in the name + 1)')
    parser.add_argument('--size', type=int, nargs=2, default=[256, 256], metavar=('H', 'W'))
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(resolve_config_path(args.config))
    spec = cfg.model
    if is_distill_config(cfg):
        spec = spec[args.side]
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        model, scope = build_model(spec)
    size = tuple(args.size)
    names = [n for n, _ in model.named_modules() if n and n.count('.') < args.depth]
    records = probe_modules(model, scope, size, names)

    print(f'{type(model).__name__} ({scope}), input 1x3x{size[0]}x{size[1]}; shapes are '
          '(C, H, W) /stride')
    print(f'{"module":<40} {"calls":>5}  output')
    for name in names:
        calls = records.get(name)
        if not calls:
            continue
        shown = [f.describe() for f in calls[0]]
        shown = shown[0] if len(shown) == 1 else f'tuple of {len(shown)}: ' + ', '.join(shown)
        print(f'{name:<40} {len(calls):>5}  {shown}')


if __name__ == '__main__':
    main()
