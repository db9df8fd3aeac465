"""Tests of the cause-specific competing-risks meta-estimator and its metrics."""

import copy

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sksurv.exceptions import NoComparablePairException
from sksurv.functions import StepFunction
from sksurv.linear_model import CoxPHSurvivalAnalysis
from sksurv.metrics import concordance_index_censored, concordance_index_ipcw
from sksurv.nonparametric import cumulative_incidence_competing_risks, kaplan_meier_estimator
from sksurv.util import Surv

from sksurv_ecg import ECGSurvivalAnalysis
from sksurv_ecg.competing import (
    CauseSpecificHazards,
    competing_calibration_at,
    competing_risks_y,
    concordance_index_competing_risks,
)
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
    train, test = np.arange(2000), np.arange(2000, 4000)
    model = CauseSpecificHazards(CoxPHSurvivalAnalysis()).fit(X[train], y[train])
    t0 = float(np.quantile(y["time"], 0.6))
    # the slow part (2,000 x 2,000 step-function evaluations per cause), shared by the tests below
    cif = model.predict_cumulative_incidence(X[test], times=[t0])[:, :, 0]
    return X, y, model, t0, cif


def test_predicted_incidence_matches_aalen_johansen_by_risk_group(two_cause_cohort):
    """Cause-specific CIF matches the observed incidence; 1 - S(t0) censoring the other cause overstates it.

    Measured (4,000 people, 2,000 to fit, 2,000 to evaluate, t0 = 60th percentile of follow-up = 3.37
    years), cause 1 by tertile of predicted incidence: predicted 0.040 / 0.173 / 0.624, observed
    (Aalen-Johansen) 0.042 / 0.179 / 0.632, single-cause 1 - S(t0) 0.052 / 0.210 / 0.688.
    """
    X, y, model, t0, cif = two_cause_cohort
    train, test = np.arange(2000), np.arange(2000, 4000)
    single = CoxPHSurvivalAnalysis().fit(X[train], Surv.from_arrays(y["event"][train] == 1, y["time"][train]))
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
    # risk at a horizon and the score go through the deep model's own cumulative hazards
    horizon = model.median_event_times_[0]
    prob = model.predict_event_probability(X[:5], [horizon])
    np.testing.assert_array_equal(prob[:, :, 0], model.predict_cumulative_incidence(X[:5], times=[horizon])[..., 0].T)
    assert 0.0 <= model.score(X, y) <= 1.0


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


# --- concordance (Wolbers et al. 2009, 2014) --------------------------------------------------------
def _censoring_km_by_hand(event, time):
    """G(t-) and G(t): product-limit of censoring, events at a time leaving the risk set first."""
    censor_times = np.unique(time[event == 0])
    factors = []
    for s in censor_times:
        at_risk = np.sum(time >= s) - np.sum((time == s) & (event > 0))
        factors.append(1.0 - np.sum((time == s) & (event == 0)) / at_risk)
    factors = np.array(factors)

    def before(t):
        return float(np.prod(factors[censor_times < t]))

    def after(t):
        return float(np.prod(factors[censor_times <= t]))

    return before, after


def _naive_wolbers(event, time, estimate, cause, tau, ipcw):
    """The pairwise definition, one pair at a time (O(n^2))."""
    g_before, g_after = _censoring_km_by_hand(event, time)
    num = den = 0.0
    n = len(time)
    for i in range(n):
        if event[i] != cause or time[i] > tau:
            continue
        for j in range(n):
            if j == i:
                continue
            a_pair = time[i] < time[j] or (time[i] == time[j] and event[j] == 0)
            b_pair = time[j] <= time[i] and event[j] not in (0, cause)
            if a_pair:
                w = 1.0 / (g_before(time[i]) * g_after(time[i])) if ipcw else 1.0
            elif b_pair:
                w = 1.0 / (g_before(time[i]) * g_before(time[j])) if ipcw else 1.0
            else:
                continue
            if abs(estimate[i] - estimate[j]) <= 1e-8:
                num += 0.5 * w
            elif estimate[i] > estimate[j]:
                num += w
            den += w
    return num / den


@pytest.mark.parametrize("ipcw", [True, False], ids=["ipcw", "unweighted"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_concordance_equals_the_naive_pairwise_definition(seed, ipcw):
    rng = np.random.default_rng(seed)
    n = 70
    time = np.round(rng.exponential(2.0, n), 1) + 0.1  # ties in time, within and between causes
    event = rng.choice([0, 1, 2, 3], n, p=[0.35, 0.3, 0.2, 0.15])
    estimate = np.round(rng.uniform(size=n) + 0.3 * (event == 1), 1)  # ties in prediction
    y = competing_risks_y(event, time)
    for cause in (1, 2):
        tau = float(np.quantile(time, 0.7))
        cindex, concordant, discordant, tied_risk, _ = concordance_index_competing_risks(
            y, estimate, cause=cause, tau=tau, ipcw=ipcw
        )
        assert cindex == pytest.approx(_naive_wolbers(event, time, estimate, cause, tau, ipcw), rel=1e-12)
        assert min(concordant, discordant, tied_risk) > 0


@pytest.mark.parametrize("seed", [0, 1])
def test_concordance_without_competing_events_is_truncated_harrell(seed):
    rng = np.random.default_rng(seed)
    n = 200
    time = np.round(rng.exponential(2.0, n), 1) + 0.1
    event = (rng.uniform(size=n) < 0.6).astype(int)
    estimate = np.round(rng.normal(size=n) - 0.5 * time, 1)
    tau = float(np.quantile(time, 0.6))
    truncated_event = (event == 1) & (time <= tau)
    expected = concordance_index_censored(truncated_event, np.minimum(time, tau), estimate)
    result = concordance_index_competing_risks(competing_risks_y(event, time), estimate, tau=tau, ipcw=False)
    assert result[0] == pytest.approx(expected[0], rel=1e-12)
    assert result[1:4] == expected[1:4]  # concordant, discordant, tied risk


def test_weighted_concordance_without_competing_events_is_uno():
    """With continuous times (G(t-) = G(t) at events), the weights are Uno's 1 / G(T_i)^2."""
    rng = np.random.default_rng(0)
    eta = rng.normal(size=300)
    t, c = rng.exponential(np.exp(-eta)), rng.exponential(1.5, 300)
    y = competing_risks_y((t < c).astype(int), np.minimum(t, c))
    tau = float(np.quantile(y["time"], 0.8))
    surv = Surv.from_arrays(y["event"] == 1, y["time"])
    expected = concordance_index_ipcw(surv, surv, eta, tau=tau)[0]
    assert concordance_index_competing_risks(y, eta, tau=tau)[0] == pytest.approx(expected, rel=1e-12)
    # the weights matter here: the unweighted estimate differs
    assert concordance_index_competing_risks(y, eta, tau=tau, ipcw=False)[0] != pytest.approx(expected, rel=1e-6)


def test_concordance_ranks_competing_events_below_the_cases():
    """A patient with a competing event can no longer have the event of interest: a B pair."""
    y = competing_risks_y([2, 1, 0], [1.0, 2.0, 0.5])
    assert concordance_index_competing_risks(y, [0.1, 0.9, 0.5], cause=1, ipcw=False)[:3] == (1.0, 1, 0)
    assert concordance_index_competing_risks(y, [0.95, 0.9, 0.5], cause=1, ipcw=False)[:3] == (0.0, 0, 1)
    # censored before the case: not comparable; without the competing event there is no pair at all
    with pytest.raises(NoComparablePairException, match="no comparable pair"):
        concordance_index_competing_risks(competing_risks_y([0, 1], [0.5, 2.0]), [0.5, 0.9], ipcw=False)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"estimate": [0.1, np.nan, 0.3, 0.4]}, "1 NaN or infinite", id="nan-estimate"),
        pytest.param({"estimate": [0.1, 0.2]}, "has shape", id="short-estimate"),
        pytest.param({"tau": np.nan}, "'tau'=nan must be a positive finite time", id="nan-tau"),
        pytest.param({"tau": -1.0}, "must be a positive finite time", id="negative-tau"),
        pytest.param({"cause": 0}, "integer cause code >= 1", id="cause-0"),
    ],
)
def test_concordance_input_errors(kwargs, match):
    y = competing_risks_y([1, 2, 0, 1], [1.0, 2.0, 3.0, 4.0])
    args = {"estimate": [0.4, 0.3, 0.2, 0.1], **kwargs}
    with pytest.raises(ValueError, match=match):
        concordance_index_competing_risks(y, **args)


def test_concordance_refuses_a_zero_censoring_weight():
    # everyone left after the event at t=2 is censored at t=2: G(2) = 0
    y = competing_risks_y([1, 1, 0, 0], [1.0, 2.0, 2.0, 2.0])
    with pytest.raises(ValueError, match=r"censoring survival estimate is 0 at time 2.*earlier tau"):
        concordance_index_competing_risks(y, [0.9, 0.8, 0.1, 0.2])
    assert concordance_index_competing_risks(y, [0.9, 0.8, 0.1, 0.2], tau=1.5)[0] == 1.0


# --- score -------------------------------------------------------------------------------------------
def test_score_is_the_weighted_concordance_of_the_first_cause_at_its_median_training_time(fitted_cox):
    model, X, y = fitted_cox
    model = copy.deepcopy(model)  # the fixture is shared
    np.testing.assert_array_equal(
        model.median_event_times_, [np.median(y["time"][y["event"] == cause]) for cause in (1, 2)]
    )
    for score_cause, index in ((None, 0), (2, 1)):
        model.set_params(score_cause=score_cause)
        tau = model.median_event_times_[index]
        cif = model.predict_event_probability(X, [tau])[:, index, 0]
        expected = concordance_index_competing_risks(y, cif, cause=index + 1, tau=tau)[0]
        assert model.score(X, y) == expected
    model.set_params(score_cause=None, score_horizon=1.0)
    cif = model.predict_event_probability(X, [1.0])[:, 0, 0]
    assert model.score(X, y) == concordance_index_competing_risks(y, cif, cause=1, tau=1.0)[0]


def test_score_ranks_an_informative_model_above_a_noise_model():
    X, y = _cox_cohort(400, random_state=1)
    noise = np.random.default_rng(0).normal(size=(len(X), 2))
    train, test = np.arange(250), np.arange(250, 400)
    informative = CauseSpecificHazards(CoxPHSurvivalAnalysis()).fit(X[train], y[train])
    blind = CauseSpecificHazards(CoxPHSurvivalAnalysis()).fit(noise[train], y[train])
    assert informative.score(X[test], y[test]) > 0.7
    assert abs(blind.score(noise[test], y[test]) - 0.5) < 0.1


def test_cross_validate_needs_no_scorer():
    X, y = _cox_cohort()
    result = cross_validate(CauseSpecificHazards(CoxPHSurvivalAnalysis()), X, y, cv=3)
    assert result["test_score"].shape == (3,)
    assert np.all((result["test_score"] > 0.6) & (result["test_score"] <= 1.0))


def test_score_parameter_errors():
    X, y = _cox_cohort(120)
    with pytest.raises(ValueError, match=r"score_cause=3 is not a modelled cause; causes_ = \[1, 2\]"):
        CauseSpecificHazards(CoxPHSurvivalAnalysis(), score_cause=3).fit(X, y)
    with pytest.raises(InvalidParameterError, match="score_horizon"):
        CauseSpecificHazards(CoxPHSurvivalAnalysis(), score_horizon=np.nan).fit(X, y)
    model = CauseSpecificHazards(CoxPHSurvivalAnalysis(), score_horizon=1e6).fit(X, y)
    with pytest.raises(ValueError, match=r"score_horizon=1e\+06 is past the last training event time"):
        model.score(X, y)
    recoded = y.copy()
    recoded["event"][recoded["event"] == 2] = 3
    with pytest.raises(ValueError, match=r"cause codes \[3\] that the model was not fitted on \(causes_ = \[1, 2\]\)"):
        model.score(X, recoded)


# --- calibration against Aalen-Johansen ------------------------------------------------------------
@pytest.mark.parametrize(
    ("event", "time", "cause", "horizon", "expected"),
    [
        # at risk 6, 5, 4, 3, 2: F1 = 1/6 + (4/6)(1/3) = 7/18; F2 = (5/6)(1/5) + (4/9)(1/2) = 7/18
        pytest.param([1, 2, 0, 1, 2, 0], [1, 2, 3, 4, 5, 6], 1, 3.5, 1 / 6, id="cause1-before"),
        pytest.param([1, 2, 0, 1, 2, 0], [1, 2, 3, 4, 5, 6], 1, 5.5, 7 / 18, id="cause1"),
        pytest.param([1, 2, 0, 1, 2, 0], [1, 2, 3, 4, 5, 6], 2, 5.5, 7 / 18, id="cause2"),
        # ties: t=1 one of each cause among 6 (F1 = F2 = 1/6, S = 2/3); t=2 one cause 1 and one
        # censored among 4 (F1 += (2/3)(1/4), S = 1/2); t=3 cause 2 among 2 (F2 += (1/2)(1/2))
        pytest.param([1, 2, 1, 0, 2, 0], [1, 1, 2, 2, 3, 4], 1, 3.5, 1 / 3, id="ties-cause1"),
        pytest.param([1, 2, 1, 0, 2, 0], [1, 1, 2, 2, 3, 4], 2, 3.5, 5 / 12, id="ties-cause2"),
    ],
)
def test_aalen_johansen_hand_computed(event, time, cause, horizon, expected):
    y = competing_risks_y(event, np.asarray(time, dtype=float))
    cal = competing_calibration_at(y, np.full(len(time), 0.25), horizon, cause, n_groups=1)
    assert cal.group_observed[0] == pytest.approx(expected, rel=1e-12)
    assert cal.observed_incidence == pytest.approx(expected, rel=1e-12)
    assert cal.calibration_in_the_large == pytest.approx(0.25 - expected, rel=1e-12)


def test_aalen_johansen_with_a_single_cause_is_one_minus_kaplan_meier():
    rng = np.random.default_rng(0)
    time = np.round(rng.exponential(1.0, 200), 2) + 0.01
    event = (rng.uniform(size=200) < 0.6).astype(int)
    predicted = rng.uniform(size=200)
    cal = competing_calibration_at(competing_risks_y(event, time), predicted, 1.0, 1, n_groups=4)
    groups = np.array_split(np.argsort(predicted, kind="stable"), 4)
    for g, observed in zip(groups, cal.group_observed, strict=True):
        times, surv = kaplan_meier_estimator(event[g] == 1, time[g])
        assert observed == pytest.approx(1.0 - surv[np.searchsorted(times, 1.0, side="right") - 1], rel=1e-12)
    np.testing.assert_allclose(cal.group_predicted, [predicted[g].mean() for g in groups])
    np.testing.assert_array_equal(cal.group_size, [50, 50, 50, 50])
    expected_mad = np.mean(np.abs(cal.group_predicted - cal.group_observed))  # equal group sizes
    assert cal.mean_absolute_difference == pytest.approx(expected_mad, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_aalen_johansen_equals_sksurv_with_several_causes(seed):
    rng = np.random.default_rng(seed)
    time = np.round(rng.exponential(2.0, 150), 1) + 0.1  # ties within and between causes and censoring
    event = rng.integers(0, 4, 150)
    y = competing_risks_y(event, time)
    times, reference = cumulative_incidence_competing_risks(event, time)
    for horizon in np.quantile(time, [0.1, 0.5, 0.9]):
        at = np.searchsorted(times, horizon, side="right") - 1
        for cause in (1, 2, 3):
            cal = competing_calibration_at(y, np.zeros(150), horizon, cause, n_groups=1)
            assert cal.observed_incidence == pytest.approx(reference[cause, at], rel=1e-12)


def test_a_group_without_events_of_the_cause_has_observed_incidence_zero():
    y = competing_risks_y([2, 0, 2, 1, 1, 0], [1.0, 2.0, 3.0, 1.5, 2.5, 4.0])
    cal = competing_calibration_at(y, [0.1, 0.1, 0.1, 0.9, 0.9, 0.9], 3.5, 1, n_groups=2)
    assert cal.group_observed[0] == 0.0
    assert cal.group_observed[1] > 0.5


def test_cause_specific_model_is_calibrated_against_aalen_johansen(two_cause_cohort):
    """The Cox model on the true features agrees with Aalen-Johansen in every risk group.

    Measured (2,000 held out, 5 groups of 400, horizon 3.37 years): cause 1 predicted 0.024 / 0.076 /
    0.169 / 0.346 / 0.781 against observed 0.025 / 0.087 / 0.160 / 0.384 / 0.764 (at most 1.6 binomial
    standard errors apart); mean absolute difference 0.015 for each cause; calibration-in-the-large
    -0.006 and +0.003.
    """
    X, y, model, horizon, cif = two_cause_cohort
    test = np.arange(2000, 4000)
    np.testing.assert_array_equal(model.predict_event_probability(X[test[:50]], [horizon])[:, :, 0], cif[:, :50].T)
    for k, cause in enumerate(model.causes_):
        cal = competing_calibration_at(y[test], cif[k], horizon, int(cause), n_groups=5)
        se = np.sqrt(cal.group_observed * (1 - cal.group_observed) / cal.group_size)
        assert np.all(np.abs(cal.group_predicted - cal.group_observed) < 3 * se + 0.01)
        assert cal.mean_absolute_difference < 0.025
        assert abs(cal.calibration_in_the_large) < 0.015
    # a miscalibrated prediction (incidences halved) is flagged
    cal = competing_calibration_at(y[test], cif[0] / 2, horizon, 1, n_groups=5)
    assert cal.calibration_in_the_large < -0.05
    assert cal.mean_absolute_difference > 0.05


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"horizon": np.nan}, r"'horizon'=nan must be a positive finite time", id="nan-horizon"),
        pytest.param({"horizon": 10.0}, r"horizon=10 is beyond the follow-up: the last observed time is 6", id="late"),
        pytest.param({"horizon": 0.5}, r"no event of cause 1 at or before it \(first at 1", id="early"),
        pytest.param({"cause": 3}, r"cause=3 has no events in y \(codes found: \[0, 1, 2\]\)", id="absent-cause"),
        pytest.param({"cif_at_horizon": [0.1] * 5 + [1.5]}, r"must lie in \[0, 1\]", id="above-one"),
        pytest.param({"cif_at_horizon": [0.1] * 5 + [np.nan]}, "1 NaN or infinite", id="nan-cif"),
        pytest.param({"cif_at_horizon": [0.1] * 5}, "has shape", id="short-cif"),
        pytest.param({"n_groups": 7}, "n_groups=7 must be an int between 1 and the 6 samples", id="groups"),
    ],
)
def test_calibration_input_errors(kwargs, match):
    y = competing_risks_y([1, 2, 0, 1, 2, 0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    args = {"cif_at_horizon": [0.2] * 6, "horizon": 4.5, "cause": 1, **kwargs}
    cause = args.pop("cause")
    with pytest.raises(ValueError, match=match):
        competing_calibration_at(y, cause=cause, **args)


# --- the inner estimators' cumulative hazards flow in ------------------------------------------------
class _ScaledHazardCox(BaseEstimator):
    """A Cox model whose cumulative hazard is multiplied by ``scale``: a stand-in for recalibration."""

    def __init__(self, scale=1.0):
        self.scale = scale

    def fit(self, X, y):
        self.cox_ = CoxPHSurvivalAnalysis().fit(X, y)
        return self

    def predict_cumulative_hazard_function(self, X, return_array=False):
        fns = self.cox_.predict_cumulative_hazard_function(X, return_array=return_array)
        if return_array:
            return fns * self.scale
        return np.array([StepFunction(fn.x, fn.y, a=fn.a * self.scale, b=fn.b, domain=fn.domain) for fn in fns])


def _aalen_johansen_by_hand(cum_hazards):
    """F_k(t) = sum_{s <= t} S(s-) dH_k(s), S = prod (1 - sum_j dH_j), one patient at a time.

    A step whose summed increment exceeds 1 takes all the survival left, shared in proportion (the
    documented cap; high-risk patients reach it at late times).
    """
    n_causes, n_samples, n_times = cum_hazards.shape
    cif = np.zeros_like(cum_hazards)
    for p in range(n_samples):
        surv, previous, running = 1.0, np.zeros(n_causes), np.zeros(n_causes)
        for t in range(n_times):
            dh = cum_hazards[:, p, t] - previous
            previous = cum_hazards[:, p, t]
            total = dh.sum()
            if total > 0:
                step = min(total, 1.0)
                running = running + surv * step * dh / total
                surv *= 1.0 - step
            cif[:, p, t] = running
    return cif


@pytest.mark.parametrize("scale", [1.0, 1.7])
def test_incidence_is_built_from_the_inner_cumulative_hazards(scale):
    X, y = _cox_cohort(200)
    model = CauseSpecificHazards(_ScaledHazardCox(scale=scale)).fit(X, y)
    cum = np.stack([est.predict_cumulative_hazard_function(X[:5], return_array=True) for est in model.estimators_])
    np.testing.assert_array_equal(model.unique_times_, model.estimators_[0].cox_.unique_times_)
    np.testing.assert_allclose(model.predict_cumulative_incidence(X[:5]), _aalen_johansen_by_hand(cum), rtol=1e-12)
    if scale == 1.0:  # the step functions (no unique_times_ here) and sksurv's arrays agree
        direct = CauseSpecificHazards(CoxPHSurvivalAnalysis()).fit(X, y)
        np.testing.assert_allclose(model.predict_cumulative_incidence(X), direct.predict_cumulative_incidence(X))
    else:  # the inner estimator's change reaches the incidences
        unscaled = CauseSpecificHazards(_ScaledHazardCox()).fit(X, y).predict_event_probability(X[:5], [1.0])
        assert np.all(model.predict_event_probability(X[:5], [1.0]) > unscaled)


def test_a_pipeline_is_an_inner_estimator():
    X, y = _cox_cohort(200)
    inner = make_pipeline(StandardScaler(), CoxPHSurvivalAnalysis())
    piped = CauseSpecificHazards(inner).fit(X * 10 + 3, y)
    plain = CauseSpecificHazards(CoxPHSurvivalAnalysis()).fit(X, y)
    np.testing.assert_allclose(
        piped.predict_event_probability(X[:5] * 10 + 3, [1.0, 2.0]),
        plain.predict_event_probability(X[:5], [1.0, 2.0]),
        rtol=1e-6,
    )
    assert piped.score(X * 10 + 3, y) == pytest.approx(plain.score(X, y), rel=1e-6)
