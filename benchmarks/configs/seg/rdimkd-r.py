# RdimKD-R at the PSP head's bottleneck (the feature before the classifier; 128 teacher channels
# -> k = 32). The benchmark runner passes model.teacher_checkpoint; the other arms change only the
# projection.
_base_ = ['./student.py']
model = dict(
    _delete_=True,
    type='rdimkd_mm.FeatureDistiller',
    student=_base_.model,
    teacher='{{fileDirname}}/teacher.py',
    teacher_checkpoint='benchmarks/work/seg/teacher/iter_1200.pth',
    probe_size=(128, 128),
    distill=[
        dict(
            name='head',
            student='decode_head.bottleneck',
            teacher='decode_head.bottleneck',
            loss=dict(
                type='rdimkd_mm.RdimKDLoss',
                projection=dict(type='rdimkd_mm.RandomProjection', k=32),
                normalize=None,  # the raw loss: the weight was tuned for it
                loss_weight=0.1)),
    ])
custom_hooks = [dict(type='rdimkd_mm.FitProjectionsHook', num_batches=20)]
