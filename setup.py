"""Installation of hssl: ``pip install -e .`` (runtime) or ``pip install -e ".[dev]"``."""
import os.path as osp

from setuptools import find_packages, setup


def read_version():
    namespace = {}
    with open(osp.join(osp.dirname(__file__), 'hssl', 'version.py')) as f:
        exec(f.read(), namespace)
    return namespace['__version__']


# Bounds are the ranges tested on this project's machines (see docs/get_started.md).
# torch is capped at the newest release we have run the test-suite on.
RUNTIME = [
    'torch>=2.1,<2.15',
    'torchvision>=0.16,<0.30',
    'mmengine>=0.10.4,<0.11',
    'mmpretrain>=1.2,<1.3',
    'mmcv-lite>=2.0,<2.4',
    'timm>=1.0,<2',
    'kornia>=0.7.2,<0.10',  # the GPU colour augmentation (MultiViewAugmentPreprocessor)
    'scikit-learn>=1.3',
    'numpy>=1.24',
    'pillow>=9',
    'tqdm',
    'setuptools<82',  # mmengine imports pkg_resources, removed in setuptools 82
]

setup(
    name='hssl',
    version=read_version(),
    description='Heterogeneous Self-Supervised Learning for vision backbones',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.9',
    packages=find_packages(exclude=('tests', 'tests.*', 'configs', 'tools')),
    install_requires=RUNTIME,
    extras_require={
        # FAISS is optional: without it k-NN runs on the torch backend.
        'cpu': ['faiss-cpu>=1.7.4'],
        'gpu': ['faiss-gpu>=1.7.2'],
        'dev': ['faiss-cpu>=1.7.4', 'pytest>=7', 'tensorboard'],
    },
)
