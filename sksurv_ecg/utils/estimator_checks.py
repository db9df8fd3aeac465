"""Scikit-learn's estimator invariants, repeated for survival estimators with a structured ``y``.

scikit-learn's ``check_estimator`` feeds class labels or regression targets, which a survival
estimator rightly rejects. :func:`parametrize_with_survival_checks` runs the same invariants with a
scikit-survival outcome, the way imbalanced-learn ships checks for its samplers.
"""

from __future__ import annotations

import pickle
import re

import numpy as np
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sksurv.util import Surv

__all__ = ["parametrize_with_survival_checks", "survival_check_data", "yield_survival_checks"]


def survival_check_data(n_samples=24, n_leads=2, n_timesteps=40, random_state=0):
    """Small ECG-shaped data with a survival outcome that always holds events.

    Parameters
    ----------
    n_samples, n_leads, n_timesteps : int
        Shape of ``X``.
    random_state : int, default=0
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, n_leads, n_timesteps), dtype float32
        Signals.
    y : structured array of shape (n_samples,)
        Outcome with half of the samples having an event.

    Examples
    --------
    >>> from sksurv_ecg.utils.estimator_checks import survival_check_data
    >>> X, y = survival_check_data()
    >>> X.shape, int(y["event"].sum())
    ((24, 2, 40), 12)
    """
    rng = np.random.default_rng(random_state)
    X = rng.standard_normal((n_samples, n_leads, n_timesteps)).astype(np.float32)
    event = np.arange(n_samples) % 2 == 0
    time = rng.uniform(1, 100, n_samples)
    return X, Surv.from_arrays(event, time)


def _assert_raises(exception, pattern, call, *args):
    """``call(*args)`` raises ``exception`` with a message matching ``pattern`` (no pytest needed)."""
    try:
        call(*args)
    except exception as err:
        if not re.search(pattern, str(err)):
            raise AssertionError(f"{type(err).__name__} message {str(err)!r} does not match {pattern!r}") from err
    else:
        raise AssertionError(f"{getattr(call, '__name__', call)} did not raise {exception.__name__}")


def _check_clone_and_params(estimator, X, y):
    """``clone`` keeps every parameter, including routed ones, and fits nothing."""
    params = estimator.get_params(deep=False)
    cloned = clone(estimator)
    assert cloned.get_params(deep=False).keys() == params.keys()
    for key, value in params.items():
        assert cloned.get_params(deep=False)[key] is value or cloned.get_params(deep=False)[key] == value, key
    assert not [k for k in vars(cloned) if k.endswith("_") and not k.startswith("_")]
    cloned.set_params(**params)
    assert cloned.get_params(deep=False).keys() == params.keys()


def _check_unfitted(estimator, X, y):
    """Every post-fit method raises ``NotFittedError`` before ``fit``."""
    for method in ("predict", "predict_survival_function", "predict_cumulative_hazard_function", "score"):
        args = (X, y) if method == "score" else (X,)
        try:
            getattr(clone(estimator), method)(*args)
        except NotFittedError:
            continue
        raise AssertionError(f"{method} did not raise NotFittedError before fit")


def _check_fit_idempotent(estimator, X, y):
    """Two fits with the same ``random_state`` give identical predictions."""
    a = clone(estimator).fit(X, y).predict(X)
    b = clone(estimator).fit(X, y).predict(X)
    np.testing.assert_array_equal(a, b)


def _check_pickle(estimator, X, y):
    """A pickled fitted estimator predicts exactly as the original."""
    fitted = clone(estimator).fit(X, y)
    restored = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(fitted.predict(X), restored.predict(X))


def _check_dict_unchanged(estimator, X, y):
    """Predicting changes no attribute of the estimator."""
    fitted = clone(estimator).fit(X, y)
    before = {k: v for k, v in vars(fitted).items() if k != "net_"}
    state = {k: v.clone() for k, v in fitted.net_.module_.state_dict().items()}
    fitted.predict(X)
    fitted.predict_survival_function(X[:3])
    assert {k: v for k, v in vars(fitted).items() if k != "net_"}.keys() == before.keys()
    for key, value in fitted.net_.module_.state_dict().items():
        assert (value == state[key]).all(), key


def _check_subset_invariance(estimator, X, y):
    """Per-sample predictions do not depend on the batch: subsets and permutations agree."""
    fitted = clone(estimator).fit(X, y)
    full = fitted.predict(X)
    order = np.random.default_rng(0).permutation(X.shape[0])
    np.testing.assert_allclose(fitted.predict(X[order]), full[order], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fitted.predict(X[:5]), full[:5], rtol=1e-5, atol=1e-6)


def _check_non_finite(estimator, X, y):
    """NaN and infinity in ``X`` are rejected in ``fit`` and in ``predict``."""
    fitted = clone(estimator).fit(X, y)
    for value in (np.nan, np.inf, -np.inf):
        bad = X.copy()
        bad[0, 0, 0] = value
        _assert_raises(ValueError, "NaN|infinity", clone(estimator).fit, bad, y)
        _assert_raises(ValueError, "NaN|infinity", fitted.predict, bad)


def _check_empty_and_single(estimator, X, y):
    """0 or 1 sample is rejected with scikit-learn's message."""
    for n in (0, 1):
        _assert_raises(ValueError, f"{n} sample|all samples are censored", clone(estimator).fit, X[:n], y[:n])


def _check_requires_y(estimator, X, y):
    """``fit(X, None)`` says that ``y`` is required."""
    _assert_raises(ValueError, "requires y to be passed", clone(estimator).fit, X, None)


def _check_score_is_concordance(estimator, X, y):
    """``score`` is Harrell's C of ``predict``, from scikit-survival."""
    from sksurv.metrics import concordance_index_censored

    fitted = clone(estimator).fit(X, y)
    expected = concordance_index_censored(y["event"], y["time"], fitted.predict(X))[0]
    assert fitted.score(X, y) == expected


_CHECKS = (
    _check_clone_and_params,
    _check_unfitted,
    _check_requires_y,
    _check_empty_and_single,
    _check_non_finite,
    _check_fit_idempotent,
    _check_pickle,
    _check_dict_unchanged,
    _check_subset_invariance,
    _check_score_is_concordance,
)


def yield_survival_checks(estimator):
    """Yield ``(estimator, check)`` pairs; call ``check(estimator, X, y)`` on survival data.

    Parameters
    ----------
    estimator : estimator instance
        A survival estimator (small and fast: the checks fit it several times).

    Yields
    ------
    estimator : estimator instance
        The estimator.
    check : callable
        ``check(estimator, X, y)``.

    Examples
    --------
    >>> from sksurv.linear_model import CoxPHSurvivalAnalysis
    >>> from sksurv_ecg.utils.estimator_checks import yield_survival_checks
    >>> len(list(yield_survival_checks(CoxPHSurvivalAnalysis()))) > 5
    True
    """
    for check in _CHECKS:
        yield estimator, check


def parametrize_with_survival_checks(estimators):
    """A ``pytest.mark.parametrize`` decorator over ``(estimator, check)`` pairs.

    Parameters
    ----------
    estimators : list of estimator instances
        Survival estimators to check.

    Returns
    -------
    decorator : pytest.MarkDecorator
        Parametrizes ``estimator`` and ``check``.

    Examples
    --------
    >>> from sksurv_ecg.utils.estimator_checks import parametrize_with_survival_checks
    >>> from sksurv.linear_model import CoxPHSurvivalAnalysis
    >>> mark = parametrize_with_survival_checks([CoxPHSurvivalAnalysis()])
    """
    import pytest

    pairs = [pair for est in estimators for pair in yield_survival_checks(est)]
    ids = [f"{type(est).__name__}-{check.__name__.lstrip('_')}" for est, check in pairs]
    return pytest.mark.parametrize(("estimator", "check"), pairs, ids=ids)
