"""torch >= 2.6 safe loading: mmengine checkpoints load, code-executing pickles are refused."""
import os
import pickle

import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

import rdimkd_mm  # noqa: F401  (allow-lists the globals)
from rdimkd_mm.utils import read_state_dict


class RunsCode:

    def __reduce__(self):
        return (os.system, ('echo pwned',))


def test_message_hub_state_loads_with_weights_only(tmp_path):
    hub = MessageHub.get_instance('safety-test')
    hub.update_scalar('train/loss', 1.5)
    hub.update_info('iter', 3)
    torch.save(dict(message_hub=hub.state_dict(), meta=dict(seed=0)), tmp_path / 'ckpt.pth')
    loaded = torch.load(tmp_path / 'ckpt.pth')  # weights_only=True is torch's default
    assert loaded['message_hub']['log_scalars']['train/loss'].current() == 1.5


def test_code_executing_pickle_is_refused(tmp_path):
    torch.save(dict(state_dict={}, payload=RunsCode()), tmp_path / 'evil.pth')
    with pytest.raises(pickle.UnpicklingError):
        torch.load(tmp_path / 'evil.pth')
    with pytest.raises(RuntimeError, match='Refused to load the teacher checkpoint'):
        read_state_dict(str(tmp_path / 'evil.pth'), what='teacher')


class GetattrOnAllowedClass:
    """Pickles as getattr(HistoryBuffer, '__init__'): allowed global, disallowed attribute."""

    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


def test_getattr_is_limited_to_history_buffer_statistics(tmp_path):
    torch.save(dict(x=GetattrOnAllowedClass()), tmp_path / 'getattr.pth')
    with pytest.raises(pickle.UnpicklingError, match='only HistoryBuffer statistics'):
        torch.load(tmp_path / 'getattr.pth')
