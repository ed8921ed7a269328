"""mmengine's checkpoint loaders replaced by safe ones (run by ``import rdimkd_mm``).

mmengine reads checkpoints through ``CheckpointLoader``'s schemes. Its local loader passes
whatever ``weights_only`` its version chooses, and its download loader (``http(s)://``, and the
``torchvision://``, ``modelzoo://``, ``open-mmlab://`` and ``mmcls://`` zoo names it resolves to
URLs, which the zoo configs' pretrained ``init_cfg`` use) calls
``torch.hub.load_state_dict_from_url``, whose ``weights_only`` defaults to False: a tampered
download would run code. :func:`install_safe_loading` routes all of them through
:func:`~rdimkd_mm.utils.checkpoint_reading.read_checkpoint` (``weights_only=True``, explicit,
with the project's allow-list), and refuses the cluster stores it cannot check (``s3://``,
``petrel://``, ``pavi://``) with the fix.
"""
import os
import os.path as osp
from typing import Any, Optional
from urllib.parse import urlparse

import mmengine.runner.checkpoint as mmengine_checkpoint
import torch
from mmengine.dist import get_dist_info
from mmengine.runner import CheckpointLoader

from .checkpoint_allow_list import allow_mmengine_checkpoint_globals
from .checkpoint_reading import MapLocation, read_checkpoint

#: The schemes mmengine reads with ``torch.load`` defaults that are not downloads by URL.
_REFUSED_PREFIXES = (r'(\S+\:)?s3://', r'(\S+\:)?petrel://', 'pavi://')


def install_safe_loading() -> None:
    """Allow-list mmengine's checkpoint globals and make mmengine read every checkpoint safely.

    ``force=True`` replaces the loaders mmengine registered, whichever ``weights_only`` they
    pass; the download function its zoo schemes share is replaced in its module.
    """
    allow_mmengine_checkpoint_globals()
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_safe_local, force=True)
    mmengine_checkpoint.load_url = read_url_checkpoint
    CheckpointLoader.register_scheme(prefixes=('http://', 'https://'),
                                     loader=load_from_safe_url, force=True)
    CheckpointLoader.register_scheme(prefixes=list(_REFUSED_PREFIXES),
                                     loader=refuse_unchecked_store, force=True)


def load_from_safe_local(filename: str, map_location: MapLocation = None) -> Any:
    """mmengine's loader for local paths once rdimkd_mm is imported: :func:`read_checkpoint`."""
    return read_checkpoint(filename, what=None, map_location=map_location)


def load_from_safe_url(filename: str, map_location: MapLocation = None,
                       model_dir: Optional[str] = None) -> Any:
    """mmengine's ``http(s)://`` loader: download once (local rank 0 first), then read safely."""
    return read_url_checkpoint(filename, model_dir=model_dir, map_location=map_location)


def read_url_checkpoint(url: str,
                        model_dir: Optional[str] = None,
                        map_location: MapLocation = None,
                        progress: bool = True,
                        check_hash: bool = False,
                        file_name: Optional[str] = None) -> Any:
    """``torch.hub.load_state_dict_from_url``'s download and cache, read by
    :func:`read_checkpoint` (same arguments).

    The file is cached as ``<model_dir or torch hub dir/checkpoints>/<file name of the URL>``;
    in a distributed run, local rank 0 downloads it and the other ranks wait, then read it.
    """
    model_dir = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    cached = osp.join(model_dir, file_name or osp.basename(urlparse(url).path))
    _, world_size = get_dist_info()
    if int(os.environ.get('LOCAL_RANK', 0)) == 0 and not osp.exists(cached):
        os.makedirs(model_dir, exist_ok=True)
        match = torch.hub.HASH_REGEX.search(osp.basename(cached)) if check_hash else None
        torch.hub.download_url_to_file(url, cached, match.group(1) if match else None,
                                       progress=progress)
    if world_size > 1:
        torch.distributed.barrier()
    return read_checkpoint(cached, what=None, map_location=map_location)


def refuse_unchecked_store(filename: str, map_location: MapLocation = None) -> Any:
    """mmengine's ``s3://``/``petrel://``/``pavi://`` loaders, replaced: refused."""
    raise RuntimeError(
        f'Not loading {filename!r}: rdimkd_mm reads checkpoints only from local files and '
        'http(s)/model-zoo URLs, where it checks them with weights_only loading. Copy the file '
        'to local disk and give its path.')
