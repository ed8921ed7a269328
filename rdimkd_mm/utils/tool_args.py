"""What the tools' command lines share: ``--cfg-options``, the launcher, loading the config."""
import argparse
import os
from typing import Optional

from mmengine.config import Config, DictAction


def add_cfg_options(parser: argparse.ArgumentParser,
                    help: str = 'override config settings') -> None:
    """``--cfg-options k=v ...``, merged into the config by :func:`load_config`."""
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, help=help)


def add_launcher(parser: argparse.ArgumentParser) -> None:
    """``--launcher`` (mmengine's: none, pytorch, slurm, mpi) and torchrun's ``--local-rank``."""
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_launched_args(parser: argparse.ArgumentParser) -> argparse.Namespace:
    """Parse a command line with :func:`add_launcher`'s options; set ``LOCAL_RANK`` from
    ``--local-rank`` when the launcher did not."""
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def load_config(path: str, cfg_options: Optional[dict] = None,
                launcher: Optional[str] = None) -> Config:
    """The config file ``path`` with ``launcher`` set (if given), then ``cfg_options`` merged."""
    cfg = Config.fromfile(path)
    if launcher is not None:
        cfg.launcher = launcher
    if cfg_options is not None:
        cfg.merge_from_dict(cfg_options)
    return cfg
