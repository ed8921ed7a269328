"""fetch_teacher against a local zoo server: download, hash check, strict load check, and a
clear error for each way it can fail; the shipped real configs' teachers in the installed
metafiles."""
import glob
import hashlib
import socket
from pathlib import Path

import pytest
import torch
import yaml
from mmengine.config import Config

from rdimkd_mm.utils import build_model
from rdimkd_mm.zoo import ZooError, fetch_teacher, find_entry

REPO_ROOT = Path(__file__).resolve().parents[2]
DISTILL = REPO_ROOT / 'configs/rdimkd/rdimkd-r_retinanet_r50-w32_r18-w16_synthetic-coco.py'
TEACHER = REPO_ROOT / 'configs/synthetic/retinanet_r50-w32_fpn128_synthetic-coco.py'
STUDENT = REPO_ROOT / 'configs/synthetic/retinanet_r18-w16_fpn64_synthetic-coco.py'


def publish(model_config: Path, folder: Path, name: str, seed: int = 0) -> str:
    """Save a model's weights as OpenMMLab's publish_model does (sha256 prefix in the name);
    returns the file name."""
    torch.manual_seed(seed)
    model, _ = build_model(str(model_config))
    tmp = folder / 'tmp.pth'
    torch.save(dict(state_dict=model.state_dict(), meta={}), tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()[:8]
    final = f'{name}_20260101-{digest}.pth'
    tmp.rename(folder / final)
    return final


def metafile(tmp_path: Path, weights: str, config: Path = TEACHER) -> str:
    path = tmp_path / 'metafile.yml'
    path.write_text(yaml.safe_dump(dict(Models=[dict(
        Name='synthetic_teacher', Config=str(config), Weights=weights,
        Results=[dict(Task='Object Detection', Dataset='COCO', Metrics={'box AP': 1.0})])])))
    return str(path)


def distill_cfg(dest: Path) -> Config:
    cfg = Config.fromfile(str(DISTILL))
    cfg.model.teacher_checkpoint = str(dest)
    return cfg


@pytest.fixture(scope='module')
def published(tmp_path_factory):
    """The teacher's and the student's weights, published once for the module's tests."""
    folder = tmp_path_factory.mktemp('published')
    return folder, publish(TEACHER, folder, 'teacher'), publish(STUDENT, folder, 'student')


def serve(zoo_server, published, which: str, as_name: str = None) -> str:
    root, url = zoo_server
    folder, teacher, student = published
    name = teacher if which == 'teacher' else student
    (root / (as_name or name)).write_bytes((folder / name).read_bytes())
    return f'{url}/{as_name or name}'


def test_fetches_verifies_and_load_checks(tmp_path, zoo_server, published):
    dest = tmp_path / 'checkpoints' / 'teacher.pth'
    files = [metafile(tmp_path, serve(zoo_server, published, 'teacher'))]
    lines = []
    got = fetch_teacher(distill_cfg(dest), files, log=lines.append)
    assert got.downloaded and dest.is_file() and got.tensors > 100
    assert got.entry.name == 'synthetic_teacher' and any('verified' in x for x in lines)
    assert not list(dest.parent.glob('*.part'))
    again = fetch_teacher(distill_cfg(dest), files, log=lines.append)  # verified, not fetched
    assert not again.downloaded and again.tensors == got.tensors


def test_mirror_replaces_the_zoo_host(tmp_path, zoo_server, published):
    root, url = zoo_server
    name = published[1]
    (root / 'mmdetection').mkdir()
    (root / 'mmdetection' / name).write_bytes((published[0] / name).read_bytes())
    dest = tmp_path / 'teacher.pth'
    files = [metafile(tmp_path, f'https://download.openmmlab.com/mmdetection/{name}')]
    got = fetch_teacher(distill_cfg(dest), files, mirror=url + '/', log=lambda _: None)
    assert got.url == f'{url}/mmdetection/{name}' and dest.is_file()


def test_hash_mismatch_keeps_nothing(tmp_path, zoo_server, published):
    dest = tmp_path / 'teacher.pth'
    weights = serve(zoo_server, published, 'teacher', 'teacher_20260101-00000000.pth')
    with pytest.raises(ZooError, match=r'sha256 .*not the 00000000 its zoo file name carries'):
        fetch_teacher(distill_cfg(dest), [metafile(tmp_path, weights)], log=lambda _: None)
    assert not list(tmp_path.glob('teacher.pth*'))


def test_no_network(tmp_path):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(('127.0.0.1', 0))
        port = s.getsockname()[1]
    files = [metafile(tmp_path, f'http://127.0.0.1:{port}/teacher_20260101-0123abcd.pth')]
    with pytest.raises(ZooError, match=r'Cannot download .*copy it to .*teacher.pth'):
        fetch_teacher(distill_cfg(tmp_path / 'teacher.pth'), files, log=lambda _: None)


def test_missing_file_on_server(tmp_path, zoo_server):
    files = [metafile(tmp_path, f'{zoo_server[1]}/teacher_20260101-0123abcd.pth')]
    with pytest.raises(ZooError, match='answered 404'):
        fetch_teacher(distill_cfg(tmp_path / 'teacher.pth'), files, log=lambda _: None)


def test_no_metafile_entry(tmp_path):
    files = [metafile(tmp_path, 'http://127.0.0.1:9/x-0123abcd.pth', config=STUDENT)]
    with pytest.raises(ZooError, match=r'No model-zoo entry for the config .*--metafile'):
        fetch_teacher(distill_cfg(tmp_path / 'teacher.pth'), files, log=lambda _: None)


def test_file_that_does_not_fit_the_teacher(tmp_path, zoo_server, published):
    dest = tmp_path / 'teacher.pth'  # the student's weights, published under a correct hash
    files = [metafile(tmp_path, serve(zoo_server, published, 'student'))]
    with pytest.raises(ZooError, match=r'does not fit the teacher .*does not match the model'):
        fetch_teacher(distill_cfg(dest), files, log=lambda _: None)


def test_existing_file_that_is_not_the_zoo_one(tmp_path, zoo_server, published):
    dest = tmp_path / 'teacher.pth'
    dest.write_bytes(b'not a checkpoint')
    files = [metafile(tmp_path, serve(zoo_server, published, 'teacher'))]
    with pytest.raises(ZooError, match='exists but is not the zoo checkpoint .*--force'):
        fetch_teacher(distill_cfg(dest), files, log=lambda _: None)
    got = fetch_teacher(distill_cfg(dest), files, force=True, log=lambda _: None)
    assert got.downloaded


@pytest.mark.parametrize('config', sorted(
    glob.glob(str(REPO_ROOT / 'configs/rdimkd/coco/*.py')) +
    glob.glob(str(REPO_ROOT / 'configs/rdimkd/cityscapes/*.py'))), ids=lambda p: Path(p).stem)
def test_shipped_teachers_are_in_the_installed_zoo(config):
    """Every shipped real config's teacher has an installed metafile entry with a verifiable
    checkpoint URL and published metrics (no download)."""
    entry = find_entry(Config.fromfile(config).model.teacher)
    assert entry.weights.startswith('https://download.openmmlab.com/')
    assert entry.sha256_prefix and entry.metrics
