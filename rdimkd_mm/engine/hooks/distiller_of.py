from mmengine.model import is_model_wrapper

from rdimkd_mm.models import FeatureDistiller


def distiller_of(runner, hook: str) -> FeatureDistiller:
    """The runner's distiller (unwrapped from DDP), for the hook named ``hook``.

    Raises:
        TypeError: if the runner trains another model, naming the hook to remove.
    """
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    if not isinstance(model, FeatureDistiller):
        raise TypeError(f'{hook} needs a rdimkd_mm distiller model, got '
                        f'{type(model).__name__}; remove the hook from custom_hooks.')
    return model
