"""Resolve and build the models a distiller wraps, from config files or model dicts."""
import os.path as osp
from typing import Dict, Tuple, Union

from mmengine.config import Config, ConfigDict
from mmengine.registry import MODELS, DefaultScope
from mmengine.utils import get_installed_path, is_installed
from torch import nn

ModelSpec = Union[str, dict]


def resolve_config_path(path: str) -> str:
    """Turn ``'mmdet::retinanet/x.py'`` into the installed file; check local paths exist."""
    if '::' in path:
        package, relative = path.split('::', 1)
        if not is_installed(package):
            raise FileNotFoundError(f'Config {path!r} names the package {package!r}, which is '
                                    'not installed.')
        resolved = osp.join(get_installed_path(package), '.mim', 'configs', relative)
    else:
        resolved = path
    if not osp.isfile(resolved):
        raise FileNotFoundError(f'Config file {path!r} not found (looked at {resolved!r}).')
    return resolved


def load_model_config(spec: ModelSpec) -> Tuple[ConfigDict, str]:
    """Return a model config and the registry scope to build it in.

    Args:
        spec (str | dict): A config file path (local or ``'mmdet::...'``/``'mmseg::...'``),
            whose ``model`` and ``default_scope`` are used, or a model dict, built in its
            ``_scope_`` or else the current default scope.

    Returns:
        tuple[ConfigDict, str]: The model config (without ``_scope_``) and the scope.
    """
    if isinstance(spec, str):
        cfg = Config.fromfile(resolve_config_path(spec))
        if 'model' not in cfg:
            raise KeyError(f'Config {spec!r} has no `model`.')
        model_cfg, scope = cfg.model, cfg.get('default_scope')
    elif isinstance(spec, dict):
        model_cfg = ConfigDict(spec)
        scope = model_cfg.pop('_scope_', None)
    else:
        raise TypeError(f'A model must be given as a config path or a model dict, got '
                        f'{type(spec).__name__}.')
    if scope is None:
        current = DefaultScope.get_current_instance()
        scope = current.scope_name if current is not None else None
    if scope is None:
        raise ValueError('Cannot tell which library builds the model: set `default_scope` in '
                         "the config (e.g. 'mmdet' or 'mmseg') or `_scope_` in the model dict.")
    return ConfigDict(model_cfg), scope


def build_model(spec: ModelSpec) -> Tuple[nn.Module, str]:
    """Build a model from :func:`load_model_config`'s output; returns ``(model, scope)``."""
    model_cfg, scope = load_model_config(spec)
    with DefaultScope.overwrite_default_scope(scope):
        model = MODELS.build(dict(model_cfg, _scope_=scope))
    return model, scope


def pretrained_inits(model_cfg: dict) -> Dict[Tuple[str, ...], object]:
    """Where a model config loads pretrained weights (from the internet, for the zoo configs).

    Returns:
        dict: key path (e.g. ``('backbone', 'init_cfg')``) -> its value, for every string
        ``pretrained`` and every ``init_cfg`` (dict or list) with a ``Pretrained`` entry or a
        ``checkpoint``. Setting each to None switches pretrained initialisation off.
    """
    found = {}
    for key, value in model_cfg.items():
        if key == 'pretrained' and isinstance(value, str):
            found[(key, )] = value
        elif key == 'init_cfg' and value is not None:
            inits = value if isinstance(value, (list, tuple)) else [value]
            if any(isinstance(i, dict) and (i.get('type') == 'Pretrained' or 'checkpoint' in i)
                   for i in inits):
                found[(key, )] = value
        elif isinstance(value, dict):
            found.update({(key, *path): v for path, v in pretrained_inits(value).items()})
    return found
