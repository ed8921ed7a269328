"""Claims in the docs that cannot drift from the code: every ``--flag`` a page shows with a tool
exists in that tool's argument parser, every repository path and test a page names exists, every
option table of the config reference is the class's signature, the config names follow the
documented forms, and ``tools/fit_projections.py`` takes its default from
``FitProjectionsHook``."""
import argparse
import ast
import importlib
import importlib.util
import inspect
import itertools
import re
from pathlib import Path
from typing import Dict, Iterator, List, Set, Tuple

import pytest

from rdimkd_mm.utils import tool_args
from helpers.paths import REPO_ROOT

DOCS = REPO_ROOT / 'docs'
PAGES = sorted(p for p in DOCS.rglob('*.md') if '_build' not in p.parts)
TOP_FILES = [REPO_ROOT / name for name in ('README.md', 'CONTRIBUTING.md')]
# The benchmark's own README shows its commands too (its paths are relative to benchmarks/).
FLAG_FILES = [*PAGES, *TOP_FILES, REPO_ROOT / 'benchmarks' / 'README.md']
PATH_FILES = [*PAGES, *TOP_FILES]

TOOL = re.compile(r'(?<![\w/.$-])((?:tools|benchmarks)/\w+\.(?:py|sh))')
FLAG = re.compile(r'(?<![\w-])(--[a-z][\w-]*)')
# The launchers pass their options on to these tools.
LAUNCHED = {'tools/dist_train.sh': 'tools/train.py', 'tools/slurm_train.sh': 'tools/train.py',
            'tools/dist_test.sh': 'tools/test.py', 'tools/slurm_test.sh': 'tools/test.py'}
# Tools that hand their command line on to another's parser: run.py's real-data suites.
DISPATCHED = {'benchmarks/run.py': ['benchmarks/real_run.py']}
REPO_DIRS = ('configs', 'tools', 'benchmarks', 'rdimkd_mm', 'synthetic', 'tests', 'scripts',
             'docs', 'results', '.ci')
REPO_PATH = re.compile(r'(?<![\w/.$-])((?:' + '|'.join(re.escape(d) for d in REPO_DIRS) +
                       r')/[^\s`\'"),;\]|]*)')
# What the tools write, not what the repository holds.
OUTPUTS = ('docs/_build', 'benchmarks/work', 'benchmarks/results/quick')


def split_code(text: str) -> Tuple[List[str], str]:
    """The fenced code blocks of a Markdown text (backslash continuations joined) and the
    prose around them, with inline code spans on one line."""
    blocks = [re.sub(r'\\\n\s*', ' ', block) for info, block in
              re.findall(r'```([^\n]*)\n(.*?)```', text, re.S)
              if not info.startswith('{')]  # not a directive such as a toctree
    prose = re.sub(r'```[^\n]*\n.*?```', '\n', text, flags=re.S)
    prose = re.sub(r'`[^`]+`', lambda m: m.group(0).replace('\n', ' '), prose)
    return blocks, prose


def lines_of(path: Path) -> Iterator[str]:
    blocks, prose = split_code(path.read_text())
    for block in blocks:
        yield from block.splitlines()
    yield from prose.splitlines()


def shown_flags(path: Path) -> Iterator[Tuple[str, str]]:
    """(tool, flag) for every flag that follows a tool on its line, up to the next tool."""
    for line in lines_of(path):
        matches = list(TOOL.finditer(line))
        for match, following in itertools.zip_longest(matches, matches[1:]):
            end = following.start() if following else len(line)
            for flag in FLAG.findall(line[match.end():end]):
                yield match.group(1), flag


def parser_flags(tool: str) -> Set[str]:
    """The option strings of ``tool``'s parser, read from its source (the tools need not be
    importable to be checked): every ``add_argument`` call, and the options that the shared
    helpers of :mod:`rdimkd_mm.utils.tool_args` it calls (``add_cfg_options``, ...) add."""
    tree = ast.parse((REPO_ROOT / tool).read_text())
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    flags = {arg.value for node in calls if getattr(node.func, 'attr', '') == 'add_argument'
             for arg in node.args
             if isinstance(arg, ast.Constant) and str(arg.value).startswith('--')}
    for node in calls:
        helper = getattr(tool_args, getattr(node.func, 'id', ''), None)
        if helper is not None and getattr(node.func, 'id', '').startswith('add_'):
            parser = argparse.ArgumentParser()
            helper(parser)
            flags.update(s for action in parser._actions for s in action.option_strings)
    return flags


def test_every_flag_shown_exists_in_its_tools_parser():
    shown = [(path, tool, flag) for path in FLAG_FILES for tool, flag in shown_flags(path)]
    assert len(shown) > 50, 'the flag scan found almost nothing: is the tool pattern stale?'
    wrong = []
    for path, tool, flag in shown:
        tool = LAUNCHED.get(tool, tool)
        if not (REPO_ROOT / tool).is_file():
            wrong.append(f'{path.relative_to(REPO_ROOT)}: {tool} does not exist')
        elif tool.endswith('.sh') or not any(
                flag in parser_flags(t) for t in [tool, *DISPATCHED.get(tool, [])]):
            wrong.append(f'{path.relative_to(REPO_ROOT)}: {tool} has no {flag}')
    assert not wrong, '\n'.join(sorted(set(wrong)))


def expand_braces(path: str) -> List[str]:
    match = re.search(r'\{([^{}]*)\}', path)
    if not match:
        return [path]
    return [expanded for choice in match.group(1).split(',') for expanded in
            expand_braces(path[:match.start()] + choice + path[match.end():])]


def named_paths(path: Path) -> Iterator[str]:
    """Repository paths named in code (spans and blocks) of a page."""
    blocks, prose = split_code(path.read_text())
    spans = [*blocks, *re.findall(r'`([^`]+)`', prose)]
    for span in spans:
        for name in REPO_PATH.findall(span):
            name = name.split('::')[0].rstrip('.:')
            if re.search(r'[<$]|\.\.\.|\bmy_|[A-Z]{3,}', name) or name.startswith(OUTPUTS):
                continue  # placeholders, the reader's own files, generated outputs
            yield from expand_braces(name)


def test_every_path_named_exists():
    named = [(path, name) for path in PATH_FILES for name in named_paths(path)]
    assert len(named) > 50, 'the path scan found almost nothing: is the pattern stale?'
    missing = sorted({f'{path.relative_to(REPO_ROOT)}: {name}' for path, name in named
                      if not list(REPO_ROOT.glob(name.rstrip('/')))})
    assert not missing, 'named but not in the repository:\n' + '\n'.join(missing)


def test_every_link_of_the_top_level_files_exists():
    """README.md and CONTRIBUTING.md are read on GitHub, outside the Sphinx build that checks
    the pages' links."""
    for path in TOP_FILES:
        for target in re.findall(r'\]\(([^)\s]+)\)', path.read_text()):
            if target.startswith(('http://', 'https://', '#')):
                continue
            assert (path.parent / target.split('#')[0]).exists(), (path.name, target)


def test_every_test_a_page_cites_exists():
    """``test_file.py::test_name`` (and ``::test_name`` after it, the same file) name a test
    function in a file of that name under ``tests/``."""
    cited = []
    for path in PATH_FILES:
        current = None
        for span in re.findall(r'`([^`]+)`', split_code(path.read_text())[1]):
            match = re.fullmatch(r'(?:[\w/]*/)?(test_\w+\.py)::(\w+)|::(test_\w+)', span)
            if match:
                current = match.group(1) or current
                cited.append((path, current, match.group(2) or match.group(3)))
    assert len(cited) > 20, 'the scan found almost no cited tests: is the pattern stale?'
    missing = []
    for path, file, test in cited:
        sources = [f.read_text() for f in (REPO_ROOT / 'tests').rglob(file)]
        if not any(re.search(rf'^def {test}\(', source, re.M) for source in sources):
            missing.append(f'{path.relative_to(REPO_ROOT)}: {file}::{test}')
    assert not missing, 'cited tests that do not exist:\n' + '\n'.join(sorted(set(missing)))


# ------------------------------------------------------------------ the config reference
def option_tables(page: Path) -> Dict[str, Dict[str, str]]:
    """{'rdimkd_mm.models.RdimKDLoss': {option: default cell}} for every class heading of the
    page, with the rows of the option tables under it."""
    tables: Dict[str, Dict[str, str]] = {}
    current = None
    for line in page.read_text().splitlines():
        heading = re.match(r'#+ `(rdimkd_mm\.[\w.]+)`$', line)
        if heading:
            current = tables.setdefault(heading.group(1), {})
        elif line.startswith('| `') and current is not None:
            option, default = (cell.strip() for cell in line.split('|')[1:3])
            for name in re.findall(r'`(\w+)`', option):
                current[name] = default
    return tables


def resolve(dotted: str) -> type:
    module, name = dotted.rsplit('.', 1)
    return getattr(importlib.import_module(module), name)


def documented_default(cell: str):
    """``inspect.Parameter.empty`` for 'required', else the literal in the cell's first code
    span."""
    if cell.startswith('required'):
        return inspect.Parameter.empty
    match = re.match(r'`([^`]+)`', cell)
    assert match, f'a default cell is "required ..." or starts with a `literal`: {cell!r}'
    return ast.literal_eval(match.group(1))


def test_option_tables_are_the_signatures():
    import rdimkd_mm  # noqa: F401  (registration)
    tables = option_tables(DOCS / 'advanced_guides' / 'config_reference.md')
    classes = {dotted: resolve(dotted) for dotted in tables}
    for dotted, rows in tables.items():
        cls = classes[dotted]
        parameters = {name: p for name, p in inspect.signature(cls).parameters.items()
                      if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
        for option, cell in rows.items():
            assert option in parameters, f'{dotted} has no option {option!r}'
            assert documented_default(cell) == parameters[option].default, (dotted, option)
        # Complete: every option is in its table or in a documented base class's.
        inherited = {name for base in cls.__mro__[1:] for other, documented in classes.items()
                     if documented is base for name in tables[other]}
        missing = set(parameters) - set(rows) - inherited
        assert not missing, f'{dotted}: options missing from its table: {sorted(missing)}'


def test_every_public_loss_projection_and_hook_is_in_the_reference():
    from rdimkd_mm.engine import hooks
    from rdimkd_mm.models import losses, projections
    tables = option_tables(DOCS / 'advanced_guides' / 'config_reference.md')
    public = {f'rdimkd_mm.models.{name}' for name in (*losses.__all__, *projections.__all__)}
    public |= {f'rdimkd_mm.engine.hooks.{name}' for name in hooks.__all__}
    public.add('rdimkd_mm.models.FeatureDistiller')
    assert not public - set(tables), sorted(public - set(tables))


def test_fit_projections_takes_its_default_from_the_hook():
    from mmengine.config import Config

    from rdimkd_mm.engine.hooks import FitProjectionsHook
    spec = importlib.util.spec_from_file_location('fit_projections',
                                                  REPO_ROOT / 'tools' / 'fit_projections.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    hook_default = inspect.signature(FitProjectionsHook).parameters['num_batches'].default
    assert tool.default_num_batches(Config(dict(custom_hooks=[]))) == hook_default
    assert tool.default_num_batches(Config(dict(custom_hooks=[
        dict(type='rdimkd_mm.FitProjectionsHook', num_batches=20)]))) == 20
    seg = Config.fromfile(REPO_ROOT / 'configs/rdimkd/rdimkd-a_pspnet_r50-w32_r18-w16_'
                          'synthetic-cityscapes.py')
    assert tool.default_num_batches(seg) == 20  # the segmentation default's fit
    tools_page = ' '.join((DOCS / 'user_guides' / 'tools.md').read_text().split())
    assert f"else the hook's default, {hook_default})" in tools_page


def test_the_start_of_training_check_is_the_distillers_monitor():
    from rdimkd_mm.models.distillers import KDScaleMonitor
    page = ' '.join((DOCS / 'advanced_guides' / 'config_reference.md').read_text().split())
    assert f'`kd_check_iters = {KDScaleMonitor.kd_check_iters}`' in page
    assert f'`kd_dominance_ratio = {KDScaleMonitor.kd_dominance_ratio}`' in page


@pytest.mark.parametrize('folder,form', [
    ('coco', r'rdimkd-[rpa]_fpn_[\w-]+_[\w-]+_\w+_coco\.py'),
    ('cityscapes', r'rdimkd-[rpa]_[a-z0-9]+-[\w-]+_[a-z0-9]+-[\w-]+_[\w-]+_cityscapes-\d+x\d+\.py'),
    ('.', r'rdimkd-[rpa]_[a-z]+_[\w-]+_[\w-]+_synthetic-(coco|cityscapes)\.py'),
])
def test_config_names_follow_the_documented_forms(folder, form):
    """docs/user_guides/coco_cityscapes.md, "Config names"."""
    names = [p.name for p in (REPO_ROOT / 'configs' / 'rdimkd' / folder).glob('*.py')]
    assert names
    for name in names:
        assert re.fullmatch(form, name), name
