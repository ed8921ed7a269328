"""Sphinx configuration of the rdimkd-mm docs (myst-parser: the pages are Markdown).

Build: ``make docs`` (``python -m sphinx -W --keep-going -n -b html docs docs/_build/html``).
Nothing is fetched at build time: no intersphinx, the built-in theme.
"""
import os.path as osp

_namespace: dict = {}
with open(osp.join(osp.dirname(__file__), '..', 'rdimkd_mm', 'version.py'), encoding='utf-8') as f:
    exec(f.read(), _namespace)

project = 'rdimkd-mm'
copyright = '2026, the rdimkd-mm authors'
release = _namespace['__version__']
version = release

extensions = ['myst_parser']
source_suffix = {'.md': 'markdown'}
root_doc = 'index'
exclude_patterns = ['_build']

# Every heading up to level 3 gets an anchor, so [text](page.md#anchor) is checked by -W -n.
myst_heading_anchors = 3
myst_enable_extensions = ['colon_fence']

html_theme = 'alabaster'
html_title = f'rdimkd-mm {release}'
html_theme_options = {'description': 'RdimKD distillation for mmdet 3.x and mmseg 1.x'}
