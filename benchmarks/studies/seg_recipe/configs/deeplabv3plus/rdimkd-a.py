# Today's segmentation default, untouched but for its addresses: RdimKD-A (weight 2.5) at the
# decode head's last feature before the classifier, which for DeepLabV3+ is
# `decode_head.sep_bottleneck` (configs/_base_/distill/rdimkd-a_seg-head.py says to set it).
# The other arms inherit this distiller and change only `distill`.
_base_ = ['./student.py', '../../../../../configs/_base_/distill/rdimkd-a_seg-head.py']
model = dict(
    _delete_=True,
    type='rdimkd_mm.FeatureDistiller',
    student=_base_.model,
    teacher='{{fileDirname}}/teacher.py',
    teacher_checkpoint='benchmarks/work/seg-dlv3p/teacher/iter_1200.pth',
    probe_size=(128, 128),
    distill=[
        dict(_base_.seg_distill[0],
             student='decode_head.sep_bottleneck',
             teacher='decode_head.sep_bottleneck'),
    ])
custom_hooks = _base_.seg_distill_hooks
