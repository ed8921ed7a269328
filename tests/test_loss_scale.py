"""How far one loss weight transfers: the first KD/task loss ratio of diverse zoo pairs, with
the teacher-normalised loss and with the raw one (random teachers with the libraries' own
initialisation and batch-norm statistics of their own activations, as a trained teacher has).

Measured (see the README, "Loss scale"): raw 15 to 37,000 (a 2,600x band), normalised 0.32 to
97 (300x). The normalisation removes the teacher's scale; what it cannot see is the student's
initial features and each detector family's initial task loss, which keep the band above the
10x the project aims for."""
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub
from mmengine.registry import init_default_scope

from rdimkd_mm.engine.projection_fit import fit_projections
from rdimkd_mm.registry import MODELS
from rdimkd_mm.utils import build_model, resolve_config_path
from test_configs import fake_batch

SIZE = 128
# (teacher, student, teacher point, student point, align); the student's pretrained init is
# not used (build_model does not initialise weights).
PAIRS = [
    ('mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
     'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py', 'neck', 'neck', 'stride'),
    ('mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
     'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py', 'neck', 'neck', 'stride'),
    ('mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
     'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py', 'neck[1:5]', 'neck[0:4]', 'stride'),
    ('mmdet::yolox/yolox_s_8xb8-300e_coco.py', 'mmdet::yolox/yolox_tiny_8xb8-300e_coco.py',
     'neck', 'neck', 'stride'),
    ('mmdet::rtmdet/rtmdet_s_8xb32-300e_coco.py', 'mmdet::rtmdet/rtmdet_tiny_8xb32-300e_coco.py',
     'neck', 'neck', 'stride'),
    ('mmseg::pspnet/pspnet_r50-d8_4xb2-40k_cityscapes-512x1024.py',
     'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py', 'decode_head.bottleneck',
     'decode_head.bottleneck', 'stride'),
    ('mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb2-40k_cityscapes-512x1024.py',
     'mmseg::pspnet/pspnet_r18-d8_4xb2-80k_cityscapes-512x1024.py',
     'decode_head.sep_bottleneck', 'decode_head.bottleneck', 'interpolate'),
    ('mmseg::segformer/segformer_mit-b1_8xb1-160k_cityscapes-1024x1024.py',
     'mmseg::segformer/segformer_mit-b0_8xb1-160k_cityscapes-1024x1024.py',
     'decode_head.fusion_conv', 'decode_head.fusion_conv', 'stride'),
]


def model_config(config: str) -> dict:
    cfg = Config.fromfile(resolve_config_path(config))
    return dict(cfg.model.to_dict(), _scope_=cfg.default_scope)


def without_pretrained(cfg: dict) -> dict:
    """No pretrained weights (no internet): every Pretrained init_cfg and `pretrained` off."""
    for key, value in list(cfg.items()):
        if key == 'pretrained' and isinstance(value, str):
            cfg[key] = None
        elif key == 'init_cfg' and isinstance(value, dict) and value.get('type') == 'Pretrained':
            cfg[key] = None
        elif isinstance(value, dict):
            without_pretrained(value)
    return cfg


@torch.no_grad()
def calibrate_norm_statistics(model, scope: str, batches: int = 4) -> None:
    """Set the batch-norm running statistics of a random model from its own activations, as
    any trained teacher has them (random weights with the initial statistics mean 0, var 1
    give features whose scale says nothing about a trained teacher's)."""
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average
    model.train()
    for seed in range(batches):
        data = model.data_preprocessor(fake_batch(scope, n=2, seed=seed), False)
        model(**data, mode='tensor')
    model.eval()


def first_ratios(pair, tmp_path) -> dict:
    """The first training step at loss_weight 1: KD loss / task loss, normalised and raw, the
    task loss, and whether the connector is a 1x1 conv (C_s != C_t) or the identity."""
    teacher, student, t_point, s_point, align = pair
    scope = teacher.split('::')[0]
    init_default_scope(scope)
    torch.manual_seed(0)
    teacher_model, _ = build_model(without_pretrained(model_config(teacher)))
    teacher_model.init_weights()  # mmdet/mmseg initialisation, as training starts from
    calibrate_norm_statistics(teacher_model, scope)
    torch.save(dict(state_dict=teacher_model.state_dict()), tmp_path / 'teacher.pth')
    student_cfg = without_pretrained(model_config(student))
    if scope == 'mmseg':
        student_cfg['data_preprocessor']['size'] = (SIZE, SIZE)
    distiller = MODELS.build(dict(
        type='rdimkd_mm.FeatureDistiller', student=student_cfg,
        teacher=teacher, teacher_checkpoint=str(tmp_path / 'teacher.pth'),
        probe_size=(SIZE, SIZE),
        distill=[dict(name='kd', student=s_point, teacher=t_point,
                      loss=dict(type='rdimkd_mm.RdimKDLoss', align=align,
                                projection=dict(type='rdimkd_mm.RandomProjection', k=0.25)))]))
    distiller.init_weights()  # what the Runner does: e.g. the detection heads' prior biases
    distiller.train()
    MessageHub.get_current_instance().update_info('iter', 0)  # YOLOX's batch resize reads it
    fit_projections(distiller, [fake_batch(scope, n=2)], num_batches=1, progress=False)
    data = distiller.data_preprocessor(fake_batch(scope, n=2), False)
    losses = distiller(**data, mode='loss')
    ratio = float(losses['kd_ratio_kd'])
    # The raw loss (normalize=None) is each level's normalised term times its scale.
    scales = distiller.distill_losses['kd'].scales
    levels = [losses[f'kd_kd_l{i}'] for i in range(len(scales))] if len(scales) > 1 else \
        [losses['loss_kd_kd'].detach()]
    raw = float(sum(level * scale for level, scale in zip(levels, scales)))
    kd = float(losses['loss_kd_kd'])
    connector = distiller.distill_losses['kd'].connectors[0]
    return dict(normalised=ratio, raw=ratio * raw / kd, task=kd / ratio,
                connector='identity' if isinstance(connector, torch.nn.Identity) else '1x1 conv')


def test_normalisation_narrows_the_first_kd_to_task_ratio_band(tmp_path):
    ratios, raw = {}, {}
    for pair in PAIRS:
        name = f"{pair[0].split('/')[-1][:-3]} -> {pair[1].split('/')[-1][:-3]}"
        first = first_ratios(pair, tmp_path)
        ratios[name], raw[name] = first['normalised'], first['raw']
    print('\nfirst KD/task ratio at loss_weight 1 (normalised | raw):')
    for name in ratios:
        print(f'  {ratios[name]:8.3g} | {raw[name]:10.4g}  {name}')
    assert all(torch.isfinite(torch.tensor(r)) and r > 0 for r in ratios.values()), ratios

    def band(values):
        return max(values.values()) / min(values.values())

    assert band(ratios) * 5 < band(raw), (ratios, raw)
    assert max(ratios.values()) < 200, ratios  # raw: up to 37,000x the task loss
