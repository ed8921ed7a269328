"""TeacherEvalHook never stops a run: a teacher whose evaluation fails or cannot be scored on
the data set is reported with the cause, and training goes on. (The class-count case also
trains through tools/train.py: the zoo pair ``retinanet-r50-coco_retinanet-r18-8-classes``.)"""
import logging
from types import SimpleNamespace

import torch
from mmengine.evaluator import BaseMetric, Evaluator
from torch import nn

from rdimkd_mm.engine.hooks import teacher_eval_hook
from rdimkd_mm.engine.hooks.teacher_eval_hook import TeacherEvalHook, class_count_mismatch


class Head(nn.Module):

    def __init__(self, num_classes: int):
        super().__init__()
        self.num_classes = num_classes


class Teacher(nn.Module):
    """A detector whose test step fails like DINO's 900 queries on a small image."""

    def __init__(self, num_classes: int = 8):
        super().__init__()
        self.rpn_head, self.bbox_head = Head(1), Head(num_classes)

    def test_step(self, data_batch):
        raise RuntimeError('selected index k out of range')


class Dataset(list):
    metainfo = dict(classes=tuple(f'c{i}' for i in range(8)))


class Loader(list):
    dataset = Dataset([0, 1])


class Predicting(Teacher):
    """A detector that predicts, on data its metric then fails to score (CocoMetric's
    IndexError on other classes)."""

    def test_step(self, data_batch):
        return ['prediction']


class FailingMetric(BaseMetric):

    def process(self, data_batch, data_samples) -> None:
        self.results.extend(data_samples)

    def compute_metrics(self, results: list) -> dict:
        raise IndexError('list index out of range')


def run_hook(monkeypatch, teacher: nn.Module, evaluator=None) -> list:
    logs = []
    monkeypatch.setattr(teacher_eval_hook, 'print_log',
                        lambda msg, logger=None, level=logging.INFO: logs.append((level, msg)))
    monkeypatch.setattr(teacher_eval_hook, 'distiller_of',
                        lambda runner, hook: SimpleNamespace(teacher=teacher))
    loop = SimpleNamespace(dataloader=Loader([dict(inputs=[torch.zeros(3, 8, 8)])]),
                           evaluator=evaluator)
    TeacherEvalHook().before_train(SimpleNamespace(iter=0, val_loop=loop))
    return logs


def test_a_failing_evaluation_warns_with_the_error_and_training_goes_on(monkeypatch):
    logs = run_hook(monkeypatch, Teacher())
    assert logs == [(logging.WARNING, 'TeacherEvalHook: the teacher is not evaluated (its '
                     'evaluation failed: RuntimeError: selected index k out of range). '
                     'Distillation goes on; pass --no-teacher-eval to tools/train.py to skip '
                     'this check.')]


def test_another_class_count_is_not_evaluated(monkeypatch):
    logs = run_hook(monkeypatch, Teacher(num_classes=80))  # would fail if it were evaluated
    assert len(logs) == 1 and logs[0][0] == logging.WARNING
    assert ("its class count differs from the data set's: teacher.bbox_head.num_classes = 80, "
            'the validation set has 8 classes') in logs[0][1]


def test_class_counts_compared_on_every_head_but_the_rpn():
    assert class_count_mismatch(Teacher(8), Dataset()) is None  # the RPN's 1 class is ignored
    assert class_count_mismatch(Teacher(19), SimpleNamespace(metainfo={})) is None  # unknown


def test_a_failing_metric_keeps_no_teacher_results_for_the_students_validation(monkeypatch):
    """mmengine's metrics clear their results only after computing them: what the teacher's
    failed evaluation processed must not be scored with the student's first validation."""
    metric = FailingMetric()
    logs = run_hook(monkeypatch, Predicting(), Evaluator(metric))
    assert 'its evaluation failed: IndexError: list index out of range' in logs[0][1], logs
    assert metric.results == []
