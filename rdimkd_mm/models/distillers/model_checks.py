"""Checks of the models a distiller is given, made before it is built."""
from typing import Optional

from mmengine.model import BaseModel
from mmengine.registry import MODELS
from torch import nn


def check_whole_model(model: nn.Module, role: str) -> None:
    """The student and the teacher must be whole detectors/segmentors, not a backbone alone."""
    if not isinstance(model, BaseModel):
        raise _not_whole(role, type(model).__name__)


def _not_whole(role: str, kind: str) -> TypeError:
    return TypeError(
        f'The {role} is a {kind}, not a detector or segmentor: the distiller needs a whole '
        'model (an mmengine BaseModel with a data_preprocessor, loss and predict), e.g. '
        f'{role}=_base_.model of the {role} config, or a config file. To distil only a '
        "backbone, give its whole model and name 'backbone' as the points' feature address.")


def check_whole_model_config(model_cfg: dict, scope: str, role: str) -> None:
    """:func:`check_whole_model` before the build, from the registered type: a model dict
    whose ``type`` names a backbone (``model.student.type=ResNet``) would otherwise fail inside
    its constructor on the detector's keys (``unexpected keyword argument
    'data_preprocessor'``)."""
    kind = model_cfg.get('type')
    if isinstance(kind, str):
        with MODELS.switch_scope_and_registry(scope) as registry:
            kind = registry.get(kind)
    if isinstance(kind, type) and not issubclass(kind, BaseModel):
        raise _not_whole(role, kind.__name__)


def check_top_level_preprocessor(given: Optional[dict], student: Optional[dict]) -> None:
    """mmengine's Runner passes a config's top-level ``data_preprocessor`` to the model (mmseg
    configs have one); accept it only when it is the student's own, up to the ``_scope_``
    bookkeeping key mmengine adds to one copy and not the other."""
    if given is None:
        return
    given, student = _without_scope(given), _without_scope(student or {})
    if given != student:
        keys = sorted(k for k in set(given) | set(student) if given.get(k) != student.get(k))
        raise ValueError(
            'The top-level data_preprocessor differs from the student\'s model.data_preprocessor '
            f'in {keys}; the distiller normalises with the student\'s (and the teacher\'s) own. '
            'Set both to the same values (e.g. --cfg-options data_preprocessor.size=... '
            'model.student.data_preprocessor.size=...), or remove the top-level one.')


def _without_scope(value):
    if isinstance(value, dict):
        return {k: _without_scope(v) for k, v in value.items() if k != '_scope_'}
    if isinstance(value, (list, tuple)):
        return [_without_scope(v) for v in value]
    return value
