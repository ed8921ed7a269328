"""rdimkd_mm registries: children of mmengine's root registries.

Configs whose ``default_scope`` is ``'mmdet'`` or ``'mmseg'`` name the project's components with
the scope prefix, e.g. ``type='rdimkd_mm.FeatureDistiller'``; mmengine finds the child through the
root registry and imports ``rdimkd_mm.registry`` by itself.
"""
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import Registry

#: Losses, projections and distillers.
MODELS = Registry('model', parent=MMENGINE_MODELS, scope='rdimkd_mm',
                  locations=['rdimkd_mm.models'])
#: Training hooks (e.g. fitting PCA/autoencoder projections before training).
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, scope='rdimkd_mm',
                 locations=['rdimkd_mm.engine'])
#: Optimizer wrappers (the finiteness guard of every training step).
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS, scope='rdimkd_mm',
                          locations=['rdimkd_mm.engine'])
