from .checkpoint_allow_list import allow_mmengine_checkpoint_globals
from .checkpoint_reading import (CheckpointError, checkpoint_file, read_checkpoint, read_state_dict,
                                 state_dict_of)
from .cpu_distributed import finish_cpu_distributed, prepare_cpu_distributed
from .model_config import build_model, load_model_config, pretrained_inits, resolve_config_path
from .random_states import preserved_random_states
from .safe_loading import install_safe_loading
from .state_dict_matching import (check_state_dict, load_checkpoint_strict, load_state_dict_strict,
                                  state_dict_mismatch)
from .student_config import is_distill_config, student_config, student_weights, teacher_config

__all__ = [
    'CheckpointError', 'allow_mmengine_checkpoint_globals', 'check_state_dict',
    'checkpoint_file', 'install_safe_loading', 'load_checkpoint_strict',
    'load_state_dict_strict', 'read_checkpoint', 'read_state_dict', 'state_dict_mismatch',
    'state_dict_of', 'build_model', 'load_model_config', 'pretrained_inits',
    'resolve_config_path',
    'is_distill_config', 'student_config', 'student_weights', 'teacher_config',
    'preserved_random_states', 'prepare_cpu_distributed', 'finish_cpu_distributed'
]
