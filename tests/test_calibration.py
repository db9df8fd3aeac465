"""Calibrated survival functions of ECGSurvivalAnalysis (the log-risk scale before the Breslow baseline)."""

import numpy as np
import pytest
from conftest import TINY_NET
from sksurv.linear_model.coxph import BreslowEstimator

from sksurv_ecg import ECGSurvivalAnalysis, load_estimator
from sksurv_ecg.datasets import make_ecg_survival
from sksurv_ecg.exceptions import TrainingWarning
from sksurv_ecg.metrics import fit_risk_scale

TINY = {**TINY_NET, "max_epochs": 2, "batch_size": 20, "lr": 1e-3}


@pytest.fixture(scope="module")
def data():
    X, y, _ = make_ecg_survival(60, fs=50, n_timesteps=64, event_rate=0.6, random_state=0)
    return X, y


def test_auto_without_validation_keeps_the_raw_scale(data):
    X, y = data
    model = ECGSurvivalAnalysis(**TINY).fit(X, y)
    assert model.risk_scale_ == 1.0
    assert model.calibration_source_ == "none"
    np.testing.assert_allclose(model.predict(X), model.net_.predict_risk(X))


# a 2-epoch network may rank a small held-out split backwards; the warning says so (not under test here)
@pytest.mark.filterwarnings("ignore::sksurv_ecg.exceptions.TrainingWarning")
@pytest.mark.parametrize(("calibration", "source"), [("train", "train"), ("auto", "validation"), (2, "2-fold")])
def test_scale_is_the_cox_coefficient_before_breslow(data, calibration, source):
    X, y = data
    model = ECGSurvivalAnalysis(calibration=calibration, validation_fraction=0.3, **TINY).fit(X, y)
    assert model.calibration_source_ == source
    raw = model.net_.predict_risk(X)
    if calibration == "train":
        assert model.risk_scale_ == pytest.approx(max(fit_risk_scale(raw, y), 0.0))
    np.testing.assert_allclose(model.predict(X), model.risk_scale_ * raw)
    reference = BreslowEstimator().fit(model.risk_scale_ * raw, y["event"], y["time"])
    np.testing.assert_allclose(model.cum_baseline_hazard_.y, reference.cum_baseline_hazard_.y)


def test_validation_needs_a_split(data):
    X, y = data
    with pytest.raises(ValueError, match="needs a validation split"):
        ECGSurvivalAnalysis(calibration="validation", **TINY).fit(X, y)


def test_recalibrate_and_persistence(data, tmp_path):
    X, y = data
    model = ECGSurvivalAnalysis(**TINY).fit(X[:40], y[:40])
    model.recalibrate(X[40:], y[40:])
    assert model.calibration_source_ == "recalibrate"
    assert model.risk_scale_ == pytest.approx(fit_risk_scale(model.net_.predict_risk(X[40:]), y[40:]))
    assert model.unique_times_.shape[0] == np.unique(y["time"][40:]).shape[0]
    model.save(tmp_path / "m")
    again = load_estimator(tmp_path / "m")
    assert again.risk_scale_ == model.risk_scale_
    np.testing.assert_allclose(
        again.predict_survival_function(X[:3], return_array=True),
        model.predict_survival_function(X[:3], return_array=True),
        rtol=1e-6,
    )


def test_reversed_ranking_gets_the_baseline_for_everyone(data):
    X, y = data
    model = ECGSurvivalAnalysis(**TINY).fit(X, y)
    raw = model.net_.predict_risk(X)
    # outcomes in which the network's riskiest patients tend to live longest: a negative Cox coefficient
    z = (raw - raw.mean()) / raw.std()
    reversed_y = y.copy()
    reversed_y["event"] = True
    reversed_y["time"] = np.random.default_rng(0).exponential(np.exp(z))
    with pytest.warns(TrainingWarning, match="not positive") as record:
        model.recalibrate(X, reversed_y)
    assert record[0].filename == __file__  # the warning points at the caller's line
    assert model.risk_scale_ == 0.0
    survival = model.predict_survival_function(X[:5], return_array=True)
    np.testing.assert_allclose(survival, np.broadcast_to(model.baseline_survival_.y, survival.shape))


def test_presets():
    assert ECGSurvivalAnalysis.from_preset("paper").get_params()["lr"] == 1e-4
    assert ECGSurvivalAnalysis.from_preset("cpu-small", max_epochs=3).max_epochs == 3
    with pytest.raises(ValueError, match="preset 'gpu' is unknown"):
        ECGSurvivalAnalysis.from_preset("gpu")
