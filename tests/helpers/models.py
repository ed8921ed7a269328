"""Models with random weights saved as checkpoints: teachers that load, so distillers build."""
from pathlib import Path

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from rdimkd_mm.utils import build_model, load_model_config, pretrained_inits
from helpers.paths import REPO_ROOT

# The synthetic-COCO RdimKD-R config most tool tests train.
DET_DISTILL = 'configs/rdimkd/rdimkd-r_retinanet_r50-w32_r18-w16_synthetic-coco.py'


def save_random_model(cfg: dict, path: Path, seed: int = 0) -> str:
    """Build the model ``cfg`` (in the current default scope) with seed ``seed``, save its state
    dict as a checkpoint at ``path``; return the path."""
    torch.manual_seed(seed)
    model, _ = build_model(cfg)
    torch.save(dict(state_dict=model.state_dict()), path)
    return str(path)


def save_random_teacher(distill_config: str, path: Path) -> Path:
    """The teacher of the distillation config ``distill_config`` (relative to the repository)
    with random weights (seed 0), saved at ``path``."""
    cfg = Config.fromfile(str(REPO_ROOT / distill_config))
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        save_random_model(cfg.model.teacher, path)
    return path


def initialised_model(spec: str, seed: int = 0) -> torch.nn.Module:
    """The model of config ``spec`` with seed ``seed``, initialised as its config says
    (``init_weights``) with every pretrained init switched off, so nothing is downloaded. A
    model only built keeps uninitialised memory in some layers (SSD's ``L2Norm.weight`` is
    ``torch.Tensor(n)``): NaN by chance, which a teacher checkpoint may not hold."""
    model_cfg, scope = load_model_config(spec)
    for keys in pretrained_inits(model_cfg):
        parent = model_cfg
        for key in keys[:-1]:
            parent = parent[key]
        parent[keys[-1]] = None
    torch.manual_seed(seed)
    model, _ = build_model(dict(model_cfg, _scope_=scope))
    with DefaultScope.overwrite_default_scope(scope):
        model.init_weights()
    return model
