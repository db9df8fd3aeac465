"""ECGSurvivalAnalysis: the scikit-survival contract, training behaviour and errors."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from _settings import TINY_NET
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning, NotFittedError
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
from sklearn.utils._param_validation import InvalidParameterError
from sksurv.exceptions import NoComparablePairException
from sksurv.metrics import concordance_index_censored
from sksurv.testing import assert_chf_properties, assert_survival_function_properties
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
from sksurv_ecg.utils.estimator_checks import parametrize_with_survival_checks, survival_check_data

# Two epochs: after one, predictions for X[:2] and for X differ by up to 2e-7 (batch dependence), beyond
# the tolerance of the survival-function checks.
FAST = {**TINY_NET, "max_epochs": 2, "lead_mask_prob": 0.0}


@parametrize_with_survival_checks([ECGSurvivalAnalysis(**FAST)])
def test_survival_estimator_invariants(estimator, check):
    X, y = survival_check_data()
    check(estimator, X, y)


@pytest.fixture(scope="module")
def fitted():
    X, y = survival_check_data(n_samples=32, n_leads=12, n_timesteps=64)
    return ECGSurvivalAnalysis(**FAST).fit(X, y), X, y


def test_predict_is_float64_log_risk(fitted):
    model, X, _ = fitted
    risk = model.predict(X)
    assert risk.shape == (X.shape[0],)
    assert risk.dtype == np.float64
    assert np.isfinite(risk).all()


def test_survival_functions_have_sksurv_properties(fitted):
    model, X, _ = fitted
    surv = model.predict_survival_function(X, return_array=True)
    chf = model.predict_cumulative_hazard_function(X, return_array=True)
    assert_survival_function_properties(surv)
    assert_chf_properties(chf)
    step_functions = model.predict_survival_function(X[:2])
    np.testing.assert_allclose(step_functions[0](model.unique_times_), surv[0])
    assert surv.shape == (X.shape[0], model.unique_times_.shape[0])
    np.testing.assert_allclose(surv, np.exp(-chf), rtol=1e-10)


def test_baseline_is_breslow_on_training_risk(fitted):
    from sksurv.linear_model.coxph import BreslowEstimator

    model, X, y = fitted
    # 32 samples are too few to hold out 10 events: the baseline is fitted on the centred training risk
    assert model.calibration_source_ == "none"
    assert model.risk_offset_ == pytest.approx(model.predict(X).mean())
    expected = BreslowEstimator().fit(model.predict(X) - model.risk_offset_, y["event"], y["time"])
    np.testing.assert_allclose(model.cum_baseline_hazard_.y, expected.cum_baseline_hazard_.y)
    np.testing.assert_array_equal(model.unique_times_, expected.unique_times_)


def test_score_is_harrell_c(fitted):
    model, X, y = fitted
    assert model.score(X, y) == concordance_index_censored(y["event"], y["time"], model.predict(X))[0]


def test_attention_maps_shapes_and_rows(fitted):
    model, X, _ = fitted
    lead, time = model.attention(X[:4])
    assert lead.shape == (4, 12, 12)
    steps = 64 // 2 ** TINY_NET["module__downsample"]  # 64 samples -> 16 latent steps
    assert time.shape == (4, 12, steps, steps)
    np.testing.assert_allclose(lead.sum(-1), 1, atol=1e-5)
    np.testing.assert_allclose(time.sum(-1), 1, atol=1e-5)


def test_wrong_timesteps_at_predict(fitted):
    model, X, _ = fitted
    with pytest.raises(ValueError, match="has 80 time steps, but ECGSurvivalAnalysis was fitted with 64"):
        model.predict(np.zeros((2, 12, 80), dtype=np.float32))


def test_wrong_leads_at_predict(fitted):
    model, X, _ = fitted
    with pytest.raises(ValueError, match="X has 8 features, but ECGSurvivalAnalysis is expecting 12"):
        model.predict(X[:, :8])


def test_not_fitted():
    with pytest.raises(NotFittedError):
        ECGSurvivalAnalysis().predict(np.zeros((2, 12, 64)))


@pytest.mark.parametrize(
    ("param", "value"),
    [
        pytest.param("dropout", 1.0, id="dropout-1"),
        pytest.param("lr", 0.0, id="lr-0"),
        pytest.param("lr", -1e-3, id="lr-negative"),
        pytest.param("batch_size", 1, id="batch-size-1"),
        pytest.param("max_epochs", 0, id="max-epochs-0"),
        pytest.param("ties", "exact", id="unknown-ties"),
        pytest.param("alpha", 1.5, id="alpha-above-1"),
        pytest.param("precision", "fp16", id="unknown-precision"),
    ],
)
def test_invalid_params_raise_at_fit_only(param, value):
    X, y = survival_check_data()
    model = ECGSurvivalAnalysis(**{param: value})  # no error in __init__
    model.set_params(**{param: value})  # nor in set_params
    with pytest.raises(InvalidParameterError, match=param):
        model.fit(X, y)


def test_insufficient_events_names_counts():
    X, _ = survival_check_data(n_samples=40)
    event = np.zeros(40, dtype=bool)
    event[:3] = True
    y = Surv.from_arrays(event, np.arange(1, 41.0))
    with pytest.raises(InsufficientEventsError, match="3 events cannot give each of 5 batches"):
        ECGSurvivalAnalysis(batch_size=8, min_events_per_batch=1, max_epochs=1).fit(X, y)


def test_batch_size_larger_than_data_is_clipped_with_warning():
    X, y = survival_check_data(n_samples=12)
    with pytest.warns(TrainingWarning, match="clipped to 12"):
        model = ECGSurvivalAnalysis(max_epochs=1, batch_size=64, random_state=0).fit(X, y)
    assert model.history_[-1, "train_batch_count"] == 1


@pytest.mark.parametrize(
    ("y", "match"),
    [
        pytest.param(np.arange(24.0), "y must be a structured array", id="plain-array-y"),
        pytest.param(
            Surv.from_arrays(np.zeros(24, bool), np.arange(1, 25.0)), "all samples are censored", id="all-censored"
        ),
        pytest.param(Surv.from_arrays(np.ones(24, bool), -np.arange(24.0)), "smaller zero", id="negative-times"),
    ],
)
def test_bad_survival_y(y, match):
    X, _ = survival_check_data()
    with pytest.raises(ValueError, match=match):
        ECGSurvivalAnalysis(**FAST).fit(X, y)


def test_inconsistent_lengths():
    X, y = survival_check_data()
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        ECGSurvivalAnalysis(**FAST).fit(X[:-2], y)


def test_validation_selection_records_c_index_and_restores_best():
    X, y = survival_check_data(n_samples=40)
    # calibration=None: this tiny network's validation ranking is arbitrary, and calibration is tested elsewhere
    model = ECGSurvivalAnalysis(
        **{**FAST, "max_epochs": 3}, validation_fraction=0.25, selection="c_index", calibration=None
    ).fit(X, y)
    scores = model.history_[:, "valid_c_index"]
    assert len(scores) == 3
    assert all(0.0 <= s <= 1.0 or np.isnan(s) for s in scores)


def test_selection_without_validation_split_is_an_error():
    X, y = survival_check_data()
    with pytest.raises(ValueError, match="validation_fraction=None"):
        ECGSurvivalAnalysis(**FAST, selection="c_index").fit(X, y)


def test_warm_start_from_embedder_copies_encoder_weights():
    X, y = survival_check_data(n_samples=24, n_leads=2, n_timesteps=40)
    embedder = ECGEmbedder(**{**TINY_NET, "random_state": 1}).fit(X)  # module__ settings agree with FAST's
    model = ECGSurvivalAnalysis(encoder=embedder, **{**FAST, "max_epochs": 1}).fit(X, y)
    assert model.net_.module_.autoencoder.config == embedder.net_.module_.autoencoder.config
    untrained = ECGSurvivalAnalysis(encoder=embedder, **{**FAST, "max_epochs": 1})
    with pytest.raises(ValueError, match=r"X has 32 time steps, but the encoder \(ECGEmbedder\) was fitted with 40"):
        untrained.fit(X[:, :, :32], y)


def test_random_state_none_differs_between_fits():
    X, y = survival_check_data()
    a = ECGSurvivalAnalysis(max_epochs=1, batch_size=8, random_state=None).fit(X, y).predict(X)
    b = ECGSurvivalAnalysis(max_epochs=1, batch_size=8, random_state=None).fit(X, y).predict(X)
    assert not np.array_equal(a, b)


def test_global_rng_untouched_by_fit():
    import torch

    X, y = survival_check_data()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    ECGSurvivalAnalysis(**FAST).fit(X, y)
    np.testing.assert_array_equal(torch.rand(3), expected)


def test_clone_keeps_a_fitted_encoder_so_cross_validation_warm_starts():
    from sklearn.base import clone
    from sklearn.model_selection import cross_validate

    X, y = survival_check_data(n_samples=32)
    encoder = ECGEmbedder(**TINY_NET).fit(X)  # module__ settings agree with FAST's
    model = ECGSurvivalAnalysis(encoder=encoder, **FAST)
    assert clone(model).encoder is encoder
    assert clone(model).get_params()["max_epochs"] == FAST["max_epochs"]
    scores = cross_validate(model, X, y, cv=2, error_score="raise")["test_score"]
    assert np.isfinite(scores).all()


class _StopBeforeTraining(Exception):
    pass


def _chosen_impl(monkeypatch, cuda_available, net=TINY_NET, **params):
    """Fit with CUDA availability mocked; stop before the net is built, report impl_ and the model's impl."""
    import torch

    from sksurv_ecg.utils.estimator_checks import survival_check_data

    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda_available)
    fork_rng = torch.random.fork_rng  # forking the RNG of a mocked GPU would reach for CUDA: fork the CPU's only
    monkeypatch.setattr(torch.random, "fork_rng", lambda devices=(), **kwargs: fork_rng(devices=[], **kwargs))
    built = {}

    def capture(self, module, **kwargs):
        built["impl"] = module.autoencoder.config.impl
        raise _StopBeforeTraining

    monkeypatch.setattr(ECGSurvivalAnalysis, "_make_net", capture)
    model = ECGSurvivalAnalysis(**net, **params)
    with pytest.raises(_StopBeforeTraining):
        model.fit(*survival_check_data())
    return model.impl_, built["impl"]


@pytest.mark.parametrize(
    ("cuda_available", "device", "expected"),
    [
        pytest.param(False, "cpu", "fast", id="cpu"),
        pytest.param(True, "cpu", "fast", id="cpu-on-a-cuda-host"),
        pytest.param(True, "cuda", "reference", id="cuda"),
        pytest.param(True, "auto", "reference", id="auto-with-cuda"),
        pytest.param(False, "auto", "fast", id="auto-without-cuda"),
    ],
)
def test_impl_is_chosen_by_device(monkeypatch, cuda_available, device, expected):
    assert _chosen_impl(monkeypatch, cuda_available, device=device) == (expected, expected)


@pytest.mark.parametrize("impl", ["fast", "reference"])
def test_impl_given_by_the_user_wins_on_any_device(monkeypatch, impl):
    assert _chosen_impl(monkeypatch, True, device="cuda", module__impl=impl) == (impl, impl)
    assert _chosen_impl(monkeypatch, False, device="cpu", module__impl=impl) == (impl, impl)


def test_impl_old_name_still_works_with_a_future_warning(monkeypatch):
    with pytest.warns(FutureWarning, match="'attention_impl' is deprecated"):
        assert _chosen_impl(monkeypatch, False, module__attention_impl="reference") == ("reference", "reference")


def test_warm_start_takes_the_devices_impl_not_the_encoders(monkeypatch):
    from sksurv_ecg import ECGEmbedder
    from sksurv_ecg.utils.estimator_checks import survival_check_data

    encoder = ECGEmbedder(**TINY_NET).fit(survival_check_data()[0])  # fitted on the CPU: fast
    assert encoder.impl_ == "fast"
    params = {k: v for k, v in TINY_NET.items() if not k.startswith("module__")}
    assert _chosen_impl(monkeypatch, True, net=params, device="cuda", encoder=encoder) == ("reference", "reference")


def test_impl_is_recorded_on_a_real_fit_and_after_loading(tmp_path):
    from sksurv_ecg.utils.estimator_checks import survival_check_data

    X, y = survival_check_data()
    model = ECGSurvivalAnalysis(**TINY_NET).fit(X, y)
    assert model.impl_ == model.net_.module_.autoencoder.config.impl == "fast"
    restored = load_estimator(model.save(tmp_path / "m"))
    assert restored.impl_ == restored.net_.module_.autoencoder.config.impl == "fast"


@pytest.mark.gpu
def test_impl_on_a_real_cuda_fit_is_reference():
    import torch

    from sksurv_ecg.utils.estimator_checks import survival_check_data

    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    X, y = survival_check_data()
    model = ECGSurvivalAnalysis(**TINY_NET, device="cuda").fit(X, y)
    assert model.impl_ == model.net_.module_.autoencoder.config.impl == "reference"
    assert np.isfinite(model.predict(X)).all()


# --- from the reliability matrix (RELIABILITY.md) ---------------------------------------------------


def _eventless_folds(y):
    """Events only in the first quarter: KFold(2) without shuffling leaves a fold without events."""
    return _surv(np.arange(len(y)) < len(y) // 4, y["time"])


def _surv(event, time):
    return Surv.from_arrays(np.asarray(event, dtype=bool), np.asarray(time, dtype=float))


@pytest.mark.parametrize(
    ("estimator", "method"),
    [
        pytest.param(ECGSurvivalAnalysis(**TINY_NET), "predict", id="survival-predict"),
        pytest.param(ECGSurvivalAnalysis(**TINY_NET), "predict_survival_function", id="survival-sf"),
        pytest.param(ECGSurvivalAnalysis(**TINY_NET), "predict_cumulative_hazard_function", id="survival-chf"),
        pytest.param(ECGSurvivalAnalysis(**TINY_NET), "attention", id="survival-attention"),
        pytest.param(ECGEmbedder(**TINY_NET), "transform", id="embedder-transform"),
        pytest.param(TextAlignedPretrainer(**TINY_NET), "transform", id="pretrainer-transform"),
    ],
)
def test_methods_before_fit_raise_not_fitted(check_data, estimator, method):
    """RELIABILITY row 1."""
    with pytest.raises(NotFittedError):
        getattr(estimator, method)(check_data[0])


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
def test_invalid_parameter_values_fail_at_fit_not_before(check_data, param, value):
    """RELIABILITY row 2."""
    X, y = check_data
    estimator = ECGSurvivalAnalysis(**{**TINY_NET, param: value})  # no error in __init__
    clone(estimator).set_params(**{param: value})  # nor in set_params
    with pytest.raises(InvalidParameterError, match=f"The '{param}' parameter of ECGSurvivalAnalysis must be"):
        estimator.fit(X, y)


def test_misspelt_routing_prefix_fails_at_fit(check_data):
    """RELIABILITY row 2."""
    X, y = check_data
    estimator = ECGSurvivalAnalysis(**TINY_NET, modul__n_heads=2)  # a typo: no error yet
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
def test_out_of_range_parameters_fail_at_fit(check_data, params, name):
    """RELIABILITY row 3."""
    X, y = check_data
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter .* must be .* range"):
        ECGSurvivalAnalysis(**{**TINY_NET, **params}).fit(X, y)


def test_refit_with_the_same_seed_is_identical(check_data, check_model, check_embedder):
    """RELIABILITY row 4."""
    X, y = check_data
    np.testing.assert_array_equal(ECGSurvivalAnalysis(**TINY_NET).fit(X, y).predict(X), check_model.predict(X))
    np.testing.assert_array_equal(ECGEmbedder(**TINY_NET).fit(X).transform(X), check_embedder.transform(X))


def test_clone_and_routed_params_roundtrip(check_model):
    """RELIABILITY row 5."""
    params = check_model.get_params()
    assert params["module__n_heads"] == 1  # routed parameters are parameters
    cloned = clone(check_model)
    assert cloned.get_params() == params
    assert not hasattr(cloned, "net_")
    assert not [k for k in vars(cloned) if k.endswith("_") and not k.startswith("_")]
    cloned.set_params(lr=5e-4, module__n_heads=2)
    assert cloned.get_params()["lr"] == 5e-4
    assert cloned.get_params()["module__n_heads"] == 2
    assert check_model.get_params()["module__n_heads"] == 1  # the original is untouched
    assert ECGSurvivalAnalysis(**params).get_params() == params


def test_predicting_does_not_change_the_estimator(check_data, check_model, check_embedder):
    """RELIABILITY row 7."""
    X, _ = check_data
    for estimator, methods in [
        (check_model, ("predict", "predict_survival_function", "predict_cumulative_hazard_function", "attention")),
        (check_embedder, ("transform",)),
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


def test_predictions_do_not_depend_on_batch_composition(check_data, check_model, check_embedder):
    """RELIABILITY row 8. Eval mode: no dropout, BatchNorm on running statistics. Agreement to float32 round-off."""
    X, _ = check_data
    order = np.random.default_rng(1).permutation(X.shape[0])
    full = check_model.predict(X)
    np.testing.assert_allclose(check_model.predict(X[order]), full[order], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(check_model.predict(X[:5]), full[:5], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(check_model.predict(X[7:8]), full[7:8], rtol=1e-6, atol=1e-7)
    Z = check_embedder.transform(X)
    np.testing.assert_allclose(check_embedder.transform(X[order]), Z[order], rtol=1e-6, atol=1e-7)


def test_batches_without_events_are_skipped_and_counted(check_data, check_model):
    """RELIABILITY row 25."""
    X, y = check_data
    net = pickle.loads(pickle.dumps(check_model)).net_
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


def test_batch_size_above_the_training_set_is_clipped_with_a_warning(check_data):
    """RELIABILITY row 26."""
    X, y = check_data
    with pytest.warns(TrainingWarning, match="batch_size=100 is larger than the 24 training samples; it is clipped"):
        model = ECGSurvivalAnalysis(**{**TINY_NET, "batch_size": 100}).fit(X, y)
    assert len(model.history_[-1]["batches"]) == 1
    with pytest.warns(TrainingWarning, match="clipped"):
        ECGEmbedder(**{**TINY_NET, "batch_size": 100}).fit(X)


def test_batch_size_one_is_rejected(check_data):
    """RELIABILITY row 27."""
    X, y = check_data
    with pytest.raises(InvalidParameterError, match=r"'batch_size' parameter .* range \[2, inf\)"):
        ECGSurvivalAnalysis(**{**TINY_NET, "batch_size": 1}).fit(X, y)


def test_non_finite_loss_stops_training_with_a_remedy(check_data):
    """RELIABILITY row 28."""
    X, y = check_data
    with pytest.raises(FloatingPointError, match=r"became nan at epoch 1, batch \d+; lower lr"):
        ECGSurvivalAnalysis(**{**TINY_NET, "lr": 1e30, "grad_clip": None}).fit(X, y)


def test_cv_fold_without_events_scores_nan_with_warnings(check_data):
    """RELIABILITY row 29. Fold 1 trains on censored samples only (fit fails), fold 2 tests on them (scoring fails).

    Documented behaviour: the estimator raises a ``ValueError`` in both cases; ``cross_validate``
    with ``error_score=np.nan`` turns them into NaN scores with a ``FitFailedWarning`` (fit) and a
    ``UserWarning`` (score). Stratifying the folds on the event avoids both.
    """
    X, y = check_data
    y = _eventless_folds(y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = cross_validate(ECGSurvivalAnalysis(**TINY_NET), X, y, cv=KFold(2), error_score=np.nan)["test_score"]
    assert np.isnan(scores).all()
    messages = [(w.category, str(w.message)) for w in caught]
    assert any(issubclass(c, FitFailedWarning) and "all samples are censored" in m for c, m in messages)
    assert any(issubclass(c, UserWarning) and "Scoring failed" in m for c, m in messages)


def test_cv_fold_without_events_raises_with_error_score_raise(check_data):
    """RELIABILITY row 29."""
    X, y = check_data
    with pytest.raises(ValueError, match="all samples are censored"):
        cross_validate(ECGSurvivalAnalysis(**TINY_NET), X, _eventless_folds(y), cv=KFold(2), error_score="raise")


def test_event_stratified_folds_all_score(check_data):
    """RELIABILITY row 29."""
    X, y = check_data
    y = _eventless_folds(y)
    cv = list(StratifiedKFold(2).split(X, y["event"]))
    scores = cross_validate(ECGSurvivalAnalysis(**{**TINY_NET, "batch_size": 12}), X, y, cv=cv, error_score="raise")
    assert np.isfinite(scores["test_score"]).all()


def test_score_without_comparable_pairs_raises(check_model, check_data):
    """RELIABILITY row 30."""
    X, _ = check_data
    y = _surv([False, False, True], [1.0, 2.0, 3.0])  # the only event is the last time: no comparable pair
    with pytest.raises(NoComparablePairException) as info:
        check_model.score(X[:3], y)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("estimator_class", [ECGSurvivalAnalysis, ECGEmbedder, TextAlignedPretrainer])
def test_misspelt_parameter_fails_at_fit_with_a_suggestion(check_data, estimator_class):
    """RELIABILITY row 43."""
    X, y = check_data
    estimator = estimator_class(**TINY_NET, max_epoch=50)  # __init__ only stores
    assert estimator.get_params()["max_epoch"] == 50  # kept, not dropped: a clone fails as well
    for candidate in (estimator, clone(estimator)):
        with pytest.raises(TypeError, match="unexpected parameter 'max_epoch'; did you mean 'max_epochs'"):
            candidate.fit(X, y if estimator_class is ECGSurvivalAnalysis else np.ones((len(X), 4), np.float32))


def test_unknown_parameter_without_a_close_match_fails_at_fit(check_data):
    """RELIABILITY row 43."""
    X, y = check_data
    with pytest.raises(TypeError, match=r"unexpected parameter 'qqq'\. It is neither a parameter"):
        ECGSurvivalAnalysis(**TINY_NET, qqq=1).fit(X, y)


@pytest.mark.parametrize("estimator_class", [ECGSurvivalAnalysis, ECGEmbedder, TextAlignedPretrainer])
def test_module_key_the_network_does_not_accept_lists_the_names(check_data, estimator_class):
    """RELIABILITY row 44."""
    X, y = check_data
    estimator = estimator_class(**TINY_NET, module__n_head=2)
    with pytest.raises(
        TypeError, match="module__n_head, which the network does not accept; did you mean 'n_heads'"
    ) as info:
        estimator.fit(X, y if estimator_class is ECGSurvivalAnalysis else np.ones((len(X), 4), np.float32))
    assert "Accepted module__ names: downsample, base_features, latent_dim, n_heads" in str(info.value)


def test_module_key_the_estimator_sets_itself_is_refused(check_data):
    """RELIABILITY row 44."""
    X, y = check_data
    with pytest.raises(
        TypeError, match="module__dropout, which the estimator sets itself: use the estimator's dropout"
    ):
        ECGSurvivalAnalysis(**TINY_NET, module__dropout=0.1).fit(X, y)


def test_module_params_contradicting_a_warm_start_encoder_are_refused(check_data, check_embedder):
    """RELIABILITY row 45."""
    X, y = check_data
    params = {k: v for k, v in TINY_NET.items() if not k.startswith("module__")}
    with pytest.raises(ValueError, match=r"module__latent_dim=64 vs the encoder's 8") as info:
        ECGSurvivalAnalysis(encoder=check_embedder, **params, module__latent_dim=64, module__n_heads=2).fit(X, y)
    assert "module__n_heads=2 vs the encoder's 1" in str(info.value)
    # settings that agree with the encoder, the implementation and dropout are allowed
    model = ECGSurvivalAnalysis(
        encoder=check_embedder, **params, module__latent_dim=8, module__impl="reference", dropout=0.1
    ).fit(X, y)
    assert model.net_.module_.autoencoder.config.impl == "reference"
    assert model.net_.module_.autoencoder.config.dropout == 0.1


@pytest.mark.parametrize("native", [False, True])
def test_bf16_on_a_cpu_that_only_emulates_it_warns(monkeypatch, native):
    """precision='bf16' on an AVX2 CPU (no oneDNN bfloat16 kernels) trains several times slower than
    float32; the fit says so, names the CPU's instruction set and the remedy, and still trains."""
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: native)
    X, y = survival_check_data()
    model = ECGSurvivalAnalysis(**TINY_NET, precision="bf16")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    device_warnings = [w for w in caught if issubclass(w.category, DeviceWarning)]
    if native:
        assert not device_warnings
        return
    (warning,) = device_warnings
    message = str(warning.message)
    assert "precision='bf16'" in message
    assert torch.backends.cpu.get_cpu_capability() in message
    assert "precision='float32'" in message
    assert warning.filename == __file__  # points at the user's fit, not at the package
    assert np.isfinite(model.predict(X)).all()


def test_float32_never_warns_about_bf16(monkeypatch):
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    X, y = survival_check_data()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeviceWarning)
        ECGSurvivalAnalysis(**TINY_NET).fit(X, y)


def test_bf16_check_stays_quiet_where_torch_cannot_tell(monkeypatch):
    # a torch build without oneDNN has no capability query: no false alarm
    from sksurv_ecg.utils.validation import check_precision

    def missing():
        raise RuntimeError("No such operator mkldnn::_is_mkldnn_bf16_supported")

    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", missing)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeviceWarning)
        check_precision("bf16", "cpu")
