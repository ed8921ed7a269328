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

import torch

import rdimkd_mm  # noqa: F401
from rdimkd_mm.utils import (build_model, read_checkpoint, state_dict_of, student_config,
                             student_weights)
from rdimkd_mm.utils.tool_args import add_cfg_options, load_config


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Export the student of a distiller')
    parser.add_argument('config', help='distillation config file')
    parser.add_argument('checkpoint', help='distiller checkpoint (e.g. work_dirs/.../iter_N.pth)')
    parser.add_argument('out_dir', help='output directory')
    add_cfg_options(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    plain = student_config(cfg)

    checkpoint = read_checkpoint(args.checkpoint, what='distiller')
    state = student_weights(state_dict_of(checkpoint, args.checkpoint, what='distiller'))
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
