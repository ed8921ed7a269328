"""Atomic checkpoint writes: a file appears under its name complete, or not at all."""
import contextlib
import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

#: The name ``backend_args=dict(backend=...)`` gives to :class:`AtomicLocalBackend`.
ATOMIC_BACKEND = 'rdimkd_atomic_local'


def atomic_write(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to a temporary file beside ``filepath``, flush it to disk, then rename it
    to ``filepath``: a full disk or a kill never leaves a partial file under that name.

    Raises:
        OSError: naming ``filepath`` and the cause (e.g. no space left on device); nothing was
            written under that name, and the temporary file is removed.
    """
    filepath = str(filepath)
    directory = osp.dirname(osp.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=f'.{osp.basename(filepath)}.', suffix='.part',
                                     dir=directory)
    try:
        with os.fdopen(fd, 'wb') as f:
            os.fchmod(f.fileno(), 0o666 & ~_umask())
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, filepath)
    except BaseException as error:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        if isinstance(error, OSError):
            raise OSError(
                error.errno,
                f'Could not write {filepath}: {error.strerror}. Nothing was written under that '
                'name and the files saved before it are intact; free space (or fix the '
                'permissions) and continue with --resume') from error
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend with :func:`atomic_write` for ``put`` and ``put_text``.

    ``tools/train.py`` gives it to the CheckpointHook (``backend_args=dict(backend=
    'rdimkd_atomic_local')``) when the checkpoints go to a local directory.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        atomic_write(obj.encode(encoding), filepath)


register_backend(ATOMIC_BACKEND, AtomicLocalBackend, force=True)
