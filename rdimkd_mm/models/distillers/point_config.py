"""The distiller's ``distill`` list: point names, and each point's loss config (types and
options) checked before anything is built."""
import difflib
import inspect
from typing import Dict, List, Optional, Sequence

from rdimkd_mm.registry import MODELS
from ..losses import BaseDistillLoss
from ..projections import BaseProjection

#: Options the distiller (loss) or the loss (projection) fills in from the probed features.
_LOSS_FILLED = ('student_channels', 'teacher_channels', 'num_levels')
_PROJECTION_FILLED = ('in_channels', )


def parse_points(distill: Sequence[dict]) -> List[dict]:
    """The ``distill`` list with each point's ``name`` filled in (from the teacher address,
    made identifier-safe) and its loss config checked.

    Raises:
        KeyError: for a point without ``student``, ``teacher`` or ``loss``.
        ValueError: for two points of one name, or a bad loss config.
    """
    points, names = [], set()
    for i, point in enumerate(distill):
        missing = {'student', 'teacher', 'loss'} - set(point)
        if missing:
            raise KeyError(f'distill[{i}] lacks {sorted(missing)}; each point needs '
                           '`student`, `teacher` (feature addresses) and `loss`.')
        name = point.get('name', point['teacher'])
        name = ''.join(c if c.isalnum() else '_' for c in name).strip('_')
        if name in names:
            raise ValueError(f'Two distillation points are named {name!r}; give them '
                             'distinct `name`s.')
        names.add(name)
        check_loss_config(point['loss'], name)
        points.append(dict(point, name=name))
    return points


def check_loss_config(loss: dict, point: str) -> None:
    """Check the ``loss`` of the distillation point ``point`` and its ``projection``.

    Raises:
        ValueError: for an unknown type, an unknown option (with close matches) or a missing
            required option, naming the point and listing the accepted types or options.
    """
    where = f'distill point {point!r}: loss'
    loss_class = _check_component(loss, where, BaseDistillLoss, _LOSS_FILLED)
    projection = loss.get('projection')
    if 'projection' in inspect.signature(loss_class).parameters and isinstance(projection, dict):
        _check_component(projection, f'{where}.projection', BaseProjection, _PROJECTION_FILLED)
        k = projection.get('k')
        if isinstance(k, (int, float)) and not isinstance(k, bool) and k <= 0:
            raise ValueError(
                f'{where}.projection: k={k} keeps no channel. k is the number of teacher '
                'channels the projection keeps (an int >= 1, e.g. 32) or their fraction in '
                '(0, 1) (e.g. 0.25): raise it.')


def _check_component(cfg: dict, where: str, base: type, filled: Sequence[str]) -> type:
    """The class ``cfg['type']`` names (resolved as ``MODELS.build`` resolves it), after
    checking ``cfg``'s options against the signature of its ``__init__``."""
    kind = cfg.get('type')
    if isinstance(kind, type):
        cls = kind
    else:
        with MODELS.switch_scope_and_registry(cfg.get('_scope_', 'rdimkd_mm')) as registry:
            cls = registry.get(kind) if isinstance(kind, str) else None
    if cls is None:
        choices = _registered(base)
        close = difflib.get_close_matches(str(kind), choices, n=1, cutoff=0.6)
        raise ValueError(f'{where} type {kind!r} is not registered'
                         f'{f"; did you mean {close[0]!r}?" if close else "."} '
                         f'Choose one of {", ".join(choices)}.')
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise ValueError(f'{where} type {kind!r} is not a {base.__name__}; choose one of '
                         f'{", ".join(_registered(base))}.')
    parameters = _init_parameters(cls)
    if parameters is None:
        return cls
    options = [name for name in parameters if name not in filled]
    unknown = sorted(set(cfg) - {'type', '_scope_'} - set(parameters))
    if unknown:
        hints = [f'{name!r}' + ''.join(f' (did you mean {m!r}?)' for m in
                                       difflib.get_close_matches(name, options, n=1))
                 for name in unknown]
        raise ValueError(f'{where} ({cls.__name__}) has no option {", ".join(hints)}. Its '
                         f'options are {", ".join(options)}.')
    missing = [name for name, p in parameters.items()
               if p.default is p.empty and p.kind != p.VAR_POSITIONAL and name not in cfg
               and name not in filled]
    if missing:
        raise ValueError(f'{where} ({cls.__name__}) needs {", ".join(map(repr, missing))}. Its '
                         f'options are {", ".join(options)}.')
    return cls


def _init_parameters(cls: type) -> Optional[Dict[str, inspect.Parameter]]:
    """The named options of ``cls.__init__``, following ``**kwargs`` up the base classes
    (e.g. ``CWDLoss(*args, tau, **kwargs)`` -> ``BaseDistillLoss``); None where they end in
    ``**kwargs`` that no base class names."""
    parameters: Dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        if '__init__' not in vars(klass):
            continue
        own = dict(inspect.signature(klass.__init__).parameters)
        own.pop('self', None)
        parameters.update({name: p for name, p in own.items() if name not in parameters
                           and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)})
        if not any(p.kind == p.VAR_KEYWORD for p in own.values()):
            return parameters
    return None


def _registered(base: type) -> List[str]:
    """rdimkd_mm's registered subclasses of ``base``, as configs name them."""
    return sorted(f'rdimkd_mm.{name}' for name, cls in MODELS.module_dict.items()
                  if isinstance(cls, type) and issubclass(cls, base))
