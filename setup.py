"""Install rdimkd-mm: ``pip install --no-build-isolation -e .`` (docs/get_started/install.md has the
full stack)."""
import os.path as osp

from setuptools import find_packages, setup


def read_version() -> str:
    namespace: dict = {}
    with open(osp.join('rdimkd_mm', 'version.py'), encoding='utf-8') as f:
        exec(f.read(), namespace)
    return namespace['__version__']


DOCS_REQUIRES = ['sphinx>=7', 'myst-parser>=2']

setup(
    name='rdimkd-mm',
    version=read_version(),
    description='RdimKD knowledge distillation by dimensionality reduction for mmdet 3.x and '
    'mmseg 1.x',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.9',
    # rdimkd_mm: the distillation package; synthetic: the demo/test/benchmark data generators.
    packages=find_packages(include=['rdimkd_mm', 'rdimkd_mm.*', 'synthetic']),
    install_requires=[
        # The tested ranges (docs/get_started/install.md, "Version matrix"). torch is installed
        # first by scripts/setup_env.sh (CPU build) or by the user (CUDA); one in the range is kept.
        # torch >= 2.6: safe loading needs its (function, 'module.name') allow-list entries.
        'torch>=2.6,<2.14',
        'mmengine>=0.10.7,<0.11',
        'mmcv>=2.1.0,<2.2',
        'mmdet>=3.3.0,<3.4',
        'mmsegmentation>=1.2.2,<1.3',
        'numpy',
        'pycocotools',
        'matplotlib',
        # mmseg 1.2 imports these at package import time without declaring them.
        'ftfy',
        'regex',
    ],
    extras_require={
        # The docs site (make docs): Sphinx with myst-parser, the OpenMMLab convention.
        'docs': DOCS_REQUIRES,
        # make test builds the docs before pytest, so the tests extra includes them.
        'tests': ['pytest>=7', 'pytest-timeout', 'flake8>=7', 'isort>=5', *DOCS_REQUIRES],
    },
    zip_safe=False,
)
