"""Forward hooks that record feature maps of named modules."""
import difflib
import re
from contextlib import contextmanager
from typing import Dict, Iterator, List, Sequence, Tuple, Union

from torch import Tensor, nn

from .feature_probe import Feature, features_of, output_tensors, probe_forward

_ADDRESS = re.compile(r'^(?P<module>[\w.]+?)'
                      r'(\[((?P<index>-?\d+)|(?P<start>-?\d*):(?P<stop>-?\d*))\])?$')
Index = Union[None, int, slice]


class EarlyExit(BaseException):
    """Raised by a hook once every requested feature of a forward pass has been recorded.

    A BaseException, so that model code catching ``Exception`` does not swallow it.
    """


def parse_address(address: str) -> Tuple[str, Index]:
    """Split an address into module name and index.

    ``'backbone.layer4'`` -> ``('backbone.layer4', None)``, ``'neck[0]'`` -> ``('neck', 0)``,
    ``'neck[0:3]'`` -> ``('neck', slice(0, 3))``.
    """
    match = _ADDRESS.match(address.strip()) if isinstance(address, str) else None
    if match is None:
        raise ValueError(f'Bad feature address {address!r}: use a module name from '
                         "`named_modules()` such as 'neck' or 'backbone.layer4', optionally "
                         "with an index or slice into a tuple output such as 'neck[0]' or "
                         "'neck[0:3]'.")
    module, index = match.group('module'), match.group('index')
    if index is not None:
        return module, int(index)
    if match.group('start') is None:
        return module, None
    start, stop = (int(v) if v else None for v in match.group('start', 'stop'))
    return module, slice(start, stop)


class FeatureTaps:
    """Records the outputs of named modules of one model during a forward pass.

    Each address names a module (``model.named_modules()`` key) and optionally an element or a
    slice of its tuple output: ``'neck'`` records every FPN level, ``'neck[0]'`` only the
    first, ``'neck[0:3]'`` the first three, ``'backbone.layer4'`` one stage. A module called
    several times per forward (a head shared across levels) contributes one feature per call.
    The recorded features of an address are its *levels*, in call order.

    Hooks record only inside :meth:`recording`. With ``stop_when_complete=True``, the forward
    pass is aborted (by :class:`EarlyExit`) as soon as every address has seen
    ``expected_calls`` calls, so the model runs only as far as the deepest tapped module.

    Args:
        model (nn.Module): The model to tap.
        addresses (Sequence[str]): Feature addresses, see above.
        side (str): ``'student'`` or ``'teacher'``; used in error messages.
    """

    def __init__(self, model: nn.Module, addresses: Sequence[str], side: str) -> None:
        self.side = side
        self.addresses = list(dict.fromkeys(addresses))
        modules = dict(model.named_modules())
        self._parsed = {}
        for address in self.addresses:
            name, index = parse_address(address)
            if name not in modules:
                raise KeyError(self._unknown_module_message(name, address, modules))
            self._parsed[address] = (name, index)
        self.module_names = list(dict.fromkeys(name for name, _ in self._parsed.values()))
        self._calls: Dict[str, list] = {name: [] for name in self.module_names}
        self._recording = False
        self._stop_when_complete = False
        self.expected_calls: Dict[str, int] = {}
        self._hooks = {name: self._make_hook(name) for name in self.module_names}
        for name, hook in self._hooks.items():
            modules[name].register_forward_hook(hook)

    def _unknown_module_message(self, name: str, address: str, modules: dict) -> str:
        close = difflib.get_close_matches(name, list(modules), n=5, cutoff=0.5)
        top = [n for n in modules if n and '.' not in n]
        hint = f' Did you mean one of {close}?' if close else ''
        return (f'The {self.side} has no module {name!r} (from feature address {address!r}).'
                f'{hint} Its top-level modules are {top}; list all names with '
                '`python tools/inspect_features.py CONFIG`.')

    def _make_hook(self, name: str):

        def hook(module: nn.Module, inputs, output) -> None:
            if not self._recording:
                return
            tensors = output_tensors(output)
            if tensors is None:
                raise TypeError(f'cannot distil a module output of type '
                                f'{type(output).__name__}; tap a module that returns a tensor '
                                'or a tuple/list of tensors.')
            self._calls[name].append([(t, t._version) for t in tensors])
            if self._stop_when_complete and all(
                    len(self._calls[n]) >= self.expected_calls[n] for n in self.module_names):
                raise EarlyExit

        return hook

    @contextmanager
    def recording(self, stop_when_complete: bool = False) -> Iterator[None]:
        """Record inside the block; swallow :class:`EarlyExit` raised by the hooks."""
        if stop_when_complete and (not self.expected_calls
                                   or min(self.expected_calls.values()) < 1):
            raise RuntimeError('stop_when_complete needs expected_calls >= 1 per module: set '
                               'it from count_calls() after a full recording.')
        for calls in self._calls.values():
            calls.clear()
        self._recording = True
        self._stop_when_complete = stop_when_complete
        try:
            yield
        except EarlyExit:
            pass
        finally:
            self._recording = False
            self._stop_when_complete = False

    def collect(self) -> Dict[str, List[Tensor]]:
        """Return ``{address: [level features]}`` of the last recording and clear the records.

        Raises:
            RuntimeError: if a tapped module did not run, or if a recorded tensor was modified
                in place after it was recorded (its value would no longer be the module's
                output).
        """
        features = {}
        for address, (name, index) in self._parsed.items():
            calls = self._calls[name]
            if not calls:
                raise RuntimeError(
                    f'The {self.side} module {name!r} did not run in this forward pass, so '
                    f'feature {address!r} cannot be distilled; choose a module on the path of '
                    "the model's forward. (mmdet/mmseg call some heads' forward() directly, "
                    'which skips hooks on the head itself: tap one of its submodules, e.g. '
                    "'decode_head.bottleneck'.)")
            levels = []
            for call in calls:
                items = self._select(call, index, address)
                for tensor, version in items:
                    if tensor._version != version:
                        raise RuntimeError(
                            f'The output of {self.side} module {name!r} was modified in place '
                            f'after it was recorded (feature {address!r}); tap the module '
                            'that produces the final value (e.g. the following activation).')
                    levels.append(tensor)
            features[address] = levels
        for calls in self._calls.values():
            calls.clear()
        return features

    def _select(self, call: list, index: Index, address: str) -> list:
        if index is None:
            return call
        if isinstance(index, slice):
            selected = call[index]
            if not selected:
                raise IndexError(f'Feature address {address!r}: the {self.side} module output '
                                 f'has {len(call)} element(s), the slice selects none.')
            return selected
        if not -len(call) <= index < len(call):
            raise IndexError(f'Feature address {address!r}: the {self.side} module output has '
                             f'{len(call)} element(s), index {index} is out of range.')
        return [call[index]]

    def calibrate(self, model: nn.Module, scope: str,
                  size: Tuple[int, int]) -> Dict[str, List[Feature]]:
        """Probe the tapped ``model`` once (:func:`probe_forward`: eval mode, a zero image of
        ``size``, library ``scope``, only as far as the tapped modules): set
        :attr:`expected_calls` (for early exit) and return every address's features as
        (C, H, W) shapes and strides.

        Raises:
            RuntimeError: if the probe forward fails (a head that needs a real batch), naming
                the tapped modules and the points that need no head.
        """
        with self.recording():
            try:
                probe_forward(model, scope, size, self.module_names)
            except Exception as error:
                raise RuntimeError(
                    f'The {self.side} could not be probed at {self.module_names} with a zero '
                    f'{size[0]}x{size[1]} image and no annotations: {type(error).__name__}: '
                    f'{error}. A head that needs a real batch cannot be probed: distil '
                    "backbone or neck features (e.g. 'neck', 'backbone[3]'), which the probe "
                    'reaches without the head; if the image is too small for the model, set '
                    'the probe_size of the distiller (model.probe_size=(H, W)).') from error
        self.expected_calls = self.count_calls()
        return {address: features_of(feats, size) for address, feats in self.collect().items()}

    def count_calls(self) -> Dict[str, int]:
        """Calls per tapped module in the last recording (before :meth:`collect`)."""
        return {name: len(calls) for name, calls in self._calls.items()}

    def copy_to(self, model: nn.Module) -> 'FeatureTaps':
        """The same taps on ``model``, a deep copy of the tapped model.

        ``copy.deepcopy`` keeps functions as they are, so the copy's modules call this
        object's hooks; they are replaced by the new taps' own.
        """
        modules = dict(model.named_modules())
        for name, hook in self._hooks.items():
            hooks = modules[name]._forward_hooks
            for key in [k for k, v in hooks.items() if v is hook]:
                del hooks[key]
        taps = FeatureTaps(model, self.addresses, self.side)
        taps.expected_calls = dict(self.expected_calls)
        return taps
