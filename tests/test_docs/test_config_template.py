"""The hand-written detection config of the "Distil your pair" guide loads, and, like the
inspector's written configs, starts the student from random weights: nothing to download."""
import re

from mmengine.config import Config

from rdimkd_mm.utils import pretrained_inits
from helpers.paths import REPO_ROOT

PAGE = REPO_ROOT / 'docs/user_guides/distill_your_pair.md'


def test_the_guides_template_needs_no_download(tmp_path):
    blocks = re.findall(r'```python\n(.*?)```', PAGE.read_text(), re.S)
    template = next(b for b in blocks if b.startswith('# configs/my_project/'))
    path = tmp_path / 'template.py'
    path.write_text(template)
    cfg = Config.fromfile(str(path))
    assert cfg.model.type == 'rdimkd_mm.FeatureDistiller'
    assert pretrained_inits(cfg.model.student) == {}, pretrained_inits(cfg.model.student)
