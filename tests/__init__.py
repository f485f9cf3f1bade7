"""hssl's test-suite, laid out like the package (models/, datasets/, engine/, ...) and the
repository (configs/, tools/, docs/). A package so that test modules can name the
repository in module-level constants (parametrize lists of configs, tools they import):
``from tests import REPO, DATA``. Factories and checks are fixtures (tests/conftest.py)."""
import os.path as osp

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
DATA = osp.join(REPO, 'tests', 'data')  # the tiny configs and the hooks they import
