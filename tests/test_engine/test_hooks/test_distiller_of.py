"""The distiller hooks find the distiller behind the runner's model, or name the fix."""
import pytest
import torch


@pytest.mark.parametrize('hook', ['FitProjectionsHook', 'TeacherEvalHook',
                                  'ProjectedFeatureVisHook'])
def test_distiller_hooks_refuse_a_plain_model(hook):
    from types import SimpleNamespace

    from rdimkd_mm.engine.hooks.distiller_of import distiller_of
    runner = SimpleNamespace(model=torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match=f'{hook} needs a rdimkd_mm distiller model, got Linear; '
                       'remove the hook from custom_hooks'):
        distiller_of(runner, hook)
