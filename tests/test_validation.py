"""Property tests of the input checks in ``sksurv_ecg.utils.validation``."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.base import clone
from sksurv.util import Surv

from sksurv_ecg import (
    ECGEmbedder,
    ECGSurvivalAnalysis,
    InsufficientEventsError,
)
from sksurv_ecg.sampling import StratifiedBatchSampler
from sksurv_ecg.utils.estimator_checks import survival_check_data
from sksurv_ecg.utils.validation import check_ecg_array, check_event_batching, check_survival_y

SETTINGS = settings(max_examples=60, deadline=None)

finite = st.floats(-3e4, 3e4, allow_nan=False, allow_infinity=False, width=32)  # fits float16 and int16
shapes_3d = st.tuples(st.integers(1, 5), st.integers(1, 12), st.integers(1, 16))
float_dtypes = st.sampled_from([np.float16, np.float32, np.float64, np.int16, np.int32, np.int64])


# --- check_ecg_array -------------------------------------------------------------------------------------------


@SETTINGS
@given(X=hnp.arrays(np.float64, shapes_3d, elements=finite), dtype=float_dtypes)
def test_ecg_array_3d_is_float32_with_same_values(X, dtype):
    X = X.astype(dtype)
    out = check_ecg_array(X)
    assert out.dtype == np.float32
    assert out.shape == X.shape
    np.testing.assert_array_equal(out, X.astype(np.float32))


@SETTINGS
@given(X=hnp.arrays(np.float32, shapes_3d, elements=finite))
def test_ecg_array_float32_is_not_copied(X):
    assert np.shares_memory(check_ecg_array(X), X)


@SETTINGS
@given(X=hnp.arrays(np.float32, shapes_3d, elements=finite))
def test_ecg_array_2d_unfolds_leads_end_to_end(X):
    n, n_leads, n_timesteps = X.shape
    out = check_ecg_array(X.reshape(n, n_leads * n_timesteps), n_leads=n_leads)
    np.testing.assert_array_equal(out, X)


@SETTINGS
@given(n=st.integers(1, 4), width=st.integers(1, 60), n_leads=st.integers(2, 12))
def test_ecg_array_2d_width_not_divisible(n, width, n_leads):
    X = np.zeros((n, width), dtype=np.float32)
    if width % n_leads:
        with pytest.raises(ValueError, match=f"not divisible by n_leads={n_leads}"):
            check_ecg_array(X, n_leads=n_leads)
    else:
        assert check_ecg_array(X, n_leads=n_leads).shape == (n, n_leads, width // n_leads)


@SETTINGS
@given(
    X=hnp.arrays(np.float64, shapes_3d, elements=finite),
    value=st.sampled_from([np.nan, np.inf, -np.inf]),
    data=st.data(),
)
def test_ecg_array_rejects_any_non_finite_value(X, value, data):
    index = tuple(data.draw(st.integers(0, s - 1)) for s in X.shape)
    X[index] = value
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        check_ecg_array(X)


@SETTINGS
@given(ndim=st.integers(4, 6))
def test_ecg_array_rejects_more_than_3_dimensions(ndim):
    with pytest.raises(ValueError, match=f"X has {ndim} dimensions"):
        check_ecg_array(np.zeros((2,) * ndim, dtype=np.float32))


@SETTINGS
@given(shape=shapes_3d, expected=st.integers(1, 12))
def test_ecg_array_lead_count(shape, expected):
    X = np.zeros(shape, dtype=np.float32)
    if shape[1] == expected:
        assert check_ecg_array(X, n_leads=expected).shape == shape
    else:
        with pytest.raises(ValueError, match=f"X has {shape[1]} leads .* expects n_leads={expected}"):
            check_ecg_array(X, n_leads=expected)


@SETTINGS
@given(n=st.integers(0, 4), minimum=st.integers(1, 5))
def test_ecg_array_min_samples(n, minimum):
    X = np.zeros((n, 2, 3), dtype=np.float32)
    if n >= minimum:
        assert check_ecg_array(X, ensure_min_samples=minimum).shape[0] == n
    else:
        with pytest.raises(ValueError, match=rf"Found array with {n} sample\(s\)"):
            check_ecg_array(X, ensure_min_samples=minimum)


def test_ecg_array_rejects_1d_complex_and_strings():
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        check_ecg_array(np.zeros(5))
    with pytest.raises(ValueError, match="Complex data not supported"):
        check_ecg_array(np.zeros((2, 2, 3), dtype=complex))
    with pytest.raises(ValueError, match="could not convert string to float"):
        check_ecg_array(np.full((2, 2, 3), "x", dtype=object))


# --- check_survival_y -------------------------------------------------------------------------------------------


@st.composite
def survival_outcomes(draw, min_size=1, max_size=40):
    """Event indicators with at least one event and finite non-negative times (ties allowed)."""
    n = draw(st.integers(min_size, max_size))
    event = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    event[draw(st.integers(0, n - 1))] = True
    time = np.array(draw(st.lists(st.sampled_from([0.0, 1.0, 2.5, 3.0]) | st.floats(0, 1e4), min_size=n, max_size=n)))
    return event, time


@SETTINGS
@given(outcome=survival_outcomes())
def test_survival_y_roundtrip(outcome):
    event, time = outcome
    X = np.zeros((len(event), 2, 3))
    got_event, got_time = check_survival_y(X, Surv.from_arrays(event, time))
    assert got_event.dtype == bool
    assert got_time.dtype == np.float64
    np.testing.assert_array_equal(got_event, event)
    np.testing.assert_array_equal(got_time, time)


@SETTINGS
@given(outcome=survival_outcomes())
def test_survival_y_time_zero_policy(outcome):
    event, time = outcome
    X = np.zeros((len(event), 1, 1))
    y = Surv.from_arrays(event, time)
    check_survival_y(X, y)  # zero allowed by default
    if (time == 0).any():
        with pytest.raises(ValueError, match="smaller or equal to zero"):
            check_survival_y(X, y, allow_time_zero=False)
    else:
        check_survival_y(X, y, allow_time_zero=False)


@SETTINGS
@given(outcome=survival_outcomes(), data=st.data())
def test_survival_y_negative_time(outcome, data):
    event, time = outcome
    time[data.draw(st.integers(0, len(time) - 1))] = -data.draw(st.floats(1e-6, 1e4))
    with pytest.raises(ValueError, match="observed time contains values smaller zero"):
        check_survival_y(np.zeros((len(event), 1, 1)), Surv.from_arrays(event, time))


@SETTINGS
@given(outcome=survival_outcomes(), value=st.sampled_from([np.nan, np.inf]), data=st.data())
def test_survival_y_non_finite_time(outcome, value, data):
    event, time = outcome
    time[data.draw(st.integers(0, len(time) - 1))] = value
    y = np.empty(len(event), dtype=[("event", bool), ("time", float)])
    y["event"], y["time"] = event, time
    with pytest.raises(ValueError, match="Input contains (NaN|infinity)"):
        check_survival_y(np.zeros((len(event), 1, 1)), y)


@SETTINGS
@given(outcome=survival_outcomes())
def test_survival_y_all_censored(outcome):
    _, time = outcome
    with pytest.raises(ValueError, match="all samples are censored"):
        check_survival_y(np.zeros((len(time), 1, 1)), Surv.from_arrays(np.zeros(len(time), bool), time))


@SETTINGS
@given(outcome=survival_outcomes(), extra=st.integers(-3, 3).filter(bool))
def test_survival_y_length_mismatch(outcome, extra):
    event, time = outcome
    n_X = len(event) + extra
    if n_X < 0:
        return
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        check_survival_y(np.zeros((n_X, 1, 1)), Surv.from_arrays(event, time))


@pytest.mark.parametrize(
    ("y", "match"),
    [
        pytest.param(None, "requires y to be passed", id="none"),
        pytest.param(np.arange(4.0), "y must be a structured array", id="1d"),
        pytest.param(np.ones((4, 2)), "y must be a structured array", id="2d"),
    ],
)
def test_survival_y_wrong_types(y, match):
    with pytest.raises(ValueError, match=match):
        check_survival_y(np.zeros((4, 1, 1)), y)


# --- check_event_batching ---------------------------------------------------------------------------------------


@SETTINGS
@given(
    event=st.lists(st.booleans(), min_size=1, max_size=200).map(np.array),
    batch_size=st.integers(1, 64),
    min_events=st.integers(0, 5),
)
def test_event_batching_decision(event, batch_size, min_events):
    n_batches = max(1, len(event) // batch_size)
    n_events = int(event.sum())
    if n_events >= n_batches * min_events:
        assert check_event_batching(event, batch_size, min_events) == n_batches
        return
    with pytest.raises(InsufficientEventsError) as info:
        check_event_batching(event, batch_size, min_events)
    message = str(info.value)
    assert isinstance(info.value, ValueError)
    assert message.startswith(f"{n_events} events cannot give each of {n_batches} batches")
    assert f"min_events_per_batch={min_events}" in message


@SETTINGS
@given(
    event=st.lists(st.booleans(), min_size=1, max_size=200).map(np.array),
    batch_size=st.integers(1, 64),
    min_events=st.integers(1, 5),
)
def test_event_batching_remedy_works(event, batch_size, min_events):
    """The batch size the error suggests does satisfy the check (when enough events exist at all)."""
    try:
        check_event_batching(event, batch_size, min_events)
    except InsufficientEventsError as err:
        message = str(err)
        if int(event.sum()) < min_events:  # no batch size helps
            assert f"lower min_events_per_batch to at most {int(event.sum())}" in message
            assert "batch_size >=" not in message
            return
        suggested = int(message.split("batch_size >= ")[1].split(")")[0])
        assert check_event_batching(event, suggested, min_events) >= 1


@SETTINGS
@given(
    event=st.lists(st.booleans(), min_size=2, max_size=120).map(np.array),
    batch_size=st.integers(2, 32),
    min_events=st.integers(1, 3),
    seed=st.integers(0, 2**16),
)
def test_event_batching_agrees_with_the_sampler(event, batch_size, min_events, seed):
    """Accepted data never gives the sampler a batch short of events; refused data is refused by it too."""
    try:
        n_batches = check_event_batching(event, batch_size, min_events)
    except InsufficientEventsError:
        with pytest.raises(InsufficientEventsError):
            StratifiedBatchSampler(event, batch_size, min_events_per_batch=min_events, random_state=seed)
        return
    sampler = StratifiedBatchSampler(event, batch_size, min_events_per_batch=min_events, random_state=seed)
    batches = list(sampler)
    assert len(batches) == n_batches
    assert all(event[b].sum() >= min_events for b in batches)
    assert sorted(i for b in batches for i in b) == list(range(len(event)))


@pytest.mark.parametrize(
    ("batch_size", "min_events", "match"),
    [
        pytest.param(0, 1, "batch_size=0 must be a positive integer", id="batch_size-0"),
        pytest.param(-2, 1, "batch_size=-2 must be a positive integer", id="batch_size-negative"),
        pytest.param(2.5, 1, "batch_size=2.5 must be a positive integer", id="batch_size-float"),
        pytest.param(4, -1, "min_events_per_batch=-1 must be a non-negative integer", id="min_events-negative"),
        pytest.param(4, 1.5, "min_events_per_batch=1.5 must be a non-negative integer", id="min_events-float"),
    ],
)
def test_event_batching_bad_arguments(batch_size, min_events, match):
    with pytest.raises(ValueError, match=match):
        check_event_batching(np.ones(8, dtype=bool), batch_size, min_events)


# --- from the reliability matrix (RELIABILITY.md) ---------------------------------------------------


def _surv(event, time):
    return Surv.from_arrays(np.asarray(event, dtype=bool), np.asarray(time, dtype=float))


@pytest.mark.parametrize("method", ["fit", "predict", "transform"])
def test_non_finite_X_is_rejected(check_data, check_model, check_embedder, method, non_finite_value):
    """RELIABILITY row 9."""
    X, y = check_data
    bad = X.copy()
    bad[3, 1, 7] = non_finite_value
    call = {
        "fit": lambda: clone(check_model).fit(bad, y),
        "predict": lambda: check_model.predict(bad),
        "transform": lambda: check_embedder.transform(bad),
    }[method]
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        call()


def test_non_finite_X_is_rejected_by_embedder_fit(tiny_net, check_data, non_finite_value):
    """RELIABILITY row 9."""
    bad = check_data[0].copy()
    bad[0, 0, 0] = non_finite_value
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        ECGEmbedder(**tiny_net).fit(bad)


@pytest.mark.parametrize("n", [0, 1])
def test_fit_rejects_empty_and_single_sample_X(tiny_net, check_data, n):
    """RELIABILITY row 10."""
    X, y = check_data
    with pytest.raises(ValueError, match=rf"Found array with {n} sample\(s\)"):
        ECGSurvivalAnalysis(**tiny_net).fit(X[:n], y[:n])
    with pytest.raises(ValueError, match=rf"Found array with {n} sample\(s\)"):
        ECGEmbedder(**tiny_net).fit(X[:n])


def test_predict_rejects_empty_X(check_data, check_model):
    """RELIABILITY row 10."""
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        check_model.predict(check_data[0][:0])


def test_predict_rejects_another_lead_count(check_data, check_model, check_embedder):
    """RELIABILITY row 11."""
    X, _ = check_data
    wrong = np.zeros((3, 3, X.shape[2]), dtype=np.float32)
    with pytest.raises(ValueError, match="X has 3 features, but ECGSurvivalAnalysis is expecting 2"):
        check_model.predict(wrong)
    with pytest.raises(ValueError, match="X has 3 features, but ECGEmbedder is expecting 2"):
        check_embedder.transform(wrong)


def test_predict_rejects_another_signal_length(check_data, check_model, check_embedder):
    """RELIABILITY row 12."""
    X, _ = check_data
    with pytest.raises(ValueError, match="X has 50 time steps, but ECGSurvivalAnalysis was fitted with 40"):
        check_model.predict(np.zeros((3, 2, 50), dtype=np.float32))
    with pytest.raises(ValueError, match="X has 30 time steps, but ECGEmbedder was fitted with 40"):
        check_embedder.transform(np.zeros((3, 2, 30), dtype=np.float32))


@pytest.mark.parametrize(
    ("make_X", "params", "match"),
    [
        pytest.param(lambda X: X[:, 0, 0], {}, "Expected 2D array, got 1D array", id="1d"),
        pytest.param(lambda X: X[..., None], {}, "X has 4 dimensions", id="4d"),
        pytest.param(lambda X: X.reshape(len(X), -1), {"n_leads": 3}, "not divisible by n_leads=3", id="2d-width"),
        pytest.param(lambda X: X.reshape(len(X), -1), {}, "cannot tell how many leads", id="2d-no-n_leads"),
    ],
)
def test_X_of_wrong_dimensionality_is_rejected(tiny_net, check_data, make_X, params, match):
    """RELIABILITY row 13."""
    X, y = check_data
    with pytest.raises(ValueError, match=match):
        ECGSurvivalAnalysis(**tiny_net, **params).fit(make_X(X), y)


def test_flat_2d_X_with_n_leads_equals_3d_X(tiny_net, check_data, check_model):
    """RELIABILITY row 13."""
    X, y = check_data
    flat = ECGSurvivalAnalysis(**tiny_net, n_leads=2).fit(X.reshape(len(X), -1), y)
    np.testing.assert_array_equal(flat.predict(X.reshape(len(X), -1)), check_model.predict(X))
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        flat.predict(X[0].ravel())


@pytest.mark.parametrize(
    ("make_X", "error", "match"),
    [
        pytest.param(lambda X: X.astype(np.complex64), ValueError, "Complex data not supported", id="complex"),
        pytest.param(lambda X: np.full(X.shape, "a", dtype=object), ValueError, "could not convert", id="object-str"),
        pytest.param(lambda X: sp.csr_matrix(X.reshape(len(X), -1)), TypeError, "Sparse data was passed", id="sparse"),
    ],
)
def test_complex_string_and_sparse_X_are_rejected(tiny_net, check_data, make_X, error, match):
    """RELIABILITY row 14."""
    X, y = check_data
    with pytest.raises(error, match=match):
        ECGSurvivalAnalysis(**tiny_net, n_leads=2).fit(make_X(X), y)


def test_numeric_object_X_is_converted(check_data, check_model):
    """RELIABILITY row 14."""
    X, y = check_data
    np.testing.assert_array_equal(check_model.predict(X.astype(object)), check_model.predict(X))


def test_float64_and_integer_X_fit_as_float32(tiny_net, check_data, check_model):
    """RELIABILITY row 15."""
    X, y = check_data
    # float64 holding float32 values: the very same model as the float32 fit
    model64 = ECGSurvivalAnalysis(**tiny_net).fit(X.astype(np.float64), y)
    np.testing.assert_array_equal(model64.predict(X.astype(np.float64)), check_model.predict(X))
    # integers: the same model as on their float32 conversion
    X_int = (X * 10).astype(np.int64)
    model_int = ECGSurvivalAnalysis(**tiny_net).fit(X_int, y)
    reference = ECGSurvivalAnalysis(**tiny_net).fit(X_int.astype(np.float32), y)
    expected = reference.predict(X_int.astype(np.float32))
    np.testing.assert_array_equal(model_int.predict(X_int.astype(np.int32)), expected)
    assert model_int.predict(X_int).dtype == np.float64


@pytest.mark.parametrize(
    "make_y",
    [
        pytest.param(lambda y: y["time"], id="1d-times"),
        pytest.param(lambda y: np.column_stack([y["event"], y["time"]]), id="2d-array"),
        pytest.param(lambda y: y[["time", "event"]], id="fields-swapped"),
        pytest.param(lambda y: list(y["time"]), id="list"),
    ],
)
def test_y_that_is_not_a_survival_array_is_rejected(tiny_net, check_data, make_y):
    """RELIABILITY row 17."""
    X, y = check_data
    # swapped fields are caught one step later, by the type of the first field
    with pytest.raises(ValueError, match="y must be a structured array|event indicator must be boolean"):
        ECGSurvivalAnalysis(**tiny_net).fit(X, make_y(y))


def test_fit_without_y_is_rejected(tiny_net, check_data):
    """RELIABILITY row 18."""
    with pytest.raises(ValueError, match="requires y to be passed"):
        ECGSurvivalAnalysis(**tiny_net).fit(check_data[0], None)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        pytest.param(-1.0, "observed time contains values smaller zero", id="negative"),
        pytest.param(np.nan, "Input contains NaN", id="nan"),
        pytest.param(np.inf, "Input contains infinity", id="inf"),
        pytest.param(-np.inf, "Input contains infinity", id="-inf"),
    ],
)
def test_negative_and_non_finite_times_are_rejected(tiny_net, check_data, value, match):
    """RELIABILITY row 19."""
    X, y = check_data
    y = y.copy()
    y["time"][2] = value
    with pytest.raises(ValueError, match=match):
        ECGSurvivalAnalysis(**tiny_net).fit(X, y)


def test_time_zero_is_accepted_by_default(tiny_net, check_data):
    """RELIABILITY row 20."""
    X, y = check_data
    y = y.copy()
    y["time"][:4] = 0.0  # two events and two censored samples at time 0
    model = ECGSurvivalAnalysis(**tiny_net).fit(X, y)
    assert np.isfinite(model.predict(X)).all()
    assert model.unique_times_[0] == 0.0


def test_time_zero_can_be_refused(check_data):
    """RELIABILITY row 20. The switch is ``check_survival_y(..., allow_time_zero=False)`` (scikit-survival's name)."""
    X, y = check_data
    y = y.copy()
    y["time"][0] = 0.0
    check_survival_y(X, y)
    with pytest.raises(ValueError, match="observed time contains values smaller or equal to zero"):
        check_survival_y(X, y, allow_time_zero=False)


def test_event_coded_0_2_is_rejected(tiny_net, check_data):
    """RELIABILITY row 21."""
    X, y = check_data
    with pytest.raises(ValueError, match="non-boolean event indicator must contain 0 and 1 only"):
        Surv.from_arrays(np.where(y["event"], 2, 0), y["time"])
    bad = np.empty(len(y), dtype=[("event", int), ("time", float)])
    bad["event"], bad["time"] = np.where(y["event"], 2, 0), y["time"]
    # an integer-coded structured y is refused outright: the event field must be boolean
    with pytest.raises(ValueError, match="elements of event indicator must be boolean, but found int64"):
        ECGSurvivalAnalysis(**tiny_net).fit(X, bad)


def test_all_censored_y_is_rejected(tiny_net, check_data):
    """RELIABILITY row 22."""
    X, y = check_data
    with pytest.raises(ValueError, match="all samples are censored"):
        ECGSurvivalAnalysis(**tiny_net).fit(X, _surv(np.zeros(len(y)), y["time"]))


@pytest.mark.parametrize("n_y", [20, 30])
def test_X_and_y_of_different_lengths_are_rejected(tiny_net, n_y):
    """RELIABILITY row 23."""
    X, _ = survival_check_data(n_samples=24)
    _, y = survival_check_data(n_samples=n_y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        ECGSurvivalAnalysis(**tiny_net).fit(X, y)


# --- RELIABILITY row 69: microvolts, reversed leads, V1 and V6 exchanged (real records) -----------------------

import warnings  # noqa: E402

from sksurv_ecg.datasets import load_ecg_examples  # noqa: E402
from sksurv_ecg.exceptions import LeadOrderWarning  # noqa: E402
from sksurv_ecg.io import read_ecg  # noqa: E402
from sksurv_ecg.preprocessing import MedianBeat  # noqa: E402
from sksurv_ecg.utils.validation import check_ecg_amplitude, check_lead_order, validate_ecg  # noqa: E402

SWAP_V1_V6 = [0, 1, 2, 3, 4, 5, 11, 7, 8, 9, 10, 6]


@pytest.fixture(scope="module")
def real_ecgs(ptbxl_sample):
    """19 real 10-s 12-lead ECGs at 500 Hz in mV: 14 PTB-XL records and the 5 bundled clinical files."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the readers' notes on derived leads are not the subject here
        clinical, _ = read_ecg(load_ecg_examples(), fs=500, length=5000)
    return np.concatenate([ptbxl_sample[0], clinical]).astype(np.float32)


@pytest.fixture(scope="module")
def real_beats(real_ecgs):
    return MedianBeat().fit_transform(real_ecgs)


def test_amplitude_check_accepts_real_millivolts_and_refuses_microvolts(real_ecgs, real_beats):
    for X in (real_ecgs, real_beats):
        check_ecg_amplitude(X, owner="test")
        with pytest.raises(ValueError, match=r"looks like microvolts.*range .* of \d+.*divide X by 1000"):
            check_ecg_amplitude(X * 1000, owner="test")


def test_deep_estimators_refuse_microvolts(tiny_net, real_beats, check_data):
    """validate_ecg, the deep estimators' input check, refuses at fit and at predict."""
    X = real_beats[:4] * 1000
    with pytest.raises(ValueError, match="looks like microvolts"):
        validate_ecg(ECGEmbedder(), X, reset=True)
    est = ECGEmbedder()
    validate_ecg(est, real_beats[:4], reset=True)
    with pytest.raises(ValueError, match="looks like microvolts"):
        validate_ecg(est, X, reset=False)
    X_small, y = check_data
    with pytest.raises(ValueError, match=r"looks like microvolts.*ECGSurvivalAnalysis expects mV"):
        ECGSurvivalAnalysis(**tiny_net).fit(X_small * 1000, y)


@pytest.mark.parametrize("kind", ["strips", "beats"])
def test_lead_checks_are_silent_on_real_records(real_ecgs, real_beats, kind):
    X = real_ecgs if kind == "strips" else real_beats
    assert not check_lead_order(X).warned  # warnings are errors
    for i in range(X.shape[0]):
        assert not check_lead_order(X[i : i + 1]).warned


@pytest.mark.parametrize("kind", ["strips", "beats"])
def test_fully_reversed_leads_are_warned_even_for_one_record(real_ecgs, real_beats, kind):
    X = (real_ecgs if kind == "strips" else real_beats)[:, ::-1]
    with pytest.warns(LeadOrderWarning, match=r"12 leads of X look reversed.*column 0 holds V6.*X\[:, ::-1\]"):
        result = check_lead_order(X)
    assert result.warned
    assert result.order == (11, 10, 9, 8, 7, 6)
    for i in range(X.shape[0]):
        with pytest.warns(LeadOrderWarning, match="look reversed"):
            check_lead_order(X[i : i + 1])


@pytest.mark.parametrize("kind", ["strips", "beats"])
def test_v1_v6_exchange_is_warned_for_a_cohort_only(real_ecgs, real_beats, kind):
    X = real_ecgs if kind == "strips" else real_beats
    swapped = X[:, SWAP_V1_V6]
    with pytest.warns(
        LeadOrderWarning, match=r"V1 and V6 look exchanged in 19 of 19 records.*X\[:, \[0, 1, 2, 3, 4, 5, 11"
    ):
        assert check_lead_order(swapped).warned
    for i in range(X.shape[0]):  # one record alone: a patient can look like this, never warned
        assert not check_lead_order(swapped[i : i + 1]).warned
    minority = X.copy()
    minority[:9] = swapped[:9]  # 9 of 19 exchanged: not a majority
    assert not check_lead_order(minority).warned


def test_deep_estimator_warns_on_reversed_leads_at_fit(tiny_net, real_beats):
    with pytest.warns(LeadOrderWarning, match="look reversed"):
        ECGEmbedder(**tiny_net).fit(np.ascontiguousarray(real_beats[:8, ::-1, ::8]))  # short: a fast fit
