# The segmentation default: RdimKD-A at two points with the same loss, the head-only form's
# (rdimkd-a_seg-head.py: K = the encoder of an autoencoder fitted to the teacher's features
# before training, k = a quarter of the teacher's channels, standardised loss at weight 2.5):
# - 'head': the decode head's last feature before the classifier (`decode_head.bottleneck` for
#   PSPNet and DeepLabV3; check_head_feature=True: the build stops on another head and names its
#   feature, e.g. DeepLabV3+'s `decode_head.sep_bottleneck`; set both addresses then);
# - 'backbone': the backbone's last output (`backbone[-1]`, ResNet's layer4), whose strides must
#   be equal on both sides (the build stops otherwise); the loss's 1x1 connector maps the
#   student's channels to the teacher's.
# Its evidence against the head-only form and CWD: docs/benchmarks/seg_recipe.md.
# A pair config inherits this next to the student's config and writes
#   distill=_base_.seg_distill            (in its model)
#   custom_hooks = _base_.seg_distill_hooks   (or its student's custom_hooks + these)
# The hook fits both autoencoders on 20 training batches through the frozen teacher.
_base_ = ['./rdimkd-a_seg-head.py']

seg_distill = [
    _base_.seg_distill[0],
    dict(
        name='backbone',
        student='backbone[-1]',
        teacher='backbone[-1]',
        loss=_base_.seg_distill[0].loss),
]
