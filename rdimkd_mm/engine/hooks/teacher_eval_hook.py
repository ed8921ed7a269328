import numbers

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
        with preserved_random_states():  # training draws as it would without this pass
            metrics = self.evaluate(model.teacher, loop)
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
