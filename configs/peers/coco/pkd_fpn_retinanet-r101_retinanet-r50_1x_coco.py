# PKD (Cao et al., NeurIPS 2022), the peer method, on the RdimKD-R config's pair and points:
# RetinaNet R101 -> R50, FPN P3-P5 (equal widths, no connector), at its published weight for a
# RetinaNet student, 10 per level (see PKDLoss). The comparison arm of the COCO benchmark suite.
_base_ = ['../../rdimkd/coco/rdimkd-r_fpn_retinanet-r101_retinanet-r50_1x_coco.py']
model = dict(distill=[
    dict(
        name='fpn',
        student='neck[0:3]',
        teacher='neck[0:3]',
        loss=dict(type='rdimkd_mm.PKDLoss', loss_weight=10.0)),
])
