"""Shared fixtures: seeded tiny ECGs and survival outcomes that always hold events."""

import numpy as np
import pytest
import torch
from sksurv.util import Surv

# The smallest network the estimators build (one feature map, one head, 8-d latent code, two
# down-sampling stages) and one epoch: for tests of behaviour, not of what the network learns.
# Pass as ECGSurvivalAnalysis(**TINY_NET), or with overrides: {**TINY_NET, "max_epochs": 2}.
TINY_NET = {
    "module__base_features": 1,
    "module__latent_dim": 8,
    "module__n_heads": 1,
    "module__downsample": 2,
    "max_epochs": 1,
    "batch_size": 8,
    "random_state": 0,
}


@pytest.fixture(autouse=True)
def _seeds_fixed():
    """Fix global RNGs so that a test never depends on the order tests ran in."""
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture
def tiny_net():
    """A copy of ``TINY_NET`` that a test may change."""
    return dict(TINY_NET)


@pytest.fixture
def rng():
    return np.random.default_rng(0)


@pytest.fixture
def tiny_ecg(rng):
    """32 seeded 12-lead ECGs of 250 samples (float32)."""
    return rng.standard_normal((32, 12, 250)).astype(np.float32)


@pytest.fixture
def tiny_survival(rng):
    """Survival outcome for 32 samples with 12 events and distinct positive times."""
    event = np.zeros(32, dtype=bool)
    event[rng.choice(32, size=12, replace=False)] = True
    time = rng.permutation(np.arange(1, 33)).astype(float)
    return Surv.from_arrays(event, time)


@pytest.fixture(params=[np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
def non_finite_value(request):
    return request.param
