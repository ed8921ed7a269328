import pytest
import torch
import torch.nn.functional as F
from torch import nn

import rdimkd_mm  # noqa: F401  (populates the registries)
from rdimkd_mm.models.losses import PKDLoss
from rdimkd_mm.models.losses.rdimkd_loss import RdimKDLoss
from rdimkd_mm.models.projections import RandomProjection


def _loss(student_channels=16, teacher_channels=16, k=4, projection=None, **kwargs):
    """The raw loss (normalize=None) unless a test asks for the normalised one."""
    if projection is None:
        projection = dict(type='rdimkd_mm.RandomProjection', k=k)
    kwargs.setdefault('normalize', None)
    return RdimKDLoss(student_channels=student_channels, teacher_channels=teacher_channels,
                      projection=projection, **kwargs)


def _fit(loss, batches):
    """Stream teacher feature batches (each a list of levels) through the loss's fit."""
    loss.fit_begin()
    for levels in batches:
        for level, feat in enumerate(levels):
            loss.fit_step(level, feat)
    loss.fit_end()


def _per_position(matrix, feat):
    """Apply a (C_out, C_in) matrix to every position of (N, C_in, H, W)."""
    return torch.einsum('oc,nchw->nohw', matrix, feat)


def _projected_sq_norm(weight, residual):
    """Mean over N, H, W of ||K^T r||^2."""
    return _per_position(weight.t(), residual).pow(2).sum(1).mean()


def test_zero_when_connected_student_equals_teacher():
    torch.manual_seed(0)
    loss = _loss(student_channels=8, teacher_channels=16, k=4)
    student = torch.randn(2, 8, 5, 5)
    teacher = loss.connectors[0](student).detach()
    assert loss(student, teacher).item() == 0.0

    same = _loss(connector='identity')
    feat = torch.randn(2, 16, 5, 5)
    assert same(feat, feat.clone()).item() == 0.0


@pytest.mark.parametrize('connector', ['identity', 'auto'])
def test_zero_when_residual_is_orthogonal_to_subspace(connector):
    torch.manual_seed(0)
    loss = _loss(k=4, connector=connector)
    assert isinstance(loss.connectors[0], nn.Identity)
    weight = loss.projections[0].weight
    student = torch.randn(2, 16, 6, 6)
    v = torch.randn(2, 16, 6, 6)
    residual = v - _per_position(weight @ weight.t(), v)
    teacher = student + residual

    assert loss(student, teacher).item() < 1e-9
    full_l2 = _loss(projection=dict(type='rdimkd_mm.IdentityProjection'))
    expected_full = residual.pow(2).sum(1).mean()
    assert expected_full > 1.0
    torch.testing.assert_close(full_l2(student, teacher), expected_full, rtol=1e-4, atol=0)


def test_equals_projected_norm_when_residual_in_subspace():
    torch.manual_seed(0)
    loss = _loss(k=4)
    weight = loss.projections[0].weight
    student = torch.randn(2, 16, 6, 6)
    codes = torch.randn(2, 4, 6, 6)
    residual = _per_position(weight, codes)
    value = loss(student, student + residual)
    assert value.item() > 1.0
    torch.testing.assert_close(value, _projected_sq_norm(weight, residual), rtol=1e-5, atol=0)
    # Orthonormal K: ||K^T K a||^2 = ||a||^2.
    torch.testing.assert_close(value, codes.pow(2).sum(1).mean(), rtol=1e-4, atol=0)


@pytest.mark.parametrize('scale', [0.5, 3.0])
def test_loss_grows_quadratically_with_residual(scale):
    torch.manual_seed(0)
    loss = _loss(k=4)
    student = torch.randn(2, 16, 6, 6)
    residual = torch.randn(2, 16, 6, 6)
    base = loss(student, student + residual)
    scaled = loss(student, student + scale * residual)
    torch.testing.assert_close(scaled, scale**2 * base, rtol=1e-4, atol=0)


def test_mean_reduction_is_sum_reduction_over_k():
    torch.manual_seed(0)
    student = torch.randn(2, 8, 6, 6)
    teacher = torch.randn(2, 16, 6, 6)
    sum_loss = _loss(student_channels=8, k=5, reduction='sum')
    mean_loss = _loss(student_channels=8, k=5, reduction='mean')
    mean_loss.load_state_dict(sum_loss.state_dict())
    torch.testing.assert_close(mean_loss(student, teacher), sum_loss(student, teacher) / 5,
                               rtol=1e-5, atol=0)


def test_sum_loss_equals_mean_of_projector_norm():
    """paper.md Facts: with orthonormal K, ||K^T r||^2 = ||P r||^2 with P = K K^T."""
    torch.manual_seed(0)
    loss = _loss(k=6)
    weight = loss.projections[0].weight
    student = torch.randn(3, 16, 4, 5)
    teacher = torch.randn(3, 16, 4, 5)
    projector = weight @ weight.t()
    expected = _per_position(projector, teacher - student).pow(2).sum(1).mean()
    torch.testing.assert_close(loss(student, teacher), expected, rtol=1e-5, atol=0)


def test_projection_mean_cancels_in_loss():
    torch.manual_seed(0)
    loss = _loss(k=4)
    student = torch.randn(2, 16, 4, 4)
    teacher = torch.randn(2, 16, 4, 4)
    before = loss(student, teacher)
    loss.projections[0].mean.copy_(torch.randn(16) * 5)
    torch.testing.assert_close(loss(student, teacher), before, rtol=1e-4, atol=0)


def test_loss_weight_scales_linearly():
    torch.manual_seed(0)
    student = torch.randn(2, 8, 4, 4)
    teacher = torch.randn(2, 16, 4, 4)
    unit = _loss(student_channels=8, loss_weight=1.0)
    weighted = _loss(student_channels=8, loss_weight=2.5)
    weighted.load_state_dict(unit.state_dict())
    unit_value = unit(student, teacher)
    assert unit_value.item() > 0
    torch.testing.assert_close(weighted(student, teacher), 2.5 * unit_value, rtol=1e-6, atol=0)
    torch.testing.assert_close(
        weighted.level_losses(student, teacher)[0], 2.5 * unit_value, rtol=1e-6, atol=0)


def test_gradients_reach_student_and_connector_only():
    torch.manual_seed(0)
    loss = _loss(student_channels=8, teacher_channels=16, k=4)
    assert isinstance(loss.connectors[0], nn.Conv2d)
    student = torch.randn(2, 8, 4, 4, requires_grad=True)
    teacher = torch.randn(2, 16, 4, 4, requires_grad=True)
    loss(student, teacher).backward()

    assert student.grad is not None and student.grad.abs().sum() > 0
    conv = loss.connectors[0]
    assert conv.weight.grad is not None and conv.weight.grad.abs().sum() > 0
    assert conv.bias.grad is not None and conv.bias.grad.abs().sum() > 0
    assert teacher.grad is None
    assert list(loss.projections.parameters()) == []
    assert 'weight' in dict(loss.projections[0].named_buffers())


def test_autocast_computes_projection_and_distance_in_float32():
    """Under autocast (``--amp``) the level losses are float32 and keep the fine residual that
    a bfloat16 projection would round away; gradients still reach the student and connector."""
    torch.manual_seed(0)
    # Features of magnitude ~30 with a residual of ~1e-2: bfloat16 (8 bits of mantissa) keeps
    # none of the residual after projecting, float32 keeps it.
    student = 30 * torch.randn(2, 16, 4, 4)
    teacher = student + 1e-2 * torch.randn(2, 16, 4, 4)
    loss = _loss(k=4, connector='identity')
    expected = loss.level_losses(student, teacher)[0]
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert F.conv2d(student, torch.randn(4, 16, 1, 1)).dtype == torch.bfloat16
        levels = loss.level_losses(student, teacher)
    assert levels[0].dtype == torch.float32
    torch.testing.assert_close(levels[0], expected, rtol=1e-4, atol=0)

    conv_loss = _loss(student_channels=8, teacher_channels=16, k=4, num_levels=2)
    students = [torch.randn(2, 8, 4, 4, requires_grad=True) for _ in range(2)]
    teachers = [torch.randn(2, 16, 4, 4) for _ in range(2)]
    plain = [value.detach() for value in conv_loss.level_losses(students, teachers)]
    with torch.autocast('cpu', dtype=torch.bfloat16):
        levels = conv_loss.level_losses(students, teachers)
    assert [value.dtype for value in levels] == [torch.float32] * 2
    # Only the connector ran in bfloat16 here.
    torch.testing.assert_close(torch.stack(levels).detach(), torch.stack(plain), rtol=2e-2,
                               atol=0)
    sum(levels).backward()
    for student in students:
        assert student.grad is not None and student.grad.abs().sum() > 0
    for conv in conv_loss.connectors:
        assert conv.weight.grad is not None and conv.weight.grad.abs().sum() > 0


def test_student_gradient_matches_closed_form():
    """With the identity connector, dL/dF_s = 2 / (N H W) * K K^T (F_s - F_t)."""
    torch.manual_seed(0)
    loss = _loss(k=4, connector='identity')
    weight = loss.projections[0].weight
    student = torch.randn(2, 16, 3, 5, requires_grad=True)
    teacher = torch.randn(2, 16, 3, 5)
    loss(student, teacher).backward()
    expected = 2 / (2 * 3 * 5) * _per_position(weight @ weight.t(), student.detach() - teacher)
    torch.testing.assert_close(student.grad, expected, rtol=1e-4, atol=1e-6)


def test_autoencoder_projection_gets_no_gradient_from_the_loss():
    torch.manual_seed(0)
    loss = _loss(student_channels=8, projection=dict(type='rdimkd_mm.AutoencoderProjection',
                                                     k=4))
    projection = loss.projections[0]
    projection.fitted.fill_(True)
    student = torch.randn(2, 8, 4, 4, requires_grad=True)
    loss(student, torch.randn(2, 16, 4, 4)).backward()
    assert student.grad is not None
    params = list(projection.parameters())
    assert params and all(p.grad is None for p in params)
    assert all(not p.requires_grad for p in params)


def test_multi_level_losses_use_one_projection_per_level():
    torch.manual_seed(0)
    sizes = [(8, 8), (4, 4), (2, 2)]
    loss = _loss(student_channels=8, k=4, num_levels=3)
    students = [torch.randn(2, 8, *s) for s in sizes]
    teachers = [torch.randn(2, 16, *s) for s in sizes]

    levels = loss.level_losses(students, teachers)
    assert len(levels) == 3
    assert all(level.dim() == 0 for level in levels)
    torch.testing.assert_close(loss(students, teachers), sum(levels), rtol=1e-6, atol=0)

    for level, (student, teacher) in enumerate(zip(students, teachers)):
        connected = loss.connectors[level](student)
        expected = _projected_sq_norm(loss.projections[level].weight, teacher - connected)
        torch.testing.assert_close(levels[level], expected, rtol=1e-5, atol=0)

    weights = [p.weight for p in loss.projections]
    for i in range(3):
        for j in range(i + 1, 3):
            assert not torch.allclose(weights[i], weights[j], atol=1e-3)


def test_random_projection_seed_offsets_per_level():
    loss = _loss(k=4, num_levels=2, projection=dict(type='rdimkd_mm.RandomProjection', k=4,
                                                    seed=10))
    assert [p.seed for p in loss.projections] == [10, 11]
    assert torch.equal(loss.projections[1].weight, RandomProjection(16, 4, seed=11).weight)


def test_projection_type_given_as_class_gets_per_level_seeds():
    """mmengine registries also accept the class itself as ``type``."""
    loss = _loss(k=4, num_levels=2, projection=dict(type=RandomProjection, k=4))
    assert [p.seed for p in loss.projections] == [0, 1]
    assert not torch.allclose(loss.projections[0].weight, loss.projections[1].weight, atol=1e-3)


def test_interpolate_aligns_student_to_teacher_size():
    torch.manual_seed(0)
    loss = _loss(student_channels=8, k=4, align='interpolate')
    student = torch.randn(2, 8, 4, 6)
    teacher = torch.randn(2, 16, 8, 12)
    connected = F.interpolate(loss.connectors[0](student), size=(8, 12), mode='bilinear',
                              align_corners=False)
    expected = _projected_sq_norm(loss.projections[0].weight, teacher - connected)
    torch.testing.assert_close(loss(student, teacher), expected, rtol=1e-5, atol=0)

    same_channels = _loss(k=4, align='interpolate')
    student16 = torch.randn(2, 16, 4, 6)
    resized = F.interpolate(student16, size=(8, 12), mode='bilinear', align_corners=False)
    torch.testing.assert_close(same_channels(student16, teacher), same_channels(resized, teacher),
                               rtol=1e-6, atol=0)


def test_stride_align_rejects_a_stride_mismatch():
    loss = _loss(k=4)  # align='stride' is the default
    with pytest.raises(ValueError, match="strides differ.*align='interpolate'"):
        loss(torch.randn(1, 16, 4, 4), torch.randn(1, 16, 8, 8))


def test_stride_align_crops_a_padding_remainder():
    """Same stride, the teacher padded to a larger size divisor: its extra bottom/right cells
    are cropped (top-left is where both inputs hold the image)."""
    torch.manual_seed(0)
    loss = _loss(k=4)
    student, teacher = torch.randn(2, 16, 6, 7), torch.randn(2, 16, 8, 8)
    expected = loss(student[..., :6, :7], teacher[..., :6, :7])
    torch.testing.assert_close(loss(student, teacher), expected, rtol=0, atol=0)
    student_larger = torch.randn(2, 16, 9, 8)
    torch.testing.assert_close(loss(student_larger, teacher),
                               loss(student_larger[..., :8, :8], teacher), rtol=0, atol=0)


def test_wrong_number_of_levels_raises():
    loss = _loss(k=4, num_levels=2)
    feats = [torch.randn(1, 16, 4, 4), torch.randn(1, 16, 2, 2)]
    with pytest.raises(ValueError, match='2 level'):
        loss(feats[0], feats)
    with pytest.raises(ValueError, match='2 level'):
        loss(feats, feats + [torch.randn(1, 16, 1, 1)])


def test_wrong_channel_count_raises():
    loss = _loss(student_channels=8, k=4)
    with pytest.raises(ValueError, match='student'):
        loss(torch.randn(1, 7, 4, 4), torch.randn(1, 16, 4, 4))
    with pytest.raises(ValueError, match='teacher'):
        loss(torch.randn(1, 8, 4, 4), torch.randn(1, 15, 4, 4))
    with pytest.raises(ValueError, match='shape'):
        loss(torch.randn(8, 4, 4), torch.randn(1, 16, 4, 4))


def test_batch_size_mismatch_raises():
    loss = _loss(k=4)
    with pytest.raises(ValueError, match='Batch sizes'):
        loss(torch.randn(2, 16, 4, 4), torch.randn(3, 16, 4, 4))


def test_identity_connector_requires_equal_channels():
    with pytest.raises(ValueError, match="connector='conv'"):
        _loss(student_channels=8, teacher_channels=16, connector='identity')


@pytest.mark.parametrize('option,value', [('connector', 'linear'), ('align', 'nearest'),
                                          ('reduction', 'none'), ('normalize', 'pearson')])
def test_unknown_options_raise(option, value):
    with pytest.raises(ValueError, match=option):
        _loss(k=4, **{option: value})


def test_unfitted_pca_projection_raises():
    loss = _loss(projection=dict(type='rdimkd_mm.PCAProjection', k=4))
    with pytest.raises(RuntimeError, match='FitProjectionsHook'):
        loss(torch.randn(1, 16, 4, 4), torch.randn(1, 16, 4, 4))


@pytest.mark.parametrize('projection', [dict(type='rdimkd_mm.RandomProjection', k=4),
                                        dict(type='rdimkd_mm.PCAProjection', k=4),
                                        dict(type='rdimkd_mm.IdentityProjection')])
def test_teacher_normalisation_divides_by_the_projected_teacher_variance(projection):
    """s_l = E||K^T (F_t - mean)||^2 per level, measured by the fit; then loss = raw / s_l."""
    torch.manual_seed(0)
    scale = [3.0, 0.01]  # two levels of very different magnitude
    feats = [[torch.randn(2, 16, 6, 6) * s + 1.0 for s in scale] for _ in range(3)]
    loss = _loss(projection=projection, num_levels=2, normalize='teacher')
    assert not loss.is_fitted
    _fit(loss, feats)
    assert loss.is_fitted
    raw = _loss(projection=projection, num_levels=2)
    raw.load_state_dict({k: v for k, v in loss.state_dict().items()
                         if not k.startswith('scales')}, strict=False)
    for level in range(2):
        samples = torch.cat([f[level] for f in feats]).permute(0, 2, 3, 1).reshape(-1, 16)
        z = loss.projections[level](samples[:, :, None, None])[:, :, 0, 0].double()
        expected = (z - z.mean(0)).pow(2).sum(1).mean()
        torch.testing.assert_close(loss.scales[level].double(), expected, rtol=1e-4, atol=0)
    student = [torch.randn(2, 16, 6, 6) * s for s in scale]
    normalised, plain = loss.level_losses(student, feats[0]), raw.level_losses(student, feats[0])
    for level in range(2):
        torch.testing.assert_close(normalised[level], plain[level] / loss.scales[level])
    # A student that outputs the teacher's mean scores about 1 at every level, whatever its scale.
    mean = [torch.cat([f[level] for f in feats]).mean((0, 2, 3), keepdim=True).expand_as(
        feats[0][level]) for level in range(2)]
    for value in loss.level_losses(mean, feats[0]):
        assert 0.5 < value.item() < 2.0


def test_normalised_loss_needs_the_fit():
    loss = _loss(normalize='teacher')
    with pytest.raises(RuntimeError, match="teacher's scale .*FitProjectionsHook"):
        loss(torch.randn(1, 16, 4, 4), torch.randn(1, 16, 4, 4))


def test_standardised_loss_is_one_minus_the_projected_channels_mean_correlation():
    """normalize='standardize': 1 - mean_j Pearson r_j of K^T G_s and K^T F_t over N, H, W."""
    torch.manual_seed(0)
    loss = _loss(k=4, normalize='standardize', loss_weight=3.0)
    assert loss.is_fitted  # nothing to measure before training
    teacher = torch.randn(4, 16, 5, 5) * 7 + 2
    student = 0.5 * teacher + torch.randn(4, 16, 5, 5) * 3
    weight = loss.projections[0](torch.eye(16)[:, :, None, None])[:, :, 0, 0]  # (16, k)
    z_t, z_s = (_per_position(weight.t(), f).permute(1, 0, 2, 3).reshape(4, -1).double()
                for f in (teacher, student))
    r = torch.stack([torch.corrcoef(torch.stack([a, b]))[0, 1] for a, b in zip(z_t, z_s)])
    torch.testing.assert_close(loss(student, teacher).double(), 3.0 * (1 - r.mean()),
                               rtol=1e-4, atol=1e-5)
    # Whatever the scale and offset of either side, the loss is the same (up to eps).
    torch.testing.assert_close(loss(student * 100 - 5, teacher * 0.01 + 9),
                               loss(student, teacher), rtol=1e-4, atol=1e-5)


def test_standardised_loss_without_projection_is_pkd():
    """IdentityProjection + normalize='standardize' is PKD's loss on the full feature."""
    torch.manual_seed(0)
    rdimkd = _loss(8, 16, projection=dict(type='rdimkd_mm.IdentityProjection'),
                   normalize='standardize', num_levels=2, loss_weight=10.0)
    pkd = PKDLoss(8, 16, num_levels=2, loss_weight=10.0)
    pkd.load_state_dict(rdimkd.state_dict(), strict=False)  # the same connectors
    student = [torch.randn(2, 8, 6, 6), torch.randn(2, 8, 3, 3)]
    teacher = [torch.randn(2, 16, 6, 6) * 4 + 1, torch.randn(2, 16, 3, 3)]
    torch.testing.assert_close(rdimkd(student, teacher), pkd(student, teacher))


def test_float_k_is_a_fraction_of_the_teacher_channels():
    loss = _loss(teacher_channels=256, student_channels=64, k=0.25)
    assert loss.projections[0].k == 64
    with pytest.raises(ValueError, match='fraction'):
        _loss(k=1.5)


def test_fit_summary_reports_what_guides_k():
    torch.manual_seed(0)
    feats = [[torch.randn(2, 16, 5, 5)] for _ in range(2)]
    pca = _loss(projection=dict(type='rdimkd_mm.PCAProjection', k=4), normalize='teacher')
    _fit(pca, feats)
    explained = float(pca.projections[0].explained_variance_ratio)
    assert f'PCA keeps {explained:.1%} of the teacher variance' in pca.fit_summary()[0]
    random = _loss(k=4, normalize='teacher')
    _fit(random, feats)
    kept = float(random.scales[0]) / (16 * random._channel_variance[0])
    assert 0.1 < kept < 0.5  # about k / C = 25% for random orthonormal directions
    assert f'random K keeps {kept:.1%} of it' in random.fit_summary()[0]
