"""The pair inspector: probe a teacher and a student, propose points, write the config."""
from .config_text import config_text, plain, pretrained_lines, value_text
from .defaults import DEFAULTS, METHODS, default_config, default_hooks, default_loss, method_name
from .proposal import (MAX_NECK_LEVELS, first_levels, last_backbone_point, proposal_note,
                       propose_points)
from .side import Levels, Side, describe_levels

__all__ = [
    'config_text', 'plain', 'pretrained_lines', 'value_text', 'DEFAULTS', 'METHODS',
    'default_config', 'default_hooks', 'default_loss', 'method_name',
    'MAX_NECK_LEVELS', 'first_levels', 'last_backbone_point', 'proposal_note', 'propose_points',
    'Levels', 'Side', 'describe_levels'
]
