"""Fetch a distillation config's zoo teacher to the path the config names, and prove it fits.

:func:`fetch_teacher` finds the teacher's entry in the model zoo's metafiles, downloads the
checkpoint to ``model.teacher_checkpoint`` (unless a verified copy is already there), checks the
sha256 prefix that the zoo's file name carries, and loads it once, safely and strictly, into
the teacher built from the config: a wrong file fails in seconds, not when training starts.
"""
import hashlib
import http.client
import os
import os.path as osp
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

from mmengine.config import Config

from rdimkd_mm.utils import build_model, load_checkpoint_strict
from .metafile import ZooEntry, ZooError, find_entry

#: Where the OpenMMLab zoo's checkpoints live; ``mirror`` replaces this prefix.
ZOO_HOST = 'https://download.openmmlab.com'
_CHUNK = 1 << 20


@dataclass
class FetchedTeacher:
    """What :func:`fetch_teacher` did: the entry, the file, whether it was downloaded, and the
    number of tensors that loaded strictly into the teacher."""
    entry: ZooEntry
    path: str
    url: str
    downloaded: bool
    tensors: int


def sha256_of(path: str) -> str:
    """The file's sha256 hex digest."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(_CHUNK), b''):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, path: str, sha256_prefix: str, timeout: float = 30.0,
             log: Callable[[str], None] = print) -> None:
    """Download ``url`` to ``path`` through ``path + '.part'``, keeping it only if its sha256
    starts with ``sha256_prefix``.

    Raises:
        ZooError: the server cannot be reached or answers with an error, or the hash differs.
    """
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    part, digest, size = path + '.part', hashlib.sha256(), 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(part, 'wb') as out:
            total = int(response.headers.get('Content-Length') or 0)
            log(f'Downloading {url} ({total / 2**20:.1f} MiB) -> {path}')
            for chunk in iter(lambda: response.read(_CHUNK), b''):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
    except urllib.error.HTTPError as error:
        _remove(part)
        raise ZooError(f'The zoo server answered {error.code} {error.reason} for {url}: check '
                       'the URL (or --mirror), or download the file by hand to '
                       f'{path}.') from None
    except (urllib.error.URLError, socket.timeout, ConnectionError,
            http.client.HTTPException) as error:
        _remove(part)
        reason = getattr(error, 'reason', error)
        raise ZooError(f'Cannot download {url}: {reason}. Without network access, download '
                       f'the file on a machine with one, copy it to {path} and rerun (the file '
                       'is then only verified and load-checked), or give --mirror with a '
                       'server you can reach.') from None
    got = digest.hexdigest()
    if not got.startswith(sha256_prefix):
        _remove(part)
        raise ZooError(f'The file downloaded from {url} has sha256 {got[:len(sha256_prefix)]}..., '
                       f'not the {sha256_prefix} its zoo file name carries ({size} bytes): the '
                       'download was cut or altered (a proxy error page?). Nothing was kept; '
                       'rerun, or check the --mirror.')
    os.replace(part, path)


def _remove(path: str) -> None:
    if osp.exists(path):
        os.remove(path)


def fetch_teacher(cfg: Config, metafiles: Optional[Sequence[str]] = None,
                  mirror: Optional[str] = None, force: bool = False,
                  log: Callable[[str], None] = print) -> FetchedTeacher:
    """Download, verify and load-check the teacher of the distillation config ``cfg``.

    Args:
        cfg (Config): A distillation config (``model.teacher``, ``model.teacher_checkpoint``).
        metafiles (list[str], optional): Metafiles to search; default: the installed
            mmdet/mmseg's.
        mirror (str, optional): A server holding the zoo's files under the same paths; replaces
            ``https://download.openmmlab.com`` in the URL.
        force (bool): Download again even where a verified file is already there.
        log (callable): Receives the progress lines.

    Raises:
        ZooError: no metafile entry, no network, a hash that differs, an existing file that is
            not the zoo's, or a checkpoint that does not load strictly into the teacher.
    """
    model = cfg.get('model') or {}
    teacher, path = model.get('teacher'), model.get('teacher_checkpoint')
    if not isinstance(teacher, str) or not path:
        raise ZooError(f'{cfg.filename} is not a distillation config with a teacher config '
                       'file and a teacher_checkpoint (model.teacher, '
                       'model.teacher_checkpoint).')
    entry = find_entry(teacher, metafiles)
    prefix = entry.sha256_prefix
    if not entry.weights or prefix is None:
        raise ZooError(f'The zoo entry {entry.name!r} ({entry.metafile}) has no checkpoint URL '
                       f'with a sha256 prefix in its name ({entry.weights!r}), so its file '
                       'cannot be verified: download it yourself and set '
                       'model.teacher_checkpoint.')
    url = entry.weights
    if mirror:
        url = mirror.rstrip('/') + url[len(ZOO_HOST):] if url.startswith(ZOO_HOST) else url
    downloaded = False
    if osp.isfile(path) and not force:
        got = sha256_of(path)
        if not got.startswith(prefix):
            raise ZooError(f'{path} exists but is not the zoo checkpoint of {entry.name} '
                           f'(sha256 {got[:len(prefix)]}..., the zoo file {prefix}...): move '
                           'it away, or give --force to replace it.')
        log(f'{path} is already there (sha256 {prefix}... verified)')
    else:
        download(url, path, prefix, log=log)
        downloaded = True
        log(f'sha256 {prefix}... verified')
    return FetchedTeacher(entry, path, url, downloaded, load_check(teacher, path))


def load_check(teacher: str, path: str) -> int:
    """Load ``path`` safely and strictly into the teacher built from ``teacher``, as
    :class:`~rdimkd_mm.models.FeatureDistiller` does; returns the number of tensors.

    Raises:
        ZooError: the file cannot be read safely or does not match the teacher.
    """
    from mmengine.model import revert_sync_batchnorm
    model, _ = build_model(teacher)
    model = revert_sync_batchnorm(model)
    try:
        load_checkpoint_strict(model, path, what='teacher')
    except (RuntimeError, FileNotFoundError) as error:  # CheckpointError is a RuntimeError
        raise ZooError(f'The checkpoint does not fit the teacher {teacher!r}: {error}') from None
    return len(model.state_dict())
