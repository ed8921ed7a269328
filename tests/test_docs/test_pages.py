"""The docs pages: each is reachable from the index's toctrees, none speaks of issue numbers or
of the machine it was written on, and the code a page says the suite runs does run. (Sphinx
itself, with warnings as errors, runs in ``make docs``.)"""
import re
import subprocess
import sys

from helpers.paths import REPO_ROOT

DOCS = REPO_ROOT / 'docs'
PAGES = sorted(p for p in DOCS.rglob('*.md') if '_build' not in p.parts)


def toctree_entries(page) -> list:
    """The documents listed in the toctree blocks of ``page``, relative to ``docs/``."""
    entries = []
    for block in re.findall(r'```\{toctree\}\n(.*?)```', page.read_text(), re.S):
        entries += [line.strip() for line in block.splitlines()
                    if line.strip() and not line.startswith(':')]
    base = page.parent.relative_to(DOCS)
    return [(base / entry).as_posix() for entry in entries]


def test_every_page_is_in_a_toctree():
    reachable, todo = set(), ['index']
    while todo:
        name = todo.pop()
        if name not in reachable:
            reachable.add(name)
            todo += toctree_entries(DOCS / f'{name}.md')
    pages = {p.relative_to(DOCS).with_suffix('').as_posix() for p in PAGES}
    assert pages - reachable == set(), f'pages in no toctree: {sorted(pages - reachable)}'
    assert reachable - pages == set(), f'toctree entries without a page: {reachable - pages}'


def test_pages_speak_to_users():
    """No issue numbers, and no 'this machine' or 'here' for where a number was measured: a
    measurement names its date and hardware."""
    for path in [*PAGES, REPO_ROOT / 'README.md', REPO_ROOT / 'CONTRIBUTING.md']:
        text = re.sub(r'```.*?```', '', path.read_text(), flags=re.S)
        text = re.sub(r'\]\([^)]*\)', ']', text)  # link targets carry anchors
        for pattern in (r'(?<![\w&/])#\d+\b', r'\bissue \d+', r'\bthis machine\b',
                        r'\bmeasured here\b', r'\bcommit [0-9a-f]{7}\b'):
            found = re.findall(pattern, text, re.I)
            assert not found, (path.relative_to(REPO_ROOT).as_posix(), found)


def test_adding_a_loss_examples_run():
    """docs/advanced_guides/adding_a_loss.md: both examples register, build through the
    registry as a config names them, and compute what they say."""
    page = (DOCS / 'advanced_guides' / 'adding_a_loss.md').read_text()
    examples = re.findall(r'```python\n(.*?)```', page, re.S)
    assert len(examples) == 2
    check = '''
import torch
from rdimkd_mm.registry import MODELS
loss = MODELS.build(dict(type='rdimkd_mm.CosineDistillLoss', student_channels=8,
                         teacher_channels=16, loss_weight=2.0))
value = loss(torch.randn(2, 8, 4, 4), torch.randn(2, 16, 4, 4))
assert 0 <= value.item() <= 4, value
same = MODELS.build(dict(type='rdimkd_mm.CosineDistillLoss', student_channels=16,
                         teacher_channels=16, connector='identity'))
feature = torch.randn(2, 16, 4, 4)
assert same(feature, feature).abs().item() < 1e-5
rdimkd = MODELS.build(dict(type='rdimkd_mm.RdimKDLoss', student_channels=16, teacher_channels=16,
                           connector='identity', normalize=None,
                           projection=dict(type='rdimkd_mm.FirstChannelsProjection', k=0.25)))
assert rdimkd.projections[0].k == 4
teacher = torch.randn(2, 16, 4, 4)
student = teacher.clone()
student[:, 4:] += 1  # differs only outside the first 4 channels, which K keeps
assert rdimkd(student, teacher).item() == 0
student[:, 0] += 1
assert rdimkd(student, teacher).item() > 0
print('examples ok')
'''
    script = 'import rdimkd_mm\n' + '\n'.join(examples) + check
    result = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True,
                            cwd=REPO_ROOT, timeout=300)
    assert result.returncode == 0 and 'examples ok' in result.stdout, result.stderr[-3000:]
