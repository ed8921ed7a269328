"""Shared fixtures: tiny synthetic data sets, random teachers, the thread count, the default
scope and the libraries' metafiles read once. Helpers (functions, constants) are in
``tests/helpers``."""
import functools
from pathlib import Path

import pytest
import torch
from mmengine.registry import init_default_scope

from synthetic import generate_cityscapes_segmentation, generate_coco_detection
from helpers.distillers import RETINA_TEACHER, model_cfg
from helpers.models import DET_DISTILL, save_random_model, save_random_teacher
from helpers.real_data import cityscapes_stand_in, coco_stand_in


@pytest.fixture(scope='session', autouse=True)
def zoo_metafiles_read_once():
    """mmengine looks up every ``mmdet::``/``mmseg::`` path of a config (a zoo config or a
    library ``_base_``) in all of the library's ~100 metafiles, parsing each YAML file anew:
    1-2 s per path. In the test process each file is parsed once (the files do not change during
    a session); the tools' own processes are left as they are."""
    from mmengine.config import utils
    load = utils.load
    utils.load = functools.lru_cache(maxsize=None)(load)
    yield
    utils.load = load


@pytest.fixture(scope='session')
def det_root(tmp_path_factory) -> Path:
    """A small synthetic COCO-format set (16 train / 8 val images, 256x256)."""
    root = tmp_path_factory.mktemp('synthetic_coco')
    generate_coco_detection(str(root), num_train=16, num_val=8, seed=0, progress=False)
    return root


@pytest.fixture(scope='session')
def seg_root(tmp_path_factory) -> Path:
    """A small synthetic Cityscapes-format set (8 train / 4 val images, 256x512)."""
    root = tmp_path_factory.mktemp('synthetic_cityscapes')
    generate_cityscapes_segmentation(str(root), num_train=8, num_val=4, seed=0, progress=False)
    return root


@pytest.fixture(scope='module')
def coco_full_size(tmp_path_factory) -> Path:
    """One 800x1333 image (the real input size) in the COCO 2017 layout."""
    return coco_stand_in(tmp_path_factory.mktemp('coco'), (800, 1333), num_train=1, num_val=1)


@pytest.fixture(scope='module')
def cityscapes_full_size(tmp_path_factory) -> Path:
    """Two 1024x2048 scenes (the real image size) in the Cityscapes layout: the configs' batch
    of 2, the least PSPNet's pooled 1x1 branch can normalise."""
    return cityscapes_stand_in(tmp_path_factory.mktemp('cityscapes'), (1024, 2048),
                               num_train=2, num_val=1)


@pytest.fixture(scope='session')
def random_teacher(tmp_path_factory) -> Path:
    """The teacher of the synthetic-COCO RdimKD-R config with random weights (seed 0)."""
    return save_random_teacher(DET_DISTILL, tmp_path_factory.mktemp('teacher') / 'teacher.pth')


@pytest.fixture(scope='module')
def one_torch_thread():
    """One intra-op thread for a module (``pytestmark = pytest.mark.usefixtures(...)``): on a
    few shared cores, threads that wait for each other (OpenMP) made many tiny steps 2-3x
    slower whenever another process was busy."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def mmdet_scope():
    """mmdet as the default registry scope (in-process model builds)."""
    init_default_scope('mmdet')


@pytest.fixture(scope='module')
def retina_checkpoint(tmp_path_factory) -> str:
    """The synthetic configs' RetinaNet teacher (``RETINA_TEACHER``) with random weights."""
    init_default_scope('mmdet')
    return save_random_model(model_cfg(RETINA_TEACHER),
                             tmp_path_factory.mktemp('t') / 'teacher.pth')


@pytest.fixture
def zoo_server(tmp_path):
    """A static HTTP server on 127.0.0.1 (an ephemeral port) serving ``tmp_path / 'zoo'``;
    yields ``(root_dir, base_url)`` and shuts down after the test."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    root = tmp_path / 'zoo'
    root.mkdir()
    server = ThreadingHTTPServer(('127.0.0.1', 0),
                                 functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f'http://127.0.0.1:{server.server_address[1]}'
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
