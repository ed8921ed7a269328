# RdimKD-R with the shipped segmentation default, untouched
# (configs/_base_/distill/rdimkd-r_seg-head.py): the PSP head's bottleneck, k = C_t / 4 = 32,
# standardised loss at weight 2.5. The benchmark runner passes model.teacher_checkpoint; the
# other arms change only the loss (and add their hooks).
_base_ = ['./student.py', '../../../configs/_base_/distill/rdimkd-r_seg-head.py']
model = dict(
    _delete_=True,
    type='rdimkd_mm.FeatureDistiller',
    student=_base_.model,
    teacher='{{fileDirname}}/teacher.py',
    teacher_checkpoint='benchmarks/work/seg/teacher/iter_2400.pth',
    probe_size=(128, 128),
    distill=_base_.seg_distill)
