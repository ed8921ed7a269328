from .checkpoint import allow_mmengine_checkpoint_globals, load_checkpoint_strict
from .model_config import build_model, load_model_config, resolve_config_path

__all__ = [
    'allow_mmengine_checkpoint_globals', 'load_checkpoint_strict', 'build_model',
    'load_model_config', 'resolve_config_path'
]
