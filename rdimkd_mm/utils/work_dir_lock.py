"""One training run per work dir: an exclusive ``fcntl.flock`` on ``<work_dir>/.train.lock``,
held for the run's lifetime and released by the OS when the process ends, even by a crash."""
import contextlib
import fcntl
import os
import socket
import time
from typing import Iterator

#: The lock file's name inside the work dir.
LOCK_NAME = '.train.lock'


class WorkDirInUse(RuntimeError):
    """Another process holds the work dir's lock."""


@contextlib.contextmanager
def work_dir_lock(work_dir: str) -> Iterator[str]:
    """Hold the work dir's lock for the ``with`` block; create ``work_dir`` first.

    Yields:
        str: The lock file's path (it holds ``pid host started`` of the holder).

    Raises:
        WorkDirInUse: if another run holds it, naming that run's process and host.
        NotADirectoryError / PermissionError: if ``work_dir`` cannot be created, naming it.
    """
    make_work_dir(work_dir)
    path = os.path.join(work_dir, LOCK_NAME)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode('utf-8', 'replace').strip() or 'unknown'
            raise WorkDirInUse(
                f'The work dir {work_dir} is in use by another training run ({holder}; lock '
                f'{path}). Wait for it to end, stop it, or train into another --work-dir.'
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, (f'process {os.getpid()} on host {socket.gethostname()}, started '
                       f'{time.strftime("%Y-%m-%d %H:%M:%S")}\n').encode(), 0)
        yield path
    finally:
        os.close(fd)  # releases the lock


def make_work_dir(work_dir: str) -> None:
    """Create ``work_dir`` (and its parents), or say which path stands in the way."""
    try:
        os.makedirs(work_dir, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as error:
        blocker = work_dir
        while blocker and not os.path.exists(blocker):
            blocker = os.path.dirname(blocker)
        raise NotADirectoryError(
            f'Cannot create the work dir {work_dir}: {blocker} is a file, not a directory. '
            'Give --work-dir a path whose parents are directories (or move that file).'
        ) from error
    except PermissionError as error:
        raise PermissionError(
            f'Cannot create the work dir {work_dir}: permission denied ({error.filename}). '
            'Give --work-dir a directory you can write to.') from error


def launch_rank() -> int:
    """This process's rank as the launcher set it (torchrun, slurm, MPI); 0 without one."""
    for key in ('RANK', 'SLURM_PROCID', 'OMPI_COMM_WORLD_RANK'):
        if os.environ.get(key, '').isdigit():
            return int(os.environ[key])
    return 0
