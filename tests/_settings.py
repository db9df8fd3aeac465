"""Test settings needed before fixtures exist: in ``parametrize`` lists and module constants.

Tests reach these through the fixtures of ``conftest.py`` (``tiny_net``); a module imports them from
here only where the value is needed at collection time. Tests do not import ``conftest``: pytest loads
it as a plugin, and ``from conftest import ...`` works only while ``tests/`` is on ``sys.path`` under
the name ``conftest`` (not under ``--import-mode=importlib``, nor beside a second ``conftest.py``).
"""

from types import MappingProxyType

# The smallest network the estimators build (one feature map, one head, 8-d latent code, two
# down-sampling stages) and one epoch: for tests of behaviour, not of what the network learns.
# Read-only, so that no test can change it for the tests that run after it; pass it as
# ECGSurvivalAnalysis(**TINY_NET), or with overrides: {**TINY_NET, "max_epochs": 2}.
TINY_NET = MappingProxyType(
    {
        "module__base_features": 1,
        "module__latent_dim": 8,
        "module__n_heads": 1,
        "module__downsample": 2,
        "max_epochs": 1,
        "batch_size": 8,
        "random_state": 0,
    }
)
