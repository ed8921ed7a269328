"""Fit a distiller's PCA/autoencoder projections offline and save them for later runs.

    python tools/fit_projections.py DISTILL_CONFIG OUT_FILE [--num-batches N]

Streams training batches of the config's train dataloader through the frozen teacher, exactly
as FitProjectionsHook does before training, and saves the fitted projections and loss scales.
Later runs load the file instead of fitting: ``FitProjectionsHook(projections_file=OUT_FILE)``,
e.g. ``--cfg-options custom_hooks.0.projections_file=OUT_FILE``. Without ``--num-batches`` it
streams as many batches as the config's FitProjectionsHook would (its ``num_batches``, else the
hook's default).
"""
import argparse
import inspect
import os
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

import rdimkd_mm  # noqa: F401
from rdimkd_mm.engine.hooks import FitProjectionsHook
from rdimkd_mm.engine.projection_fit import fit_projections, fitted_state_dict, losses_to_fit
from rdimkd_mm.registry import MODELS
from rdimkd_mm.utils.tool_args import add_cfg_options, load_config


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Fit PCA/autoencoder projections offline')
    parser.add_argument('config', help='distillation config')
    parser.add_argument('out', help='output file (.pth)')
    parser.add_argument('--num-batches', type=int,
                        help="training batches to use (default: the config's FitProjectionsHook "
                        "num_batches, else the hook's default)")
    add_cfg_options(parser)
    return parser.parse_args()


def default_num_batches(cfg: Config) -> int:
    """The batches the config's FitProjectionsHook streams: its ``num_batches``, else the
    hook's own default (one source for both)."""
    for hook in cfg.get('custom_hooks', []):
        if hook.get('type') in ('rdimkd_mm.FitProjectionsHook', 'FitProjectionsHook'):
            if 'num_batches' in hook:
                return hook['num_batches']
    return inspect.signature(FitProjectionsHook).parameters['num_batches'].default


def main() -> None:
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options)
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        distiller = MODELS.build(cfg.model)
        if not losses_to_fit(distiller):
            raise SystemExit(f'{args.config} has no projection or loss scale to fit.')
        loader = Runner.build_dataloader(cfg.train_dataloader, seed=cfg.get('randomness', {}).get(
            'seed', 0))
        distiller.train()
        num_batches = default_num_batches(cfg) if args.num_batches is None else args.num_batches
        fit_projections(distiller, loader, num_batches)
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    torch.save(dict(state_dict=fitted_state_dict(distiller)), args.out)
    print(f'\nSaved the fitted projections and loss scales to {args.out}; use them with '
          "FitProjectionsHook(projections_file=...), e.g. --cfg-options "
          f'custom_hooks.0.projections_file={args.out}')


if __name__ == '__main__':
    main()
