"""A cascade of decode heads (mmseg's CascadeEncoderDecoder keeps them in a list: OCRNet's FCN
then OCR head): the inspector finds the last head's feature before its classifier. (The
OCRNet zoo pair trains it through tools/train.py in tests/test_runner_pairs.py.)"""
from mmengine.registry import init_default_scope

from rdimkd_mm.inspection import Side, propose_points

OCR_HR48 = 'mmseg::ocrnet/ocrnet_hr48_4xb2-40k_cityscapes-512x1024.py'
OCR_HR18S = 'mmseg::ocrnet/ocrnet_hr18s_4xb2-40k_cityscapes-512x1024.py'


def test_ocrnet_head_feature_is_the_last_heads_object_context():
    init_default_scope('mmseg')
    teacher, student = Side(OCR_HR48, (64, 64)), Side(OCR_HR18S, (64, 64))
    assert teacher.head_feature == student.head_feature == 'decode_head.1.object_context_block'
    assert [(f.shape[0], f.stride) for f in teacher.levels(teacher.head_feature)] == [(512, 4)]
    head = 'decode_head.1.object_context_block'
    assert propose_points(teacher, student) == [
        dict(name='head', teacher=head, student=head),
        dict(name='backbone', teacher='backbone[3]', student='backbone[3]')]  # both /32
