"""Calibrated survival functions of ECGSurvivalAnalysis: the held-out scale and Breslow baseline."""

import json

import numpy as np
import pytest
from _settings import TINY_NET

from sksurv_ecg import ECGSurvivalAnalysis, load_estimator
from sksurv_ecg.calibration import fit_scale_and_baseline, holdout_split
from sksurv_ecg.datasets import make_ecg_survival
from sksurv_ecg.exceptions import CalibrationWarning, TrainingWarning
from sksurv_ecg.metrics import fit_risk_scale

TINY = {**TINY_NET, "max_epochs": 2, "batch_size": 20, "lr": 1e-3}
# a 2-epoch network may rank a small held-out split backwards; that warning is tested below
ignore_reversed = pytest.mark.filterwarnings("ignore::sksurv_ecg.exceptions.TrainingWarning")


@pytest.fixture(scope="module")
def data():
    """60 ECGs, 39 events; the first 48 hold 31, a quarter of which (8) is too few to calibrate on."""
    X, y, _ = make_ecg_survival(60, fs=50, n_timesteps=64, event_rate=0.6, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def larger():
    """100 ECGs, about 60 events: a quarter holds 15."""
    X, y, _ = make_ecg_survival(100, fs=50, n_timesteps=64, event_rate=0.6, random_state=1)
    return X, y


@ignore_reversed
def test_default_calibrates_on_a_held_out_split(larger, tmp_path):
    X, y = larger
    model = ECGSurvivalAnalysis(**TINY).fit(X, y)
    _, held = holdout_split(y["event"], 0.25, model._seed())
    assert model.calibration_source_ == "holdout"
    assert model.calibration_fraction_ == 0.25
    assert model.n_calibration_events_ == int(y["event"][held].sum()) >= 10
    assert model.history_[-1, "train_batch_count"] == 75 // 20  # the network trained on the other 75
    raw = model.net_.predict_risk(X[held])
    assert model.risk_scale_ == pytest.approx(max(fit_risk_scale(raw, y[held]), 0.0))
    np.testing.assert_allclose(model.predict(X), model.risk_scale_ * model.net_.predict_risk(X))
    _, offset, baseline = fit_scale_and_baseline(raw, y["event"][held], y["time"][held])
    assert model.risk_offset_ == pytest.approx(model.risk_scale_ * raw.mean())
    if model.risk_scale_ > 0:
        assert offset == pytest.approx(model.risk_offset_)
    n = baseline.unique_times_.shape[0]
    np.testing.assert_array_equal(model.unique_times_[:n], baseline.unique_times_)
    horizons = model.unique_times_[[2, 5]]
    probability = model.predict_event_probability(X[:4], horizons=horizons)
    survival = np.vstack([fn(horizons) for fn in model.predict_survival_function(X[:4])])
    np.testing.assert_allclose(probability, 1.0 - survival, atol=1e-12)
    # one network: attention maps and the package's own save format keep working
    lead, _ = model.attention(X[:2])
    assert lead.shape == (2, X.shape[1], X.shape[1])
    again = load_estimator(model.save(tmp_path / "m"))
    assert (again.calibration_source_, again.n_calibration_events_) == ("holdout", model.n_calibration_events_)
    np.testing.assert_allclose(again.predict_event_probability(X[:4], horizons), probability, rtol=1e-6)


def test_too_few_held_out_events_warn_and_train_on_everything(data):
    X, y = data
    X, y = X[:48], y[:48]
    with pytest.warns(CalibrationWarning, match=r"split \(0.25 of 48 samples\) holds 8 events") as record:
        model = ECGSurvivalAnalysis(**TINY).fit(X, y)
    assert record[0].filename == __file__
    assert model.calibration_source_ == "none"
    assert model.calibration_fraction_ is None
    assert model.risk_scale_ == 1.0
    assert "valid_loss" not in model.history_[-1]
    np.testing.assert_allclose(model.predict(X), model.net_.predict_risk(X))
    assert model.risk_offset_ == pytest.approx(model.predict(X).mean())


@ignore_reversed
@pytest.mark.parametrize(("params", "source"), [({"calibration": "train"}, "train"), ({}, "validation")])
def test_train_and_validation_sources(larger, params, source):
    X, y = larger
    model = ECGSurvivalAnalysis(validation_fraction=0.3, **params, **TINY).fit(X, y)
    assert model.calibration_source_ == source
    if source == "train":
        assert model.risk_scale_ == pytest.approx(max(fit_risk_scale(model.net_.predict_risk(X), y), 0.0))
        assert model.n_calibration_events_ == int(y["event"].sum())


@ignore_reversed
def test_cross_fitted_scale_is_deprecated(data):
    X, y = data
    with pytest.warns(FutureWarning, match="calibration=2 .* deprecated"):
        model = ECGSurvivalAnalysis(calibration=2, **TINY).fit(X, y)
    assert model.calibration_source_ == "2-fold"
    np.testing.assert_allclose(model.predict(X), model.risk_scale_ * model.net_.predict_risk(X))


def test_calibration_settings_that_contradict(data):
    X, y = data
    with pytest.raises(ValueError, match="needs a validation split"):
        ECGSurvivalAnalysis(calibration="validation", **TINY).fit(X, y)
    with pytest.raises(ValueError, match="set one of them"):
        ECGSurvivalAnalysis(calibration=0.3, validation_fraction=0.2, **TINY).fit(X, y)


@ignore_reversed  # recalibrating on 8 events may well give a negative scale
def test_recalibrate_and_persistence(data, tmp_path):
    X, y = data
    model = ECGSurvivalAnalysis(calibration=None, **TINY).fit(X[:40], y[:40])
    with pytest.warns(CalibrationWarning, match="the calibration set holds 8 events"):
        model.recalibrate(X[50:], y[50:])
    model.recalibrate(X[40:], y[40:])  # 15 events
    assert model.calibration_source_ == "recalibrate"
    assert model.risk_scale_ == pytest.approx(fit_risk_scale(model.net_.predict_risk(X[40:]), y[40:]))
    assert model.unique_times_.shape[0] == np.unique(y["time"][40:]).shape[0]
    model.save(tmp_path / "m")
    again = load_estimator(tmp_path / "m")
    assert (again.risk_scale_, again.risk_offset_) == (model.risk_scale_, model.risk_offset_)
    expected = model.predict_survival_function(X[:3], return_array=True)
    np.testing.assert_allclose(again.predict_survival_function(X[:3], return_array=True), expected, rtol=1e-6)

    # a file written before 0.2: no offset, the baseline of the uncentred log-risk
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    fitted = config["fitted"]
    fitted["cum_baseline_hazard_"] = (np.asarray(fitted["cum_baseline_hazard_"]) * np.exp(-model.risk_offset_)).tolist()
    for key in ("risk_offset_", "calibration_fraction_", "n_calibration_events_"):
        del fitted[key]
    (tmp_path / "m" / "config.json").write_text(json.dumps(config))
    old = load_estimator(tmp_path / "m")
    assert old.risk_offset_ == 0.0
    np.testing.assert_allclose(old.predict_survival_function(X[:3], return_array=True), expected, rtol=1e-6)


def test_reversed_ranking_gets_the_baseline_for_everyone(data):
    X, y = data
    model = ECGSurvivalAnalysis(calibration=None, **TINY).fit(X, y)
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
