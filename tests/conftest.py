"""Shared fixtures: seeded tiny ECGs and survival outcomes that always hold events."""

import numpy as np
import pytest
import torch
from _settings import TINY_NET
from sksurv.util import Surv


@pytest.fixture(scope="session", autouse=True)
def _fused_kernel_off_unless_asked():
    """Run the suite on the pure-torch BatchNorm + LeakyReLU, which the kernel is tested against.

    Fits on batches of a few hundred thousand activations would otherwise build the C++ kernel on a
    fresh machine (30-90 s) inside whichever test comes first. The kernel's own tests (slow, in
    ``test_fused.py``; ``make test-kernel``, which CI runs) switch it back on; ``SKSURV_ECG_FUSED=1
    make test`` runs the whole suite with it. Session-scoped, so module fixtures see it too.
    """
    import os

    from sksurv_ecg.nn import _fused

    explicit = "SKSURV_ECG_FUSED" in os.environ
    with pytest.MonkeyPatch.context() as mp:
        if not explicit:
            mp.setenv("SKSURV_ECG_FUSED", "0")
        _fused.fused_extension.cache_clear()
        yield
    _fused.fused_extension.cache_clear()


@pytest.fixture(autouse=True)
def _seeds_fixed():
    """Fix global RNGs so that a test never depends on the order tests ran in."""
    np.random.seed(0)
    torch.manual_seed(0)


@pytest.fixture(scope="session")
def tiny_net():
    """The tiny-network settings (``_settings.TINY_NET``), read-only.

    Session-scoped, so that module-scoped fixtures can use them too. Pass as
    ``ECGSurvivalAnalysis(**tiny_net)``, or with overrides: ``{**tiny_net, "max_epochs": 2}``.
    """
    return TINY_NET


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


@pytest.fixture(scope="session")
def ptbxl_dir():
    """The 14 real PTB-XL records kept beside the repository (never committed: see DESIGN.md, Data).

    ``../shared/data/ptbxl`` from the repository root, or the folder named by ``SKSURV_ECG_PTBXL``.
    Absent, the test is skipped with the reason, except under ``CI=true``, where absence fails, so
    that CI cannot pass by skipping.
    """
    import os
    from pathlib import Path

    default = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "ptbxl"
    folder = Path(os.environ.get("SKSURV_ECG_PTBXL") or default)
    if not (folder / "ptbxl_database.csv").is_file():
        reason = f"PTB-XL records not found at {str(folder)!r}; set SKSURV_ECG_PTBXL to a PTB-XL folder."
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return folder


@pytest.fixture(scope="session")
def ptbxl_sample(ptbxl_dir):
    """``(X, frame)`` of the records in ``ptbxl_dir`` at 500 Hz, as ``load_ptbxl`` returns them."""
    from sksurv_ecg.datasets import load_ptbxl

    return load_ptbxl(ptbxl_dir)


@pytest.fixture(scope="session")
def ptbxl_records500(ptbxl_dir):
    """Paths (without suffix) of the 500 Hz WFDB records in ``ptbxl_dir``, sorted."""
    return sorted(p.with_suffix("") for p in (ptbxl_dir / "records500").glob("*/*.hea"))


@pytest.fixture(scope="module")
def check_data():
    """24 ECGs of 2 leads x 40 samples with 12 events (``survival_check_data()``)."""
    from sksurv_ecg.utils.estimator_checks import survival_check_data

    return survival_check_data()


@pytest.fixture(scope="module")
def check_model(check_data, tiny_net):
    """``ECGSurvivalAnalysis(**tiny_net)`` fitted on ``check_data``; tests must not change it."""
    from sksurv_ecg import ECGSurvivalAnalysis

    return ECGSurvivalAnalysis(**tiny_net).fit(*check_data)


@pytest.fixture(scope="module")
def check_embedder(check_data, tiny_net):
    """``ECGEmbedder(**tiny_net)`` fitted on ``check_data``; tests must not change it."""
    from sksurv_ecg import ECGEmbedder

    return ECGEmbedder(**tiny_net).fit(check_data[0])
