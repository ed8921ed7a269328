from .checkpoint import (allow_mmengine_checkpoint_globals, load_checkpoint_strict,
                         read_checkpoint, state_dict_mismatch)
from .model_config import build_model, load_model_config, resolve_config_path

__all__ = [
    'allow_mmengine_checkpoint_globals', 'load_checkpoint_strict', 'read_checkpoint',
    'state_dict_mismatch', 'build_model',
    'load_model_config', 'resolve_config_path'
]
