import weakref

import pytest
import torch
from torch import nn

from rdimkd_mm.models.task_modules import FeatureTaps, parse_address


class Pair(nn.Module):
    """Returns a tuple, like an FPN neck."""

    def forward(self, x):
        return x + 1, x * 2


class Counter(nn.Module):
    """Counts its calls, to see whether the forward pass reached it."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x):
        self.calls += 1
        return x.sum()


class Toy(nn.Module):

    def __init__(self, inplace_after_stem=False):
        super().__init__()
        self.inplace_after_stem = inplace_after_stem
        self.stem = nn.Conv2d(3, 4, 1)
        self.neck = Pair()
        self.shared = nn.Conv2d(4, 4, 1)  # called once per neck output
        self.head = Counter()
        self.unused = nn.Conv2d(4, 4, 1)
        self.blocks = nn.Sequential(nn.Identity(), nn.Identity())

    def forward(self, x):
        x = self.stem(x)
        if self.inplace_after_stem:
            x.relu_()
        x = self.blocks(x)
        first, second = self.neck(x)
        return self.head(self.shared(first) + self.shared(second))


@pytest.fixture
def model():
    torch.manual_seed(0)
    return Toy()


@pytest.fixture
def inputs():
    torch.manual_seed(1)
    return torch.randn(2, 3, 5, 5)


@pytest.mark.parametrize('address,expected', [
    ('neck', ('neck', None)),
    ('neck[0]', ('neck', 0)),
    ('neck[-1]', ('neck', -1)),
    ('neck[12]', ('neck', 12)),
    ('a.b.2', ('a.b.2', None)),
    ('backbone.layer4[1]', ('backbone.layer4', 1)),
    ('neck[0:3]', ('neck', slice(0, 3))),
    ('neck[1:]', ('neck', slice(1, None))),
    ('neck[:-1]', ('neck', slice(None, -1))),
])
def test_parse_address(address, expected):
    assert parse_address(address) == expected


@pytest.mark.parametrize('address', ['neck[x]', '', 'a b', 'neck[0', 'neck]', '[0]',
                                     'neck[0][1]', 'neck[]', 'neck[0:1:2]', 'neck[a:]', None, 3])
def test_parse_address_rejects_bad_strings(address):
    with pytest.raises(ValueError, match='Bad feature address'):
        parse_address(address)


def test_unknown_module_suggests_close_matches(model):
    with pytest.raises(KeyError) as excinfo:
        FeatureTaps(model, ['nek'], side='student')
    message = excinfo.value.args[0]
    assert "'nek'" in message
    assert 'Did you mean' in message and "'neck'" in message
    assert 'student' in message


def test_unknown_module_without_close_match_has_no_suggestion(model):
    with pytest.raises(KeyError) as excinfo:
        FeatureTaps(model, ['zzzzzz'], side='teacher')
    message = excinfo.value.args[0]
    assert 'Did you mean' not in message
    assert 'stem' in message  # lists the top-level modules


def test_tuple_output_becomes_levels(model, inputs):
    taps = FeatureTaps(model, ['neck'], side='student')
    with taps.recording():
        model(inputs)
    levels = taps.collect()['neck']
    stem = model.stem(inputs)
    assert len(levels) == 2
    torch.testing.assert_close(levels[0], stem + 1)
    torch.testing.assert_close(levels[1], stem * 2)


@pytest.mark.parametrize('address,element', [('neck[0]', 0), ('neck[1]', 1), ('neck[-1]', 1),
                                             ('neck[-2]', 0)])
def test_index_selects_one_element(model, inputs, address, element):
    taps = FeatureTaps(model, [address], side='student')
    with taps.recording():
        model(inputs)
    levels = taps.collect()[address]
    stem = model.stem(inputs)
    assert len(levels) == 1
    torch.testing.assert_close(levels[0], stem + 1 if element == 0 else stem * 2)


@pytest.mark.parametrize('address,elements', [('neck[0:2]', [0, 1]), ('neck[1:]', [1]),
                                              ('neck[:1]', [0])])
def test_slice_selects_several_elements(model, inputs, address, elements):
    taps = FeatureTaps(model, [address], side='student')
    with taps.recording():
        model(inputs)
    levels = taps.collect()[address]
    stem = model.stem(inputs)
    expected = [stem + 1, stem * 2]
    assert len(levels) == len(elements)
    for level, element in zip(levels, elements):
        torch.testing.assert_close(level, expected[element])


def test_empty_slice_is_an_error(model, inputs):
    taps = FeatureTaps(model, ['neck[2:]'], side='student')
    with taps.recording():
        model(inputs)
    with pytest.raises(IndexError, match='selects none'):
        taps.collect()


def test_several_addresses_on_one_module_share_a_hook(model, inputs):
    taps = FeatureTaps(model, ['neck[1]', 'neck', 'neck[1]', 'stem'], side='student')
    assert taps.addresses == ['neck[1]', 'neck', 'stem']
    assert len(model.neck._forward_hooks) == 1
    with taps.recording():
        model(inputs)
    features = taps.collect()
    assert set(features) == {'neck[1]', 'neck', 'stem'}
    assert features['neck[1]'][0] is features['neck'][1]
    torch.testing.assert_close(features['stem'][0], model.stem(inputs))


def test_index_out_of_range_raises(model, inputs):
    taps = FeatureTaps(model, ['neck[2]'], side='student')
    with taps.recording():
        model(inputs)
    with pytest.raises(IndexError, match='out of range'):
        taps.collect()


def test_module_called_twice_gives_two_levels_in_call_order(model, inputs):
    taps = FeatureTaps(model, ['shared'], side='student')
    with taps.recording():
        model(inputs)
    assert taps.count_calls() == {'shared': 2}
    levels = taps.collect()['shared']
    stem = model.stem(inputs)
    assert len(levels) == 2
    torch.testing.assert_close(levels[0], model.shared(stem + 1))
    torch.testing.assert_close(levels[1], model.shared(stem * 2))


def test_nothing_recorded_outside_recording(model, inputs):
    taps = FeatureTaps(model, ['neck', 'shared'], side='student')
    model(inputs)
    assert taps.count_calls() == {'neck': 0, 'shared': 0}
    with taps.recording():
        model(inputs)
    model(inputs)  # after the block: still only the recorded pass
    assert taps.count_calls() == {'neck': 1, 'shared': 2}


def test_collect_clears_records(model, inputs):
    taps = FeatureTaps(model, ['shared'], side='student')
    with taps.recording():
        model(inputs)
    assert len(taps.collect()['shared']) == 2
    assert taps.count_calls() == {'shared': 0}
    with pytest.raises(RuntimeError, match='did not run'):
        taps.collect()


def test_recording_starts_from_empty_records(model, inputs):
    taps = FeatureTaps(model, ['shared'], side='student')
    with taps.recording():
        model(inputs)
    with taps.recording():
        model(inputs)
    assert taps.count_calls() == {'shared': 2}


def test_early_exit_skips_modules_after_deepest_tap(model, inputs):
    taps = FeatureTaps(model, ['neck', 'shared'], side='teacher')
    with pytest.raises(RuntimeError, match='expected_calls'):
        with taps.recording(stop_when_complete=True):
            pass

    with taps.recording():
        model(inputs)
    assert model.head.calls == 1
    taps.expected_calls = taps.count_calls()
    probe = taps.collect()

    with taps.recording(stop_when_complete=True):
        model(inputs)  # EarlyExit must not escape
    assert model.head.calls == 1  # the head did not run
    features = taps.collect()
    assert len(features['shared']) == 2  # the exit waits for the second call of `shared`
    for address in probe:
        assert len(features[address]) == len(probe[address])
        for got, expected in zip(features[address], probe[address]):
            torch.testing.assert_close(got, expected)

    # The early-exit mode ends with the block: a later plain forward runs to the end.
    model(inputs)
    assert model.head.calls == 2


def test_early_exit_stops_at_shallow_tap(model, inputs):
    taps = FeatureTaps(model, ['blocks.0'], side='teacher')
    with taps.recording():
        model(inputs)
    taps.expected_calls = taps.count_calls()
    taps.collect()
    shared_calls = []
    model.shared.register_forward_hook(lambda *args: shared_calls.append(1))
    with taps.recording(stop_when_complete=True):
        model(inputs)
    assert shared_calls == []
    assert model.head.calls == 1
    assert len(taps.collect()['blocks.0']) == 1


class Wide(nn.Module):
    """Holds a large intermediate in a local while the tapped module runs (as a segmentor's
    head holds its pyramid-pooled features around its bottleneck) and keeps a weak reference
    to it."""

    def __init__(self):
        super().__init__()
        self.bottleneck = nn.Conv2d(4, 4, 1)
        self.intermediates = []

    def forward(self, x):
        pooled = torch.cat([x] * 8, dim=1)
        self.intermediates.append(weakref.ref(pooled))
        return self.bottleneck(pooled[:, :4]) + pooled.mean()


def test_early_exit_frees_the_interrupted_forward_at_once(inputs):
    """Stopping the forward by an exception keeps the interrupted frames' locals alive as long
    as the exception lives. The recording drops it when the block ends, so no teacher tensor
    but the recorded features outlives the forward, without waiting for the garbage collector
    (the GPU memory of a teacher's activations would otherwise stay allocated through the
    student's step)."""
    model = Wide()
    taps = FeatureTaps(model, ['bottleneck'], side='teacher')
    with taps.recording():
        model(inputs[:, :4])
    taps.expected_calls = taps.count_calls()
    taps.collect()
    with torch.no_grad(), taps.recording(stop_when_complete=True):
        model(inputs[:, :4])
    assert model.intermediates[-1]() is None  # freed by reference counting, no gc pass
    assert taps.collect()['bottleneck'][0].shape == (2, 4, 5, 5)


def test_other_exceptions_escape_recording(model, inputs):
    taps = FeatureTaps(model, ['neck'], side='student')
    with pytest.raises(ZeroDivisionError):
        with taps.recording():
            1 / 0
    model(inputs)
    assert taps.count_calls() == {'neck': 0}  # recording was switched off


def test_module_that_did_not_run_raises(model, inputs):
    taps = FeatureTaps(model, ['neck', 'unused'], side='student')
    with taps.recording():
        model(inputs)
    with pytest.raises(RuntimeError, match="'unused' did not run"):
        taps.collect()


def test_output_modified_in_place_raises(inputs):
    torch.manual_seed(0)
    model = Toy(inplace_after_stem=True)
    taps = FeatureTaps(model, ['stem'], side='student')
    with taps.recording():
        model(inputs)
    with pytest.raises(RuntimeError, match='in place'):
        taps.collect()

    clean = Toy(inplace_after_stem=False)
    clean_taps = FeatureTaps(clean, ['stem'], side='student')
    with clean_taps.recording():
        clean(inputs)
    assert len(clean_taps.collect()['stem']) == 1


def test_non_tensor_output_raises_type_error(inputs):
    model = nn.Sequential(nn.Flatten(), nn.Identity())
    model[1].register_forward_hook(lambda module, args, output: {'out': output})
    taps = FeatureTaps(model, ['1'], side='student')
    with pytest.raises(TypeError, match='dict'):
        with taps.recording():
            model(inputs)


def test_copy_to_taps_a_deep_copy_with_its_own_hooks(model, inputs):
    import copy
    taps = FeatureTaps(model, ['neck', 'shared'], side='student')
    with taps.recording():
        model(inputs)
    taps.expected_calls = taps.count_calls()
    taps.collect()
    clone = copy.deepcopy(model)
    clone_taps = taps.copy_to(clone)
    assert len(clone.neck._forward_hooks) == 1 and len(clone.shared._forward_hooks) == 1
    assert clone_taps.expected_calls == taps.expected_calls
    with clone_taps.recording():
        clone(inputs)
    assert taps.count_calls() == {'neck': 0, 'shared': 0}  # the original recorded nothing
    assert clone_taps.count_calls() == taps.expected_calls


def test_early_exit_passes_through_except_exception(inputs):
    """Model code that catches Exception (e.g. a fallback path) must not swallow the exit."""

    class Guarded(nn.Module):

        def __init__(self):
            super().__init__()
            self.stem, self.tail = nn.Conv2d(3, 4, 1), nn.Conv2d(4, 4, 1)

        def forward(self, x):
            try:
                x = self.stem(x)
            except Exception:  # noqa: BLE001 (the pattern under test)
                raise AssertionError('EarlyExit was caught by except Exception')
            return self.tail(x)

    model = Guarded()
    taps = FeatureTaps(model, ['stem'], side='teacher')
    with taps.recording():
        model(inputs)
    taps.expected_calls = taps.count_calls()
    taps.collect()
    ran = []
    model.tail.register_forward_hook(lambda *args: ran.append(True))
    with taps.recording(stop_when_complete=True):
        model(inputs)
    assert ran == [] and len(taps.collect()['stem']) == 1
