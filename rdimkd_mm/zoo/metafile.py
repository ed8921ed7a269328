"""Model-zoo entries of the installed mmdet/mmseg (their ``metafile.yml``) or of your own.

OpenMMLab ships one metafile per model family inside each installed package
(``<package>/.mim/configs/<family>/metafile.y[a]ml``); every entry names its config, its
checkpoint URL (``Weights``) and its published metrics (``Results``). A config here is matched
to an entry by the file it resolves to, so ``'mmdet::retinanet/retinanet_r101_fpn_1x_coco.py'``
finds mmdet's entry for that file.
"""
import functools
import glob
import os.path as osp
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import yaml
from mmengine.utils import get_installed_path, is_installed

from rdimkd_mm.utils import resolve_config_path

#: The packages whose installed metafiles are searched.
ZOO_PACKAGES = ('mmdet', 'mmseg')
#: The sha256 prefix OpenMMLab's ``publish_model`` appends to a checkpoint's file name.
_HASH = re.compile(r'-([0-9a-f]{8,64})\.pth$')


class ZooError(RuntimeError):
    """A model-zoo lookup, download or check that failed; the message says what to change."""


@dataclass(frozen=True)
class ZooEntry:
    """One model of a metafile.

    Attributes:
        name (str): The entry's ``Name`` (e.g. ``'retinanet_r101_fpn_1x_coco'``).
        config (str): The config file the entry describes (absolute path).
        weights (str): Checkpoint URL; '' where the entry has none.
        metrics (dict): Published metrics of the first result (e.g. ``{'box AP': 38.5}``).
        dataset (str): The dataset of that result (e.g. ``'COCO'``).
        metafile (str): The metafile the entry comes from.
    """
    name: str
    config: str
    weights: str
    metrics: Dict[str, float] = field(default_factory=dict)
    dataset: str = ''
    metafile: str = ''

    @property
    def sha256_prefix(self) -> Optional[str]:
        """The sha256 prefix in the checkpoint's file name, or None where it carries none."""
        match = _HASH.search(self.weights)
        return match[1] if match else None


def installed_metafiles(packages: Sequence[str] = ZOO_PACKAGES) -> List[str]:
    """The metafiles of the installed ``packages`` (those not installed are skipped)."""
    found = []
    for package in packages:
        if is_installed(package):
            root = osp.join(get_installed_path(package), '.mim', 'configs')
            found += sorted(glob.glob(osp.join(root, '*', 'metafile.y*ml')))
    return found


@functools.lru_cache(maxsize=None)
def read_metafile(path: str) -> Tuple[ZooEntry, ...]:
    """The entries of one metafile, read once per process. ``Config`` is read relative to the
    directory above the ``configs/`` folder that holds the metafile (the installed package's
    ``.mim``), or to the metafile's own directory for a metafile elsewhere."""
    with open(path) as f:
        data = yaml.safe_load(f) or {}
    parts = osp.abspath(path).split(osp.sep)
    root = (osp.sep.join(parts[:len(parts) - 1 - parts[::-1].index('configs')])
            if 'configs' in parts else osp.dirname(osp.abspath(path)))
    entries = []
    models = data if isinstance(data, list) else data.get('Models') or []  # both forms exist
    for model in models:
        if not model.get('Config'):
            continue
        results = model.get('Results') or []
        result = (results[0] if isinstance(results, list) and results else
                  results if isinstance(results, dict) else {})
        metrics = {k: float(v) for k, v in (result.get('Metrics') or {}).items()
                   if isinstance(v, (int, float))}
        entries.append(ZooEntry(
            name=model.get('Name', ''), config=osp.normpath(osp.join(root, model['Config'])),
            weights=model.get('Weights') or '', metrics=metrics,
            dataset=result.get('Dataset', ''), metafile=path))
    return tuple(entries)


def find_entry(config: str, metafiles: Optional[Sequence[str]] = None) -> ZooEntry:
    """The metafile entry of ``config`` (a path or ``'mmdet::...'``).

    Args:
        config (str): The model's config, as a distillation config names its teacher.
        metafiles (list[str], optional): Metafiles to search; default: the installed
            mmdet/mmseg's.

    Raises:
        ZooError: if ``config`` is not a file, or no metafile has an entry for it.
    """
    try:
        target = osp.realpath(resolve_config_path(config))
    except FileNotFoundError as error:
        raise ZooError(str(error)) from None
    files = list(metafiles) if metafiles is not None else installed_metafiles()
    for path in files:
        for entry in read_metafile(path):
            if osp.realpath(entry.config) == target:
                return entry
    where = ', '.join(files) if metafiles is not None else \
        f'the {len(files)} metafiles of the installed {"/".join(ZOO_PACKAGES)}'
    raise ZooError(f'No model-zoo entry for the config {config!r} in {where}: a zoo '
                   'teacher is named by its zoo config (e.g. "mmdet::retinanet/'
                   'retinanet_r101_fpn_1x_coco.py"); for a teacher of your own, give a '
                   'metafile with --metafile, or train it and set model.teacher_checkpoint.')
