"""Fitting the projections on teacher features, and the fitted-projections file."""
import pytest
import torch

from rdimkd_mm.engine.projection_fit import (fit_projections, fitted_state_dict, load_projections,
                                             losses_to_fit)
from helpers.distillers import (RETINA_STUDENT, RETINA_TEACHER, build_distiller, fpn_point,
                                model_cfg, raw_batch, train_losses)

pytestmark = pytest.mark.usefixtures('mmdet_scope')


def test_pca_projection_is_fitted_on_teacher_features(retina_checkpoint):
    distiller = build_distiller(model_cfg(RETINA_STUDENT), model_cfg(RETINA_TEACHER),
                                retina_checkpoint, fit=False,
                                distill=[fpn_point(k=8, projection='rdimkd_mm.PCAProjection')])
    with pytest.raises(RuntimeError, match='FitProjectionsHook'):
        train_losses(distiller)
    assert set(losses_to_fit(distiller)) == {'fpn'}
    fit_projections(distiller, [raw_batch(seed=s) for s in range(3)], num_batches=2,
                    progress=False)
    assert losses_to_fit(distiller) == {}
    projection = distiller.distill_losses['fpn'].projections[0]
    torch.testing.assert_close(projection.weight.t() @ projection.weight, torch.eye(8),
                               atol=1e-4, rtol=0)
    assert train_losses(distiller)['loss_kd_fpn'] > 0


def test_projections_file_round_trip(retina_checkpoint, tmp_path):
    pca = [fpn_point(k=8, projection='rdimkd_mm.PCAProjection')]
    fitted = build_distiller(model_cfg(RETINA_STUDENT), model_cfg(RETINA_TEACHER),
                             retina_checkpoint, distill=pca)
    torch.save(dict(state_dict=fitted_state_dict(fitted)), tmp_path / 'pca.pth')
    loaded = build_distiller(model_cfg(RETINA_STUDENT), model_cfg(RETINA_TEACHER),
                             retina_checkpoint, distill=pca, fit=False)
    load_projections(loaded, str(tmp_path / 'pca.pth'))
    assert losses_to_fit(loaded) == {}
    for key, value in fitted_state_dict(fitted).items():
        assert torch.equal(value, fitted_state_dict(loaded)[key]), key
    other = build_distiller(model_cfg(RETINA_STUDENT), model_cfg(RETINA_TEACHER),
                            retina_checkpoint, fit=False,
                            distill=[fpn_point(k=4, projection='rdimkd_mm.PCAProjection')])
    with pytest.raises(ValueError, match='does not match'):
        load_projections(other, str(tmp_path / 'pca.pth'))
