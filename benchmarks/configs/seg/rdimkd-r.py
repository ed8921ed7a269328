# RdimKD-R at the shipped segmentation default's point and weight: the PSP head's bottleneck,
# K random orthogonal (nothing to fit), k = C_t / 4 = 32, standardised loss at weight 2.5. The
# other arms inherit this distiller (student, teacher, probe size) and change only the loss
# (and add their hooks); the benchmark runner passes model.teacher_checkpoint.
_base_ = ['./student.py']
model = dict(
    _delete_=True,
    type='rdimkd_mm.FeatureDistiller',
    student=_base_.model,
    teacher='{{fileDirname}}/teacher.py',
    teacher_checkpoint='benchmarks/work/seg/teacher/iter_2400.pth',
    probe_size=(128, 128),
    distill=[
        dict(
            name='head',
            student='decode_head.bottleneck',
            teacher='decode_head.bottleneck',
            loss=dict(
                type='rdimkd_mm.RdimKDLoss',
                projection=dict(type='rdimkd_mm.RandomProjection', k=0.25),
                normalize='standardize',
                loss_weight=2.5)),
    ])
