"""The reliability matrix (``RELIABILITY.md``): one explicit test per row, named ``test_rowNN_*``.

Each test uses tiny networks on tiny data, so the whole file runs in well under a minute on a CPU.
Where the package deliberately differs from the table, the test asserts what it does and the
difference is written down in ``docs/differences.md``.
"""

import json
import pickle
import re
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
import torch
import wfdb
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning, NotFittedError
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
from sklearn.utils import get_tags
from sklearn.utils._param_validation import InvalidParameterError
from sksurv.exceptions import NoComparablePairException
from sksurv.util import Surv

from sksurv_ecg import (
    DeviceWarning,
    ECGEmbedder,
    ECGSurvivalAnalysis,
    InsufficientEventsError,
    TextAlignedPretrainer,
    TrainingWarning,
    load_estimator,
)
from sksurv_ecg.io import read_wfdb
from sksurv_ecg.losses import cox_ph_loss
from sksurv_ecg.preprocessing import BandpassFilter, LeadStandardizer, Resample
from sksurv_ecg.sampling import StratifiedBatchSampler
from sksurv_ecg.utils.estimator_checks import survival_check_data
from sksurv_ecg.utils.validation import check_survival_y

DATA = Path(__file__).parent / "data"

#: A network of a few thousand weights: 2 leads x 40 samples train in well under a second per fit.
TINY = {
    "max_epochs": 1,
    "batch_size": 8,
    "random_state": 0,
    "module__downsample": 2,
    "module__base_features": 2,
    "module__n_heads": 2,
    "module__latent_dim": 8,
}


@pytest.fixture(scope="module")
def data():
    """24 ECGs of 2 leads x 40 samples, 12 events."""
    return survival_check_data()


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return ECGSurvivalAnalysis(**TINY).fit(X, y)


@pytest.fixture(scope="module")
def fitted_embedder(data):
    return ECGEmbedder(**TINY).fit(data[0])


def _surv(event, time):
    return Surv.from_arrays(np.asarray(event, dtype=bool), np.asarray(time, dtype=float))


# --- rows 1-8: the scikit-learn estimator contract ------------------------------------------------------------


@pytest.mark.parametrize(
    ("estimator", "method"),
    [
        pytest.param(ECGSurvivalAnalysis(**TINY), "predict", id="survival-predict"),
        pytest.param(ECGSurvivalAnalysis(**TINY), "predict_survival_function", id="survival-sf"),
        pytest.param(ECGSurvivalAnalysis(**TINY), "predict_cumulative_hazard_function", id="survival-chf"),
        pytest.param(ECGSurvivalAnalysis(**TINY), "attention", id="survival-attention"),
        pytest.param(ECGEmbedder(**TINY), "transform", id="embedder-transform"),
        pytest.param(TextAlignedPretrainer(**TINY), "transform", id="pretrainer-transform"),
    ],
)
def test_row01_unfitted_raises_not_fitted(data, estimator, method):
    with pytest.raises(NotFittedError):
        getattr(estimator, method)(data[0])


def test_row01_unfitted_save_raises_not_fitted(tmp_path):
    with pytest.raises(NotFittedError):
        ECGSurvivalAnalysis(**TINY).save(tmp_path / "m")


@pytest.mark.parametrize(
    ("param", "value"),
    [
        pytest.param("lr", "fast", id="lr-str"),
        pytest.param("ties", "exact", id="ties"),
        pytest.param("alpha", 2.0, id="alpha"),
        pytest.param("dropout_mode", "sometimes", id="dropout_mode"),
        pytest.param("selection", "best", id="selection"),
        pytest.param("precision", "fp8", id="precision"),
        pytest.param("min_events_per_batch", 0, id="min_events"),
    ],
)
def test_row02_garbage_params_fail_at_fit_only(data, param, value):
    X, y = data
    estimator = ECGSurvivalAnalysis(**{**TINY, param: value})  # no error in __init__
    clone(estimator).set_params(**{param: value})  # nor in set_params
    with pytest.raises(InvalidParameterError, match=f"The '{param}' parameter of ECGSurvivalAnalysis must be"):
        estimator.fit(X, y)


def test_row02_unknown_routed_prefix_fails_at_fit(data):
    X, y = data
    estimator = ECGSurvivalAnalysis(**TINY, modul__n_heads=2)  # a typo: no error yet
    with pytest.raises(TypeError, match="unexpected parameter 'modul__n_heads'"):
        estimator.fit(X, y)


@pytest.mark.parametrize(
    ("params", "name"),
    [
        pytest.param({"dropout": 1.0}, "dropout", id="dropout-1"),
        pytest.param({"head_dropout": 1.0}, "head_dropout", id="head_dropout-1"),
        pytest.param({"lr": 0.0}, "lr", id="lr-0"),
        pytest.param({"lr": -1e-3}, "lr", id="lr-negative"),
        pytest.param({"batch_size": 1}, "batch_size", id="batch_size-1"),
        pytest.param({"batch_size": 0}, "batch_size", id="batch_size-0"),
        pytest.param({"max_epochs": 0}, "max_epochs", id="max_epochs-0"),
    ],
)
def test_row03_out_of_range_params(data, params, name):
    X, y = data
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter .* must be .* range"):
        ECGSurvivalAnalysis(**{**TINY, **params}).fit(X, y)


@pytest.mark.parametrize("params", [{"dropout": 1.0}, {"lr": 0.0}, {"batch_size": 1}, {"max_epochs": 0}])
def test_row03_out_of_range_params_embedder(data, params):
    with pytest.raises(InvalidParameterError, match="parameter of ECGEmbedder must be"):
        ECGEmbedder(**{**TINY, **params}).fit(data[0])


def test_row04_fit_twice_same_seed_identical(data, fitted, fitted_embedder):
    X, y = data
    np.testing.assert_array_equal(ECGSurvivalAnalysis(**TINY).fit(X, y).predict(X), fitted.predict(X))
    np.testing.assert_array_equal(ECGEmbedder(**TINY).fit(X).transform(X), fitted_embedder.transform(X))


def test_row05_clone_and_params_roundtrip(fitted):
    params = fitted.get_params()
    assert params["module__n_heads"] == 2  # routed parameters are parameters
    cloned = clone(fitted)
    assert cloned.get_params() == params
    assert not hasattr(cloned, "net_")
    assert not [k for k in vars(cloned) if k.endswith("_") and not k.startswith("_")]
    cloned.set_params(lr=5e-4, module__n_heads=1)
    assert cloned.get_params()["lr"] == 5e-4
    assert cloned.get_params()["module__n_heads"] == 1
    assert fitted.get_params()["module__n_heads"] == 2  # the original is untouched
    assert ECGSurvivalAnalysis(**params).get_params() == params


def test_row06_pickle_and_joblib_roundtrip(data, fitted, tmp_path):
    X, _ = data
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))
    joblib.dump(fitted, tmp_path / "model.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "model.joblib").predict(X), fitted.predict(X))


@pytest.mark.skipif(torch.cuda.is_available(), reason="simulates a CPU-only host")
def test_row06_pickle_of_cuda_model_loads_on_cpu_only_host(data, fitted):
    """A pickle made where the net lived on CUDA is unpickled onto the CPU (skorch maps it)."""
    X, _ = data
    model = pickle.loads(pickle.dumps(fitted))
    model.net_.device = "cuda"  # what a net trained on a GPU pickles as its device
    with pytest.warns(Warning, match=r"requested device \(cuda\) is not available|no CUDA devices"):
        restored = pickle.loads(pickle.dumps(model))
    assert torch.device(restored.net_.device).type == "cpu"
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))


def test_row07_predict_does_not_mutate_state(data, fitted, fitted_embedder):
    X, _ = data
    for estimator, methods in [
        (fitted, ("predict", "predict_survival_function", "predict_cumulative_hazard_function", "attention")),
        (fitted_embedder, ("transform",)),
    ]:
        before = {k: v for k, v in vars(estimator).items() if k != "net_"}
        weights = {k: v.clone() for k, v in estimator.net_.module_.state_dict().items()}  # BN statistics too
        for method in methods:
            getattr(estimator, method)(X)
        after = {k: v for k, v in vars(estimator).items() if k != "net_"}
        assert after.keys() == before.keys()
        assert all(after[k] is before[k] for k in before)
        for key, value in estimator.net_.module_.state_dict().items():
            torch.testing.assert_close(value, weights[key], rtol=0, atol=0, msg=key)


def test_row08_subset_and_permutation_invariance(data, fitted, fitted_embedder):
    """Eval mode: no dropout, BatchNorm on running statistics. Agreement to float32 round-off."""
    X, _ = data
    order = np.random.default_rng(1).permutation(X.shape[0])
    full = fitted.predict(X)
    np.testing.assert_allclose(fitted.predict(X[order]), full[order], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fitted.predict(X[:5]), full[:5], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fitted.predict(X[7:8]), full[7:8], rtol=1e-6, atol=1e-7)
    Z = fitted_embedder.transform(X)
    np.testing.assert_allclose(fitted_embedder.transform(X[order]), Z[order], rtol=1e-6, atol=1e-7)


# --- rows 9-16: X --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["fit", "predict", "transform"])
def test_row09_nan_inf_rejected(data, fitted, fitted_embedder, method, non_finite_value):
    X, y = data
    bad = X.copy()
    bad[3, 1, 7] = non_finite_value
    call = {
        "fit": lambda: clone(fitted).fit(bad, y),
        "predict": lambda: fitted.predict(bad),
        "transform": lambda: fitted_embedder.transform(bad),
    }[method]
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        call()


def test_row09_nan_inf_rejected_embedder_fit(data, non_finite_value):
    bad = data[0].copy()
    bad[0, 0, 0] = non_finite_value
    with pytest.raises(ValueError, match="Input X contains (NaN|infinity)"):
        ECGEmbedder(**TINY).fit(bad)


@pytest.mark.parametrize("n", [0, 1])
def test_row10_empty_and_single_sample(data, n):
    X, y = data
    with pytest.raises(ValueError, match=rf"Found array with {n} sample\(s\)"):
        ECGSurvivalAnalysis(**TINY).fit(X[:n], y[:n])
    with pytest.raises(ValueError, match=rf"Found array with {n} sample\(s\)"):
        ECGEmbedder(**TINY).fit(X[:n])


def test_row10_empty_predict(data, fitted):
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        fitted.predict(data[0][:0])


def test_row11_wrong_lead_count_at_predict(data, fitted, fitted_embedder):
    X, _ = data
    wrong = np.zeros((3, 3, X.shape[2]), dtype=np.float32)
    with pytest.raises(ValueError, match="X has 3 features, but ECGSurvivalAnalysis is expecting 2"):
        fitted.predict(wrong)
    with pytest.raises(ValueError, match="X has 3 features, but ECGEmbedder is expecting 2"):
        fitted_embedder.transform(wrong)


def test_row12_wrong_signal_length_at_predict(data, fitted, fitted_embedder):
    X, _ = data
    with pytest.raises(ValueError, match="X has 50 time steps, but ECGSurvivalAnalysis was fitted with 40"):
        fitted.predict(np.zeros((3, 2, 50), dtype=np.float32))
    with pytest.raises(ValueError, match="X has 30 time steps, but ECGEmbedder was fitted with 40"):
        fitted_embedder.transform(np.zeros((3, 2, 30), dtype=np.float32))


@pytest.mark.parametrize(
    ("make_X", "params", "match"),
    [
        pytest.param(lambda X: X[:, 0, 0], {}, "Expected 2D array, got 1D array", id="1d"),
        pytest.param(lambda X: X[..., None], {}, "X has 4 dimensions", id="4d"),
        pytest.param(lambda X: X.reshape(len(X), -1), {"n_leads": 3}, "not divisible by n_leads=3", id="2d-width"),
        pytest.param(lambda X: X.reshape(len(X), -1), {}, "cannot tell how many leads", id="2d-no-n_leads"),
    ],
)
def test_row13_bad_dimensions(data, make_X, params, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        ECGSurvivalAnalysis(**TINY, **params).fit(make_X(X), y)


def test_row13_2d_input_with_n_leads_works(data, fitted):
    X, y = data
    flat = ECGSurvivalAnalysis(**TINY, n_leads=2).fit(X.reshape(len(X), -1), y)
    np.testing.assert_array_equal(flat.predict(X.reshape(len(X), -1)), fitted.predict(X))
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
def test_row14_complex_object_sparse(data, make_X, error, match):
    X, y = data
    with pytest.raises(error, match=match):
        ECGSurvivalAnalysis(**TINY, n_leads=2).fit(make_X(X), y)


def test_row14_numeric_object_array_is_converted(data, fitted):
    X, y = data
    np.testing.assert_array_equal(fitted.predict(X.astype(object)), fitted.predict(X))


def test_row15_float64_and_int_converted_to_float32(data, fitted):
    X, y = data
    # float64 holding float32 values: the very same model as the float32 fit
    model64 = ECGSurvivalAnalysis(**TINY).fit(X.astype(np.float64), y)
    np.testing.assert_array_equal(model64.predict(X.astype(np.float64)), fitted.predict(X))
    # integers: the same model as on their float32 conversion
    X_int = (X * 10).astype(np.int64)
    model_int = ECGSurvivalAnalysis(**TINY).fit(X_int, y)
    reference = ECGSurvivalAnalysis(**TINY).fit(X_int.astype(np.float32), y)
    expected = reference.predict(X_int.astype(np.float32))
    np.testing.assert_array_equal(model_int.predict(X_int.astype(np.int32)), expected)
    assert model_int.predict(X_int).dtype == np.float64


@pytest.mark.parametrize(
    "make_transformer",
    [
        pytest.param(lambda: ECGEmbedder(**TINY), id="ECGEmbedder"),
        pytest.param(lambda: LeadStandardizer(), id="LeadStandardizer"),
        pytest.param(lambda: Resample(fs_in=40, fs_out=20), id="Resample"),
        pytest.param(lambda: BandpassFilter(fs=40, low=1.0, high=10.0), id="BandpassFilter"),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_row16_transform_dtype_is_declared(data, fitted_embedder, make_transformer, dtype):
    X = data[0].astype(dtype)
    transformer = make_transformer()
    declared = get_tags(transformer).transformer_tags.preserves_dtype
    assert declared == ["float32"]
    fitted_transformer = fitted_embedder if isinstance(transformer, ECGEmbedder) else transformer.fit(X)
    assert fitted_transformer.transform(X).dtype == np.dtype(declared[0])


# --- rows 17-23: y -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_y",
    [
        pytest.param(lambda y: y["time"], id="1d-times"),
        pytest.param(lambda y: np.column_stack([y["event"], y["time"]]), id="2d-array"),
        pytest.param(lambda y: y[["time", "event"]], id="fields-swapped"),
        pytest.param(lambda y: list(y["time"]), id="list"),
    ],
)
def test_row17_plain_or_wrong_structure_y(data, make_y):
    X, y = data
    # swapped fields are caught one step later, by the type of the first field
    with pytest.raises(ValueError, match="y must be a structured array|event indicator must be boolean"):
        ECGSurvivalAnalysis(**TINY).fit(X, make_y(y))


def test_row18_y_none(data):
    with pytest.raises(ValueError, match="requires y to be passed"):
        ECGSurvivalAnalysis(**TINY).fit(data[0], None)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        pytest.param(-1.0, "observed time contains values smaller zero", id="negative"),
        pytest.param(np.nan, "Input contains NaN", id="nan"),
        pytest.param(np.inf, "Input contains infinity", id="inf"),
        pytest.param(-np.inf, "Input contains infinity", id="-inf"),
    ],
)
def test_row19_bad_times(data, value, match):
    X, y = data
    y = y.copy()
    y["time"][2] = value
    with pytest.raises(ValueError, match=match):
        ECGSurvivalAnalysis(**TINY).fit(X, y)


def test_row20_zero_times_accepted_by_default(data):
    X, y = data
    y = y.copy()
    y["time"][:4] = 0.0  # two events and two censored samples at time 0
    model = ECGSurvivalAnalysis(**TINY).fit(X, y)
    assert np.isfinite(model.predict(X)).all()
    assert model.unique_times_[0] == 0.0


def test_row20_zero_times_policy_switch(data):
    """The switch is ``check_survival_y(..., allow_time_zero=False)`` (scikit-survival's name)."""
    X, y = data
    y = y.copy()
    y["time"][0] = 0.0
    check_survival_y(X, y)
    with pytest.raises(ValueError, match="observed time contains values smaller or equal to zero"):
        check_survival_y(X, y, allow_time_zero=False)


def test_row21_event_coded_0_2(data):
    X, y = data
    with pytest.raises(ValueError, match="non-boolean event indicator must contain 0 and 1 only"):
        Surv.from_arrays(np.where(y["event"], 2, 0), y["time"])
    bad = np.empty(len(y), dtype=[("event", int), ("time", float)])
    bad["event"], bad["time"] = np.where(y["event"], 2, 0), y["time"]
    # an integer-coded structured y is refused outright: the event field must be boolean
    with pytest.raises(ValueError, match="elements of event indicator must be boolean, but found int64"):
        ECGSurvivalAnalysis(**TINY).fit(X, bad)


def test_row22_all_censored(data):
    X, y = data
    with pytest.raises(ValueError, match="all samples are censored"):
        ECGSurvivalAnalysis(**TINY).fit(X, _surv(np.zeros(len(y)), y["time"]))


@pytest.mark.parametrize("n_y", [20, 30])
def test_row23_inconsistent_lengths(n_y):
    X, _ = survival_check_data(n_samples=24)
    _, y = survival_check_data(n_samples=n_y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        ECGSurvivalAnalysis(**TINY).fit(X, y)


# --- rows 24-30: events, batches and the loss ----------------------------------------------------------------


def test_row24_too_few_events_for_the_batches(data):
    X, y = data
    y = _surv(np.arange(len(y)) < 3, y["time"])  # 3 events, 3 batches of 8, 2 events each needed
    with pytest.raises(InsufficientEventsError, match=r"3 events cannot give each of 3 batches") as info:
        ECGSurvivalAnalysis(**TINY).fit(X, y)
    assert isinstance(info.value, ValueError)
    assert "min_events_per_batch=2" in str(info.value)
    assert "use at most 1 batches (batch_size >= 24)" in str(info.value)  # the remedy
    # the remedy works, and every batch the sampler yields then holds the events it promises
    ECGSurvivalAnalysis(**{**TINY, "batch_size": 24}).fit(X, y)
    sampler = StratifiedBatchSampler(y["event"], 8, min_events_per_batch=1, random_state=0)
    for _ in range(5):
        assert all(y["event"][batch].sum() >= 1 for batch in sampler)


def test_row25_zero_event_batch_is_skipped_and_counted(data, fitted):
    X, y = data
    net = pickle.loads(pickle.dumps(fitted)).net_
    net.set_params(min_events_per_batch=0)  # bypass the sampler's guarantee to force eventless batches
    before = {k: v.clone() for k, v in net.module_.state_dict().items()}
    target = np.column_stack([y["time"], np.zeros(len(y))]).astype(np.float32)
    with pytest.warns(TrainingWarning, match=r"3 training batch\(es\) without events were skipped"):
        net.partial_fit(X, target, epochs=1)
    assert sum(b.get("skipped", False) for b in net.history[-1]["batches"]) == 3  # counted once, in the history
    assert all(b["skipped"] for b in net.history[-1]["batches"])
    assert np.isfinite(net.history[-1]["train_loss"])
    for key, value in net.module_.state_dict().items():  # no gradient step, no weight decay
        torch.testing.assert_close(value, before[key], rtol=0, atol=0, msg=key)


def test_row25_cox_loss_without_events_is_an_attached_zero_or_an_error():
    log_risk = torch.randn(6, requires_grad=True)
    time, event = torch.arange(1.0, 7.0), torch.zeros(6, dtype=torch.bool)
    with pytest.raises(ValueError, match="holds no event"):
        cox_ph_loss(log_risk, time, event)
    loss = cox_ph_loss(log_risk, time, event, on_no_events="zero")
    assert loss.item() == 0.0  # never nan
    assert loss.requires_grad  # never a detached 0
    loss.backward()
    assert torch.equal(log_risk.grad, torch.zeros(6))


def test_row26_batch_size_larger_than_n_train(data):
    X, y = data
    with pytest.warns(TrainingWarning, match="batch_size=100 is larger than the 24 training samples; it is clipped"):
        model = ECGSurvivalAnalysis(**{**TINY, "batch_size": 100}).fit(X, y)
    assert len(model.history_[-1]["batches"]) == 1
    with pytest.warns(TrainingWarning, match="clipped"):
        ECGEmbedder(**{**TINY, "batch_size": 100}).fit(X)


def test_row27_batch_size_one_rejected(data):
    X, y = data
    with pytest.raises(InvalidParameterError, match=r"'batch_size' parameter .* range \[2, inf\)"):
        ECGSurvivalAnalysis(**{**TINY, "batch_size": 1}).fit(X, y)


def test_row28_non_finite_loss_stops_training(data):
    X, y = data
    with pytest.raises(FloatingPointError, match=r"became nan at epoch 1, batch \d+; lower lr"):
        ECGSurvivalAnalysis(**{**TINY, "lr": 1e30, "grad_clip": None}).fit(X, y)


def _eventless_folds(y):
    """Events only in the first quarter: KFold(2) without shuffling leaves a fold without events."""
    return _surv(np.arange(len(y)) < len(y) // 4, y["time"])


def test_row29_cv_fold_without_events_gives_nan_and_warnings(data):
    """Fold 1 trains on censored samples only (fit fails), fold 2 tests on them (scoring fails).

    Documented behaviour: the estimator raises a ``ValueError`` in both cases; ``cross_validate``
    with ``error_score=np.nan`` turns them into NaN scores with a ``FitFailedWarning`` (fit) and a
    ``UserWarning`` (score). Stratifying the folds on the event avoids both.
    """
    X, y = data
    y = _eventless_folds(y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = cross_validate(ECGSurvivalAnalysis(**TINY), X, y, cv=KFold(2), error_score=np.nan)["test_score"]
    assert np.isnan(scores).all()
    messages = [(w.category, str(w.message)) for w in caught]
    assert any(issubclass(c, FitFailedWarning) and "all samples are censored" in m for c, m in messages)
    assert any(issubclass(c, UserWarning) and "Scoring failed" in m for c, m in messages)


def test_row29_cv_fold_without_events_raises_by_default(data):
    X, y = data
    with pytest.raises(ValueError, match="all samples are censored"):
        cross_validate(ECGSurvivalAnalysis(**TINY), X, _eventless_folds(y), cv=KFold(2), error_score="raise")


def test_row29_stratified_folds_all_score(data):
    X, y = data
    y = _eventless_folds(y)
    cv = list(StratifiedKFold(2).split(X, y["event"]))
    scores = cross_validate(ECGSurvivalAnalysis(**{**TINY, "batch_size": 12}), X, y, cv=cv, error_score="raise")
    assert np.isfinite(scores["test_score"]).all()


def test_row30_c_index_without_comparable_pairs(fitted, data):
    X, _ = data
    y = _surv([False, False, True], [1.0, 2.0, 3.0])  # the only event is the last time: no comparable pair
    with pytest.raises(NoComparablePairException) as info:
        fitted.score(X[:3], y)
    assert isinstance(info.value, ValueError)


# --- rows 31-35: WFDB records --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference_record(ptbxl_dir):
    reference = ptbxl_dir / "records500" / "00000" / "00001_hr"
    return read_wfdb(reference)[0], wfdb.rdrecord(str(reference), physical=False)


def _write_record(directory, name, record, *, sig_name=None, fs=None, units=None, gain=1.0, n_samples=None):
    order = list(range(record.n_sig))
    wfdb.wrsamp(
        name,
        fs=record.fs if fs is None else fs,
        units=list(record.units) if units is None else units,
        sig_name=list(record.sig_name) if sig_name is None else sig_name,
        d_signal=np.ascontiguousarray(record.d_signal[:n_samples]),
        fmt=["16"] * len(order),
        adc_gain=[g * gain for g in record.adc_gain],
        baseline=list(record.baseline),
        write_dir=str(directory),
    )
    return Path(directory) / name


def test_row31_missing_header_or_data_file(tmp_path, reference_record):
    with pytest.raises(FileNotFoundError, match=r"'.*missing/rec' has no header file"):
        read_wfdb(tmp_path / "missing" / "rec")
    path = _write_record(tmp_path, "nodat", reference_record[1])
    path.with_suffix(".dat").unlink()
    with pytest.raises(FileNotFoundError, match=r"'.*nodat' has no data file"):
        read_wfdb(path)


def test_row32_malformed_header(tmp_path):
    (tmp_path / "bad.hea").write_text("this is not a header\n")
    with pytest.raises(ValueError, match=r"WFDB record '.*bad' has a malformed header") as info:
        read_wfdb(tmp_path / "bad")
    assert isinstance(info.value.__cause__, wfdb.io.header.HeaderSyntaxError)
    assert "invalid syntax in record line" in str(info.value.__cause__)


def test_row33_sampling_frequency_mismatch(tmp_path, reference_record):
    path = _write_record(tmp_path, "fs250", reference_record[1], fs=250)
    with pytest.raises(ValueError, match=r"found 250 Hz, expected 500 Hz.*resample=True"):
        read_wfdb(path)
    assert read_wfdb(path, resample=True).shape == (1, 12, 10000)


def test_row34_lead_order_names_and_units(tmp_path, reference_record):
    X_ref, record = reference_record
    # same set, other order (reversed): reordered by name
    wfdb.wrsamp(
        "rev",
        fs=record.fs,
        units=list(record.units)[::-1],
        sig_name=list(record.sig_name)[::-1],
        d_signal=np.ascontiguousarray(record.d_signal[:, ::-1]),
        fmt=["16"] * 12,
        adc_gain=list(record.adc_gain)[::-1],
        baseline=list(record.baseline)[::-1],
        write_dir=str(tmp_path),
    )
    np.testing.assert_array_equal(read_wfdb(tmp_path / "rev")[0], X_ref)
    # another set: both lists in the message
    names = list(record.sig_name[:11]) + ["V7"]
    path = _write_record(tmp_path, "v7", record, sig_name=names)
    with pytest.raises(ValueError, match=r"missing: \['V6'\]"):
        read_wfdb(path)
    # µV converted to mV; unknown units rejected
    path = _write_record(tmp_path, "uv", record, units=["uV"] * 12, gain=1e-3)
    np.testing.assert_allclose(read_wfdb(path)[0], X_ref, rtol=1e-5, atol=1e-6)
    path = _write_record(tmp_path, "mmhg", record, units=["mmHg"] * 12)
    with pytest.raises(ValueError, match=r"units 'mmHg'"):
        read_wfdb(path)


def test_row35_record_shorter_than_window(tmp_path, reference_record):
    path = _write_record(tmp_path, "short", reference_record[1], n_samples=3000)
    with pytest.raises(ValueError, match=r"has 3000 samples, fewer than length=5000; pass pad=True"):
        read_wfdb(path, length=5000)
    X = read_wfdb(path, length=5000, pad=True)
    assert X.shape == (1, 12, 5000)
    assert not X[0, :, 3000:].any()


# --- rows 36-42: persistence, resume, devices ----------------------------------------------------------------


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a CPU-only host")
def test_row36_load_with_device_cuda_on_cpu_host(data, fitted, tmp_path):
    X, _ = data
    fitted.save(tmp_path / "m")
    with pytest.warns(DeviceWarning, match="CUDA is not available; using 'cpu'"):
        restored = load_estimator(tmp_path / "m", device="cuda")
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))


def test_row38_optimizer_with_safetensors_is_a_clear_error(fitted, tmp_path):
    with pytest.raises(ValueError, match="Safetensors can only store tensors.*don't use safetensors"):
        fitted.net_.save_params(
            f_params=tmp_path / "params.safetensors", f_optimizer=tmp_path / "opt.safetensors", use_safetensors=True
        )
    # weights alone are fine with safetensors
    fitted.net_.save_params(f_params=tmp_path / "params.safetensors", use_safetensors=True)


def test_row38_checkpoint_dir_with_safetensors_refuses_optimizer(data, tmp_path):
    X, y = data
    model = ECGSurvivalAnalysis(**TINY, checkpoint_dir=tmp_path, callbacks__checkpoint__use_safetensors=True)
    with pytest.raises(ValueError, match="safetensors.*optimizer|optimizer.*safetensors"):
        model.fit(X, y)


def test_row39_resume_equals_uninterrupted_fit(data, tmp_path):
    """2 epochs, "interrupted", then a refit to 4 with the same checkpoint_dir == 4 epochs at once."""
    X, y = data
    params = {**TINY, "lead_mask_prob": 0.5}
    uninterrupted = ECGSurvivalAnalysis(**{**params, "max_epochs": 4}).fit(X, y)
    first = ECGSurvivalAnalysis(**{**params, "max_epochs": 2}, checkpoint_dir=tmp_path).fit(X, y)
    assert len(first.history_) == 2
    assert {"params.pt", "optimizer.pt", "history.json", "rng_state.json"} <= {p.name for p in tmp_path.iterdir()}
    resumed = ECGSurvivalAnalysis(**{**params, "max_epochs": 4}, checkpoint_dir=tmp_path).fit(X, y)
    assert len(resumed.history_) == 4
    np.testing.assert_allclose(
        resumed.history_[:, "train_loss"], uninterrupted.history_[:, "train_loss"], rtol=1e-5, atol=1e-7
    )
    expected = uninterrupted.net_.module_.state_dict()
    for key, value in resumed.net_.module_.state_dict().items():
        torch.testing.assert_close(value, expected[key], rtol=1e-5, atol=1e-7, msg=key)
    np.testing.assert_allclose(resumed.predict(X), uninterrupted.predict(X), rtol=1e-5, atol=1e-7)


def test_row39_resume_of_a_finished_fit_trains_nothing(data, fitted, tmp_path):
    X, y = data
    done = ECGSurvivalAnalysis(**TINY, checkpoint_dir=tmp_path).fit(X, y)
    again = ECGSurvivalAnalysis(**TINY, checkpoint_dir=tmp_path).fit(X, y)
    assert len(again.history_) == 1
    np.testing.assert_array_equal(again.predict(X), done.predict(X))


def test_row40_weights_into_mismatched_architecture(fitted, tmp_path):
    path = fitted.save(tmp_path / "m")
    config = json.loads((path / "config.json").read_text())
    config["autoencoder"]["base_features"] = 4
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="do not fit the architecture in its config.json") as info:
        load_estimator(path)
    assert re.search(r"input_conv\.\d\.weight: file \(4, 4, 5\) vs model \(8, 8, 5\)", str(info.value))
    assert isinstance(info.value.__cause__, RuntimeError)
    assert "size mismatch" in str(info.value.__cause__)


def test_row41_older_checkpoint_loads_and_version_mismatch_warns(fitted, data, tmp_path):
    X, _ = data
    restored = load_estimator(DATA / "model_v0.1.0")  # committed fixture (tests/data/make_fixtures.py)
    expected = np.load(DATA / "model_v0.1.0_predictions.npy")
    np.testing.assert_allclose(restored.predict(X), expected, rtol=1e-5, atol=1e-6)
    path = fitted.save(tmp_path / "m")
    config = json.loads((path / "config.json").read_text())
    config["versions"]["sksurv_ecg"] = "0.0.1"
    (path / "config.json").write_text(json.dumps(config))
    with pytest.warns(TrainingWarning, match="saved with sksurv-ecg 0.0.1"):
        load_estimator(path)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_row42_gpu_and_cpu_predictions_agree(data):
    """Same seed on CUDA and CPU: close predictions, not bitwise (different kernels)."""
    X, y = survival_check_data(n_samples=48, n_leads=12, n_timesteps=64)
    params = {**TINY, "max_epochs": 2, "lead_mask_prob": 0.0, "dropout": 0.0, "head_dropout": 0.0}
    cpu = ECGSurvivalAnalysis(**params, device="cpu").fit(X, y)
    gpu = ECGSurvivalAnalysis(**params, device="cuda").fit(X, y)
    assert gpu.device_.startswith("cuda")
    np.testing.assert_allclose(gpu.predict(X), cpu.predict(X), rtol=1e-3, atol=1e-3)
    restored = pickle.loads(pickle.dumps(gpu))
    np.testing.assert_allclose(restored.predict(X), gpu.predict(X), rtol=1e-6, atol=1e-6)


# --- rows 43-45: misspelt and conflicting parameters ------------------------------------------------------


@pytest.mark.parametrize("estimator_class", [ECGSurvivalAnalysis, ECGEmbedder, TextAlignedPretrainer])
def test_row43_misspelt_parameter_fails_at_fit_with_a_suggestion(data, estimator_class):
    X, y = data
    estimator = estimator_class(**TINY, max_epoch=50)  # __init__ only stores
    assert estimator.get_params()["max_epoch"] == 50  # kept, not dropped: a clone fails as well
    for candidate in (estimator, clone(estimator)):
        with pytest.raises(TypeError, match="unexpected parameter 'max_epoch'; did you mean 'max_epochs'"):
            candidate.fit(X, y if estimator_class is ECGSurvivalAnalysis else np.ones((len(X), 4), np.float32))


def test_row43_unknown_parameter_without_a_close_match(data):
    X, y = data
    with pytest.raises(TypeError, match=r"unexpected parameter 'qqq'\. It is neither a parameter"):
        ECGSurvivalAnalysis(**TINY, qqq=1).fit(X, y)


@pytest.mark.parametrize("estimator_class", [ECGSurvivalAnalysis, ECGEmbedder, TextAlignedPretrainer])
def test_row44_module_key_the_network_does_not_accept(data, estimator_class):
    X, y = data
    estimator = estimator_class(**TINY, module__n_head=2)
    with pytest.raises(
        TypeError, match="module__n_head, which the network does not accept; did you mean 'n_heads'"
    ) as info:
        estimator.fit(X, y if estimator_class is ECGSurvivalAnalysis else np.ones((len(X), 4), np.float32))
    assert "Accepted module__ names: downsample, base_features, latent_dim, n_heads" in str(info.value)


def test_row44_module_key_the_estimator_sets_itself(data):
    X, y = data
    with pytest.raises(
        TypeError, match="module__dropout, which the estimator sets itself: use the estimator's dropout"
    ):
        ECGSurvivalAnalysis(**TINY, module__dropout=0.1).fit(X, y)


def test_row45_module_params_that_contradict_a_warm_start_encoder(data, fitted_embedder):
    X, y = data
    params = {k: v for k, v in TINY.items() if not k.startswith("module__")}
    with pytest.raises(ValueError, match=r"module__latent_dim=64 vs the encoder's 8") as info:
        ECGSurvivalAnalysis(encoder=fitted_embedder, **params, module__latent_dim=64, module__n_heads=1).fit(X, y)
    assert "module__n_heads=1 vs the encoder's 2" in str(info.value)
    # settings that agree with the encoder, the implementation and dropout are allowed
    model = ECGSurvivalAnalysis(
        encoder=fitted_embedder, **params, module__latent_dim=8, module__impl="reference", dropout=0.1
    ).fit(X, y)
    assert model.net_.module_.autoencoder.config.impl == "reference"
    assert model.net_.module_.autoencoder.config.dropout == 0.1
