"""Tests of sksurv_ecg.preprocessing: MedianBeat, LeadStandardizer, Resample, BandpassFilter."""

import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from _settings import TINY_NET
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.utils import get_tags
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from sksurv_ecg import (
    ECGEmbedder,
)
from sksurv_ecg.datasets import make_ecg_survival
from sksurv_ecg.io import read_wfdb
from sksurv_ecg.preprocessing import BandpassFilter, LeadStandardizer, MedianBeat, Resample

TRANSFORMERS = [
    pytest.param(MedianBeat(), id="MedianBeat"),
    pytest.param(LeadStandardizer(), id="LeadStandardizer"),
    pytest.param(Resample(500, 250), id="Resample"),
    pytest.param(BandpassFilter(), id="BandpassFilter"),
]


@pytest.fixture(scope="module")
def ptbxl(ptbxl_sample):
    return ptbxl_sample[0]


@pytest.fixture(scope="module")
def rhythm():
    """Synthetic 10-s strips and the clean median beats of the same people (same seed)."""
    X, _, frame = make_ecg_survival(12, kind="rhythm", random_state=0)
    X_median, _, frame_median = make_ecg_survival(12, kind="median", random_state=0)
    assert np.allclose(frame["heart_rate"], frame_median["heart_rate"])
    return X, X_median, frame


# --- MedianBeat -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("detector", ["xqrs", "gqrs"])
def test_median_beat_real_records(ptbxl, detector):
    beats = MedianBeat(detector=detector).fit_transform(ptbxl)
    assert beats.shape == (14, 12, 608)
    assert beats.dtype == np.float32
    assert np.isfinite(beats).all()
    assert not beats[:, :, :4].any()
    assert not beats[:, :, -4:].any()
    peak = np.abs(beats[:, 1]).argmax(axis=1)  # lead II
    assert np.all(np.abs(peak - 304) <= 3), peak


def test_median_beat_recovers_synthetic_beat(rhythm):
    X, X_median, _ = rhythm
    beats = MedianBeat(peak_dir="up").fit_transform(X)  # align on the R wave, as the generator does
    corr = [np.corrcoef(beats[i].ravel(), X_median[i].ravel())[0, 1] for i in range(len(X))]
    assert min(corr) > 0.9


def test_median_beat_removes_noise(rhythm):
    X, X_median, _ = rhythm
    beats = MedianBeat(peak_dir="up").fit_transform(X)
    # the median of ~10 beats is closer to the clean beat than any single noisy beat
    single = X[:, :, 4 : 4 + 600]  # arbitrary window, not aligned
    assert np.abs(beats - X_median).mean() < np.abs(single - X_median[:, :, 4:604]).mean()


def test_median_beat_layout_parameters(ptbxl):
    beats = MedianBeat(window_s=1.0, n_timesteps=512).fit_transform(ptbxl[:2])
    assert beats.shape == (2, 12, 512)
    assert np.abs(beats[:, 1]).argmax(axis=1).tolist() == [256, 256]
    X100 = Resample(500, 100).fit_transform(ptbxl[:2])
    beats = MedianBeat(fs=100, window_s=1.2, n_timesteps=128).fit_transform(X100)
    assert np.all(np.abs(np.abs(beats[:, 1]).argmax(axis=1) - 64) <= 1)


@pytest.mark.parametrize(
    ("make_X", "match"),
    [
        pytest.param(lambda X: np.zeros_like(X[:2]), r"found 0 complete beats in sample 0", id="flat"),
        pytest.param(lambda X: np.concatenate([X[:1], X[1:2, :, :700].repeat(8, axis=2)[:, :, :5000] * 0]),
                     r"in sample 1 \(lead index 1\)", id="second-flat"),
        pytest.param(lambda X: X[:1, :, :1300], r"found [0-2] complete beats in sample 0.*min_beats=3", id="short"),
    ],
)  # fmt: skip
def test_median_beat_too_few_beats(ptbxl, make_X, match):
    with pytest.raises(ValueError, match=match):
        MedianBeat().fit_transform(make_X(ptbxl))


@pytest.mark.parametrize(
    ("params", "X_shape", "error", "match"),
    [
        pytest.param({"lead": 12}, (1, 12, 5000), ValueError, "lead=12 is out of range", id="lead"),
        pytest.param({"n_timesteps": 500}, (1, 12, 5000), ValueError, "n_timesteps=500 is shorter", id="length"),
        pytest.param({}, (1, 12, 400), ValueError, "fewer than window=600", id="short-X"),
        pytest.param({"detector": "pan"}, (1, 12, 5000), InvalidParameterError, "detector", id="detector"),
        pytest.param({"min_beats": 0}, (1, 12, 5000), InvalidParameterError, "min_beats", id="min_beats"),
    ],
)
def test_median_beat_errors(params, X_shape, error, match):
    with pytest.raises(error, match=match):
        MedianBeat(**params).transform(np.zeros(X_shape, dtype=np.float32))


# --- LeadStandardizer -----------------------------------------------------------------------------------------


def test_standardizer(ptbxl):
    Z = LeadStandardizer().fit_transform(ptbxl)
    assert Z.dtype == np.float32
    np.testing.assert_allclose(Z.mean(axis=-1), 0.0, atol=1e-5)
    np.testing.assert_allclose(Z.std(axis=-1), 1.0, atol=1e-4)


@pytest.mark.parametrize(
    "flat",
    [
        pytest.param(0.0, id="zeros"),
        pytest.param(3.3, id="constant"),
        pytest.param(1e6, id="large-constant"),
    ],
)
def test_standardizer_flat_lead_is_zero(ptbxl, flat):
    X = ptbxl[:2].copy()
    X[0, 4] = flat
    X[1] = 0.0  # a whole recording of zeros
    Z = LeadStandardizer().fit_transform(X)
    assert np.isfinite(Z).all()
    assert not Z[0, 4].any()
    assert not Z[1].any()
    np.testing.assert_allclose(Z[0, 3].std(), 1.0, atol=1e-4)


@pytest.mark.parametrize("dtype", [np.float64, np.int16])
def test_standardizer_converts_dtype(dtype):
    X = (np.random.default_rng(0).standard_normal((3, 12, 100)) * 100).astype(dtype)
    assert LeadStandardizer().fit_transform(X).dtype == np.float32


# --- Resample -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fs_in", "fs_out", "n_in", "n_out"),
    [
        pytest.param(500, 100, 5000, 1000, id="500-100"),
        pytest.param(500, 250, 5000, 2500, id="500-250"),
        pytest.param(100, 500, 1000, 5000, id="100-500"),
        pytest.param(360, 500, 3600, 5000, id="360-500"),
        pytest.param(500, 500, 5000, 5000, id="identity"),
    ],
)
def test_resample_lengths(fs_in, fs_out, n_in, n_out):
    t = np.arange(n_in) / fs_in
    X = np.broadcast_to(np.sin(2 * np.pi * 5 * t), (2, 12, n_in))
    Y = Resample(fs_in, fs_out).fit_transform(X)
    assert Y.shape == (2, 12, n_out)
    assert Y.dtype == np.float32
    t_out = np.arange(n_out) / fs_out
    inner = slice(n_out // 10, -n_out // 10)
    np.testing.assert_allclose(Y[0, 0, inner], np.sin(2 * np.pi * 5 * t_out[inner]), atol=0.02)


def test_resample_matches_ptbxl_100hz_file(ptbxl, ptbxl_dir):
    lr = read_wfdb(ptbxl_dir / "records100/00000/00001_lr", fs=100)[0]
    down = Resample(500, 100).fit_transform(ptbxl[:1])[0]
    corr = [np.corrcoef(lr[i], down[i])[0, 1] for i in range(12)]
    assert min(corr) > 0.95


# --- BandpassFilter -------------------------------------------------------------------------------------------


def _tones(*freqs, fs=500, n=5000):
    t = np.arange(n) / fs
    return np.stack([np.sin(2 * np.pi * f * t) if f else np.ones(n) for f in freqs])[None]


@pytest.mark.parametrize(
    ("params", "kept", "removed"),
    [
        pytest.param({}, [10], [0, 0.05, 100], id="band-0.5-40"),
        pytest.param({"high": 100}, [10, 30], [0, 0.05, 200], id="band-0.5-100"),
        pytest.param({"low": None, "high": 40}, [0, 10], [100], id="lowpass"),
        pytest.param({"low": 0.5, "high": None}, [10, 100], [0, 0.05], id="highpass"),
    ],
)
def test_bandpass_frequency_response(params, kept, removed):
    X = _tones(*kept, *removed)
    Y = BandpassFilter(**params).fit_transform(X)[0]
    inner = slice(1500, -1500)  # away from the edge transients
    for i in range(len(kept)):
        np.testing.assert_allclose(Y[i, inner], X[0, i, inner], atol=0.1)
    for i in range(len(kept), len(kept) + len(removed)):
        assert np.abs(Y[i, inner]).max() < 0.1


def test_bandpass_attenuates_mains():
    Y = BandpassFilter().fit_transform(_tones(50))  # 50 Hz mains, 1.25x the 40 Hz cut-off
    assert np.abs(Y[0, 0, 1000:-1000]).max() < 0.2


def test_bandpass_zero_phase():
    X = _tones(8)
    Y = BandpassFilter().fit_transform(X)
    # a forward-backward filter does not shift the wave: the zero crossings stay in place
    assert np.argmax(Y[0, 0, 2000:2100]) == np.argmax(X[0, 0, 2000:2100])


@pytest.mark.parametrize(
    ("params", "n", "error", "match"),
    [
        pytest.param({"high": 250}, 5000, ValueError, r"high=250 Hz is not below the Nyquist.*250", id="nyquist"),
        pytest.param({"low": 40, "high": 30}, 5000, ValueError, "low=40 Hz must be below high=30", id="low>high"),
        pytest.param({"low": None, "high": None}, 5000, ValueError, "nothing to filter", id="none"),
        pytest.param({}, 20, ValueError, "X has 20 time steps, but the order-4 filter", id="short"),
        pytest.param({"order": 0}, 5000, InvalidParameterError, "order", id="order"),
        pytest.param({"low": -1}, 5000, InvalidParameterError, "low", id="negative"),
    ],
)
def test_bandpass_errors(params, n, error, match):
    with pytest.raises(error, match=match):
        BandpassFilter(**params).fit_transform(np.zeros((1, 12, n)))


# --- shared behaviour -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("transformer", TRANSFORMERS)
def test_stateless_and_tagged(transformer, ptbxl):
    tags = transformer.__sklearn_tags__()
    assert tags.requires_fit is False
    assert tags.input_tags.three_d_array is True
    assert tags.transformer_tags.preserves_dtype == ["float32"]
    X = ptbxl[:2]
    unfitted = clone(transformer).transform(X)
    fitted = clone(transformer).fit(X)
    assert fitted.n_features_in_ == 12
    np.testing.assert_array_equal(fitted.transform(X), unfitted)
    assert unfitted.dtype == np.float32


@pytest.mark.parametrize("transformer", TRANSFORMERS)
def test_non_finite_rejected(transformer, ptbxl, non_finite_value):
    X = ptbxl[:2].copy()
    X[1, 3, 100] = non_finite_value
    with pytest.raises(ValueError, match="NaN|infinity"):
        transformer.fit_transform(X)


@pytest.mark.parametrize("transformer", TRANSFORMERS)
def test_lead_count_checked_after_fit(transformer, ptbxl):
    fitted = clone(transformer).fit(ptbxl[:2])
    with pytest.raises(ValueError, match="X has 8 features, but .* is expecting 12 features"):
        fitted.transform(ptbxl[:2, :8])


@pytest.mark.parametrize("transformer", TRANSFORMERS)
def test_2d_input_rejected(transformer):
    with pytest.raises(ValueError, match="cannot tell how many leads"):
        transformer.fit_transform(np.zeros((2, 5000)))


@pytest.mark.parametrize("transformer", TRANSFORMERS)
def test_2d_input_with_n_leads(transformer, ptbxl):
    X = ptbxl[:2]
    expected = clone(transformer).fit_transform(X)
    flat = clone(transformer).set_params(n_leads=12).fit_transform(X.reshape(2, -1))
    assert flat.shape == (2, expected.shape[1] * expected.shape[2])
    np.testing.assert_array_equal(flat, expected.reshape(2, -1))


# MedianBeat and BandpassFilter need real signal lengths, which scikit-learn's 2-5-column toy data lack.
@parametrize_with_checks([LeadStandardizer(n_leads=1), Resample(500, 250, n_leads=1)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_pipeline(ptbxl):
    pipe = make_pipeline(BandpassFilter(high=100), MedianBeat(), LeadStandardizer())
    Z = pipe.fit_transform(ptbxl)
    assert Z.shape == (14, 12, 608)
    np.testing.assert_allclose(Z.std(axis=-1), 1.0, atol=1e-4)


# --- MedianBeat: the rate, the layout, bad records, parallel runs (RELIABILITY rows 46, 49) -------------------

import os  # noqa: E402

from sklearn.base import BaseEstimator  # noqa: E402

from sksurv_ecg.exceptions import LeadOrderWarning, SignalQualityWarning  # noqa: E402
from sksurv_ecg.nn.tasks import standardize_leads  # noqa: E402
from sksurv_ecg.preprocessing import MEDIAN_BEAT_N_TIMESTEPS, MEDIAN_BEAT_R_INDEX, median_beat_layout  # noqa: E402
from sksurv_ecg.utils.validation import check_lead_order, validate_ecg  # noqa: E402

SHARED_PTBXL = Path(os.environ.get("SKSURV_ECG_PTBXL", Path(__file__).resolve().parents[2] / "shared/data/ptbxl"))


@pytest.fixture(scope="module")
def shared_records():
    """The 14 PTB-XL records of ../shared/data/ptbxl, read with the package's WFDB reader."""
    headers = sorted(SHARED_PTBXL.glob("records500/*/*_hr.hea"))
    if not headers:
        if os.environ.get("CI") == "true":
            pytest.fail(f"no PTB-XL records under {SHARED_PTBXL}")
        pytest.skip(f"no PTB-XL records under {SHARED_PTBXL}")
    return np.concatenate([read_wfdb(h.with_suffix(""), fs=500) for h in headers])


def test_median_beat_layout_constants():
    assert median_beat_layout() == (600, MEDIAN_BEAT_N_TIMESTEPS, MEDIAN_BEAT_R_INDEX) == (600, 608, 304)
    assert median_beat_layout(250) == (300, 308, 154)
    with pytest.raises(ValueError, match="n_timesteps=100 is shorter than the 120-sample window"):
        median_beat_layout(100, n_timesteps=100)


def test_median_beat_at_100hz_spans_the_same_time_and_is_refused_by_a_500hz_model(ptbxl):
    X100 = Resample(500, 100).fit_transform(ptbxl[:3])
    median = MedianBeat(fs=100)
    beats = median.fit_transform(X100)
    assert beats.shape == (3, 12, 128)  # 1.2 s + 8 samples, not 608 samples (6 s, 7 beats)
    assert (median.fs_, median.window_, median.n_timesteps_out_, median.r_peak_index_) == (100.0, 120, 128, 64)
    assert np.all(np.abs(np.abs(beats[:, 1]).argmax(axis=1) - 64) <= 1)
    beats500 = MedianBeat().fit_transform(ptbxl[:3])
    model = BaseEstimator()
    validate_ecg(model, beats500, reset=True)  # as an estimator fitted on 500 Hz median beats does
    with pytest.raises(ValueError, match="X has 128 time steps, but BaseEstimator was fitted with 608"):
        validate_ecg(model, beats, reset=False)


def test_median_beat_default_fit_attributes(ptbxl):
    median = MedianBeat().fit(ptbxl[:1])
    assert (median.fs_, median.window_, median.n_timesteps_out_, median.r_peak_index_) == (500.0, 600, 608, 304)


def test_median_beat_window_in_samples_is_deprecated(ptbxl):
    with pytest.warns(FutureWarning, match=r"window=500 \(samples\) is deprecated.*window_s=1"):
        old = MedianBeat(window=500, n_timesteps=512).fit_transform(ptbxl[:2])
    np.testing.assert_array_equal(old, MedianBeat(window_s=1.0, n_timesteps=512).fit_transform(ptbxl[:2]))


def _cohort_with_bad_records(ptbxl):
    X = ptbxl[:6].copy()
    X[2] = 0.0  # flat: no R peak
    X[4, 7, 100:200] = np.nan  # a NaN stretch in V2
    return X


def test_median_beat_errors_raise_names_the_record(ptbxl):
    X = _cohort_with_bad_records(ptbxl)
    with pytest.raises(ValueError, match=r"found 0 complete beats in sample 2"):
        MedianBeat().fit_transform(X)
    with pytest.raises(ValueError, match=r"Sample 4 contains NaN or infinity in lead indices \[7\]"):
        MedianBeat().transform(X[[0, 1, 3, 5, 4]])


def test_median_beat_errors_warn_skips_counts_and_masks(ptbxl):
    X = _cohort_with_bad_records(ptbxl)
    median = MedianBeat(errors="warn")
    with pytest.warns(SignalQualityWarning, match=r"no median beat in 2 of 6 records \(sample indices 2, 4\)") as rec:
        beats = median.fit_transform(X)
    assert len(rec) == 1
    np.testing.assert_array_equal(median.failed_, [False, False, True, False, True, False])
    assert np.isnan(beats[[2, 4]]).all()
    good = [0, 1, 3, 5]
    np.testing.assert_array_equal(beats[good], MedianBeat().fit_transform(X[good]))
    with pytest.warns(SignalQualityWarning):
        again, failed = median.transform(X, return_mask=True)
    np.testing.assert_array_equal(failed, median.failed_)
    np.testing.assert_array_equal(again, beats, strict=True)


def test_median_beat_in_parallel_with_progress_bar(ptbxl, capsys):
    from joblib import parallel_config

    expected = MedianBeat().fit_transform(ptbxl[:6])
    # threads exercise the same chunked joblib path as processes without the workers' start-up (~10 s)
    with parallel_config(backend="threading"):
        beats = MedianBeat(n_jobs=2, verbose=1).fit_transform(ptbxl[:6])
        X = _cohort_with_bad_records(ptbxl)
        with pytest.raises(ValueError, match="sample 2"):
            MedianBeat(n_jobs=2).transform(X)
    np.testing.assert_array_equal(beats, expected)
    assert "MedianBeat: 100%" in capsys.readouterr().err


@pytest.mark.slow
def test_median_beat_in_worker_processes(ptbxl):
    np.testing.assert_array_equal(MedianBeat(n_jobs=2).fit_transform(ptbxl), MedianBeat().fit_transform(ptbxl))


# --- the lead-order check (RELIABILITY row 47) -----------------------------------------------------------------

SWAP_I_II = [1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]


def test_lead_order_real_records(shared_records):
    right = check_lead_order(shared_records)  # warnings are errors: the right order must not warn
    assert right.residual < 1e-4
    assert not right.warned
    # |III - (II - I)| in mV, right order against I and II exchanged
    X = shared_records.astype(np.float64)
    assert np.abs(X[:, 2] - (X[:, 1] - X[:, 0])).mean() < 0.002
    assert np.abs(X[:, 2] - (X[:, 0] - X[:, 1])).mean() > 0.1
    with pytest.warns(LeadOrderWarning, match=r"I and II look exchanged.*X\[:, \[1, 0, 2, 3"):
        swapped = check_lead_order(shared_records[:, SWAP_I_II])
    assert swapped.warned
    assert swapped.order == (1, 0, 2, 3, 4, 5)
    assert swapped.signs == (1,) * 6
    assert swapped.residual > 0.1
    assert swapped.best_residual < 1e-4


def test_median_beat_warns_on_swapped_leads(shared_records):
    with pytest.warns(LeadOrderWarning, match="I and II look exchanged"):
        MedianBeat().fit(shared_records[:4, SWAP_I_II])


@pytest.mark.parametrize(
    ("transform", "match"),
    [
        pytest.param(lambda X: X * np.array([1, 1, 1, -1] + [1] * 8)[None, :, None], "aVR looks inverted", id="-aVR"),
        pytest.param(lambda X: X[:, [0, 1, 2, 4, 3, 5, 6, 7, 8, 9, 10, 11]], "aVR and aVL look exchanged",
                     id="aVR-aVL"),
    ],
)  # fmt: skip
def test_lead_order_names_the_fix(transform, match):
    X, _, _ = make_ecg_survival(6, random_state=0)
    with pytest.warns(LeadOrderWarning, match=match):
        check_lead_order(transform(X))


@pytest.mark.parametrize(
    "make_X",
    [
        pytest.param(lambda rng: rng.standard_normal((8, 12, 300)), id="noise"),
        pytest.param(lambda rng: np.broadcast_to(np.sin(np.arange(300) / 9), (4, 12, 300)), id="identical-leads"),
        pytest.param(lambda rng: np.zeros((3, 12, 300)), id="zeros"),
        pytest.param(lambda rng: LeadStandardizer().fit_transform(make_ecg_survival(6, random_state=0)[0]),
                     id="standardised"),
        pytest.param(lambda rng: make_ecg_survival(6, random_state=0)[0][:, SWAP_I_II] + rng.standard_normal(
            (6, 12, 608)), id="noisy-swapped"),
    ],
)  # fmt: skip
def test_lead_order_raises_no_false_alarm(make_X):
    with warnings.catch_warnings():
        warnings.simplefilter("error", LeadOrderWarning)
        result = check_lead_order(make_X(np.random.default_rng(0)))
    assert result is None or not result.warned


def test_lead_order_by_name():
    X, _, _ = make_ecg_survival(3, random_state=0)
    names = ["V1", "II", "I", "III", "aVR", "aVL", "aVF"]
    assert not check_lead_order(X[:, [6, 1, 0, 2, 3, 4, 5]], lead_names=names).warned
    assert check_lead_order(X[:, :3], lead_names=["I", "II", "III"]) is None
    with pytest.raises(ValueError, match="one lead per name"):
        check_lead_order(X, lead_names=names)


# --- one per-lead z-score -----------------------------------------------------------------------------------


@pytest.mark.parametrize("eps", [None, 1e-3])
def test_standardizer_is_the_models_standardize_leads(ptbxl, eps):
    X = ptbxl[:4].copy()
    X[0, 4] = 3.3  # flat lead
    X[1, 2] = X[1, 2, :1] + 1e-4 * np.sign(np.sin(np.arange(5000)))  # std 1e-4: flat only with eps=1e-3
    kwargs = {} if eps is None else {"eps": eps}
    expected = standardize_leads(torch.from_numpy(X), **kwargs).numpy()
    np.testing.assert_array_equal(LeadStandardizer(eps=eps).fit_transform(X), expected)
    assert (not expected[1, 2].any()) == (eps is not None)


# --- from the reliability matrix (RELIABILITY.md) ---------------------------------------------------


@pytest.mark.parametrize(
    "make_transformer",
    [
        pytest.param(lambda: ECGEmbedder(**TINY_NET), id="ECGEmbedder"),
        pytest.param(lambda: LeadStandardizer(), id="LeadStandardizer"),
        pytest.param(lambda: Resample(fs_in=40, fs_out=20), id="Resample"),
        pytest.param(lambda: BandpassFilter(fs=40, low=1.0, high=10.0), id="BandpassFilter"),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_transformers_declare_and_return_float32(check_data, check_embedder, make_transformer, dtype):
    """RELIABILITY row 16."""
    X = check_data[0].astype(dtype)
    transformer = make_transformer()
    declared = get_tags(transformer).transformer_tags.preserves_dtype
    assert declared == ["float32"]
    fitted_transformer = check_embedder if isinstance(transformer, ECGEmbedder) else transformer.fit(X)
    assert fitted_transformer.transform(X).dtype == np.dtype(declared[0])


# --- RELIABILITY rows 68, 69: MedianBeat told the wrong rate, signals in microvolts ---------------------------

import re  # noqa: E402

from sksurv_ecg.datasets import load_ecg_examples  # noqa: E402
from sksurv_ecg.exceptions import ECGPlausibilityWarning  # noqa: E402
from sksurv_ecg.io import read_ecg  # noqa: E402


@pytest.fixture(scope="module")
def real_500(ptbxl):
    """19 real 10-s 12-lead ECGs at 500 Hz: the 14 PTB-XL records and the 5 bundled clinical files."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the readers' notes on derived leads are not the subject here
        clinical, _ = read_ecg(load_ecg_examples(), fs=500, length=5000)
    return np.concatenate([ptbxl, clinical]).astype(np.float32)


@pytest.fixture(scope="module")
def real_100(real_500):
    return Resample(500, 100).fit_transform(real_500)


def _plausibility_warnings(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [w for w in caught if issubclass(w.category, ECGPlausibilityWarning)]


@pytest.mark.parametrize("rate", [500, 100])
def test_median_beat_is_silent_on_real_records_at_their_rate(real_500, real_100, rate):
    """No false alarm: the cohort, and every record alone, at the true rate (warnings are errors)."""
    X = real_500 if rate == 500 else real_100
    beats = MedianBeat(fs=rate).fit_transform(X)
    assert np.isfinite(beats).all()
    for i in range(X.shape[0]):
        MedianBeat(fs=rate).fit(X[i : i + 1])


@pytest.mark.parametrize(
    ("source", "fs", "likely"),
    [
        pytest.param(500, 250, 500, id="500Hz-at-250"),
        pytest.param(500, 1000, 500, id="500Hz-at-1000"),
        pytest.param(500, 100, 500, id="500Hz-at-100"),
        pytest.param(100, 500, 100, id="100Hz-at-500"),
        pytest.param(100, 200, 100, id="100Hz-at-200"),
        pytest.param(100, 50, 100, id="100Hz-at-50"),
    ],
)
def test_median_beat_told_the_wrong_rate_warns_once_naming_the_rate(real_500, real_100, source, fs, likely):
    X = real_500 if source == 500 else real_100
    for call in (lambda: MedianBeat(fs=fs).fit(X), lambda: MedianBeat(fs=fs, errors="warn").transform(X)):
        caught = _plausibility_warnings(call)
        assert len(caught) == 1, [str(w.message) for w in caught]
        assert f"told fs={fs} Hz" in str(caught[0].message)
        assert f"looks sampled at about {likely} Hz" in str(caught[0].message)
        assert f"Pass fs={likely}" in str(caught[0].message)


@pytest.mark.parametrize(("source", "fs"), [(500, 100), (100, 500)])
def test_median_beat_flags_a_rate_five_times_off_on_every_single_record(real_500, real_100, source, fs):
    """A single record's estimate is rougher than a cohort's: within a factor 1.5 of the truth."""
    X = real_500 if source == 500 else real_100
    for i in range(X.shape[0]):
        with pytest.warns(ECGPlausibilityWarning, match=f"told fs={fs} Hz.*looks sampled at about") as caught:
            MedianBeat(fs=fs).fit(X[i : i + 1])
        estimate = float(re.search(r"\((\d+) Hz estimated\)", str(caught[0].message)).group(1))
        assert source / 1.5 < estimate < source * 1.5


def test_median_beat_refuses_microvolts(real_500):
    MedianBeat().fit(real_500)  # mV: accepted
    with pytest.raises(ValueError, match=r"looks like microvolts.*record 0 .*divide X by 1000"):
        MedianBeat().fit(real_500 * 1000)
    with pytest.raises(ValueError, match=r"looks like microvolts.*record 3 "):
        MedianBeat().transform(np.concatenate([real_500[:3], real_500[3:4] * 1000]))
