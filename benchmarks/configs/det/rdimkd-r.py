# RdimKD-R with the shipped detection default, untouched (configs/_base_/distill/rdimkd-r_fpn.py):
# FPN P3-P5, k = C_t / 4 = 32, standardised loss at weight 10 per level. The benchmark runner
# passes model.teacher_checkpoint; the other arms change only the loss (and add their hooks).
_base_ = ['./student.py', '../../../configs/_base_/distill/rdimkd-r_fpn.py']
model = dict(
    _delete_=True,
    type='rdimkd_mm.FeatureDistiller',
    student=_base_.model,
    teacher='{{fileDirname}}/teacher.py',
    teacher_checkpoint='benchmarks/work/det/teacher/iter_3000.pth',
    probe_size=(128, 128),
    distill=_base_.fpn_distill)
