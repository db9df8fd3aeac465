"""The package as a scikit-survival user meets it: pipelines, cross-validation, grid search, scorers."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sksurv.linear_model import CoxnetSurvivalAnalysis
from sksurv.metrics import (
    as_concordance_index_ipcw_scorer,
    as_cumulative_dynamic_auc_scorer,
    as_integrated_brier_score_scorer,
)

from sksurv_ecg import ECGEmbedder, ECGSurvivalAnalysis
from sksurv_ecg.datasets import make_ecg_survival


@pytest.fixture(scope="module")
def cohort():
    # 250 Hz median beats (300 samples) keep the suite fast; the network pads them to 320.
    X, y, frame = make_ecg_survival(64, fs=250, n_timesteps=300, random_state=0)
    return X, y, frame


@pytest.fixture(scope="module")
def survival_net(tiny_net):
    """``tiny_net`` in batches of 16: a training fold (32 samples; 5 events in one) cannot give 4 batches of 8
    2 events each, the survival loss's minimum."""
    return {**tiny_net, "batch_size": 16}


def _folds(y, n_splits=2):
    return list(StratifiedKFold(n_splits, shuffle=True, random_state=0).split(np.zeros(len(y)), y["event"]))


def test_embedder_coxnet_pipeline_in_cross_validate(cohort, tiny_net):
    X, y, _ = cohort
    pipe = make_pipeline(
        ECGEmbedder(**tiny_net), StandardScaler(), CoxnetSurvivalAnalysis(l1_ratio=0.5, alpha_min_ratio=0.1)
    )
    result = cross_validate(pipe, X, y, cv=_folds(y), error_score="raise")
    assert result["test_score"].shape == (2,)
    assert np.all((result["test_score"] >= 0) & (result["test_score"] <= 1))


def test_deep_model_in_cross_validate_on_the_same_folds(cohort, survival_net):
    X, y, _ = cohort
    result = cross_validate(ECGSurvivalAnalysis(**survival_net), X, y, cv=_folds(y), error_score="raise")
    assert np.all((result["test_score"] >= 0) & (result["test_score"] <= 1))


def test_grid_search_over_a_routed_parameter(cohort, survival_net):
    X, y, _ = cohort
    search = GridSearchCV(
        ECGSurvivalAnalysis(**survival_net),
        {"module__n_heads": [1, 2], "alpha": [0.5, 1.0]},
        cv=_folds(y),
        error_score="raise",
    )
    search.fit(X, y)
    assert set(search.best_params_) == {"module__n_heads", "alpha"}
    assert search.best_estimator_.net_.module_.autoencoder.config.n_heads == search.best_params_["module__n_heads"]


@pytest.mark.parametrize(
    "wrapper",
    [
        pytest.param(lambda est, t: as_concordance_index_ipcw_scorer(est, tau=t[-1]), id="uno-c"),
        pytest.param(lambda est, t: as_cumulative_dynamic_auc_scorer(est, times=t), id="dynamic-auc"),
        pytest.param(lambda est, t: as_integrated_brier_score_scorer(est, times=t), id="ibs"),
    ],
)
def test_sksurv_scorers_wrap_the_deep_model(cohort, wrapper, survival_net):
    X, y, _ = cohort
    train, test = _folds(y)[0]
    # evaluation times inside the follow-up of both splits
    lo = max(y["time"][train][y["event"][train]].min(), y["time"][test].min())
    hi = min(y["time"][train].max(), y["time"][test].max())
    times = np.linspace(lo, hi, 5)[1:-1]
    est = wrapper(ECGSurvivalAnalysis(**survival_net), times).fit(X[train], y[train])
    score = est.score(X[test], y[test])
    assert np.isfinite(score)


@pytest.fixture(scope="module")
def real_signal():  # the paper network: used by slow tests only
    """A cohort whose hazard depends on the waveform, split 70/30, and a float32 fit's held-out C."""
    X, y, _ = make_ecg_survival(300, fs=250, event_rate=0.3, random_state=1)
    split = train_test_split(X, y, test_size=0.3, stratify=y["event"], random_state=0)
    X_tr, X_te, y_tr, y_te = split
    model = ECGSurvivalAnalysis(max_epochs=6, batch_size=32, lr=1e-3, random_state=0).fit(X_tr, y_tr)
    return split, model.score(X_te, y_te), _heldout_reconstruction_mse(model, X_te)


def _heldout_reconstruction_mse(model, X):
    def mse(module, x):
        out = module(x)
        return (out.x_hat.float() - out.target.float()).square().mean(dim=(1, 2))

    return float(model.net_._map_batches(X, mse).mean())


@pytest.mark.slow
def test_deep_model_learns_a_real_signal(real_signal):
    """Held-out C > 0.7 (about 6 s on 2 cores)."""
    _, score, _ = real_signal
    assert score > 0.7


@pytest.mark.slow
# On a CPU that only emulates bfloat16 the fit warns (it is slow, not wrong); what is tested here is
# what the model learns.
@pytest.mark.filterwarnings("ignore::sksurv_ecg.exceptions.DeviceWarning")
def test_bf16_autocast_keeps_the_c_index(real_signal):
    """bf16 autocast (fast path, CPU) learns the same model: held-out C > 0.7, and held-out
    reconstruction error at most 5 % above the float32 fit's.

    The C-index of one 6-epoch fit is not compared with float32's: between bf16 and float32 fits of
    the same seed it moved by -0.07 to +0.04 over 5 seeds, as much as bf16 fits of different seeds
    (docs/results.md). The reconstruction error is what the bf16 defect moved: before the decoder's
    tail ran in float32 it was 0.4-9.2 % above float32's on all 5 seeds (9.2 % on this one), after it
    -9.7 to +2.3 %."""
    (X_tr, X_te, y_tr, y_te), _, mse_fp32 = real_signal
    model = ECGSurvivalAnalysis(max_epochs=6, batch_size=32, lr=1e-3, random_state=0, precision="bf16")
    score_bf16 = model.fit(X_tr, y_tr).score(X_te, y_te)
    assert score_bf16 > 0.7
    assert _heldout_reconstruction_mse(model, X_te) < 1.05 * mse_fp32


@pytest.mark.slow
def test_deep_model_learns_a_real_signal_slow():
    X, y, _ = make_ecg_survival(800, fs=250, n_timesteps=300, random_state=1)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y["event"], random_state=0)
    model = ECGSurvivalAnalysis(max_epochs=40, batch_size=64, lr=1e-3, random_state=0).fit(X_tr, y_tr)
    assert model.score(X_te, y_te) > 0.7
