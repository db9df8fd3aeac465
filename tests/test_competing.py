"""Tests of the cause-specific competing-risks meta-estimator."""

import numpy as np
import pytest
from sksurv.linear_model import CoxPHSurvivalAnalysis
from sksurv.nonparametric import cumulative_incidence_competing_risks
from sksurv.util import Surv

from sksurv_ecg import ECGSurvivalAnalysis
from sksurv_ecg.competing import CauseSpecificHazards, competing_risks_y
from sksurv_ecg.datasets import make_ecg_survival
from sksurv_ecg.exceptions import HorizonWarning


def _no_covariates(n, rng, n_causes=3):
    # rounded times give ties, within and between causes
    time = np.round(rng.exponential(2.0, n), 1) + 0.1
    event = rng.integers(0, n_causes + 1, n)
    return np.zeros((n, 1)), competing_risks_y(event, time)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_sksurv_nonparametric_without_covariates(seed):
    X, y = _no_covariates(120, np.random.default_rng(seed))
    # alpha keeps the zero column's Newton step finite; its coefficient stays 0 (Breslow = Nelson-Aalen)
    model = CauseSpecificHazards(CoxPHSurvivalAnalysis(alpha=1.0)).fit(X, y)
    times, reference = cumulative_incidence_competing_risks(y["event"], y["time"])
    cif = model.predict_cumulative_incidence(X[:1], times=times)[:, 0, :]
    np.testing.assert_allclose(cif, reference[1:], rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(model.causes_, [1, 2, 3])


@pytest.fixture(scope="module")
def two_cause_cohort():
    _, y, frame = make_ecg_survival(4000, fs=50, competing_risks=True, event_rate=0.7, random_state=0)
    X = frame[["log_hazard", "log_hazard_2"]].to_numpy()  # a Cox model on the true features
    return X, y


def test_predicted_incidence_matches_aalen_johansen_by_risk_group(two_cause_cohort):
    """Cause-specific CIF matches the observed incidence; 1 - S(t0) censoring the other cause overstates it.

    Measured (4,000 people, 2,000 to fit, 2,000 to evaluate, t0 = 60th percentile of follow-up = 3.37
    years), cause 1 by tertile of predicted incidence: predicted 0.040 / 0.173 / 0.624, observed
    (Aalen-Johansen) 0.042 / 0.179 / 0.632, single-cause 1 - S(t0) 0.052 / 0.210 / 0.688.
    """
    X, y = two_cause_cohort
    train, test = np.arange(2000), np.arange(2000, 4000)
    model = CauseSpecificHazards(CoxPHSurvivalAnalysis()).fit(X[train], y[train])
    single = CoxPHSurvivalAnalysis().fit(X[train], Surv.from_arrays(y["event"][train] == 1, y["time"][train]))
    t0 = float(np.quantile(y["time"], 0.6))
    cif = model.predict_cumulative_incidence(X[test], times=[t0])[:, :, 0]
    naive = 1.0 - np.array([fn(t0) for fn in single.predict_survival_function(X[test])])
    y_test = y[test]
    for cause in (1, 2):
        for group in np.array_split(np.argsort(cif[cause - 1]), 3):
            times, observed = cumulative_incidence_competing_risks(y_test["event"][group], y_test["time"][group])
            obs = observed[cause][np.searchsorted(times, t0, side="right") - 1]
            assert cif[cause - 1][group].mean() == pytest.approx(obs, abs=0.025)
            if cause == 1:
                assert naive[group].mean() > obs + 0.008  # the single-cause model overstates
    assert naive.mean() - cif[0].mean() > 0.03


def test_unknown_cause_codes_are_refused():
    X, y = _no_covariates(60, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"cause codes \[3\].*codes found in y: \[0, 1, 2, 3\].*expected"):
        CauseSpecificHazards(CoxPHSurvivalAnalysis(alpha=1.0), causes=[1, 2]).fit(X, y)
    with pytest.raises(ValueError, match=r"causes \[4\] have no events"):
        CauseSpecificHazards(CoxPHSurvivalAnalysis(alpha=1.0), causes=[1, 2, 3, 4]).fit(X, y)


@pytest.mark.parametrize(
    ("event", "match"),
    [
        pytest.param([True, False, True], "integer cause codes", id="bool"),
        pytest.param([0, -1, 1], "negative codes", id="negative"),
        pytest.param([0.5, 1.0, 2.0], "integer cause codes", id="fraction"),
    ],
)
def test_competing_risks_y_errors(event, match):
    with pytest.raises(ValueError, match=match):
        competing_risks_y(event, [1.0, 2.0, 3.0])


def test_boolean_survival_y_is_refused():
    X, y = _no_covariates(30, np.random.default_rng(0))
    with pytest.raises(ValueError, match="integer cause codes"):
        CauseSpecificHazards(CoxPHSurvivalAnalysis()).fit(X, Surv.from_arrays(y["event"] > 0, y["time"]))


def test_times_beyond_the_grid_raise():
    X, y = _no_covariates(60, np.random.default_rng(0))
    model = CauseSpecificHazards(CoxPHSurvivalAnalysis(alpha=1.0)).fit(X, y)
    with pytest.raises(ValueError, match="fitted estimators end at"):
        model.predict_cumulative_incidence(X[:1], times=[1e6])
    assert model.predict_cumulative_incidence(X[:1], times=[0.0])[:, 0, 0].tolist() == [0.0, 0.0, 0.0]


def test_with_the_deep_model():
    X, y, _ = make_ecg_survival(40, fs=50, n_timesteps=64, competing_risks=True, event_rate=0.8, random_state=0)
    deep = ECGSurvivalAnalysis(
        max_epochs=1,
        batch_size=20,
        random_state=0,
        module__base_features=1,
        module__latent_dim=8,
        module__n_heads=1,
        module__downsample=2,
    )
    model = CauseSpecificHazards(deep).fit(X, y)
    cif = model.predict_cumulative_incidence(X[:5])
    assert cif.shape == (2, 5, model.unique_times_.shape[0])
    assert np.all(np.diff(cif, axis=-1) >= 0)
    assert np.all(cif.sum(axis=0) <= 1.0 + 1e-12)


# --- times and horizons -----------------------------------------------------------------------------
def _cox_cohort(n=300, random_state=0):
    _, y, frame = make_ecg_survival(n, fs=50, competing_risks=True, event_rate=0.7, random_state=random_state)
    return frame[["log_hazard", "log_hazard_2"]].to_numpy(), y


@pytest.fixture(scope="module")
def fitted_cox():
    X, y = _cox_cohort()
    return CauseSpecificHazards(CoxPHSurvivalAnalysis()).fit(X, y), X, y


@pytest.mark.parametrize(
    "bad",
    [
        pytest.param([0.5, np.nan], id="nan"),
        pytest.param([np.inf], id="inf"),
        pytest.param([-np.inf, 1.0], id="minus-inf"),
        pytest.param([-0.1], id="negative"),
    ],
)
def test_nan_inf_and_negative_times_are_refused(fitted_cox, bad):
    """Before, times=[0.5, nan] returned finite incidences for the NaN time."""
    model, X, _ = fitted_cox
    with pytest.raises(ValueError, match=r"'times' contains 1 NaN, infinite or negative values"):
        model.predict_cumulative_incidence(X[:2], times=bad)
    with pytest.raises(ValueError, match=r"'horizons' contains 1 NaN, infinite or negative values"):
        model.predict_event_probability(X[:2], bad)


def test_event_probability_is_the_incidence_at_horizons(fitted_cox):
    model, X, y = fitted_cox
    horizons = [0.0, 0.5, float(np.median(y["time"])), model.last_event_time_]
    prob = model.predict_event_probability(X[:7], horizons)
    assert prob.shape == (7, 2, 4)
    np.testing.assert_array_equal(prob, np.moveaxis(model.predict_cumulative_incidence(X[:7], times=horizons), 0, 1))
    assert np.all(prob[..., 0] == 0.0)
    assert np.all(np.diff(prob, axis=-1) >= 0)
    # a scalar horizon is one horizon
    np.testing.assert_array_equal(model.predict_event_probability(X[:7], 0.5), prob[..., 1:2])
    assert model.last_event_time_ == y["time"][y["event"] > 0].max()


def test_horizon_past_the_last_training_event_is_nan_with_a_warning():
    X, y = _no_covariates(60, np.random.default_rng(0))
    y["event"][np.argmax(y["time"])] = 0  # the follow-up goes on after the last event
    model = CauseSpecificHazards(CoxPHSurvivalAnalysis(alpha=1.0)).fit(X, y)
    last = model.last_event_time_
    assert last < y["time"].max()
    later = (last + y["time"].max()) / 2
    with pytest.warns(HorizonWarning, match=rf"horizons \[{later:g}\] are past the last training event time {last:g}"):
        prob = model.predict_event_probability(X[:3], [last, later])
    assert np.isfinite(prob[..., 0]).all()
    assert np.isnan(prob[..., 1]).all()
    # the incidence function itself is defined up to the end of the training grid
    assert np.isfinite(model.predict_cumulative_incidence(X[:3], times=[later])).all()
