"""Export the student of a distillation run as a plain mmdet/mmseg model.

    python tools/export_student.py DISTILL_CONFIG CHECKPOINT OUT_DIR

Writes ``OUT_DIR/student.py`` (the student's full config: model, data, evaluator, runtime;
nothing of rdimkd_mm) and ``OUT_DIR/student.pth`` (its weights with plain key names), which
vanilla mmdet/mmseg load without rdimkd_mm: ``init_detector``/``init_model`` and their
``tools/test.py``. The teacher is not needed.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import torch  # noqa: E402
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.registry import DefaultScope  # noqa: E402

import rdimkd_mm  # noqa: E402,F401
from rdimkd_mm.utils import build_model, load_model_config, read_checkpoint  # noqa: E402

# Keys of a distillation config that describe the training run, not the exported model.
_RUN_KEYS = ('work_dir', 'load_from', 'resume', 'launcher')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Export the student of a distiller')
    parser.add_argument('config', help='distillation config file')
    parser.add_argument('checkpoint', help='distiller checkpoint (e.g. work_dirs/.../iter_N.pth)')
    parser.add_argument('out_dir', help='output directory')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings')
    return parser.parse_args()


def student_config(cfg: Config) -> Config:
    """The distillation config with the distiller replaced by its student."""
    model = cfg.model
    if not str(model.get('type', '')).endswith('Distiller'):
        raise ValueError(f'{cfg.filename} is not a distillation config (model type '
                         f"{model.get('type')!r}).")
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        student, scope = load_model_config(model.student)
    plain = Config(cfg.to_dict())
    plain.model = student
    plain.default_scope = scope
    plain.custom_hooks = [
        h for h in plain.get('custom_hooks', []) if not str(h.get('type')).startswith('rdimkd_mm')
    ]
    imports = plain.get('custom_imports', {}).get('imports', [])
    imports = [i for i in imports if not i.startswith('rdimkd_mm')]
    if imports:
        plain.custom_imports.imports = imports
    else:
        plain.pop('custom_imports', None)
    for key in _RUN_KEYS:
        plain.pop(key, None)
    # Helper variables of distillation bases (e.g. `fpn_distill`) mean nothing to mmdet/mmseg.
    for key in [k for k, v in plain.items() if k != 'model' and _names_rdimkd(v)]:
        plain.pop(key)
    return plain


def _names_rdimkd(value) -> bool:
    """Whether a config value refers to a rdimkd_mm component anywhere inside."""
    if isinstance(value, dict):
        return str(value.get('type', '')).startswith('rdimkd_mm') or any(
            _names_rdimkd(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(_names_rdimkd(v) for v in value)
    return False


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    plain = student_config(cfg)

    checkpoint = read_checkpoint(args.checkpoint, what='distiller')
    state = {k[len('student.'):]: v for k, v in checkpoint.get('state_dict', {}).items()
             if k.startswith('student.')}
    if not state:
        raise RuntimeError(f'{args.checkpoint!r} holds no student.* weights: is it a '
                           'checkpoint of this distillation config?')
    # Check the weights against the student built from the exported config.
    student, _ = build_model(dict(plain.model, _scope_=plain.default_scope))
    missing = set(student.state_dict()) - set(state)
    if missing:
        raise RuntimeError(f'The student weights in {args.checkpoint!r} miss {sorted(missing)[:5]}'
                           ' of the config\'s student model.')
    student.load_state_dict(state, strict=True)

    os.makedirs(args.out_dir, exist_ok=True)
    config_path = osp.join(args.out_dir, 'student.py')
    weights_path = osp.join(args.out_dir, 'student.pth')
    plain.dump(config_path)
    meta = dict(exported_from=osp.abspath(args.checkpoint), distill_config=args.config)
    if 'dataset_meta' in checkpoint.get('meta', {}):
        meta['dataset_meta'] = checkpoint['meta']['dataset_meta']
    torch.save(dict(state_dict=student.state_dict(), meta=meta), weights_path)
    print(f'Exported the student to {config_path} and {weights_path}')


if __name__ == '__main__':
    main()
