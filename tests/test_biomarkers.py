"""Tests of ECGBiomarkers: agreement with the synthetic truth, plausibility on real records, bad input."""

import numpy as np
import pytest
from scipy.stats import spearmanr
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksurv_ecg.biomarkers import ECGBiomarkers
from sksurv_ecg.datasets import make_ecg_survival
from sksurv_ecg.preprocessing import MedianBeat

MEDIAN_NAMES = [
    "qrs_duration",
    "qt_interval",
    "st_deviation",
    "t_amplitude",
    "r_amplitude",
    "qrs_axis",
    "t_axis",
    "qrs_t_angle",
]


@pytest.fixture(scope="module")
def synthetic():
    return make_ecg_survival(300, fs=250, random_state=1)


@pytest.fixture(scope="module")
def real_beats(ptbxl_sample):
    signals, frame = ptbxl_sample
    return signals, MedianBeat(fs=500).fit_transform(signals)


@pytest.mark.parametrize(
    ("name", "minimum"),
    [
        pytest.param("qrs_duration", 0.85, id="qrs"),
        pytest.param("qt_interval", 0.85, id="qt"),
        pytest.param("st_deviation", 0.85, id="st"),
        pytest.param("t_amplitude", 0.85, id="t"),
        pytest.param("r_amplitude", 0.8, id="r"),
        pytest.param("qrs_axis", 0.9, id="axis"),
    ],
)
def test_measured_biomarkers_track_the_truth(synthetic, name, minimum):
    X, _, frame = synthetic
    bio = ECGBiomarkers(fs=250)
    B = bio.fit_transform(X)
    column = list(bio.get_feature_names_out()).index(name)
    rho = spearmanr(B[:, column], frame[name]).statistic
    assert rho > minimum, f"{name}: Spearman {rho:.3f}"


def test_intervals_are_calibrated(synthetic):
    X, _, frame = synthetic
    B = ECGBiomarkers(fs=250).fit_transform(X)
    # QRS within a few ms on average; the tangent method reads T end early, QT ~ 5-15 % short
    assert abs(np.median(B[:, 0] - frame["qrs_duration"])) < 10
    assert 0.8 < np.median(B[:, 1] / frame["qt_interval"]) < 1.0


def test_sampling_rate_does_not_change_the_measurements():
    X500, _, _ = make_ecg_survival(40, fs=500, random_state=3)
    X250, _, _ = make_ecg_survival(40, fs=250, random_state=3)
    B500 = ECGBiomarkers(fs=500).fit_transform(X500)
    B250 = ECGBiomarkers(fs=250).fit_transform(X250)
    assert np.median(np.abs(B500[:, :2] - B250[:, :2])) < 8  # ms


def test_rhythm_strips_give_heart_rate_and_qtc():
    X, _, frame = make_ecg_survival(12, fs=250, kind="rhythm", random_state=2)
    bio = ECGBiomarkers(fs=250, kind="rhythm")
    B = bio.fit_transform(X)
    names = list(bio.get_feature_names_out())
    assert names == ["heart_rate", *MEDIAN_NAMES, "qtc"]
    hr = B[:, names.index("heart_rate")]
    np.testing.assert_allclose(hr, frame["heart_rate"], rtol=0.08)
    qt, qtc = B[:, names.index("qt_interval")], B[:, names.index("qtc")]
    np.testing.assert_allclose(qtc, qt / np.sqrt(60.0 / hr))
    fridericia = ECGBiomarkers(fs=250, kind="rhythm", qtc_formula="fridericia").fit_transform(X)[:, -1]
    np.testing.assert_allclose(fridericia, qt / np.cbrt(60.0 / hr))


def test_real_median_beats_are_plausible(real_beats):
    _, beats = real_beats
    B = ECGBiomarkers(fs=500).fit_transform(beats)
    assert B.shape == (14, 8)
    assert np.isfinite(B).all()
    qrs, qt = B[:, 0], B[:, 1]
    assert ((qrs > 60) & (qrs < 160)).all(), qrs
    # record 13 (index 12) runs at 124 bpm, so its QT is short (~275 ms) with a normal QTc
    assert ((qt > 250) & (qt < 500)).all(), qt
    assert (np.abs(B[:, 2]) < 0.5).all()  # ST deviation (mV)
    assert ((B[:, 5] > -180) & (B[:, 5] <= 180)).all()  # QRS axis (degrees)
    assert ((B[:, 7] >= 0) & (B[:, 7] <= 180)).all()  # QRS-T angle


def test_real_rhythm_strips_give_plausible_rate_and_qtc(real_beats):
    signals, _ = real_beats
    B = ECGBiomarkers(fs=500, kind="rhythm").fit_transform(signals)
    hr, qtc = B[:, 0], B[:, -1]
    assert ((hr > 40) & (hr < 150)).all(), hr
    # the tangent method reads T end early, and Bazett under-corrects at 47 bpm (record 2): QTc ~330
    assert ((qtc > 300) & (qtc < 500)).all(), qtc


def test_stateless_and_pipeline_friendly(synthetic):
    X, _, _ = synthetic
    bio = ECGBiomarkers(fs=250)
    np.testing.assert_array_equal(bio.transform(X[:5]), clone(bio).fit(X[:50]).transform(X[:5]))
    Z = make_pipeline(ECGBiomarkers(fs=250), StandardScaler()).fit_transform(X[:30])
    assert Z.shape == (30, 8)
    assert list(bio.get_feature_names_out()) == MEDIAN_NAMES


def test_accepts_a_memmap_and_lists(tmp_path, synthetic):
    X, _, _ = synthetic
    path = tmp_path / "x.npy"
    np.save(path, X[:3])
    expected = ECGBiomarkers(fs=250).transform(X[:3])
    np.testing.assert_allclose(ECGBiomarkers(fs=250).transform(np.load(path, mmap_mode="r")), expected)
    np.testing.assert_allclose(ECGBiomarkers(fs=250).transform(X[:3].tolist()), expected, rtol=1e-6)


@pytest.mark.parametrize(
    ("make_X", "params", "match"),
    [
        pytest.param(lambda X: X[:, :8], {}, "expects the 12 standard leads", id="8-leads"),
        pytest.param(lambda X: X[0], {}, "3-D array", id="2-D"),
        pytest.param(lambda X: X[:, :, :40], {}, "r_index=20 leaves less than", id="too-short"),
        pytest.param(lambda X: X, {"r_index": 5}, "r_index=5 leaves less than", id="r-index-at-edge"),
        pytest.param(lambda X: X[:, :, :200], {"kind": "rhythm"}, "fewer than the 1.2-s", id="rhythm-short"),
        pytest.param(lambda X: X, {"kind": "spectral"}, "kind", id="bad-kind"),
        pytest.param(lambda X: X, {"qrs_threshold": 1.5}, "qrs_threshold", id="bad-threshold"),
        pytest.param(lambda X: X, {"fs": -1}, "fs", id="bad-fs"),
    ],
)
def test_bad_input_raises(synthetic, make_X, params, match):
    X, _, _ = synthetic
    with pytest.raises(ValueError, match=match):
        ECGBiomarkers(**{"fs": 250, **params}).fit_transform(make_X(X[:4]))


def test_non_finite_values_raise(synthetic, non_finite_value):
    X = synthetic[0][:2].copy()
    X[0, 3, 10] = non_finite_value
    with pytest.raises(ValueError, match="NaN|infinity"):
        ECGBiomarkers(fs=250).transform(X)


def test_flat_rhythm_strip_raises():
    with pytest.raises(ValueError, match="R peaks in sample 0|detector failed on sample 0"):
        ECGBiomarkers(fs=250, kind="rhythm").transform(np.zeros((1, 12, 2500), dtype=np.float32))


# --- misuse: strips in median-beat mode, a misplaced R peak (RELIABILITY row 48) ------------------------------


def test_strip_in_median_mode_is_refused(real_beats):
    signals, _ = real_beats
    with pytest.raises(
        ValueError, match=r"X has 5000 time steps \(10 s at fs=500 Hz\).*run .*MedianBeat.*kind='rhythm'"
    ):
        ECGBiomarkers(fs=500).fit_transform(signals[:2])


def test_two_seconds_is_the_longest_median_beat(synthetic):
    X = np.zeros((1, 12, 501), dtype=np.float32)
    with pytest.raises(ValueError, match="at most 2 s"):
        ECGBiomarkers(fs=250).transform(X)


def test_misplaced_r_peak_warns(real_beats):
    from sksurv_ecg.exceptions import SignalQualityWarning

    _, beats = real_beats
    shifted = np.roll(beats[:3], 150, axis=2)  # R peak 300 ms late
    shifted[1] = beats[1]  # one beat stays in place
    with pytest.warns(SignalQualityWarning, match=r"In 2 of 3 median beats \(sample indices 0, 2\)"):
        ECGBiomarkers(fs=500).transform(shifted)
