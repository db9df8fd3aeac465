"""Evidence for a survival model: confidence intervals, paired comparisons and calibration.

Every discrimination and accuracy measure is computed by :mod:`sksurv.metrics`
(:func:`~sksurv.metrics.concordance_index_censored`, :func:`~sksurv.metrics.concordance_index_ipcw`,
:func:`~sksurv.metrics.cumulative_dynamic_auc`, :func:`~sksurv.metrics.integrated_brier_score`);
this module adds what a clinical paper needs around them:

- :func:`bootstrap_ci`: percentile (or basic, BCa) intervals by resampling patients with
  :func:`scipy.stats.bootstrap`. A resample on which the measure is undefined (no comparable
  pair, no event, a horizon beyond its follow-up) is counted in ``n_invalid`` and announced with
  a :class:`~sksurv_ecg.exceptions.BootstrapWarning`, never dropped silently.
- :func:`compare_models`: two models on the same patients; the difference, its paired bootstrap
  interval and a two-sided p-value.
- :func:`calibration_at`: predicted ``1 - S(t0 | x)`` against the observed risk, by Kaplan-Meier
  per group of predicted risk and by the smoothed hazard-regression estimate of Austin, Harrell and
  van Klaveren (2020), with ICI, E50, E90, the calibration slope and calibration-in-the-large.
- :func:`d_calibration`: the distribution calibration test of Haider et al. (2020).
- :func:`fit_risk_scale`: the one-variable Cox fit that calibrates a log-risk score (used by
  :class:`~sksurv_ecg.ECGSurvivalAnalysis` before its Breslow baseline).
- :func:`make_survival_scorer`: scorers for ``cross_validate`` / ``GridSearchCV``.

References
----------
Austin PC, Harrell FE Jr, van Klaveren D. Graphical calibration curves and the integrated
calibration index (ICI) for survival models. Stat Med 2020; 39: 2714-2742.

Haider H, Hoehn B, Davis S, Greiner R. Effective ways to build and evaluate individual survival
distributions. JMLR 2020; 21(85): 1-63.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import ndtr
from scipy.stats import bootstrap, chisquare
from sklearn.utils import Bunch
from sksurv.exceptions import NoComparablePairException
from sksurv.linear_model import CoxPHSurvivalAnalysis
from sksurv.metrics import (
    concordance_index_censored,
    concordance_index_ipcw,
    cumulative_dynamic_auc,
    integrated_brier_score,
)
from sksurv.nonparametric import kaplan_meier_estimator
from sksurv.util import Surv, check_y_survival

from ._competing_metrics import competing_calibration_at, concordance_index_competing_risks
from .exceptions import BootstrapWarning, user_stacklevel

__all__ = [
    "bootstrap_ci",
    "calibration_at",
    "calibration_slope",
    "check_horizon",
    "compare_models",
    "competing_calibration_at",
    "concordance_index_competing_risks",
    "d_calibration",
    "fit_risk_scale",
    "make_survival_scorer",
    "smoothed_calibration",
]

_METRICS = ("harrell", "uno", "auc", "ibs")


# --- input checks ---------------------------------------------------------------------------------
def _survival(y, name="y"):
    event, time = check_y_survival(y)
    if not np.all(np.isfinite(time)):
        raise ValueError(f"'{name}' has non-finite times; pass finite follow-up times.")
    return event, time


def _vector(values, n, name):
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.shape[0] != n:
        raise ValueError(f"'{name}' has shape {values.shape}, but y has {n} samples; pass one value per sample.")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"'{name}' contains NaN or infinite values; predictions must be finite.")
    return values


def check_horizon(y, t0, name="t0"):
    """Check that a horizon lies inside the follow-up of ``y`` and has events before it.

    Parameters
    ----------
    y : structured array of shape (n_samples,)
        Survival outcomes.
    t0 : float
        The horizon.
    name : str, default="t0"
        Name of the horizon in messages.

    Returns
    -------
    t0 : float
        The horizon as a float.

    Raises
    ------
    ValueError
        If ``t0`` is not below the last observed time or no event happens at or before it; the
        message names the horizon and the last event time.

    Examples
    --------
    >>> from sksurv.util import Surv
    >>> from sksurv_ecg.metrics import check_horizon
    >>> y = Surv.from_arrays([True, False, True], [1.0, 2.0, 3.0])
    >>> check_horizon(y, 2.5)
    2.5
    """
    event, time = _survival(y)
    if isinstance(t0, bool) or not isinstance(t0, Real) or not np.isfinite(t0) or t0 <= 0:
        raise ValueError(f"'{name}'={t0!r} must be a positive finite time.")
    last_event = float(time[event].max())
    if t0 >= time.max():
        raise ValueError(
            f"horizon {name}={t0:g} is beyond the follow-up: the last observed time is {time.max():g} and the "
            f"last event time is {last_event:g}; choose {name} below {time.max():g}."
        )
    if not np.any(event & (time <= t0)):
        raise ValueError(
            f"horizon {name}={t0:g} has no event at or before it (first event at {time[event].min():g}, last "
            f"event time {last_event:g}); choose a later horizon."
        )
    return float(t0)


# --- confidence intervals -------------------------------------------------------------------------
def _metric_function(metric, times, tau, y_train):
    """``f(y, estimate) -> float or array`` computed by sksurv for the named metric."""
    if metric == "harrell":
        return lambda y, est: concordance_index_censored(y[y.dtype.names[0]], y[y.dtype.names[1]], est)[0]
    if metric == "uno":
        return lambda y, est: concordance_index_ipcw(y if y_train is None else y_train, y, est, tau=tau)[0]
    if metric == "auc":
        return lambda y, est: cumulative_dynamic_auc(y if y_train is None else y_train, y, est, times)[0]
    return lambda y, est: integrated_brier_score(y if y_train is None else y_train, y, est, times)


def _check_metric(metric, times, estimate, n):
    if metric not in _METRICS:
        raise ValueError(f"metric={metric!r} is not supported; use one of {list(_METRICS)}.")
    if metric in ("auc", "ibs"):
        if times is None:
            raise ValueError(f"metric={metric!r} needs 'times' (the horizons), e.g. times=[1.0, 2.0, 5.0].")
        times = np.atleast_1d(np.asarray(times, dtype=np.float64))
    estimate = np.asarray(estimate, dtype=np.float64)
    if metric == "ibs":
        if estimate.shape != (n, times.shape[0]):
            raise ValueError(
                f"metric='ibs' needs survival probabilities of shape (n_samples, n_times) = ({n}, {times.shape[0]}), "
                f"got {estimate.shape}; pass np.vstack([fn(times) for fn in model.predict_survival_function(X)])."
            )
    else:
        estimate = _vector(estimate, n, "estimate")
    if not np.all(np.isfinite(estimate)):
        raise ValueError("'estimate' contains NaN or infinite values; predictions must be finite.")
    return times, estimate


def _check_bootstrap_args(confidence_level, n_resamples, method, tau=None):
    if isinstance(confidence_level, bool) or not isinstance(confidence_level, Real) or not 0 < confidence_level < 1:
        raise ValueError(f"confidence_level={confidence_level!r} must be in (0, 1), e.g. 0.95.")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, Integral) or n_resamples < 2:
        raise ValueError(f"n_resamples={n_resamples!r} must be an int >= 2, e.g. 1000.")
    if method not in ("percentile", "basic", "BCa"):
        raise ValueError(f"method={method!r} is not supported; use 'percentile', 'basic' or 'BCa'.")
    if tau is not None and (isinstance(tau, bool) or not isinstance(tau, Real) or not np.isfinite(tau) or tau <= 0):
        raise ValueError(f"tau={tau!r} must be None or a positive finite time (the truncation time of Uno's C).")


def _bootstrap_y(y, name="y"):
    """``_survival`` naming the input in every refusal, and at least two patients to resample."""
    try:
        event, time = _survival(y, name)
    except ValueError as err:  # sksurv's wording ("all samples are censored"), with the input named
        raise ValueError(str(err) if f"'{name}'" in str(err) else f"'{name}': {err}") from err
    if time.shape[0] < 2:
        raise ValueError(f"'{name}' has {time.shape[0]} sample; a bootstrap needs at least 2 patients.")
    return event, time


def _undefined_metric(y, metric, times):
    """The error for a metric that is NaN on the whole of ``y`` (sksurv divides 0 by 0), saying why."""
    event, time = _survival(y)
    event_times = time[event]
    if time.max() <= event_times.min():
        return NoComparablePairException(
            f"metric={metric!r} is undefined on 'y': all {event_times.size} events happen at time "
            f"{event_times.min():g} and no patient is followed beyond it, so no pair of patients is comparable. "
            "Evaluate on patients with follow-up beyond the events."
        )
    early = [float(t) for t in np.atleast_1d(times if times is not None else []) if not np.any(event_times <= t)]
    if early:
        return ValueError(
            f"metric={metric!r} is undefined on 'y': no event at or before times {early} (first event at "
            f"{event_times.min():g}); choose times after it."
        )
    return ValueError(f"metric={metric!r} is NaN on 'y' (sksurv could not compute it); check y and the estimate.")


def _quietly(statistic, idx):
    """``statistic(idx)`` without sksurv's 0/0 RuntimeWarning: the caller handles a NaN result."""
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return statistic(idx)


def _resampled(statistic, n, *, n_resamples, confidence_level, method, random_state, undefined):
    """Run :func:`scipy.stats.bootstrap` over patient indices, counting resamples the metric rejects.

    ``undefined()`` is the error raised when the metric is NaN on the full sample.
    """
    invalid = []

    def on_indices(idx):
        idx = idx.astype(np.intp)
        try:
            value = _quietly(statistic, idx)
        except ValueError as exc:  # NoComparablePairException, no event, horizon beyond a resample's follow-up
            invalid.append(str(exc))
            return np.nan
        if not np.all(np.isfinite(value)):
            invalid.append("the metric is NaN on the resample (e.g. all its events at one time)")
        return value

    reference = _quietly(statistic, np.arange(n))  # the metric on the full sample: errors here are the caller's
    if not np.all(np.isfinite(reference)):
        raise undefined()
    rng = np.random.default_rng(random_state)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        # scipy warns about degenerate (NaN) distributions; they are counted and reported below instead.
        warnings.simplefilter("ignore", RuntimeWarning)
        res = bootstrap(
            (np.arange(n, dtype=np.float64),),
            on_indices,
            n_resamples=n_resamples,
            vectorized=False,
            confidence_level=confidence_level,
            method=method if method != "BCa" else "BCa",
            rng=rng,
        )
    distribution = np.asarray(res.bootstrap_distribution, dtype=np.float64)
    bad = ~np.isfinite(distribution)
    n_invalid = int(bad.reshape(-1, n_resamples).any(axis=0).sum()) if distribution.size else 0
    low, high = np.asarray(res.confidence_interval.low), np.asarray(res.confidence_interval.high)
    if n_invalid:
        if method == "BCa":
            raise ValueError(
                f"{n_invalid} of {n_resamples} resamples had an undefined metric (e.g. {invalid[0]!r}); BCa cannot "
                "use them. Use method='percentile', which reports them in 'n_invalid'."
            )
        if n_invalid == n_resamples:
            low = high = np.full(np.shape(reference), np.nan)
            warnings.warn(
                f"all {n_resamples} bootstrap resamples had an undefined metric (first: {invalid[0]!r}), so the "
                "interval is NaN. Use more patients or more resamples.",
                BootstrapWarning,
                stacklevel=user_stacklevel(),
            )
            return reference, low, high, distribution, n_invalid
        alpha = (1.0 - confidence_level) / 2.0
        q_low, q_high = np.nanquantile(distribution, [alpha, 1.0 - alpha], axis=-1)
        low, high = (q_low, q_high) if method == "percentile" else (2 * reference - q_high, 2 * reference - q_low)
        warnings.warn(
            f"{n_invalid} of {n_resamples} bootstrap resamples had an undefined metric (first: {invalid[0]!r}); the "
            "interval uses the other resamples and 'n_invalid' reports the count. Use more samples or a horizon "
            "with more follow-up.",
            BootstrapWarning,
            stacklevel=user_stacklevel(),
        )
    return reference, low, high, distribution, n_invalid


def bootstrap_ci(
    y,
    estimate,
    *,
    metric="harrell",
    times=None,
    tau=None,
    y_train=None,
    confidence_level=0.95,
    n_resamples=1000,
    method="percentile",
    random_state=None,
):
    """Bootstrap confidence interval of a survival metric, resampling patients.

    The metric is computed by :mod:`sksurv.metrics` on each resample of the ``n`` patients (drawn
    with replacement by :func:`scipy.stats.bootstrap`). A resample on which it is undefined
    (scikit-survival raises: no comparable pair, no event, a horizon beyond the resample's
    follow-up) is counted in ``n_invalid``, a :class:`~sksurv_ecg.exceptions.BootstrapWarning`
    is issued and the interval is taken over the remaining resamples (NaN when none remains). A
    metric undefined on the whole of ``y`` (every event at one time, so no comparable pair; a
    horizon before the first event) raises a ``ValueError`` saying why
    (:class:`~sksurv.exceptions.NoComparablePairException` for the C-indices).

    Parameters
    ----------
    y : structured array of shape (n_samples,)
        Survival outcomes of the evaluation set.
    estimate : array-like of shape (n_samples,) or (n_samples, n_times)
        Risk scores (higher = riskier) for ``"harrell"``, ``"uno"`` and ``"auc"``; survival
        probabilities at ``times`` for ``"ibs"``.
    metric : {"harrell", "uno", "auc", "ibs"}, default="harrell"
        Harrell's C, Uno's C (IPCW), cumulative/dynamic AUC at each of ``times``, or the
        integrated Brier score over ``times``.
    times : array-like of shape (n_times,) or None, default=None
        Horizons for ``"auc"`` and ``"ibs"``.
    tau : float or None, default=None
        Truncation time of Uno's C.
    y_train : structured array or None, default=None
        Outcomes used to estimate the censoring distribution (``"uno"``, ``"auc"``, ``"ibs"``);
        None uses each resample itself.
    confidence_level : float, default=0.95
        Coverage of the interval.
    n_resamples : int, default=1000
        Number of bootstrap resamples.
    method : {"percentile", "basic", "BCa"}, default="percentile"
        Interval construction of :func:`scipy.stats.bootstrap`. BCa refuses resamples with an
        undefined metric.
    random_state : int, numpy.random.Generator or None, default=None
        Seed of the resampling.

    Returns
    -------
    result : Bunch
        ``metric``; ``estimate`` (on the full sample: a float, or an array per horizon for
        ``"auc"``); ``low`` and ``high`` (same shape); ``confidence_level``; ``n_resamples``;
        ``n_invalid`` (resamples with an undefined metric); ``bootstrap_distribution``.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv.util import Surv
    >>> from sksurv_ecg.metrics import bootstrap_ci
    >>> rng = np.random.default_rng(0)
    >>> risk = rng.normal(size=200)
    >>> y = Surv.from_arrays(rng.random(200) < 0.6, rng.exponential(np.exp(-risk)))
    >>> ci = bootstrap_ci(y, risk, n_resamples=200, random_state=0)
    >>> bool(ci.low < ci.estimate < ci.high), ci.n_invalid
    (True, 0)
    """
    _bootstrap_y(y)
    n = y.shape[0]
    _check_bootstrap_args(confidence_level, n_resamples, method, tau)
    times, estimate = _check_metric(metric, times, estimate, n)
    if y_train is not None:
        _survival(y_train, "y_train")
    f = _metric_function(metric, times, tau, y_train)
    reference, low, high, distribution, n_invalid = _resampled(
        lambda idx: f(y[idx], estimate[idx]),
        n,
        n_resamples=n_resamples,
        confidence_level=confidence_level,
        method=method,
        random_state=random_state,
        undefined=lambda: _undefined_metric(y, metric, times),
    )
    scalar = np.ndim(reference) == 0
    return Bunch(
        metric=metric,
        estimate=float(reference) if scalar else np.asarray(reference),
        low=float(low) if scalar else np.asarray(low),
        high=float(high) if scalar else np.asarray(high),
        confidence_level=confidence_level,
        n_resamples=n_resamples,
        n_invalid=n_invalid,
        bootstrap_distribution=distribution,
    )


def compare_models(
    y,
    estimate_a,
    estimate_b,
    *,
    metric="harrell",
    times=None,
    tau=None,
    y_train=None,
    confidence_level=0.95,
    n_resamples=1000,
    random_state=None,
):
    """Paired comparison of two models on the same patients: difference, interval and p-value.

    Both models are scored on the same bootstrap resamples, so the interval of the difference
    ``metric(a) - metric(b)`` accounts for their correlation. The two-sided p-value is the normal
    (Wald) test of a zero difference with the bootstrap standard error,
    ``2 * Phi(-|d| / se)``.

    Parameters
    ----------
    y : structured array of shape (n_samples,)
        Survival outcomes.
    estimate_a, estimate_b : array-like of shape (n_samples,)
        Risk scores of the two models (higher = riskier).
    metric : {"harrell", "uno", "auc"}, default="harrell"
        The measure compared; ``"auc"`` compares the AUC at each of ``times``.
    times : array-like of shape (n_times,) or None, default=None
        Horizons for ``"auc"``, as in :func:`bootstrap_ci`.
    tau : float or None, default=None
        Truncation time of Uno's C, as in :func:`bootstrap_ci`.
    y_train : structured array or None, default=None
        Outcomes used to estimate the censoring distribution (``"uno"``, ``"auc"``); None uses
        each resample itself, as in :func:`bootstrap_ci`.
    confidence_level : float, default=0.95
        Coverage of the interval of the difference.
    n_resamples : int, default=1000
        Number of paired resamples.
    random_state : int, numpy.random.Generator or None, default=None
        Seed of the resampling.

    Returns
    -------
    result : Bunch
        ``metric``, ``estimate_a``, ``estimate_b``, ``difference`` (a - b), ``low``, ``high``,
        ``std_error``, ``p_value``, ``confidence_level``, ``n_resamples``, ``n_invalid``.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv.util import Surv
    >>> from sksurv_ecg.metrics import compare_models
    >>> rng = np.random.default_rng(0)
    >>> risk = rng.normal(size=300)
    >>> y = Surv.from_arrays(rng.random(300) < 0.7, rng.exponential(np.exp(-risk)))
    >>> res = compare_models(y, risk, risk + rng.normal(0, 2, 300), n_resamples=200, random_state=0)
    >>> bool(res.difference > 0 and res.p_value < 0.05)
    True
    """
    if metric == "ibs":
        raise ValueError("metric='ibs' is not supported by compare_models; use 'harrell', 'uno' or 'auc'.")
    _bootstrap_y(y)
    n = y.shape[0]
    _check_bootstrap_args(confidence_level, n_resamples, "percentile", tau)
    times, estimate_a = _check_metric(metric, times, estimate_a, n)
    _, estimate_b = _check_metric(metric, times, estimate_b, n)
    if y_train is not None:
        _survival(y_train, "y_train")
    f = _metric_function(metric, times, tau, y_train)
    reference, low, high, distribution, n_invalid = _resampled(
        lambda idx: np.asarray(f(y[idx], estimate_a[idx])) - np.asarray(f(y[idx], estimate_b[idx])),
        n,
        n_resamples=n_resamples,
        confidence_level=confidence_level,
        method="percentile",
        random_state=random_state,
        undefined=lambda: _undefined_metric(y, metric, times),
    )
    score_a, score_b = f(y, estimate_a), f(y, estimate_b)  # both defined: their difference is
    se = np.nanstd(distribution, axis=-1, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p_value = np.where(se > 0, 2.0 * ndtr(-np.abs(reference) / se), np.where(reference == 0, 1.0, 0.0))
    scalar = np.ndim(reference) == 0

    def out(v):
        return float(v) if scalar else np.asarray(v)

    return Bunch(
        metric=metric,
        estimate_a=out(score_a),
        estimate_b=out(score_b),
        difference=out(reference),
        low=out(low),
        high=out(high),
        std_error=out(se),
        p_value=out(p_value),
        confidence_level=confidence_level,
        n_resamples=n_resamples,
        n_invalid=n_invalid,
    )


# --- calibration ----------------------------------------------------------------------------------
def _rcs_basis(x, knots):
    """Restricted cubic spline basis of Harrell (Regression Modeling Strategies, 2nd ed., eq. 2.25).

    Columns: ``x`` and ``k - 2`` non-linear terms, linear beyond the outer knots; scaled by
    ``(t_k - t_1) ** 2`` as in Harrell's ``rcspline.eval(norm=2)``.
    """
    t = np.asarray(knots, dtype=np.float64)
    k = t.shape[0]
    scale = (t[-1] - t[0]) ** 2

    def cube(v):
        return np.maximum(v, 0.0) ** 3

    cols = [x]
    for j in range(k - 2):
        cols.append(
            (
                cube(x - t[j])
                - cube(x - t[k - 2]) * (t[k - 1] - t[j]) / (t[k - 1] - t[k - 2])
                + cube(x - t[k - 1]) * (t[k - 2] - t[j]) / (t[k - 1] - t[k - 2])
            )
            / scale
        )
    return np.column_stack(cols)


# Harrell's default knot quantiles for 3, 4 and 5 knots.
_KNOT_QUANTILES = {3: (0.10, 0.50, 0.90), 4: (0.05, 0.35, 0.65, 0.95), 5: (0.05, 0.275, 0.50, 0.725, 0.95)}


_CLOGLOG_EPS = 1e-10


def _cloglog(p):
    # risks of exactly 0 or 1 (a saturated exp) have an infinite cloglog; documented in calibration_at
    p = np.clip(p, _CLOGLOG_EPS, 1.0 - _CLOGLOG_EPS)
    return np.log(-np.log1p(-p))


def _cox(features, event, time):
    return CoxPHSurvivalAnalysis(ties="breslow").fit(features, Surv.from_arrays(event, time))


def fit_risk_scale(risk, y):
    """Fit the scale of a log-risk score by a one-variable Cox model.

    A network trained on a partial likelihood ranks patients but its log-risk scale is not the
    maximum-likelihood one (dropout, early stopping, overfitting). The Cox coefficient of the
    predicted log-risk on an independent (held-out or out-of-fold) sample is the calibration
    slope; multiplying the log-risk by it before the Breslow baseline makes the survival
    functions calibrated in the sense of :func:`calibration_at`.

    Parameters
    ----------
    risk : array-like of shape (n_samples,)
        Predicted log-risk (log-hazard ratio) of each patient.
    y : structured array of shape (n_samples,)
        Their survival outcomes.

    Returns
    -------
    scale : float
        The Cox coefficient of ``risk`` (the calibration slope).

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv.util import Surv
    >>> from sksurv_ecg.metrics import fit_risk_scale
    >>> rng = np.random.default_rng(0)
    >>> eta = rng.normal(size=2000)
    >>> y = Surv.from_arrays(np.ones(2000, bool), rng.exponential(np.exp(-eta)))
    >>> round(fit_risk_scale(3.0 * eta, y), 1)  # a log-risk three times too large
    0.3
    """
    event, time = _survival(y)
    risk = _vector(risk, time.shape[0], "risk")
    if not event.any():
        raise ValueError("y has no events, so the scale of the log-risk cannot be fitted; pass outcomes with events.")
    if np.ptp(risk) == 0:
        raise ValueError("'risk' is constant, so its scale cannot be fitted; the model predicts no differences.")
    return float(_cox(risk[:, None], event, time).coef_[0])


def _km_risk(event, time, t0):
    times, surv = kaplan_meier_estimator(event, time)
    i = np.searchsorted(times, t0, side="right") - 1
    return 1.0 - (surv[i] if i >= 0 else 1.0)


def calibration_at(y, predicted_risk, t0, *, log_risk=None, n_groups=10, n_knots=3):
    """Calibration of predicted risks at a horizon ``t0``.

    ``predicted_risk`` is ``1 - S(t0 | x)``. The observed risk is estimated two ways:

    - **groups**: patients are split into ``n_groups`` quantile groups of predicted risk and the
      observed risk of each is one minus its Kaplan-Meier estimate at ``t0``;
    - **smoothed** (Austin, Harrell and van Klaveren 2020): a Cox model of the outcome on a
      restricted cubic spline (``n_knots`` knots at Harrell's default quantiles) of the
      complementary log-log of the predicted risk; its ``1 - S(t0 | x)`` is each patient's
      observed risk. ICI, E50 and E90 are the mean, median and 90th percentile of
      ``|predicted - observed|``.

    The calibration slope is the Cox coefficient of the predicted log-risk (``log_risk``), by
    default of ``log(-log S(t0 | x))``, which for a proportional-hazards model differs from the
    log-risk by a constant (1 is ideal, below 1 means too extreme predictions).
    Calibration-in-the-large is the mean predicted risk minus the Kaplan-Meier risk of the whole
    sample at ``t0`` (0 is ideal).

    Parameters
    ----------
    y : structured array of shape (n_samples,)
        Survival outcomes of the evaluation set.
    predicted_risk : array-like of shape (n_samples,)
        Predicted ``1 - S(t0 | x)`` in [0, 1]. For the complementary log-log (slope and spline),
        risks are clipped to ``[1e-10, 1 - 1e-10]``; the ICI uses them unclipped.
    t0 : float
        The horizon; it must be below the last observed time with an event at or before it.
    log_risk : array-like of shape (n_samples,) or None, default=None
        Predicted log-risk for the calibration slope, e.g. ``model.predict(X)``; pass it when some
        predicted risks are 0 or 1 to float precision (their complementary log-log is lost).
    n_groups : int, default=10
        Number of quantile groups of predicted risk.
    n_knots : {3, 4, 5}, default=3
        Knots of the restricted cubic spline (Austin et al. used 3).

    Returns
    -------
    result : Bunch
        ``t0``; ``ici``, ``e50``, ``e90``; ``slope``; ``calibration_in_the_large``;
        ``observed_risk`` (KM, whole sample) and ``mean_predicted_risk``;
        ``predicted`` and ``observed`` (smoothed, per patient, sorted by predicted risk);
        ``group_predicted``, ``group_observed`` and ``group_size`` (per quantile group).

    Raises
    ------
    ValueError
        If ``t0`` is beyond the follow-up or precedes every event (the message names ``t0`` and
        the last event time).

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv.util import Surv
    >>> from sksurv_ecg.metrics import calibration_at
    >>> rng = np.random.default_rng(0)
    >>> eta = rng.normal(size=3000)
    >>> t = rng.exponential(np.exp(-eta))
    >>> y = Surv.from_arrays(t < 2.0, np.minimum(t, 2.0))
    >>> cal = calibration_at(y, 1 - np.exp(-0.5 * np.exp(eta)), t0=0.5)
    >>> bool(cal.ici < 0.02), round(cal.slope, 1)
    (True, 1.0)
    """
    event, time = _survival(y)
    n = time.shape[0]
    t0 = check_horizon(y, t0)
    p = _vector(predicted_risk, n, "predicted_risk")
    if np.any((p < 0) | (p > 1)):
        raise ValueError(
            f"'predicted_risk' must lie in [0, 1], got values in [{p.min():g}, {p.max():g}]; pass 1 - S(t0 | x)."
        )
    if isinstance(n_groups, bool) or not isinstance(n_groups, Integral) or not 1 <= n_groups <= n:
        raise ValueError(f"n_groups={n_groups!r} must be an int between 1 and the {n} samples.")
    if n_knots not in _KNOT_QUANTILES:
        raise ValueError(f"n_knots={n_knots!r} is not supported; use 3, 4 or 5.")
    x = _cloglog(p)
    slope_on = x if log_risk is None else _vector(log_risk, n, "log_risk")
    if np.ptp(slope_on) == 0:  # the Cox fit of the slope would be singular
        name = "predicted_risk" if log_risk is None else "log_risk"
        raise ValueError(
            f"'{name}' is constant ({slope_on[0]:g} for all {n} samples): a model that predicts no differences has "
            "no calibration slope; compare its mean predicted risk with Kaplan-Meier instead."
        )
    slope = float(_cox(slope_on[:, None], event, time).coef_[0])

    knots = np.quantile(x, _KNOT_QUANTILES[n_knots])
    if np.unique(knots).shape[0] < n_knots:
        raise ValueError(
            f"the predicted risks take too few distinct values for {n_knots} spline knots; pass varied predictions."
        )
    basis = _rcs_basis(x, knots)
    smooth = _cox(basis, event, time)
    observed = 1.0 - np.array([fn(t0) for fn in smooth.predict_survival_function(basis)])
    error = np.abs(p - observed)

    order = np.argsort(p, kind="stable")
    groups = np.array_split(order, n_groups)
    group_pred = np.array([p[g].mean() for g in groups])
    group_obs = np.array([_km_risk(event[g], time[g], t0) if g.size else np.nan for g in groups])
    overall = _km_risk(event, time, t0)
    return Bunch(
        t0=t0,
        ici=float(error.mean()),
        e50=float(np.median(error)),
        e90=float(np.quantile(error, 0.9)),
        slope=slope,
        calibration_in_the_large=float(p.mean() - overall),
        observed_risk=float(overall),
        mean_predicted_risk=float(p.mean()),
        predicted=p[order],
        observed=observed[order],
        group_predicted=group_pred,
        group_observed=group_obs,
        group_size=np.array([g.size for g in groups]),
    )


def calibration_slope(y, log_risk, *, confidence_level=0.95, n_resamples=200, random_state=None):
    """Calibration slope (Cox coefficient of the outcome on the predicted log-risk) with a bootstrap interval.

    1 is ideal; below 1 the predictions are too extreme, above 1 too timid. The interval resamples
    patients (:func:`scipy.stats.bootstrap`, percentile method) and refits the one-variable Cox model.

    Parameters
    ----------
    y : structured array of shape (n_samples,)
        Survival outcomes of the evaluation set.
    log_risk : array-like of shape (n_samples,)
        Predicted log-risk, e.g. ``model.predict(X)``.
    confidence_level : float, default=0.95
        Coverage of the interval.
    n_resamples : int, default=200
        Number of bootstrap resamples.
    random_state : int, numpy.random.Generator or None, default=None
        Seed of the resampling.

    Returns
    -------
    result : Bunch
        ``estimate``, ``low``, ``high``, ``confidence_level``, ``n_resamples``, ``n_invalid``.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv.util import Surv
    >>> from sksurv_ecg.metrics import calibration_slope
    >>> rng = np.random.default_rng(0)
    >>> eta = rng.normal(size=500)
    >>> y = Surv.from_arrays(np.ones(500, bool), rng.exponential(np.exp(-eta)))
    >>> ci = calibration_slope(y, 2.0 * eta, n_resamples=50, random_state=0)  # too extreme: slope about 0.5
    >>> bool(ci.low < 0.5 < ci.high)
    True
    """
    event, time = _survival(y)
    n = time.shape[0]
    risk = _vector(log_risk, n, "log_risk")
    _check_bootstrap_args(confidence_level, n_resamples, "percentile")
    if np.ptp(risk) == 0:
        raise ValueError("'log_risk' is constant, so no slope can be fitted; the model predicts no differences.")

    def slope(idx):
        if not event[idx].any() or np.ptp(risk[idx]) == 0:
            raise ValueError("a resample has no event or a constant log-risk")
        return float(_cox(risk[idx, None], event[idx], time[idx]).coef_[0])

    estimate, low, high, _, n_invalid = _resampled(
        slope,
        n,
        n_resamples=n_resamples,
        confidence_level=confidence_level,
        method="percentile",
        random_state=random_state,
        undefined=lambda: ValueError("the calibration slope is not finite on 'y' and 'log_risk'"),
    )
    return Bunch(
        estimate=float(estimate),
        low=float(low),
        high=float(high),
        confidence_level=confidence_level,
        n_resamples=n_resamples,
        n_invalid=n_invalid,
    )


def smoothed_calibration(
    y, predicted_risk, t0, *, n_knots=3, n_points=50, confidence_level=0.95, n_resamples=200, random_state=None
):
    """Smoothed observed risk at ``t0`` on a grid of predicted risk, with a bootstrap confidence band.

    The curve of :func:`calibration_at` (Austin, Harrell and van Klaveren, Stat Med 2020): a Cox
    model of the outcome on a restricted cubic spline of the complementary log-log of the predicted
    risk, whose ``1 - S(t0 | x)`` is the observed risk; here evaluated on ``n_points`` predicted
    risks between their 1st and 99th percentiles, with a pointwise percentile interval from
    resampling patients (knots kept at the full sample's).

    Parameters
    ----------
    y : structured array of shape (n_samples,)
        Survival outcomes of the evaluation set.
    predicted_risk : array-like of shape (n_samples,)
        Predicted ``1 - S(t0 | x)`` in [0, 1].
    t0 : float
        The horizon.
    n_knots : {3, 4, 5}, default=3
        Knots of the spline.
    n_points : int, default=50
        Points of the grid.
    confidence_level : float, default=0.95
        Coverage of the pointwise band.
    n_resamples : int, default=200
        Bootstrap resamples.
    random_state : int, numpy.random.Generator or None, default=None
        Seed of the resampling.

    Returns
    -------
    result : Bunch
        ``t0``; ``predicted`` (the grid); ``observed``, ``low`` and ``high`` (on the grid);
        ``confidence_level``; ``n_invalid`` (resamples whose fit failed or ended before ``t0``).

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv.util import Surv
    >>> from sksurv_ecg.metrics import smoothed_calibration
    >>> rng = np.random.default_rng(0)
    >>> eta = rng.normal(size=1000)
    >>> t = rng.exponential(np.exp(-eta))
    >>> y = Surv.from_arrays(t < 2.0, np.minimum(t, 2.0))
    >>> curve = smoothed_calibration(y, 1 - np.exp(-0.5 * np.exp(eta)), 0.5, n_resamples=50, random_state=0)
    >>> bool(np.all(curve.low <= curve.observed) and np.all(curve.observed <= curve.high))
    True
    """
    event, time = _survival(y)
    n = time.shape[0]
    t0 = check_horizon(y, t0)
    p = _vector(predicted_risk, n, "predicted_risk")
    if np.any((p < 0) | (p > 1)):
        raise ValueError(
            f"'predicted_risk' must lie in [0, 1], got values in [{p.min():g}, {p.max():g}]; pass 1 - S(t0 | x)."
        )
    if n_knots not in _KNOT_QUANTILES:
        raise ValueError(f"n_knots={n_knots!r} is not supported; use 3, 4 or 5.")
    if isinstance(n_points, bool) or not isinstance(n_points, Integral) or n_points < 2:
        raise ValueError(f"n_points={n_points!r} must be an int >= 2, e.g. 50.")
    _check_bootstrap_args(confidence_level, n_resamples, "percentile")
    x = _cloglog(p)
    knots = np.quantile(x, _KNOT_QUANTILES[n_knots])
    if np.unique(knots).shape[0] < n_knots:
        raise ValueError(
            f"the predicted risks take too few distinct values for {n_knots} spline knots; pass varied predictions."
        )
    grid = np.linspace(*np.quantile(p, [0.01, 0.99]), n_points)
    grid_basis = _rcs_basis(_cloglog(grid), knots)
    basis = _rcs_basis(x, knots)

    def observed(idx):
        smooth = _cox(basis[idx], event[idx], time[idx])
        return 1.0 - np.array([fn(t0) for fn in smooth.predict_survival_function(grid_basis)])

    estimate, low, high, _, n_invalid = _resampled(
        observed,
        n,
        n_resamples=n_resamples,
        confidence_level=confidence_level,
        method="percentile",
        random_state=random_state,
        undefined=lambda: ValueError(f"the smoothed observed risk at t0={t0:g} is not finite on 'y'"),
    )
    return Bunch(
        t0=t0,
        predicted=grid,
        observed=np.asarray(estimate),
        low=np.asarray(low),
        high=np.asarray(high),
        confidence_level=confidence_level,
        n_invalid=n_invalid,
    )


def d_calibration(y, survival_at_time, *, n_bins=10):
    """D-calibration test of Haider et al. (2020).

    For a calibrated model the predicted survival probability at each patient's own event time,
    ``S(T_i | x_i)``, is uniform on [0, 1]. Events add 1 to the bin of ``[0, 1]`` holding
    ``S(T_i | x_i)``; a patient censored at ``c`` with ``s = S(c | x)`` is spread uniformly over
    ``[0, s]`` (``(s - lower) / s`` to its own bin, ``1 / (n_bins * s)`` to each bin below).
    The bin counts are tested against ``n / n_bins`` each by Pearson's chi-square test with
    ``n_bins - 1`` degrees of freedom (:func:`scipy.stats.chisquare`).

    Parameters
    ----------
    y : structured array of shape (n_samples,)
        Survival outcomes.
    survival_at_time : array-like of shape (n_samples,)
        ``S(t_i | x_i)`` at each patient's observed time, or the survival functions themselves
        (an array of callables, e.g. ``model.predict_survival_function(X)``), evaluated here at
        ``y["time"]``.
    n_bins : int, default=10
        Number of equal-width bins of [0, 1].

    Returns
    -------
    result : Bunch
        ``statistic`` (chi-square), ``p_value``, ``counts`` (per bin, from the lowest survival
        probability), ``expected`` (per bin), ``n_bins``.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv.util import Surv
    >>> from sksurv_ecg.metrics import d_calibration
    >>> rng = np.random.default_rng(0)
    >>> t = rng.exponential(size=2000)
    >>> c = rng.exponential(2.0, size=2000)
    >>> y = Surv.from_arrays(t <= c, np.minimum(t, c))
    >>> bool(d_calibration(y, np.exp(-y["time"])).p_value > 0.05)
    True
    """
    event, time = _survival(y)
    n = time.shape[0]
    if isinstance(n_bins, bool) or not isinstance(n_bins, Integral) or n_bins < 2:
        raise ValueError(f"n_bins={n_bins!r} must be an int >= 2, e.g. 10.")
    values = np.asarray(survival_at_time)
    if values.dtype == object:
        if values.shape != (n,):
            raise ValueError(f"'survival_at_time' has {values.shape} functions, but y has {n} samples.")
        values = np.array([fn(t) for fn, t in zip(values, time, strict=True)], dtype=np.float64)
    s = _vector(values, n, "survival_at_time")
    if np.any((s < 0) | (s > 1)):
        raise ValueError(f"'survival_at_time' must lie in [0, 1], got values in [{s.min():g}, {s.max():g}].")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    own = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, n_bins - 1)
    counts = np.bincount(own[event], minlength=n_bins).astype(np.float64)
    cens = ~event & (s > 0)
    for si, bi in zip(s[cens], own[cens], strict=True):
        counts[bi] += (si - edges[bi]) / si
        counts[:bi] += 1.0 / (n_bins * si)
    counts[0] += np.sum(~event & (s == 0))  # S(c) = 0: the event time is certainly in the lowest bin
    expected = np.full(n_bins, n / n_bins)
    stat, p_value = chisquare(counts, expected)
    return Bunch(statistic=float(stat), p_value=float(p_value), counts=counts, expected=expected, n_bins=n_bins)


# --- scorers ---------------------------------------------------------------------------------------
def _survival_at(estimator, X, times):
    fns = estimator.predict_survival_function(X)
    return np.vstack([fn(times) for fn in fns])


def make_survival_scorer(metric, *, times=None, tau=None):
    """A scorer ``scorer(estimator, X, y)`` for ``cross_validate`` and ``GridSearchCV``.

    Greater is better for every scorer, as scikit-learn expects: the Brier score and the ICI are
    negated. The censoring distribution of Uno's C, the AUC and the Brier score is estimated on the
    test fold itself (a scorer does not see the training outcomes; for the training-fold
    estimate, wrap the estimator in :func:`sksurv.metrics.as_concordance_index_ipcw_scorer` and
    its siblings instead).

    Parameters
    ----------
    metric : {"harrell", "uno", "auc", "neg_ibs", "neg_ici"}
        Harrell's C; Uno's C up to ``tau``; the mean cumulative/dynamic AUC over ``times``; the
        negated integrated Brier score over ``times``; the negated ICI at ``times`` (one horizon).
    times : float or array-like or None, default=None
        Horizons for ``"auc"``, ``"neg_ibs"`` and ``"neg_ici"``.
    tau : float or None, default=None
        Truncation time of Uno's C.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y) -> float``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import cross_val_score
    >>> from sksurv.linear_model import CoxPHSurvivalAnalysis
    >>> from sksurv.util import Surv
    >>> from sksurv_ecg.metrics import make_survival_scorer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2))
    >>> y = Surv.from_arrays(rng.random(300) < 0.8, rng.exponential(np.exp(-X[:, 0])))
    >>> scores = cross_val_score(CoxPHSurvivalAnalysis(), X, y, cv=3, scoring=make_survival_scorer("auc", times=0.5))
    >>> bool(scores.mean() > 0.6)
    True
    """
    metrics = ("harrell", "uno", "auc", "neg_ibs", "neg_ici")
    if metric not in metrics:
        raise ValueError(f"metric={metric!r} is not supported; use one of {list(metrics)}.")
    if metric in ("auc", "neg_ibs", "neg_ici") and times is None:
        raise ValueError(f"metric={metric!r} needs 'times', e.g. times=[1.0, 2.0].")
    grid = None if times is None else np.atleast_1d(np.asarray(times, dtype=np.float64))
    if metric == "neg_ici" and grid.shape[0] != 1:
        raise ValueError(f"metric='neg_ici' takes one horizon, got times={times!r}.")

    def scorer(estimator, X, y):
        if metric == "harrell":
            return concordance_index_censored(y[y.dtype.names[0]], y[y.dtype.names[1]], estimator.predict(X))[0]
        if metric == "uno":
            return concordance_index_ipcw(y, y, estimator.predict(X), tau=tau)[0]
        if metric == "auc":
            return cumulative_dynamic_auc(y, y, estimator.predict(X), grid)[1]
        if metric == "neg_ibs":
            return -integrated_brier_score(y, y, _survival_at(estimator, X, grid), grid)
        surv = _survival_at(estimator, X, grid)[:, 0]
        return -calibration_at(y, 1.0 - surv, float(grid[0])).ici

    scorer.__name__ = f"{metric}_scorer"
    return scorer
