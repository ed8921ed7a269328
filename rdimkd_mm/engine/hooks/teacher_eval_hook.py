import logging
import numbers
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log

from rdimkd_mm.registry import HOOKS
from rdimkd_mm.utils import preserved_random_states
from .distiller_of import distiller_of


@HOOKS.register_module()
class TeacherEvalHook(Hook):
    """Evaluates the teacher once, before distillation starts, on the student's validation set.

    Runs the frozen teacher (with its own data preprocessor) over the validation dataloader
    with the validation evaluator, and logs each metric as ``teacher/<metric>`` (e.g.
    ``teacher/coco/bbox_mAP``) in the log and to every visualizer backend, beside the
    student's metrics. A teacher far below its expected accuracy on the user's data shows
    here, before a day of distillation. The random states are restored afterwards, so the run
    trains exactly as it would without this pass. Skipped when training resumes (the metrics were
    logged by the first run) and when the config has no validation.

    The check never stops a run: distilling the features of a teacher trained on other classes
    (a COCO teacher for a custom data set) is legitimate, its evaluation is not. When the
    teacher's class count differs from the data set's, or its evaluation fails, a warning names
    the cause and distillation goes on.
    ``tools/train.py`` adds this hook to every distillation config (``--no-teacher-eval``
    turns it off).
    """

    priority = 'LOW'  # after the fit hooks' model set-up, before the first iteration

    def before_train(self, runner) -> None:
        if runner.iter > 0:
            return
        loop = runner.val_loop
        if loop is None:
            print_log('TeacherEvalHook: the config has no validation; the teacher is not '
                      'evaluated.', logger='current')
            return
        model = distiller_of(runner, 'TeacherEvalHook')
        cause = class_count_mismatch(model.teacher, loop.dataloader.dataset)
        if cause is None:
            try:
                with preserved_random_states():  # training draws as without this pass
                    metrics = self.evaluate(model.teacher, loop)
            except Exception as error:  # noqa: BLE001  (the check must not stop the run)
                cause = f'its evaluation failed: {type(error).__name__}: {error}'
                # A metric clears its results only after computing them: the teacher's would
                # otherwise be scored with the student's at the first validation.
                for metric in getattr(loop.evaluator, 'metrics', []):
                    metric.results.clear()
        if cause is not None:
            print_log(f'TeacherEvalHook: the teacher is not evaluated ({cause}). Distillation '
                      'goes on; pass --no-teacher-eval to tools/train.py to skip this check.',
                      logger='current', level=logging.WARNING)
            return
        teacher = {f'teacher/{k}': v for k, v in metrics.items()}
        if not teacher:
            print_log('Teacher on the validation set: the evaluator returned no metric (e.g. '
                      'no prediction above the score threshold).', logger='current')
            return
        scalars = {k: float(v) for k, v in teacher.items() if isinstance(v, numbers.Real)}
        print_log('Teacher on the validation set: ' + '  '.join(
            f'{k}: {v:.4f}' for k, v in scalars.items()), logger='current')
        runner.visualizer.add_scalars(scalars, step=runner.iter)

    @staticmethod
    @torch.no_grad()
    def evaluate(teacher, loop) -> dict:
        """The validation loop's metrics for ``teacher`` (eval mode, its own preprocessing)."""
        teacher.eval()
        for data_batch in loop.dataloader:
            outputs = teacher.test_step(data_batch)
            loop.evaluator.process(data_samples=outputs, data_batch=data_batch)
        return loop.evaluator.evaluate(len(loop.dataloader.dataset))


def class_count_mismatch(teacher: torch.nn.Module, dataset) -> Optional[str]:
    """Why the teacher's predictions cannot be scored on ``dataset``: its heads' class count
    (``num_classes`` of every head but the RPN's) differs from the data set's classes; None
    when they agree or either is unknown."""
    classes = getattr(dataset, 'metainfo', {}).get('classes')
    if classes is None:
        return None
    counts = {name: m.num_classes for name, m in teacher.named_modules()
              if isinstance(getattr(m, 'num_classes', None), int) and 'rpn' not in name
              and name}
    wrong = {name: n for name, n in counts.items() if n != len(classes)}
    if not wrong:
        return None
    name, count = next(iter(wrong.items()))
    return (f'its class count differs from the data set\'s: teacher.{name}.num_classes = '
            f'{count}, the validation set has {len(classes)} classes')
