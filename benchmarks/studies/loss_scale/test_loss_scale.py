"""The study's checks of loss_scale.py (not part of the test suite; run with ``pytest
benchmarks/studies/loss_scale``). How far one loss weight transfers: the first KD/task loss
ratio of 8 diverse zoo pairs, with the standardised (default), teacher-normalised and raw loss,
each with the projection of the task's default (random for detection, the fitted autoencoder for
segmentation), random teachers with the libraries' own initialisation and batch-norm statistics
of their own activations, as a trained teacher has. The measurement is ``loss_scale.py``'s.

Measured (results/loss_scale.md): the standardised KD loss starts at 1 per level on every pair
(1 - r with r about 0), so its KD/task band is the first task loss's own (238x); the
teacher-normalised loss spans 400x and the raw one 2,900x. At each task's shipped default
the segmentation pairs lie within 1.4x, the detection pairs span their task losses' 240x.
The test suite keeps what guards shipped behaviour: the standardised loss's start near 1 per
level (tests/test_models/test_losses/test_loss_scale_at_start.py) and the start-of-training
check on RTMDet (tests/test_models/test_distillers/test_kd_scale_check_at_start.py)."""
from benchmarks.studies.loss_scale.loss_scale import PAIRS, first_ratios


def test_standardised_kd_loss_starts_at_one_per_level_on_every_pair(tmp_path):
    # The segmentation default's autoencoder fitted on 2 batches, not the hook's 20: the same
    # claims, in half the time (what loss_scale.py measures fits on 20).
    rows = {f"{p[0].split('/')[-1][:-3]} -> {p[1].split('/')[-1][:-3]}":
            first_ratios(p, tmp_path, fit_batches=2) for p in PAIRS}
    print('\nfirst KD/task ratio at loss_weight 1 (standardised | teacher-normalised | raw), '
          'standardised KD loss per level:')
    for name, r in rows.items():
        print(f"  {r['standardised']:8.3g} | {r['teacher_normalised']:8.3g} | {r['raw']:10.4g}"
              f"  {r['kd_per_level']:.3f}  at the default {r['at_default']:.3g}  {name}")

    def band(key, pairs=tuple(rows.values())):
        values = [r[key] for r in pairs]
        assert all(v > 0 for v in values), (key, values)
        return max(values) / min(values)

    # The standardised KD loss no longer depends on the pair: what is left of the KD/task band
    # is the task loss's own.
    assert all(0.8 < r['kd_per_level'] < 1.2 for r in rows.values()), rows
    assert band('standardised') < 1.5 * band('task'), rows
    assert band('teacher_normalised') * 5 < band('raw'), rows
    # At each task's own default: the segmentation pairs within the 10x band the project aimed
    # for; what is left among the detection pairs is, again, their task losses' spread.
    det = [r for pair, r in zip(PAIRS, rows.values()) if pair[0].startswith('mmdet')]
    seg = [r for pair, r in zip(PAIRS, rows.values()) if pair[0].startswith('mmseg')]
    assert len(det) == 5 and len(seg) == 3
    assert band('at_default', seg) < 10, rows
    assert band('task', det) / 1.2 < band('at_default', det) < band('task', det) * 1.2, rows
