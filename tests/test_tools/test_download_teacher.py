"""tools/download_teacher.py against a local zoo server: fetches, verifies and load-checks a
teacher; a wrong file stops it with exit status 1 and the fix."""
import hashlib
import subprocess
import sys
from pathlib import Path

import torch
import yaml

from rdimkd_mm.utils import build_model

REPO_ROOT = Path(__file__).resolve().parents[2]
DISTILL = 'configs/rdimkd/rdimkd-r_retinanet_r50-w32_r18-w16_synthetic-coco.py'
TEACHER = REPO_ROOT / 'configs/synthetic/retinanet_r50-w32_fpn128_synthetic-coco.py'


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, 'tools/download_teacher.py', *map(str, args)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)


def test_cli_fetches_and_refuses_a_bad_hash(tmp_path, zoo_server):
    root, url = zoo_server
    model, _ = build_model(str(TEACHER))
    blob = tmp_path / 'blob.pth'
    torch.save(dict(state_dict=model.state_dict()), blob)
    digest = hashlib.sha256(blob.read_bytes()).hexdigest()[:8]
    (root / f'teacher-{digest}.pth').write_bytes(blob.read_bytes())
    (root / 'teacher-deadbeef.pth').write_bytes(blob.read_bytes())
    dest = tmp_path / 'checkpoints' / 'teacher.pth'
    for name in ('good', 'bad'):
        weights = f'{url}/teacher-{digest if name == "good" else "deadbeef"}.pth'
        (tmp_path / f'{name}.yml').write_text(yaml.safe_dump(dict(Models=[dict(
            Name='teacher', Config=str(TEACHER), Weights=weights)])))
    good = run(DISTILL, '--metafile', tmp_path / 'good.yml', '--cfg-options',
               f'model.teacher_checkpoint={dest}')
    assert good.returncode == 0, good.stdout + good.stderr
    assert f'teacher teacher ready at {dest} (downloaded, sha256 {digest}' in good.stdout
    assert dest.is_file()
    bad = run(DISTILL, '--metafile', tmp_path / 'bad.yml', '--force', '--cfg-options',
              f'model.teacher_checkpoint={dest}')
    assert bad.returncode == 1
    assert f'{DISTILL}: The file downloaded from' in bad.stderr and 'deadbeef' in bad.stderr
    assert 'Traceback' not in bad.stderr
