"""The data a training config names, checked before anything is built, and the data errors
met while training, each named with its file and the setting to change."""
import contextlib
import json
import os
import os.path as osp
import re
from typing import Iterator, List, Tuple

from mmengine.config import Config

_IMAGE_ERROR = re.compile(r'failed to load image: (\S+)')


def _datasets(dataset, key: str) -> Iterator[Tuple[str, dict]]:
    """``(config key, dataset dict)`` of each dataset inside wrappers (RepeatDataset,
    MultiImageMixDataset, ConcatDataset)."""
    if not isinstance(dataset, dict):
        return
    yield key, dataset
    yield from _datasets(dataset.get('dataset'), f'{key}.dataset')
    for i, inner in enumerate(dataset.get('datasets') or []):
        yield from _datasets(inner, f'{key}.datasets.{i}')


def data_files(cfg: Config) -> List[Tuple[str, str, str]]:
    """``(config key, path, 'dir' or 'file')`` of the local data the training run reads: each
    training (and, with validation, validation) dataset's ``data_root``, ``ann_file`` and
    ``data_prefix`` folders, and the validation evaluator's ``ann_file``."""
    loaders = ['train_dataloader'] + (['val_dataloader'] if cfg.get('val_cfg') else [])
    found = []
    for loader in loaders:
        for key, ds in _datasets((cfg.get(loader) or {}).get('dataset'), f'{loader}.dataset'):
            if ds.get('backend_args') or 'type' not in ds:  # remote storage, or a wrapper
                continue
            root = ds.get('data_root') or ''
            if root:
                found.append((f'{key}.data_root', root, 'dir'))
            if ds.get('ann_file'):
                found.append((f'{key}.ann_file', osp.join(root, ds.ann_file), 'file'))
            prefixes = ds.get('data_prefix') or {}
            for name, prefix in (prefixes.items() if isinstance(prefixes, dict) else ()):
                if isinstance(prefix, str) and prefix:
                    found.append((f'{key}.data_prefix.{name}', osp.join(root, prefix), 'dir'))
    evaluators = cfg.get('val_evaluator') if cfg.get('val_cfg') else None
    for i, ev in enumerate(evaluators if isinstance(evaluators, list) else [evaluators]):
        if isinstance(ev, dict) and isinstance(ev.get('ann_file'), str):
            key = 'val_evaluator' + (f'.{i}' if isinstance(evaluators, list) else '')
            found.append((f'{key}.ann_file', ev['ann_file'], 'file'))
    return [f for f in found if '://' not in f[1]]


def check_data_files(cfg: Config) -> None:
    """Check before training that the data :func:`data_files` lists is on disk.

    Raises:
        FileNotFoundError: naming the config key, the path and how to set it.
    """
    for key, path, kind in data_files(cfg):
        exists = osp.isdir(path) if kind == 'dir' else osp.isfile(path)
        if not exists:
            what = 'folder' if kind == 'dir' else 'file'
            raise FileNotFoundError(
                f'{key}: the {what} {path!r} does not exist (relative paths start at '
                f'{os.getcwd()}). Point the config at your data, e.g. --cfg-options '
                f'{key}=PATH; the synthetic sets are made with python '
                'tools/make_synthetic_data.py {det,seg} DIR.')


@contextlib.contextmanager
def named_data_errors(cfg: Config) -> Iterator[None]:
    """Re-raise the errors of unreadable data met while building the datasets or training
    with the file and the fix: an annotation file that is not JSON, an image that cannot be
    decoded (mmcv's ``AssertionError: failed to load image``)."""
    try:
        yield
    except json.JSONDecodeError as error:
        bad = [(key, path) for key, path, kind in data_files(cfg)
               if kind == 'file' and path.endswith('.json') and not _is_json(path)]
        named = ', '.join(f'{path} ({key})' for key, path in bad) or 'an annotation file'
        raise ValueError(
            f'{named} is not valid JSON ({error.msg} at line {error.lineno}, column '
            f'{error.colno}): it is truncated or not an annotation file. Regenerate or '
            're-download it, or point the config key at the right file.') from error
    except AssertionError as error:
        match = _IMAGE_ERROR.search(str(error))
        if match is None:
            raise
        raise ValueError(
            f'The image {match.group(1)} cannot be decoded: the file is corrupt, truncated or '
            'not an image. Replace it, or delete it and its entry in the annotation file.'
        ) from error


def _is_json(path: str) -> bool:
    try:
        with open(path, encoding='utf-8') as f:
            json.load(f)
    except (OSError, ValueError):
        return False
    return True
