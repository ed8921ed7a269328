"""Atomic writes on their own; a failed checkpoint save through tools/train.py is in
tests/test_tools/test_train_faults.py."""
import errno
import os

import pytest
from mmengine.fileio import get_file_backend

from rdimkd_mm.engine.checkpoint_io import ATOMIC_BACKEND, AtomicLocalBackend, atomic_write


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / 'iter_2.pth'
    atomic_write(b'good', target)
    assert target.read_bytes() == b'good'

    def no_space(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, 'fsync', no_space)
    with pytest.raises(OSError, match=f'Could not write {target}: No space left on device. '
                                      'Nothing was written under that name'):
        atomic_write(b'new, but never complete', target)
    assert target.read_bytes() == b'good' and os.listdir(tmp_path) == ['iter_2.pth']


def test_the_backend_is_registered_for_checkpoint_hooks(tmp_path):
    backend = get_file_backend(str(tmp_path), backend_args=dict(backend=ATOMIC_BACKEND))
    assert isinstance(backend, AtomicLocalBackend)
    backend.put_text('x', tmp_path / 'sub' / 'f.txt')
    assert (tmp_path / 'sub' / 'f.txt').read_text() == 'x'
    assert oct((tmp_path / 'sub' / 'f.txt').stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
