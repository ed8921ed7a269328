# RdimKD-R with the shipped detection default, untouched (configs/_base_/distill/rdimkd-r_fpn.py):
# the first three neck levels, which for an R-CNN's FPN (start_level 0) are P2-P4 (strides 4, 8,
# 16), k = C_t / 4 = 32, standardised loss at weight 10 per level; a 1x1 conv connector maps the
# student's 64 channels to the teacher's 128. The benchmark runner passes
# model.teacher_checkpoint.
_base_ = ['./student.py', '../../../configs/_base_/distill/rdimkd-r_fpn.py']
model = dict(
    _delete_=True,
    type='rdimkd_mm.FeatureDistiller',
    student=_base_.model,
    teacher='{{fileDirname}}/teacher.py',
    teacher_checkpoint='benchmarks/work/det-frcnn/teacher/iter_3000.pth',
    probe_size=(128, 128),
    distill=_base_.fpn_distill)
