"""The package's shape: files short enough to read in one sitting, and tools that use only its
public names."""
import ast

from helpers.paths import REPO_ROOT

MAX_LINES = 250


def test_no_package_file_is_longer_than_the_limit():
    long = {str(p.relative_to(REPO_ROOT)): n for p in (REPO_ROOT / 'rdimkd_mm').rglob('*.py')
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f'split these by concept (at most {MAX_LINES} lines each): {long}'


def test_tools_import_no_private_names_of_the_package():
    private = []
    for path in sorted((REPO_ROOT / 'tools').glob('*.py')):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or '').startswith('rdimkd_mm'):
                parts = node.module.split('.') + [alias.name for alias in node.names]
                private += [f'{path.name}: {node.module}.{p}' for p in parts
                            if p.startswith('_')]
    assert not private, private
