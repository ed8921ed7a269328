"""The checkpoints in a training work dir: what ``--resume`` takes and what a fresh run would
overwrite (used by ``tools/train.py``)."""
import logging
import os
import os.path as osp
import re
from typing import Any, List, Optional, Tuple

from mmengine.logging import print_log

from .checkpoint_reading import CheckpointError, read_checkpoint

#: ``iter_N.pth`` / ``epoch_N.pth``, as mmengine's CheckpointHook names them.
_NUMBERED = re.compile(r'^(?:iter|epoch)_(\d+)\.pth$')


def run_files(work_dir: str) -> List[str]:
    """The files of an earlier run that a fresh run in ``work_dir`` would overwrite or repoint:
    its checkpoints (``iter_N.pth``, ``epoch_N.pth``, ``best_*.pth``) and ``last_checkpoint``."""
    return sorted(osp.join(work_dir, n) for n in _names(work_dir)
                  if n == 'last_checkpoint' or _NUMBERED.match(n)
                  or (n.startswith('best_') and n.endswith('.pth')))


def numbered_checkpoints(work_dir: str) -> List[str]:
    """``iter_N.pth``/``epoch_N.pth`` in ``work_dir``, the newest (largest N) first."""
    names = [n for n in _names(work_dir) if _NUMBERED.match(n)]
    names.sort(key=lambda n: int(_NUMBERED.match(n).group(1)), reverse=True)
    return [osp.join(work_dir, n) for n in names]


def _names(work_dir: str) -> List[str]:
    return os.listdir(work_dir) if osp.isdir(work_dir) else []


def latest_readable_checkpoint(work_dir: str) -> Optional[Tuple[str, Any]]:
    """The checkpoint ``--resume`` without a path resumes from, and its contents.

    That is the file ``last_checkpoint`` names; if it cannot be read (missing, truncated,
    refused by safe loading), the newest readable ``iter_N.pth``/``epoch_N.pth``, with a
    warning naming each file skipped.

    Returns:
        tuple[str, Any] | None: ``(path, checkpoint)``; None if ``work_dir`` holds neither
        ``last_checkpoint`` nor a numbered checkpoint.

    Raises:
        CheckpointError: if there are checkpoints but none can be read.
    """
    named = _named_by_last_checkpoint(work_dir)
    candidates = [named] if named else []
    candidates += [p for p in numbered_checkpoints(work_dir)
                   if not named or osp.abspath(p) != osp.abspath(named)]
    skipped = []
    for path in candidates:
        try:
            checkpoint = read_checkpoint(path, what='resume')
        except FileNotFoundError:
            skipped.append(f'{path} (it does not exist)')
            continue
        except CheckpointError as error:
            skipped.append(f'{path} ({error.reason})')
            continue
        if skipped:
            print_log(f'--resume: skipped {"; ".join(skipped)}. Resuming from {path}, the '
                      f'newest readable checkpoint in {work_dir}.', logger='current',
                      level=logging.WARNING)
        return path, checkpoint
    if skipped:
        raise CheckpointError(
            f'--resume: no checkpoint in {work_dir} can be read: {"; ".join(skipped)}. Resume '
            'from a good copy with --resume FILE, or start afresh with --overwrite (deletes '
            'them) or in another --work-dir.')
    return None


def _named_by_last_checkpoint(work_dir: str) -> Optional[str]:
    """The path in ``work_dir/last_checkpoint`` (None without the file or with an empty one)."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(pointer):
        return None
    with open(pointer, encoding='utf-8', errors='replace') as f:
        return f.read().strip() or None


def check_fresh_work_dir(work_dir: str, overwrite: bool) -> None:
    """Refuse a fresh run in a work dir that holds an earlier run's checkpoints, or with
    ``overwrite`` delete them first.

    Raises:
        FileExistsError: if ``work_dir`` holds :func:`run_files` and ``overwrite`` is False.
    """
    files = run_files(work_dir)
    if not files:
        return
    names = ', '.join(osp.basename(f) for f in files)
    if not overwrite:
        raise FileExistsError(
            f'The work dir {work_dir} holds the checkpoints of an earlier run ({names}), which '
            'this fresh run would overwrite. Continue that run with --resume, train into '
            'another --work-dir, or pass --overwrite to delete them and start afresh.')
    for path in files:
        try:
            os.remove(path)
        except FileNotFoundError:  # another rank of the same launch removed it first
            pass
    print_log(f'--overwrite: deleted the earlier run\'s {names} in {work_dir}.',
              logger='current', level=logging.WARNING)
