"""Tests of sksurv_ecg.datasets: PTB-XL loaders and the synthetic survival cohort."""

import hashlib
import shutil
from collections import Counter

import numpy as np
import pandas as pd
import pytest
from sksurv.linear_model import CoxPHSurvivalAnalysis
from sksurv.metrics import concordance_index_censored

from sksurv_ecg.datasets import (
    load_ecg_examples,
    load_ptbxl,
    load_ptbxl_metadata,
    load_scp_statements,
    make_ecg_survival,
    ptbxl_records,
)
from sksurv_ecg.datasets._base import get_data_home
from sksurv_ecg.io import read_wfdb

SAMPLE_IDS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 6000, 6001, 6003, 6004]
TRUE_FEATURES = ["age", "sex", "heart_rate", "qrs_duration", "qtc", "st_deviation", "t_amplitude"]


@pytest.fixture(scope="module")
def sample(ptbxl_sample):
    return ptbxl_sample


@pytest.fixture(scope="module")
def metadata():
    return load_ptbxl_metadata()


@pytest.fixture
def partial_copy(tmp_path, ptbxl_dir):
    """A PTB-XL folder with the 14-record database but only records 1 and 2."""
    source = ptbxl_dir
    for name in ("ptbxl_database.csv", "scp_statements.csv"):
        shutil.copy(source / name, tmp_path / name)
    (tmp_path / "records500" / "00000").mkdir(parents=True)
    for ecg_id in (1, 2):
        for ext in ("hea", "dat"):
            name = f"records500/00000/{ecg_id:05d}_hr.{ext}"
            shutil.copy(source / name, tmp_path / name)
    return tmp_path


# --- data home ------------------------------------------------------------------------------------------------


def test_data_home_env_var(monkeypatch):
    home = get_data_home()
    monkeypatch.setenv("SKSURV_ECG_DATA", str(home))
    assert get_data_home() == home


def test_data_home_env_var_wrong(monkeypatch, tmp_path):
    monkeypatch.setenv("SKSURV_ECG_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="SKSURV_ECG_DATA=.*does not hold the bundled data"):
        get_data_home()


# --- the 14 PTB-XL records beside the repository (fixture ptbxl_dir) -------------------------------------------


def test_sample_signals(sample, ptbxl_dir):
    X, frame = sample
    assert X.shape == (14, 12, 5000)
    assert X.dtype == np.float32
    assert np.isfinite(X).all()
    assert frame.index.tolist() == SAMPLE_IDS
    assert frame.index.name == "ecg_id"
    np.testing.assert_array_equal(X[11], read_wfdb(ptbxl_dir / frame.loc[6001, "filename_hr"])[0])


def test_sample_frame(sample):
    _, frame = sample
    assert {"age", "sex", "report", "scp_codes", "diagnostic_superclass", "strat_fold", "filename_hr"} <= set(frame)
    assert frame.loc[1, "scp_codes"] == {"NORM": 100.0, "LVOLT": 0.0, "SR": 0.0}
    assert all(isinstance(c, dict) and c for c in frame["scp_codes"])
    # counts documented in ../shared/data/ptbxl/PROVENANCE.md
    counts = Counter(c for classes in frame["diagnostic_superclass"] for c in classes)
    assert counts == {"NORM": 12, "MI": 1, "STTC": 1}
    assert frame.loc[8, "diagnostic_superclass"] == ["MI"]
    assert frame.loc[6001, "diagnostic_superclass"] == ["STTC"]
    assert Counter(frame["sex"]) == {0: 6, 1: 8}
    assert Counter(frame["strat_fold"]) == {2: 1, 3: 2, 4: 2, 5: 1, 6: 1, 7: 2, 9: 2, 10: 3}


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        pytest.param({"sampling_rate": 100}, FileNotFoundError, "13 of 14 PTB-XL records at 100 Hz", id="100Hz"),
        pytest.param({"sampling_rate": 100, "ecg_ids": [2]}, FileNotFoundError, "1 of 1 PTB-XL records at 100 Hz",
                     id="100Hz-missing"),
        pytest.param({"sampling_rate": 250}, ValueError, "100 or 500 Hz", id="250Hz"),
        pytest.param({"ecg_ids": [11]}, ValueError, r"ecg_ids \[11\] are not in the database", id="unknown-id"),
        pytest.param({"ecg_ids": "1"}, TypeError, "int or a list of ints", id="id-str"),
    ],
)  # fmt: skip
def test_sample_errors(ptbxl_dir, kwargs, error, match):
    with pytest.raises(error, match=match):
        load_ptbxl(ptbxl_dir, **kwargs)


def test_sample_100hz_record(ptbxl_dir):
    X, frame = load_ptbxl(ptbxl_dir, sampling_rate=100, ecg_ids=[1])
    assert X.shape == (1, 12, 1000)
    assert frame.index.tolist() == [1]


def test_sample_ids_in_requested_order(sample, ptbxl_dir):
    X, frame = load_ptbxl(ptbxl_dir, ecg_ids=[6004, 3])
    assert frame.index.tolist() == [6004, 3]
    np.testing.assert_array_equal(X, sample[0][[13, 2]])


# --- load_ptbxl on a local folder -----------------------------------------------------------------------------


def test_load_ptbxl_folds(ptbxl_dir):
    X, frame = load_ptbxl(ptbxl_dir, folds=10)
    assert frame.index.tolist() == [9, 6000, 6004]
    assert X.shape == (3, 12, 5000)


def test_load_ptbxl_partial_copy(partial_copy):
    X, frame = load_ptbxl(partial_copy, ecg_ids=[2, 1])
    assert X.shape == (2, 12, 5000)
    with pytest.raises(FileNotFoundError, match=r"12 of 14 PTB-XL records at 500 Hz are missing.*00003_hr"):
        load_ptbxl(partial_copy)


@pytest.mark.parametrize(
    ("remove", "match"),
    [
        pytest.param("ptbxl_database.csv", "ptbxl_database.csv' does not exist", id="database"),
        pytest.param("scp_statements.csv", "scp_statements.csv' does not exist", id="statements"),
    ],
)
def test_load_ptbxl_missing_tables(partial_copy, remove, match):
    (partial_copy / remove).unlink()
    with pytest.raises(FileNotFoundError, match=match):
        load_ptbxl(partial_copy)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        pytest.param({"folds": [0, 11]}, ValueError, r"contains \[0, 11\]", id="bad-folds"),
        pytest.param({"folds": 1}, ValueError, "holds no record", id="empty-fold"),
        pytest.param({"folds": 9, "ecg_ids": [1]}, ValueError, "within the selected folds", id="id-outside-fold"),
    ],
)
def test_load_ptbxl_selection_errors(ptbxl_dir, kwargs, error, match):
    with pytest.raises(error, match=match):
        load_ptbxl(ptbxl_dir, **kwargs)


def test_ptbxl_records_layout(ptbxl_dir):
    records = ptbxl_records(ptbxl_dir)
    assert records.index.tolist() == SAMPLE_IDS
    assert records.loc[1] == str(ptbxl_dir / "records500/00000/00001_hr")
    assert ptbxl_records(ptbxl_dir, sampling_rate=100).loc[1] == str(ptbxl_dir / "records100/00000/00001_lr")
    with pytest.raises(FileNotFoundError, match="ptbxl_database.csv' does not exist"):
        ptbxl_records(ptbxl_dir / "records500")


def test_ecg_examples_are_bundled_with_provenance():
    paths = load_ecg_examples()
    assert len(paths) == 5
    assert all(p.is_file() for p in paths)
    provenance = (paths[0].parent / "PROVENANCE.md").read_text()
    for path in paths:
        assert path.name in provenance
        assert hashlib.sha256(path.read_bytes()).hexdigest() in provenance


def test_load_ptbxl_root_type():
    with pytest.raises(TypeError, match="root must be a path"):
        load_ptbxl(None)


# --- metadata -------------------------------------------------------------------------------------------------


def test_metadata(metadata):
    frame = metadata
    assert frame.shape[0] == 21837
    assert frame.index.name == "ecg_id"
    assert frame.index.is_unique
    assert all(isinstance(c, dict) for c in frame["scp_codes"])
    assert all(isinstance(v, float) for c in frame["scp_codes"].head(500) for v in c.values())
    reports = frame["report"]
    assert all(isinstance(r, str) and r == r.strip() and "  " not in r for r in reports)
    assert (reports == "").sum() == 2  # two records have no report: an empty string, never NaN
    assert set(frame["strat_fold"]) == set(range(1, 11))
    assert set(frame["sex"]) == {0, 1}
    # counts documented in data/ptbxl-metadata/PROVENANCE.md
    counts = Counter(c for classes in frame["diagnostic_superclass"] for c in classes)
    assert counts == {"NORM": 9528, "MI": 5486, "STTC": 5250, "CD": 4907, "HYP": 2655}


def test_metadata_agrees_with_sample(metadata, sample):
    _, frame = sample
    sub = metadata.loc[frame.index]
    assert sub["scp_codes"].tolist() == frame["scp_codes"].tolist()
    for column in ("strat_fold", "sex", "age", "report", "diagnostic_superclass"):
        assert sub[column].tolist() == frame[column].tolist()


def test_scp_statements():
    statements = load_scp_statements()
    assert statements.shape[0] == 71
    assert statements.index.name == "scp_code"
    assert statements.loc["NORM", "diagnostic_class"] == "NORM"
    assert set(statements["diagnostic_class"].dropna()) == {"NORM", "MI", "STTC", "CD", "HYP"}


# --- make_ecg_survival ----------------------------------------------------------------------------------------


def _einthoven_error(X):
    I, II, III, aVR, aVL, aVF = (X[:, i] for i in range(6))  # noqa: E741, N806
    return max(
        np.abs(III - (II - I)).max(),
        np.abs(aVR + (I + II) / 2).max(),
        np.abs(aVL - (I - II / 2)).max(),
        np.abs(aVF - (II - I / 2)).max(),
    )


@pytest.mark.parametrize("kind", ["median", "rhythm"])
def test_synthetic_seeded(kind):
    n = 50 if kind == "median" else 3
    X1, y1, f1 = make_ecg_survival(n, kind=kind, random_state=0)
    X2, y2, f2 = make_ecg_survival(n, kind=kind, random_state=0)
    X3, y3, _ = make_ecg_survival(n, kind=kind, random_state=1)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    pd.testing.assert_frame_equal(f1, f2)
    assert not np.array_equal(X1, X3)
    assert not np.array_equal(y1["time"], y3["time"])


@pytest.mark.parametrize(
    ("kind", "shape"),
    [pytest.param("median", (40, 12, 608), id="median"), pytest.param("rhythm", (4, 12, 5000), id="rhythm")],
)
def test_synthetic_shape_and_einthoven(kind, shape):
    X, y, frame = make_ecg_survival(shape[0], kind=kind, random_state=0)
    assert X.shape == shape
    assert X.dtype == np.float32
    assert np.isfinite(X).all()
    assert _einthoven_error(X) < 1e-6
    assert y.dtype.names == ("event", "time")
    assert len(frame) == shape[0]
    assert (y["time"] > 0).all()


def test_synthetic_median_layout():
    X, _, frame = make_ecg_survival(200, random_state=0)
    assert not X[:, :, :4].any()  # centre zero padding, 4 + 4
    assert not X[:, :, -4:].any()
    slow = frame["heart_rate"].to_numpy() < 95  # faster hearts put the next R peak into the window
    peak = np.sqrt((X**2).mean(axis=1)).argmax(axis=1)  # the QRS dominates the RMS over leads
    assert np.all(np.abs(peak[slow] - 304) <= 2)
    assert np.mean(np.abs(np.abs(X[:, 1]).argmax(axis=1) - 304) <= 3) > 0.8  # and usually lead II
    amplitude = np.abs(X).max(axis=2)
    assert 0.3 < np.median(amplitude) < 3.0  # mV


def test_synthetic_rhythm_r_peaks():
    X, _, frame = make_ecg_survival(3, kind="rhythm", random_state=2)
    for i, peaks in enumerate(frame["r_peaks"]):
        rr = np.diff(peaks) / 500
        assert len(peaks) >= 6
        np.testing.assert_allclose(rr.mean(), frame.loc[i, "rr_interval"] / 1000, rtol=0.1)


def test_synthetic_fs_and_length():
    X, _, _ = make_ecg_survival(3, fs=250, random_state=0)
    assert X.shape == (3, 12, 308)
    X, _, _ = make_ecg_survival(3, n_timesteps=700, random_state=0)
    assert X.shape == (3, 12, 700)
    assert np.abs(X[:, 1]).argmax(axis=1).tolist() == [350] * 3


def test_synthetic_log_hazard_formula():
    _, _, f = make_ecg_survival(300, random_state=0)
    z_st = f.st_deviation / 0.07
    z_qtc = (f.qtc - 415) / 25
    expected = (
        0.4 * (f.age - 62) / 13
        - 0.3 * f.sex
        + 0.8 * (f.heart_rate - 70) / 12
        + 0.9 * (f.qrs_duration - 95) / 15
        - 0.9 * (f.t_amplitude - 0.35) / 0.15
        - 0.6 * z_st
        + 0.5 * np.abs(z_st)
        + 0.5 * z_qtc
        + 0.8 * np.maximum(z_qtc - 1, 0)
    )
    np.testing.assert_allclose(f.log_hazard, expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(f.qt_interval, f.qtc * np.sqrt(f.rr_interval / 1000))  # Bazett


@pytest.mark.parametrize("censoring", ["uniform", "exponential"])
@pytest.mark.parametrize("event_rate", [0.05, 0.1, 0.2, 0.3])
def test_synthetic_event_rate(event_rate, censoring):
    _, y, f = make_ecg_survival(3000, event_rate=event_rate, censoring=censoring, noise=0, random_state=3)
    assert abs(y["event"].mean() - event_rate) < 0.025
    np.testing.assert_array_equal(y["time"], np.minimum(f.event_time, f.censoring_time))


def test_synthetic_no_censoring():
    _, y, _ = make_ecg_survival(100, event_rate=1.0, random_state=0)
    assert y["event"].all()


def test_synthetic_default_event_rate_is_realistic():
    _, y, _ = make_ecg_survival(2000, random_state=0)
    assert 0.1 <= y["event"].mean() <= 0.3


def test_synthetic_risk_is_learnable():
    """Cox on the true features reaches C > 0.8 on held-out data; age and sex alone stay low."""
    _, y, f = make_ecg_survival(3000, random_state=0)
    train, test = slice(0, 1500), slice(1500, None)
    features = CoxPHSurvivalAnalysis().fit(f[TRUE_FEATURES][train], y[train])
    clinical = CoxPHSurvivalAnalysis().fit(f[["age", "sex"]][train], y[train])
    c_features = features.score(f[TRUE_FEATURES][test], y[test])
    c_clinical = clinical.score(f[["age", "sex"]][test], y[test])
    c_oracle = concordance_index_censored(y["event"][test], y["time"][test], f.log_hazard[test])[0]
    assert c_features > 0.8
    assert c_clinical < 0.65
    assert c_oracle >= c_features - 0.01


def test_synthetic_5000_median_beats_shape():
    # No timing here: speed is a benchmark's business (benchmarks/), not a unit test's.
    X, _, _ = make_ecg_survival(5000, random_state=0)
    assert X.shape == (5000, 12, 608)
    assert X.dtype == np.float32
    assert np.isfinite(X).all()


def test_synthetic_competing_cause():
    _, y, f = make_ecg_survival(3000, fs=50, competing_risks=True, event_rate=0.5, random_state=0)
    assert y.dtype.names == ("event", "time")
    assert y["event"].dtype == np.int64
    expected = (
        0.6 * (f.age - 62) / 13
        + 0.8 * (f.pr_interval - 160) / 20
        + 0.7 * np.log(f.p_amplitude / 0.12) / 0.25
        - 0.6 * (f.qrs_axis - 45) / 30
    )
    np.testing.assert_allclose(f.log_hazard_2, expected, rtol=1e-12, atol=1e-12)
    first = np.minimum(f.event_time, f.event_time_2)
    np.testing.assert_array_equal(y["time"], np.minimum(first, f.censoring_time))
    observed = first <= f.censoring_time
    np.testing.assert_array_equal(y["event"], np.where(observed, np.where(f.event_time <= f.event_time_2, 1, 2), 0))
    assert abs(observed.mean() - 0.5) < 0.025
    assert min((y["event"] == 1).mean(), (y["event"] == 2).mean()) > 0.15  # both causes matter
    # the causes share only age: their log-hazards are weakly correlated
    assert abs(np.corrcoef(f.log_hazard, f.log_hazard_2)[0, 1]) < 0.3


def test_synthetic_single_cause_y_is_boolean():
    _, y, f = make_ecg_survival(20, random_state=0)
    assert y["event"].dtype == bool
    assert "log_hazard_2" not in f.columns


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"competing_risks": "yes"}, "competing_risks='yes'", id="competing"),
        pytest.param({"n_samples": 0}, "n_samples=0", id="n_samples"),
        pytest.param({"kind": "beat"}, "kind='beat'", id="kind"),
        pytest.param({"event_rate": 0}, "event_rate=0", id="event_rate-0"),
        pytest.param({"event_rate": 1.5}, "event_rate=1.5", id="event_rate-big"),
        pytest.param({"censoring": "admin"}, "censoring='admin'", id="censoring"),
        pytest.param({"noise": -1}, "noise=-1", id="noise"),
        pytest.param({"fs": 10}, "fs=10", id="fs"),
        pytest.param({"n_timesteps": 500}, r"n_timesteps=500 is shorter than the 600-sample", id="short"),
    ],
)
def test_synthetic_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_ecg_survival(**{"n_samples": 5, **kwargs})
