"""The ``--cfg-options`` that run a distillation config through ``tools/train.py`` on the tiny
synthetic sets: what a user without the data, the teacher weights or internet changes on the
command line (the data, the input size, the student's pretrained init, light loaders, no
validation). Used by tests/test_tools/test_runner_pairs.py and
tests/test_tools/test_inspect_tools.py."""
from pathlib import Path
from typing import Dict, List, Optional

from mmengine.config import Config

from rdimkd_mm.utils import pretrained_inits
from synthetic import SYNTHETIC_COCO_CLASSES

DET_SIZE = 128  # training and probe input size (px) of detection runs
SEG_SIZE = 128  # crop size of segmentation runs
IMAGES = 2  # training images: one iteration per epoch at batch size 2
NEVER = 10**6  # an interval never reached


def cli_value(value) -> str:
    """``value`` as mmengine's DictAction parses it back from ``--cfg-options``."""
    if isinstance(value, tuple):
        return '(' + ','.join(cli_value(v) for v in value) + (',)' if len(value) == 1 else ')')
    if isinstance(value, list):
        return '[' + ','.join(cli_value(v) for v in value) + ']'
    if isinstance(value, str):
        assert not set(value) & set(',()[]= \'"'), value
    return str(value)


def shrink_pipeline(pipeline: list, key: str, size: int) -> Dict[str, object]:
    """Overrides that make the transforms of ``pipeline`` (at config key ``key``) produce
    images of about ``size`` px."""
    s = (size, size)
    changes: Dict[str, object] = {}
    for i, transform in enumerate(pipeline):
        at = f'{key}.{i}'
        if isinstance(transform, list):  # a RandomChoice branch
            changes.update(shrink_pipeline(transform, at, size))
            continue
        kind = transform.get('type', '').split('.')[-1]
        if kind in ('Resize', 'RandomResize') and 'scale' in transform:
            # RandomResize samples between two scales when given a list.
            scale = transform['scale']
            changes[f'{at}.scale'] = [s] * len(scale) if isinstance(scale, list) else s
        elif kind == 'RandomChoiceResize':
            changes[f'{at}.scales'] = [s]
        elif kind == 'RandomCrop':
            crop_type = transform.get('crop_type', 'absolute')
            if crop_type == 'absolute_range':
                changes[f'{at}.crop_size'] = (size // 2, size)
            elif crop_type == 'absolute':
                changes[f'{at}.crop_size'] = s
        elif kind in ('Mosaic', 'CachedMosaic', 'MixUp', 'CachedMixUp'):
            changes[f'{at}.img_scale'] = s
        elif kind == 'RandomAffine' and 'border' in transform:
            changes[f'{at}.border'] = (-size // 2, -size // 2)
        elif kind == 'Pad' and transform.get('size') is not None:
            changes[f'{at}.size'] = s
        elif kind == 'RandomChoice':
            changes.update(shrink_pipeline(transform['transforms'], f'{at}.transforms', size))
    return changes


def runner_options(cfg: Config, data_root: Path, *, epochs: int = 1,
                   hooks: Optional[Dict[str, dict]] = None,
                   keep_checkpoint: bool = False, teacher_eval: bool = False,
                   size: Optional[int] = None, probe: bool = True) -> List[str]:
    """The ``--cfg-options`` of a test run of ``cfg``: synthetic data of the config's task at
    ``data_root``, tiny inputs, one iteration per epoch, no validation, no pretrained init.
    ``teacher_eval``: keep a (detection) validation set for the teacher check of
    ``tools/train.py``; the student is never validated. ``size``: the input and probe size
    (px) when the models need more than :data:`DET_SIZE`/:data:`SEG_SIZE`; ``probe``: set the
    distiller's probe size to it (False: keep the config's, as tools/inspect_pair.py wrote it)."""
    is_seg = cfg.default_scope == 'mmseg'
    size = size or (SEG_SIZE if is_seg else DET_SIZE)
    o: Dict[str, object] = {}
    # The data: the innermost dataset (inside wrappers such as YOLOX's MultiImageMixDataset).
    key, dataset = 'train_dataloader.dataset', cfg.train_dataloader.dataset
    while True:
        if 'pipeline' in dataset:
            o.update(shrink_pipeline(dataset.pipeline, f'{key}.pipeline', size))
        if 'dataset' not in dataset:
            break
        key, dataset = f'{key}.dataset', dataset.dataset
    o[f'{key}.data_root'] = f'{data_root}/'
    o[f'{key}.indices'] = IMAGES
    if is_seg:
        o[f'{key}.data_prefix.img_path'] = 'leftImg8bit/train'
        o[f'{key}.data_prefix.seg_map_path'] = 'gtFine/train'
    else:
        o[f'{key}.ann_file'] = 'annotations/instances_train.json'
        o[f'{key}.data_prefix.img'] = 'train/'
        o[f'{key}.metainfo.classes'] = tuple(SYNTHETIC_COCO_CLASSES)
    o.update({'train_dataloader.batch_size': 2, 'train_dataloader.num_workers': 0,
              'train_dataloader.persistent_workers': False})
    for i, hook in enumerate(cfg.get('custom_hooks', [])):
        kind = hook['type'].split('.')[-1]
        if kind == 'PipelineSwitchHook':
            o.update(shrink_pipeline(hook.switch_pipeline, f'custom_hooks.{i}.switch_pipeline',
                                     size))
        elif kind == 'FitProjectionsHook':
            o[f'custom_hooks.{i}.num_batches'] = 1
        for name, value in (hooks or {}).get(kind, {}).items():
            o[f'custom_hooks.{i}.{name}'] = value
    # The models: input size (the preprocessors pad segmentation batches to `size`), probe
    # size, the student's pretrained init.
    if cfg.get('data_preprocessor', {}).get('size') is not None:
        o['data_preprocessor.size'] = (size, size)
    if cfg.model.student.get('data_preprocessor', {}).get('size') is not None:
        o['model.student.data_preprocessor.size'] = (size, size)
    if probe:
        o['model.probe_size'] = (size, size)
    o.update({'.'.join(('model.student', *keys)): None
              for keys in pretrained_inits(cfg.model.student)})
    # The schedule: one iteration per epoch, no validation; logs every iteration.
    if cfg.train_cfg.get('type', '').endswith('IterBasedTrainLoop'):
        o.update({'train_cfg.max_iters': epochs, 'train_cfg.val_interval': NEVER})
    else:
        o['train_cfg.max_epochs'] = epochs
    if teacher_eval:
        o.update(val_options(cfg, data_root, size))
    else:
        o.update({'val_cfg': None, 'val_dataloader': None, 'val_evaluator': None})
    o.update({'default_hooks.logger.interval': 1, 'randomness.seed': 0})
    if not keep_checkpoint:
        o.update({'default_hooks.checkpoint.interval': NEVER,
                  'default_hooks.checkpoint.save_last': False})
    return [f'{k}={cli_value(v)}' for k, v in o.items()]


def val_options(cfg: Config, data_root: Path, size: int) -> Dict[str, object]:
    """A detection validation set of :data:`IMAGES` synthetic images at ``size`` px, validated
    never (``val_begin``): only the teacher check of ``tools/train.py`` uses it."""
    key = 'val_dataloader.dataset'
    o: Dict[str, object] = shrink_pipeline(cfg.val_dataloader.dataset.pipeline,
                                           f'{key}.pipeline', size)
    o.update({f'{key}.data_root': f'{data_root}/', f'{key}.indices': IMAGES,
              f'{key}.ann_file': 'annotations/instances_val.json', f'{key}.data_prefix.img': 'val/',
              f'{key}.metainfo.classes': tuple(SYNTHETIC_COCO_CLASSES),
              'val_dataloader.num_workers': 0, 'val_dataloader.persistent_workers': False,
              'val_evaluator.ann_file': f'{data_root}/annotations/instances_val.json',
              'train_cfg.val_begin': NEVER})
    return o
