"""Predictions of several models side by side on the first validation images.

    python tools/compare_predictions.py OUT_DIR \\
        --model teacher TEACHER_CONFIG TEACHER_CKPT \\
        --model baseline STUDENT_CONFIG STUDENT_CKPT \\
        --model RdimKD DISTILL_CONFIG DISTILL_CKPT \\
        [--num-images 4] [--score-thr 0.3] [--device cpu] [--cfg-options k=v ...]

For each of the first ``--num-images`` images of the first model's validation set, writes
``OUT_DIR/<image name>.png``: the ground truth, then each model's predictions (boxes for mmdet,
masks for mmseg), drawn by the config's own visualizer (mmdet's ``DetLocalVisualizer``,
mmseg's ``SegLocalVisualizer``). Predictions come from ``mmdet.apis.inference_detector`` /
``mmseg.apis.inference_model`` with each config's test pipeline. A distillation config is run
as its student with the checkpoint's ``student.*`` weights; its teacher is neither built nor
needed. Every checkpoint is loaded strictly. ``--cfg-options`` apply to every config (e.g. the
data root).
"""
import argparse
from pathlib import Path
from typing import List, Tuple

import mmcv
import numpy as np
from mmengine.config import Config, DictAction
from mmengine.dataset import Compose
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import DATASETS, VISUALIZERS, init_default_scope
from torch import nn

import rdimkd_mm  # noqa: F401  (registers modules, makes checkpoint loading safe)
from rdimkd_mm.utils import (build_model, is_distill_config, load_checkpoint_strict,
                             load_state_dict_strict, read_state_dict, student_config,
                             student_weights)

TITLE_HEIGHT = 18  # pixels above the panels for their titles


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Draw the predictions of several models '
                                     'side by side')
    parser.add_argument('out_dir', help='where the PNGs are written')
    parser.add_argument('--model', nargs=3, action='append', required=True,
                        metavar=('LABEL', 'CONFIG', 'CHECKPOINT'),
                        help='a model to draw (repeat it); a distillation config draws its '
                        'student')
    parser.add_argument('--num-images', type=int, default=4, help='validation images to draw')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='detection: the lowest score of a drawn box')
    parser.add_argument('--device', default='cpu', help="e.g. 'cpu' or 'cuda:0'")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of every config, e.g. the data root')
    return parser.parse_args()


def model_config(path: str, options: dict) -> Tuple[Config, bool]:
    """The config of ``path`` as a plain model config (a distillation config's student), and
    whether it was a distillation config."""
    cfg = Config.fromfile(path)
    if options:
        cfg.merge_from_dict(options)
    distilled = is_distill_config(cfg)
    return (student_config(cfg) if distilled else cfg), distilled


def init_model(cfg: Config, checkpoint: str, device: str, distilled: bool,
               dataset_meta: dict) -> nn.Module:
    """The model of ``cfg`` in eval mode, as mmdet's ``init_detector`` / mmseg's
    ``init_model`` build it, with the weights loaded strictly."""
    model, _ = build_model(dict(cfg.model, _scope_=cfg.default_scope))
    model = revert_sync_batchnorm(model)
    if distilled:
        state = student_weights(read_state_dict(checkpoint, what='distiller'))
        if not state:
            raise RuntimeError(f'{checkpoint!r} holds no student.* weights: give a checkpoint '
                               'written by training this distillation config.')
        load_state_dict_strict(model, state, checkpoint, what='distiller')
    else:
        load_checkpoint_strict(model, checkpoint, what='model')
    model.cfg = cfg  # the inference helpers read the test pipeline from it
    model.dataset_meta = dataset_meta
    return model.to(device).eval()


def predict(model: nn.Module, scope: str, image_path: str):
    """The model's prediction (a data sample) for one image file, in its original size."""
    if scope == 'mmseg':
        from mmseg.apis import inference_model
        return inference_model(model, image_path)
    from mmdet.apis import inference_detector
    return inference_detector(model, image_path)


def ground_truth_pipeline(dataset_cfg: dict) -> Compose:
    """The validation pipeline without its resizing: only its ``Load*`` and ``Pack*``
    transforms, so the annotations are read in the original image size."""
    keep = [t for t in dataset_cfg['pipeline']
            if str(t['type']).split('.')[-1].startswith(('Load', 'Pack'))]
    return Compose(keep)


def ground_truth(dataset, pipeline: Compose, index: int) -> Tuple[np.ndarray, object]:
    """The RGB image and the data sample with the annotations of one validation image."""
    data = pipeline(dataset.get_data_info(index))
    sample = data['data_samples']
    boxes = sample.gt_instances.get('bboxes') if 'gt_instances' in sample else None
    if hasattr(boxes, 'tensor'):  # mmdet's box type: its visualizer draws tensors
        sample.gt_instances.bboxes = boxes.tensor
    return mmcv.bgr2rgb(data['inputs'].permute(1, 2, 0).numpy()), sample


def draw(visualizer, image: np.ndarray, sample, gt: bool, score_thr: float) -> np.ndarray:
    """One panel: the ground truth (``gt=True``) or the predictions of ``sample``."""
    extra = dict(pred_score_thr=score_thr) if 'pred_instances' in sample else {}
    visualizer.add_datasample('compare', image, sample, draw_gt=gt, draw_pred=not gt, **extra)
    return visualizer.get_image()


def titled(visualizer, panels: List[np.ndarray], titles: List[str]) -> np.ndarray:
    """The panels side by side under a black strip with their titles."""
    row = np.concatenate(panels, axis=1)
    visualizer.set_image(np.concatenate([np.zeros((TITLE_HEIGHT, *row.shape[1:]), np.uint8), row]))
    offsets = np.cumsum([0] + [panel.shape[1] for panel in panels[:-1]])
    visualizer.draw_texts(titles, np.array([[x + 3, 2] for x in offsets]), font_sizes=10,
                          colors='white')
    return visualizer.get_image()


def main() -> None:
    args = parse_args()
    labels = [label for label, _, _ in args.model]
    configs, distilled = zip(*(model_config(config, args.cfg_options)
                               for _, config, _ in args.model))
    scopes = {cfg.default_scope for cfg in configs}
    if len(scopes) != 1:
        raise ValueError(f'The models come from different libraries ({sorted(scopes)}); compare '
                         'detectors with detectors and segmentors with segmentors.')
    scope = scopes.pop()
    init_default_scope(scope)
    dataset_cfg = configs[0].val_dataloader.dataset
    dataset = DATASETS.build(dataset_cfg)
    models = [
        init_model(cfg, checkpoint, args.device, kd, dataset.metainfo)
        for cfg, kd, (_, _, checkpoint) in zip(configs, distilled, args.model)
    ]
    visualizer = VISUALIZERS.build(
        dict(configs[0].visualizer, name='compare_predictions', vis_backends=None))
    visualizer.dataset_meta = dataset.metainfo
    pipeline = ground_truth_pipeline(dataset_cfg)

    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for index in range(min(args.num_images, len(dataset))):
        image, sample = ground_truth(dataset, pipeline, index)
        path = sample.img_path
        panels = [draw(visualizer, image, sample, True, args.score_thr)]
        for model in models:
            panels.append(draw(visualizer, image, predict(model, scope, path), False,
                               args.score_thr))
        out = out_dir / f'{Path(path).stem}.png'
        mmcv.imwrite(mmcv.rgb2bgr(titled(visualizer, panels, ['ground truth', *labels])),
                     str(out))
        print(f'Wrote {out}')


if __name__ == '__main__':
    main()
