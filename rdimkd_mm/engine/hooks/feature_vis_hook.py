from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.hooks import Hook
from mmengine.logging import print_log
from torch import Tensor

from rdimkd_mm.registry import HOOKS
from rdimkd_mm.utils import preserved_random_states
from .distiller_of import distiller_of


@HOOKS.register_module()
class ProjectedFeatureVisHook(Hook):
    """Draws what the KD loss compares: the teacher's and the student's projected features.

    Every ``interval`` training iterations and after training, the first ``num_images`` images
    of the validation set go through the data preprocessor, the teacher and the student (eval
    mode, no grad). For each distillation point, one picture is added with
    ``runner.visualizer.add_image('kd_features_<point>', image, step)``: one row per image;
    columns: the input, then per level the teacher's ``K^T F_t`` and the student's
    ``K^T connector(F_s)`` (both (k, H, W)), their first three components as RGB, upsampled
    to the input's panel size. Each component is mapped to [0, 255] by one range per image and
    level that the teacher and the student share (the 1st to 99th percentile of both
    together), so a student at another scale than the teacher looks washed out or saturated;
    with k < 3 the first component is shown in grey. mmengine's ``LocalVisBackend`` writes
    ``WORK_DIR/<time>/vis_data/vis_image/kd_features_<point>_<iter>.png``; a
    ``TensorboardVisBackend`` gets the same images.

    Training is unchanged: the training dataloader is not touched (the images are read from the
    validation dataset once, before training), the model's train/eval mode and the Python,
    NumPy and torch random states are restored, and nothing reaches the loss or the gradients.
    Drawn on rank 0 only; without a validation set the hook logs that and draws nothing.

    Args:
        interval (int): Draw every ``interval`` training iterations. Default: 500.
        num_images (int): Validation images to draw, the dataset's first. Default: 2.
        panel_height (int): Height in pixels of each panel; the width follows the input's
            aspect ratio. Default: 128.
    """

    def __init__(self, interval: int = 500, num_images: int = 2, panel_height: int = 128) -> None:
        for name, value in (('interval', interval), ('num_images', num_images),
                            ('panel_height', panel_height)):
            if value < 1:
                raise ValueError(f'ProjectedFeatureVisHook: {name} must be >= 1, got {value}.')
        self.interval = interval
        self.num_images = num_images
        self.panel_height = panel_height
        self._batch: Optional[dict] = None
        self._last_step = -1

    def before_train(self, runner) -> None:
        if runner.rank != 0:
            return
        loop = runner.val_loop
        if loop is None:
            print_log('ProjectedFeatureVisHook: the config has no validation set, so no '
                      'projected features are drawn.', logger='current')
            return
        distiller_of(runner, 'ProjectedFeatureVisHook')  # fails early on another model
        dataset = loop.dataloader.dataset
        with preserved_random_states():
            samples = [dataset[i] for i in range(min(self.num_images, len(dataset)))]
        self._batch = loop.dataloader.collate_fn(samples)

    def after_train_iter(self, runner, batch_idx: int, data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if self.every_n_train_iters(runner, self.interval):
            self.draw(runner, runner.iter + 1)

    def after_train(self, runner) -> None:
        if self._last_step != runner.iter:
            self.draw(runner, runner.iter)

    def draw(self, runner, step: int) -> None:
        """Add one picture per distillation point to ``runner.visualizer`` at ``step``."""
        if self._batch is None:  # rank > 0, or no validation set
            return
        self._last_step = step
        model = distiller_of(runner, 'ProjectedFeatureVisHook')
        was_training = model.training
        with preserved_random_states():
            try:
                model.eval()
                batch = model.data_preprocessor(self._batch, False)
                projected = model.projected_features(batch['inputs'], batch['data_samples'])
            finally:
                model.train(was_training)
        padded = batch['inputs'].shape[-2:]
        size = (self.panel_height, max(1, round(self.panel_height * padded[1] / padded[0])))
        inputs = [_input_panel(image, padded, size) for image in self._batch['inputs']]
        visualizer = runner.visualizer
        for name, levels in projected.items():
            rows = []
            for i, panel in enumerate(inputs):
                row = [panel]
                for teacher, student in levels:
                    row += [_feature_panel(x, size) for x in _shared_rgb(teacher[i], student[i])]
                rows.append(np.concatenate(row, axis=1))
            labels = ['input'] + [f'{side} L{level}' for level in range(len(levels))
                                  for side in ('teacher', 'student')]
            visualizer.set_image(np.concatenate(rows, axis=0))
            positions = np.array([[j * size[1] + 2, 2] for j in range(len(labels))])
            visualizer.draw_texts(labels, positions, font_sizes=9, colors='white',
                                  bboxes=dict(facecolor='black', alpha=0.6, pad=1, lw=0))
            visualizer.add_image(f'kd_features_{name}', visualizer.get_image(), step=step)


def _shared_rgb(teacher: Tensor, student: Tensor) -> List[Tensor]:
    """(k, H, W) teacher and student -> (3, H, W) each in [0, 1], one range per component."""
    channels = 3 if teacher.shape[0] >= 3 else 1
    pair = [x[:channels].float() for x in (teacher, student)]
    both = torch.cat([x.flatten(1) for x in pair], dim=1)
    low = both.quantile(0.01, dim=1)[:, None, None]
    high = both.quantile(0.99, dim=1)[:, None, None]
    return [((x - low) / (high - low).clamp(min=1e-12)).clamp(0, 1).expand(3, -1, -1)
            for x in pair]


def _feature_panel(feature: Tensor, size: Tuple[int, int]) -> np.ndarray:
    """(3, h, w) in [0, 1] -> (H, W, 3) uint8, nearest upsampling (one block per position)."""
    panel = F.interpolate(feature[None].cpu(), size=size, mode='nearest')[0]
    return (panel * 255).round().byte().permute(1, 2, 0).numpy()


def _input_panel(image: Tensor, padded: Sequence[int], size: Tuple[int, int]) -> np.ndarray:
    """A (3, h, w) uint8 BGR input (as mmcv loads images), placed top-left on the padded batch
    size, resized -> (H, W, 3) RGB."""
    canvas = torch.zeros(3, *padded, dtype=torch.float32)
    h, w = min(image.shape[1], padded[0]), min(image.shape[2], padded[1])
    canvas[:, :h, :w] = image[:, :h, :w].flip(0).float()
    panel = F.interpolate(canvas[None], size=size, mode='bilinear', align_corners=False)[0]
    return panel.round().clamp(0, 255).byte().permute(1, 2, 0).numpy()
