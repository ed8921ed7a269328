"""The student of a distillation config as a plain mmdet/mmseg config, and its weights."""
from typing import Dict

import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

from .model_config import load_model_config

# Keys of a distillation config that describe the training run, not the student model.
_RUN_KEYS = ('work_dir', 'load_from', 'resume', 'launcher')


def is_distill_config(cfg: Config) -> bool:
    """Whether ``cfg.model`` is a :class:`~rdimkd_mm.models.FeatureDistiller` (or subclass),
    resolved through the registry as ``MODELS.build`` resolves it."""
    from rdimkd_mm.models import FeatureDistiller
    from rdimkd_mm.registry import MODELS
    kind = cfg.model.get('type') if cfg.get('model') else None
    if isinstance(kind, str):
        with MODELS.switch_scope_and_registry('rdimkd_mm') as registry:
            kind = registry.get(kind)
    return isinstance(kind, type) and issubclass(kind, FeatureDistiller)


def student_config(cfg: Config) -> Config:
    """The distillation config with the distiller replaced by its student.

    Keeps data, evaluators, schedule and runtime; drops rdimkd_mm hooks, imports and helper
    variables (they mean nothing to vanilla mmdet/mmseg) and the run keys (work dir,
    ``load_from``, resume, launcher). The teacher is neither built nor loaded.
    """
    if not is_distill_config(cfg):
        raise ValueError(f'{cfg.filename} is not a distillation config (model type '
                         f"{cfg.model.get('type')!r}).")
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        student, scope = load_model_config(cfg.model.student)
    plain = Config(cfg.to_dict())
    plain.model = student
    plain.default_scope = scope
    plain.custom_hooks = [
        h for h in plain.get('custom_hooks', []) if not str(h.get('type')).startswith('rdimkd_mm')
    ]
    imports = plain.get('custom_imports', {}).get('imports', [])
    imports = [i for i in imports if not i.startswith('rdimkd_mm')]
    if imports:
        plain.custom_imports.imports = imports
    else:
        plain.pop('custom_imports', None)
    for key in _RUN_KEYS:
        plain.pop(key, None)
    # Helper variables of distillation bases (e.g. `fpn_distill`) mean nothing to mmdet/mmseg.
    for key in [k for k, v in plain.items() if k != 'model' and names_rdimkd(v)]:
        plain.pop(key)
    return plain


def teacher_config(cfg: Config) -> Config:
    """The distillation config with the distiller replaced by its teacher (its own model config
    and library scope), for evaluating the teacher on the distillation config's data."""
    plain = student_config(cfg)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope')):
        plain.model, plain.default_scope = load_model_config(cfg.model.teacher)
    return plain


def names_rdimkd(value) -> bool:
    """Whether a config value refers to a rdimkd_mm component anywhere inside."""
    if isinstance(value, dict):
        return str(value.get('type', '')).startswith('rdimkd_mm') or any(
            names_rdimkd(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(names_rdimkd(v) for v in value)
    return False


def student_weights(state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """The ``student.*`` entries of a distiller state dict, without the prefix."""
    return {k[len('student.'):]: v for k, v in state.items() if k.startswith('student.')}
