"""CalibratedSurvivalEstimator and the shared calibrated-survival code (sksurv_ecg.calibration)."""

import joblib
import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sksurv.linear_model import CoxnetSurvivalAnalysis, CoxPHSurvivalAnalysis
from sksurv.linear_model.coxph import BreslowEstimator
from sksurv.metrics import concordance_index_censored
from sksurv.nonparametric import nelson_aalen_estimator
from sksurv.util import Surv

from sksurv_ecg.calibration import (
    MIN_CALIBRATION_EVENTS,
    CalibratedSurvivalEstimator,
    fit_scale_and_baseline,
    holdout_split,
)
from sksurv_ecg.competing import CauseSpecificHazards
from sksurv_ecg.datasets import make_ecg_survival
from sksurv_ecg.exceptions import CalibrationWarning
from sksurv_ecg.metrics import fit_risk_scale

FEATURES = ["age", "heart_rate", "qrs_duration", "t_amplitude"]


class LogRisk(BaseEstimator):
    """A 'model' whose log-risk is ``slope * X[:, 0] + offset`` (fit learns nothing)."""

    def __init__(self, slope=1.0, offset=0.0):
        self.slope = slope
        self.offset = offset

    def fit(self, X, y):
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def predict(self, X):
        return self.slope * np.asarray(X, dtype=np.float64)[:, 0] + self.offset


@pytest.fixture(scope="module")
def cohort():
    _, y, frame = make_ecg_survival(400, fs=50, event_rate=0.4, random_state=0)
    return frame[FEATURES].to_numpy(), y, frame


@pytest.fixture(scope="module")
def exact_cohort():
    """Exponential times with a known log-hazard, and a wide spread of it so that some S(t) are tiny."""
    rng = np.random.default_rng(0)
    eta = rng.normal(scale=2.0, size=300)
    t = rng.exponential(np.exp(-eta))
    c = rng.exponential(2.0, size=300)
    return eta[:, None], Surv.from_arrays(t <= c, np.minimum(t, c))


@pytest.mark.parametrize("offset", [-10.0, 10.0])
def test_offset_gives_the_survival_of_the_centred_log_risk(exact_cohort, offset):
    X, y = exact_cohort
    centred = CalibratedSurvivalEstimator(FrozenEstimator(LogRisk(offset=-X[:, 0].mean())), method="baseline")
    shifted = CalibratedSurvivalEstimator(FrozenEstimator(LogRisk(offset=offset)), method="baseline")
    s_centred = centred.fit(X, y).predict_survival_function(X, return_array=True)
    s_shifted = shifted.fit(X, y).predict_survival_function(X, return_array=True)
    exact = s_centred > 1e-300
    assert exact.mean() > 0.5
    assert (~exact).any()
    np.testing.assert_allclose(s_shifted[exact], s_centred[exact], rtol=1e-10)
    assert np.all(s_shifted[~exact] < 1e-290)
    # the centred log-risk agrees with scikit-survival's own Breslow estimate where nothing underflows
    reference = BreslowEstimator().fit(X[:, 0] - X[:, 0].mean(), y["event"], y["time"])
    expected = np.vstack([fn.y for fn in reference.get_survival_function(X[:, 0] - X[:, 0].mean())])
    np.testing.assert_allclose(s_centred[exact], expected[exact], rtol=1e-10)


def test_uncentred_breslow_underflows_where_the_centred_one_does_not(exact_cohort):
    # the failure of issue 23: a log-risk sitting at -10 makes exp(-H0) underflow to S = 0 for everyone
    X, y = exact_cohort
    naive = BreslowEstimator().fit(X[:, 0] - 10.0, y["event"], y["time"])
    last = naive.get_survival_function(X[:, 0] - 10.0)[0].y[-1]
    model = CalibratedSurvivalEstimator(FrozenEstimator(LogRisk(offset=-10.0)), method="baseline").fit(X, y)
    assert last == 0.0
    assert model.predict_survival_function(X[:1], return_array=True)[0, -1] > 0.0


def test_event_probability_keeps_tiny_risks(exact_cohort):
    X, y = exact_cohort
    model = CalibratedSurvivalEstimator(FrozenEstimator(LogRisk()), method="baseline").fit(X, y)
    far = np.array([[-45.0]])  # S(t) rounds to 1, the risk is still about exp(-45) * H0
    t = float(y["time"][y["event"]].min())
    assert model.predict_survival_function(far, return_array=True)[0, 0] == 1.0
    probability = model.predict_event_probability(far, [t])[0, 0]
    expected = model.cum_baseline_hazard_(t) * np.exp(-45.0 - model.risk_offset_)
    assert probability == pytest.approx(expected, rel=1e-12)


def test_constant_risk_gives_the_nelson_aalen_curve(exact_cohort):
    X, y = exact_cohort
    model = CalibratedSurvivalEstimator(FrozenEstimator(LogRisk(slope=0.0, offset=3.0))).fit(X, y)
    times, cum_hazard = nelson_aalen_estimator(y["event"], y["time"])
    np.testing.assert_allclose(model.unique_times_, times)
    survival = model.predict_survival_function(X[:4], return_array=True)
    np.testing.assert_allclose(survival, np.broadcast_to(np.exp(-cum_hazard), survival.shape), rtol=1e-12)
    assert model.risk_scale_ == 1.0


def test_holdout_fits_the_scale_and_baseline_on_the_held_out_part(cohort):
    X, y, _ = cohort
    model = CalibratedSurvivalEstimator(CoxPHSurvivalAnalysis(), random_state=0).fit(X, y)
    assert model.calibration_source_ == "holdout"
    _, held = holdout_split(y["event"], 0.25, np.random.RandomState(0).randint(np.iinfo(np.int32).max))
    assert held.shape[0] == 100
    # the baseline covers the held-out times, carried flat to the training set's last time
    np.testing.assert_array_equal(model.unique_times_[:-1], np.unique(y["time"][held]))
    assert model.unique_times_[-1] == y["time"].max()
    raw = model.estimator_.predict(X[held])
    assert model.risk_scale_ == pytest.approx(fit_risk_scale(raw, y[held]))
    assert model.n_calibration_events_ == int(y["event"][held].sum())
    _, offset, baseline = fit_scale_and_baseline(raw, y["event"][held], y["time"][held])
    np.testing.assert_allclose(model.cum_baseline_hazard_.y[:-1], baseline.cum_baseline_hazard_.y)
    assert model.risk_offset_ == pytest.approx(offset)
    # the deployed estimator did not see the held-out part: its training set has the other 75 %
    assert model.estimator_.coef_.shape == (len(FEATURES),)
    probability = model.predict_event_probability(X[:5], horizons=[0.5, 1.0])
    survival = np.vstack([fn([0.5, 1.0]) for fn in model.predict_survival_function(X[:5])])
    np.testing.assert_allclose(probability, 1.0 - survival, atol=1e-12)


def test_score_is_harrells_c(cohort):
    X, y, _ = cohort
    model = CalibratedSurvivalEstimator(CoxPHSurvivalAnalysis(), random_state=0).fit(X, y)
    expected = concordance_index_censored(y["event"], y["time"], model.predict(X))[0]
    assert model.score(X, y) == pytest.approx(expected)


def test_pipeline_cross_validate_grid_search_clone(cohort):
    X, y, _ = cohort
    coxnet = make_pipeline(StandardScaler(), CoxnetSurvivalAnalysis(fit_baseline_model=True))
    calibrated = CalibratedSurvivalEstimator(coxnet, random_state=0)
    assert clone(calibrated).get_params()["estimator__coxnetsurvivalanalysis__l1_ratio"] == 0.5
    result = cross_validate(calibrated, X, y, cv=3)
    assert np.all(result["test_score"] > 0.6)
    search = GridSearchCV(calibrated, {"method": ["scale", "baseline"]}, cv=2).fit(X, y)
    assert search.best_params_["method"] in ("scale", "baseline")
    outer = make_pipeline(StandardScaler(), CalibratedSurvivalEstimator(CoxPHSurvivalAnalysis(), random_state=0))
    assert outer.fit(X, y).score(X, y) > 0.6


def test_saved_with_joblib_and_loaded(cohort, tmp_path):
    X, y, _ = cohort
    model = CalibratedSurvivalEstimator(CoxPHSurvivalAnalysis(), random_state=0).fit(X, y)
    joblib.dump(model, tmp_path / "model.joblib")
    again = joblib.load(tmp_path / "model.joblib")  # a pickle: load only files you trust
    np.testing.assert_array_equal(
        again.predict_event_probability(X[:5], [1.0]), model.predict_event_probability(X[:5], [1.0])
    )


def test_too_few_events_warns_with_the_count(cohort):
    X, y, _ = cohort
    small = np.concatenate([np.flatnonzero(y["event"])[:30], np.flatnonzero(~y["event"])[:30]])
    with pytest.warns(CalibrationWarning, match=r"holds 7 events, fewer than the 10") as record:
        model = CalibratedSurvivalEstimator(CoxPHSurvivalAnalysis(), random_state=0).fit(X[small], y[small])
    assert record[0].filename == __file__
    assert model.calibration_source_ == "none"
    assert model.risk_scale_ == 1.0
    assert model.unique_times_.shape[0] == np.unique(y["time"][small]).shape[0]  # fitted on all samples
    assert MIN_CALIBRATION_EVENTS == 10


def test_horizon_past_the_last_event_is_nan(cohort):
    X, y, _ = cohort
    model = CalibratedSurvivalEstimator(CoxPHSurvivalAnalysis(), random_state=0).fit(X, y)
    last = float(y["time"][y["event"]].max())
    with pytest.warns(CalibrationWarning, match="after the last event time"):
        probability = model.predict_event_probability(X[:3], [0.0, 1.0, 10 * last])
    assert probability.shape == (3, 3)
    assert np.all(probability[:, 0] == 0.0)
    assert np.all(np.isnan(probability[:, 2]))
    with pytest.raises(ValueError, match="finite times >= 0"):
        model.predict_event_probability(X[:3], [-1.0])


def test_inner_estimator_of_cause_specific_hazards():
    _, y, frame = make_ecg_survival(400, fs=50, event_rate=0.5, competing_risks=True, random_state=0)
    X = frame[["log_hazard", "log_hazard_2"]].to_numpy()
    model = CauseSpecificHazards(CalibratedSurvivalEstimator(CoxPHSurvivalAnalysis(), random_state=0)).fit(X, y)
    assert all(est.calibration_source_ == "holdout" for est in model.estimators_)
    cif = model.predict_cumulative_incidence(X[:4], times=[1.0, 2.0])
    assert cif.shape == (2, 4, 2)
    assert np.all((cif >= 0) & (cif.sum(axis=0) <= 1))


@pytest.mark.filterwarnings("ignore::sksurv_ecg.exceptions.TrainingWarning")  # a 1-epoch network may rank backwards
def test_calibrated_deep_default_flows_into_cause_specific_hazards(tiny_net):
    from sksurv_ecg import ECGSurvivalAnalysis

    X, y, _ = make_ecg_survival(120, fs=50, n_timesteps=64, event_rate=0.7, competing_risks=True, random_state=0)
    model = CauseSpecificHazards(ECGSurvivalAnalysis(**{**tiny_net, "batch_size": 16})).fit(X, y)
    # each cause calibrated on its own held-out quarter (41 events each: 10 held out), one time range
    assert [est.calibration_source_ for est in model.estimators_] == ["holdout", "holdout"]
    assert {est.unique_times_[-1] for est in model.estimators_} == {y["time"].max()}
    cif = model.predict_cumulative_incidence(X[:3], times=[1.0])
    assert cif.shape == (2, 3, 1)
    assert np.all(cif.sum(axis=0) <= 1)
