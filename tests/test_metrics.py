"""Tests of sksurv_ecg.metrics against scikit-survival, published definitions and simulation."""

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sksurv.linear_model import CoxPHSurvivalAnalysis
from sksurv.metrics import concordance_index_censored, concordance_index_ipcw, cumulative_dynamic_auc
from sksurv.nonparametric import kaplan_meier_estimator
from sksurv.util import Surv

from sksurv_ecg.datasets import make_ecg_survival
from sksurv_ecg.datasets._synthetic import _WEIBULL_SCALE, _WEIBULL_SHAPE
from sksurv_ecg.exceptions import BootstrapWarning
from sksurv_ecg.metrics import (
    _rcs_basis,
    bootstrap_ci,
    calibration_at,
    compare_models,
    d_calibration,
    fit_risk_scale,
    make_survival_scorer,
)

BETA = np.array([1.0, -0.5])


def _cox_cohort(n, rng, censor_max=3.0):
    """A Cox model with known coefficients, exponential baseline and uniform censoring."""
    x = rng.normal(size=(n, 2))
    eta = x @ BETA
    t = rng.exponential(np.exp(-eta))
    c = rng.uniform(0.0, censor_max, n)
    return x, eta, Surv.from_arrays(t <= c, np.minimum(t, c))


@pytest.fixture(scope="module")
def cohort():
    return _cox_cohort(300, np.random.default_rng(1))


# --- intervals ------------------------------------------------------------------------------------
def test_bootstrap_estimate_is_sksurv(cohort):
    x, eta, y = cohort
    ci = bootstrap_ci(y, eta, n_resamples=100, random_state=0)
    assert ci.estimate == concordance_index_censored(y["event"], y["time"], eta)[0]
    assert ci.low < ci.estimate < ci.high
    assert ci.n_invalid == 0
    assert ci.bootstrap_distribution.shape == (100,)


def test_bootstrap_uno_and_auc_per_horizon(cohort):
    _, eta, y = cohort
    uno = bootstrap_ci(y, eta, metric="uno", tau=2.0, n_resamples=50, random_state=0)
    assert uno.estimate == pytest.approx(concordance_index_ipcw(y, y, eta, tau=2.0)[0])
    times = [0.3, 0.8]
    auc = bootstrap_ci(y, eta, metric="auc", times=times, n_resamples=50, random_state=0)
    np.testing.assert_allclose(auc.estimate, cumulative_dynamic_auc(y, y, eta, times)[0])
    assert auc.low.shape == (2,)
    assert np.all(auc.low < auc.estimate)
    assert np.all(auc.estimate < auc.high)


def test_bootstrap_ibs_needs_survival_matrix(cohort):
    _, eta, y = cohort
    times = np.array([0.2, 0.5, 1.0])
    surv = np.exp(-np.outer(np.exp(eta), times))
    ibs = bootstrap_ci(y, surv, metric="ibs", times=times, n_resamples=50, random_state=0)
    assert 0 < ibs.low < ibs.estimate < ibs.high < 0.25
    with pytest.raises(ValueError, match="survival probabilities of shape"):
        bootstrap_ci(y, eta, metric="ibs", times=times)


def test_invalid_resamples_are_counted_and_warned():
    # one event among 12: roughly a third of the resamples miss it and have no comparable pair
    y = Surv.from_arrays(np.arange(12) == 0, np.arange(1.0, 13.0))
    risk = -np.arange(12.0)
    with pytest.warns(BootstrapWarning, match="resamples had an undefined metric"):
        ci = bootstrap_ci(y, risk, n_resamples=200, random_state=0)
    assert 20 < ci.n_invalid < 150
    assert np.isnan(ci.bootstrap_distribution).sum() == ci.n_invalid
    assert np.isfinite(ci.low)
    assert np.isfinite(ci.high)
    with pytest.raises(ValueError, match="BCa cannot"):
        bootstrap_ci(y, risk, n_resamples=50, method="BCa", random_state=0)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"metric": "brier"}, "not supported", id="metric"),
        pytest.param({"metric": "auc"}, "needs 'times'", id="auc-times"),
        pytest.param({"n_resamples": 1}, "n_resamples", id="resamples"),
        pytest.param({"confidence_level": 1.5}, "confidence_level", id="level"),
        pytest.param({"method": "normal"}, "method", id="method"),
    ],
)
def test_bootstrap_bad_arguments(cohort, kwargs, match):
    _, eta, y = cohort
    with pytest.raises(ValueError, match=match):
        bootstrap_ci(y, eta, **kwargs)


def test_bootstrap_rejects_nan_estimate(cohort):
    _, eta, y = cohort
    bad = eta.copy()
    bad[3] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        bootstrap_ci(y, bad)


def _coverage(n_cohorts, n, n_resamples, population_n, seed):
    rng = np.random.default_rng(seed)
    _, eta_pop, y_pop = _cox_cohort(population_n, rng)
    c_pop = concordance_index_censored(y_pop["event"], y_pop["time"], eta_pop)[0]
    covered = 0
    for i in range(n_cohorts):
        _, eta, y = _cox_cohort(n, rng)
        ci = bootstrap_ci(y, eta, n_resamples=n_resamples, random_state=i)
        covered += ci.low <= c_pop <= ci.high
    return covered / n_cohorts


def test_interval_coverage_small():
    # 12 cohorts: P(coverage < 9/12 | true coverage 0.95) < 2 %; an interval half as wide covers ~68 %
    assert _coverage(n_cohorts=12, n=80, n_resamples=60, population_n=10_000, seed=0) >= 0.75


@pytest.mark.slow
def test_interval_coverage():
    """200 cohorts of 300, population C on 100,000 samples: coverage of the 95 % interval in 90-98 %."""
    coverage = _coverage(n_cohorts=200, n=300, n_resamples=400, population_n=100_000, seed=0)
    print(f"coverage of the 95 % percentile interval: {coverage:.3f}")  # shown with pytest -s
    assert 0.90 <= coverage <= 0.98, coverage


# --- paired comparison ----------------------------------------------------------------------------
def test_compare_models(cohort):
    _, eta, y = cohort
    rng = np.random.default_rng(0)
    noisy = eta + rng.normal(0.0, 2.0, eta.shape[0])
    res = compare_models(y, eta, noisy, n_resamples=60, random_state=0)
    c_a = concordance_index_censored(y["event"], y["time"], eta)[0]
    c_b = concordance_index_censored(y["event"], y["time"], noisy)[0]
    assert res.difference == pytest.approx(c_a - c_b)
    assert res.low < res.difference < res.high
    assert res.p_value < 0.01
    same = compare_models(y, eta, 2.0 * eta, n_resamples=50, random_state=0)  # same ranking
    assert same.difference == 0
    assert same.p_value == 1.0


def test_compare_models_null_is_not_rejected(cohort):
    _, eta, y = cohort
    rng = np.random.default_rng(3)
    a = eta + rng.normal(0.0, 1.0, eta.shape[0])
    b = eta + rng.normal(0.0, 1.0, eta.shape[0])
    res = compare_models(y, a, b, n_resamples=60, random_state=0)
    assert res.p_value > 0.05
    auc = compare_models(y, eta, a, metric="auc", times=[0.5, 1.0], n_resamples=20, random_state=0)
    assert auc.difference.shape == (2,)
    assert auc.p_value.shape == (2,)


# --- calibration ----------------------------------------------------------------------------------
def _weibull_risk(log_hazard, t0):
    return 1.0 - np.exp(-((t0 / _WEIBULL_SCALE) ** _WEIBULL_SHAPE) * np.exp(log_hazard))


@pytest.fixture(scope="module")
def synthetic_5000():
    _, y, frame = make_ecg_survival(5000, fs=100, event_rate=0.3, random_state=0)
    return y, frame["log_hazard"].to_numpy()


def test_true_hazard_is_calibrated(synthetic_5000):
    y, eta = synthetic_5000
    t0 = 2.0
    cal = calibration_at(y, _weibull_risk(eta, t0), t0)
    assert cal.ici < 0.02
    assert cal.e50 <= cal.e90
    assert cal.slope == pytest.approx(1.0, abs=0.1)
    assert abs(cal.calibration_in_the_large) < 0.01
    np.testing.assert_allclose(cal.group_observed, cal.group_predicted, atol=0.03)
    s_own = np.exp(-((y["time"] / _WEIBULL_SCALE) ** _WEIBULL_SHAPE) * np.exp(eta))
    assert d_calibration(y, s_own).p_value > 0.05


def test_doubled_log_hazard_is_miscalibrated(synthetic_5000):
    y, eta = synthetic_5000
    t0 = 2.0
    cal = calibration_at(y, _weibull_risk(2.0 * eta, t0), t0, log_risk=2.0 * eta)
    assert cal.slope == pytest.approx(0.5, abs=0.06)
    unclipped = eta < 2.0  # where 1 - S(t0) is below 1 to float precision, cloglog gives the same slope
    cal_cloglog = calibration_at(y[unclipped], _weibull_risk(2.0 * eta[unclipped], t0), t0)
    assert cal_cloglog.slope == pytest.approx(0.5, abs=0.06)
    assert cal.ici > 0.02
    s_own = np.exp(-((y["time"] / _WEIBULL_SCALE) ** _WEIBULL_SHAPE) * np.exp(2.0 * eta))
    assert d_calibration(y, s_own).p_value < 1e-6


def test_calibration_groups_are_kaplan_meier(cohort):
    _, eta, y = cohort
    risk = 1.0 - np.exp(-0.5 * np.exp(eta))
    cal = calibration_at(y, risk, 0.5, n_groups=1)
    times, surv = kaplan_meier_estimator(y["event"], y["time"])
    assert cal.group_observed[0] == pytest.approx(1.0 - surv[times <= 0.5][-1])
    assert cal.observed_risk == pytest.approx(cal.group_observed[0])
    assert cal.calibration_in_the_large == pytest.approx(risk.mean() - cal.observed_risk)


@pytest.mark.parametrize(
    ("t0", "match"),
    [
        pytest.param(50.0, r"horizon t0=50 is beyond the follow-up.*last event time", id="beyond"),
        pytest.param(1e-9, r"no event at or before it.*last event time", id="before-events"),
        pytest.param(-1.0, "positive finite", id="negative"),
    ],
)
def test_calibration_horizon_errors(cohort, t0, match):
    _, eta, y = cohort
    with pytest.raises(ValueError, match=match):
        calibration_at(y, np.full(y.shape[0], 0.3) + 0.01 * eta.clip(-1, 1), t0)


def test_calibration_rejects_probabilities_outside_unit_interval(cohort):
    _, eta, y = cohort
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\]"):
        calibration_at(y, eta, 0.5)


def test_rcs_basis_is_linear_outside_outer_knots():
    knots = np.array([0.0, 1.0, 3.0])
    x = np.linspace(4.0, 10.0, 7)
    second_diff = np.diff(_rcs_basis(x, knots)[:, 1], 2)
    np.testing.assert_allclose(second_diff, 0.0, atol=1e-9)
    assert np.all(_rcs_basis(np.array([-2.0, -1.0]), knots)[:, 1] == 0)


def test_d_calibration_censored_example():
    # two events at S = 0.05 and 0.95; one censored at S = 0.5 spread over bins 0-4 (0.2 each)
    y = Surv.from_arrays([True, True, False], [1.0, 2.0, 3.0])
    res = d_calibration(y, [0.05, 0.95, 0.5])
    expected = np.zeros(10)
    expected[0] += 1
    expected[9] += 1
    expected[:5] += 0.2
    np.testing.assert_allclose(res.counts, expected)
    assert res.counts.sum() == pytest.approx(3.0)


def test_d_calibration_accepts_step_functions(cohort):
    x, _, y = cohort
    model = CoxPHSurvivalAnalysis().fit(x, y)
    fns = model.predict_survival_function(x)
    res = d_calibration(y, fns)
    direct = d_calibration(y, np.array([fn(t) for fn, t in zip(fns, y["time"], strict=True)]))
    assert res.statistic == direct.statistic
    assert res.p_value > 0.01


def test_fit_risk_scale_recovers_inverse_factor(cohort):
    _, eta, y = cohort
    assert fit_risk_scale(2.0 * eta, y) == pytest.approx(fit_risk_scale(eta, y) / 2.0, rel=1e-4)
    with pytest.raises(ValueError, match="constant"):
        fit_risk_scale(np.zeros(y.shape[0]), y)


# --- scorers --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("metric", "kwargs", "low", "high"),
    [
        ("harrell", {}, 0.6, 0.9),
        ("uno", {"tau": 1.5}, 0.6, 0.9),
        ("auc", {"times": [0.3, 0.8]}, 0.6, 0.95),
        ("neg_ibs", {"times": [0.2, 0.5, 1.0]}, -0.25, 0.0),
        ("neg_ici", {"times": 0.5}, -0.1, 0.0),
    ],
)
def test_scorers_in_cross_validate(cohort, metric, kwargs, low, high):
    x, _, y = cohort
    scorer = make_survival_scorer(metric, **kwargs)
    scores = cross_validate(CoxPHSurvivalAnalysis(), x, y, cv=KFold(3, shuffle=True, random_state=0), scoring=scorer)
    assert np.all((scores["test_score"] > low) & (scores["test_score"] < high)), scores["test_score"]


def test_scorer_in_grid_search(cohort):
    x, _, y = cohort
    search = GridSearchCV(
        CoxPHSurvivalAnalysis(), {"alpha": [0.0, 1e4]}, cv=3, scoring=make_survival_scorer("neg_ici", times=0.5)
    ).fit(x, y)
    assert search.best_params_ == {"alpha": 0.0}  # heavy shrinkage flattens the risks: poor calibration
    with pytest.raises(ValueError, match="needs 'times'"):
        make_survival_scorer("auc")


# --- RELIABILITY row 67: degenerate statistics ----------------------------------------------------


def _all_events_at_one_time(n=30):
    return Surv.from_arrays(np.ones(n, dtype=bool), np.full(n, 5.0)), np.random.default_rng(0).normal(size=n)


@pytest.mark.parametrize("kwargs", [{}, {"metric": "uno"}, {"method": "BCa"}, {"method": "basic"}])
def test_bootstrap_with_every_event_at_one_time_names_the_cause(kwargs):
    """Harrell's and Uno's C have no comparable pair: sksurv's exception, naming 'y' and why."""
    from sksurv.exceptions import NoComparablePairException

    y, risk = _all_events_at_one_time()
    with pytest.raises(NoComparablePairException, match=r"undefined on 'y'.*all 30 events happen at time 5"):
        bootstrap_ci(y, risk, n_resamples=20, random_state=0, **kwargs)


def test_compare_models_with_every_event_at_one_time_names_the_cause():
    from sksurv.exceptions import NoComparablePairException

    y, risk = _all_events_at_one_time()
    with pytest.raises(NoComparablePairException, match=r"undefined on 'y'.*no pair of patients is comparable"):
        compare_models(y, risk, -risk, n_resamples=20, random_state=0)


def test_bootstrap_auc_at_a_horizon_before_every_event_names_it():
    time = np.linspace(1.0, 10.0, 30)
    y = Surv.from_arrays(time > 6.0, time)
    with pytest.raises(ValueError, match=r"undefined on 'y'.*no event at or before times \[3\.0\]"):
        bootstrap_ci(y, -time, metric="auc", times=[3.0, 8.0], n_resamples=20, random_state=0)


@pytest.mark.parametrize(
    ("event", "time", "match"),
    [
        pytest.param([False] * 6, np.arange(1.0, 7.0), "'y'.*all samples are censored", id="no-events"),
        pytest.param([True], [3.0], r"'y' has 1 sample; a bootstrap needs at least 2", id="one-sample"),
        pytest.param([True, False, True], [1.0, np.nan, 3.0], "'y'.*Input contains NaN", id="nan-time"),
        pytest.param(
            [True, False, True], [1.0, -2.0, 3.0], "'y'.*observed time contains values smaller zero", id="neg"
        ),
    ],
)
@pytest.mark.parametrize(
    "statistic",
    [
        pytest.param(lambda y, risk: bootstrap_ci(y, risk, n_resamples=20, random_state=0), id="bootstrap_ci"),
        pytest.param(lambda y, risk: compare_models(y, risk, -risk, n_resamples=20, random_state=0), id="compare"),
    ],
)
def test_degenerate_outcomes_are_refused_naming_y(event, time, match, statistic):
    y = np.empty(len(event), dtype=[("event", bool), ("time", float)])
    y["event"], y["time"] = event, time
    risk = np.arange(len(event), dtype=float)
    with pytest.raises(ValueError, match=match):
        statistic(y, risk)


@pytest.mark.parametrize("tau", [np.nan, -1.0, 0.0, "5"])
def test_bootstrap_refuses_a_bad_truncation_time(cohort, tau):
    _, eta, y = cohort
    with pytest.raises(ValueError, match=r"tau=.* must be None or a positive finite time"):
        bootstrap_ci(y, eta, metric="uno", tau=tau, n_resamples=20, random_state=0)


SEED_ALL_INVALID = 4  # scipy draws the resamples {0, 0}, {1, 1}, {0, 0} (or similar) from this seed


def test_bootstrap_where_no_resample_is_defined_returns_nan_and_says_why():
    """Two patients: the full sample has one comparable pair, but these two resamples have none."""
    y = Surv.from_arrays([True, False], [3.0, 4.0])
    with pytest.warns(BootstrapWarning, match=r"all 3 bootstrap resamples had an undefined metric"):
        ci = bootstrap_ci(y, np.array([1.0, 0.0]), n_resamples=3, random_state=SEED_ALL_INVALID)
    assert ci.estimate == 1.0
    assert ci.n_invalid == 3
    assert np.isnan(ci.low)
    assert np.isnan(ci.high)


def test_calibration_at_constant_log_risk_is_named_not_singular():
    rng = np.random.default_rng(0)
    t = rng.exponential(1.0, size=200)
    y = Surv.from_arrays(t < 2.0, np.minimum(t, 2.0))
    with pytest.raises(ValueError, match="'log_risk' is constant"):
        calibration_at(y, np.full(200, 0.3), 0.5, log_risk=np.zeros(200))
