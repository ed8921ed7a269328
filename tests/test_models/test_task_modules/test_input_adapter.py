"""TeacherInputAdapter: the student's preprocessed batch renormalised for the teacher."""
import torch

from rdimkd_mm.models.task_modules import TeacherInputAdapter
from helpers.distillers import raw_batch


def test_teacher_input_is_renormalised_for_a_different_preprocessor():
    from mmdet.models.data_preprocessors import DetDataPreprocessor
    student = DetDataPreprocessor(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
                                  bgr_to_rgb=True, pad_size_divisor=32)
    teacher = DetDataPreprocessor(mean=[103.53, 116.28, 123.675], std=[1.0, 1.0, 1.0],
                                  bgr_to_rgb=False, pad_size_divisor=32)
    batch = raw_batch()
    adapted = TeacherInputAdapter(student, teacher)(student(batch, False)['inputs'])
    torch.testing.assert_close(adapted, teacher(batch, False)['inputs'], atol=1e-3, rtol=1e-5)
    same = TeacherInputAdapter(student, student)
    inputs = student(batch, False)['inputs']
    assert same(inputs) is inputs
