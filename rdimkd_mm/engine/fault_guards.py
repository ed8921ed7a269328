"""What ``tools/train.py`` adds to every config so that no fault loses a run's work."""
import logging

from mmengine.config import Config
from mmengine.logging import print_log

from .checkpoint_io import ATOMIC_BACKEND

#: mmengine's optimizer wrappers and the guarded versions that replace them.
GUARDED = {'OptimWrapper': 'rdimkd_mm.FiniteOptimWrapper',
           'AmpOptimWrapper': 'rdimkd_mm.FiniteAmpOptimWrapper'}


def install_fault_guards(cfg: Config) -> None:
    """Guard every training step and checkpoint of ``cfg`` (in place).

    - ``optim_wrapper``: ``OptimWrapper``/``AmpOptimWrapper`` become
      :class:`FiniteOptimWrapper`/:class:`FiniteAmpOptimWrapper`, which skip a step with a
      non-finite loss or gradient norm;
    - ``custom_hooks``: :class:`FiniteGuardHook`, which then stops training naming the loss, and
      refuses to save non-finite weights;
    - the CheckpointHook writes atomically (:class:`AtomicLocalBackend`) when it saves to a
      local directory with mmengine's default backend.
    """
    wrapper = cfg.get('optim_wrapper')
    kind = wrapper.get('type', 'OptimWrapper') if wrapper is not None else None
    name = kind if isinstance(kind, str) else getattr(kind, '__name__', str(kind))
    if name in GUARDED:
        wrapper.type = GUARDED[name]
    elif name is not None and name.split('.')[-1] not in (
            'FiniteOptimWrapper', 'FiniteAmpOptimWrapper'):
        print_log(f'optim_wrapper type {name} is not guarded: a step with a NaN or inf loss is '
                  'applied to the weights. Use rdimkd_mm.FiniteOptimWrapper (or its Amp '
                  'version) to stop at the first one.', logger='current',
                  level=logging.WARNING)
    hooks = cfg.get('custom_hooks') or []
    if not any('FiniteGuardHook' in str(h.get('type')) for h in hooks):
        cfg.custom_hooks = [*hooks, dict(type='rdimkd_mm.FiniteGuardHook')]
    checkpoint = (cfg.get('default_hooks') or {}).get('checkpoint')
    if (checkpoint is not None and not checkpoint.get('backend_args')
            and not checkpoint.get('file_client_args')
            and '://' not in str(checkpoint.get('out_dir') or '')):
        checkpoint.backend_args = dict(backend=ATOMIC_BACKEND)
