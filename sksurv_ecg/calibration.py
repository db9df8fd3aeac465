"""Calibrated survival functions: the scale and the baseline of a log-risk, fitted on held-out data.

A survival model that ranks patients well can still predict the wrong absolute risks: a network
trained on a partial likelihood learns a log-risk whose scale is too large (overfitting) or too
small (early stopping, dropout), and a Breslow baseline fitted on the training predictions
inherits the training fit. This module fits both where the model did not train:

- the **scale**: the Cox coefficient of the model's log-risk on a calibration sample (the
  calibration slope, :func:`sksurv_ecg.metrics.fit_risk_scale`);
- the **baseline**: scikit-survival's :class:`~sksurv.linear_model.coxph.BreslowEstimator` fitted on
  the scaled log-risk of the same sample, centred on its mean ``c`` (``risk_offset_``).

Survival is then ``S(t | x) = exp(-H0(t) * exp(r(x) - c))`` and the event probability
``-expm1(-H0(t) * exp(r(x) - c))``, so neither underflows for a log-risk far from 0 (a short fit
whose log-risk sat at -10 gave ``H0 = 2163`` and ``S = 0.0`` before), and an event probability
stays non-zero where ``S`` rounds to 1.

:class:`CalibratedSurvivalEstimator` does this for any scikit-survival estimator;
:class:`~sksurv_ecg.ECGSurvivalAnalysis` does it by default with the same code.
"""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context, clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from sksurv.base import SurvivalAnalysisMixin
from sksurv.functions import StepFunction
from sksurv.linear_model.coxph import BreslowEstimator
from sksurv.util import Surv, check_y_survival

from .exceptions import CalibrationWarning, TrainingWarning
from .metrics import fit_risk_scale
from .utils.validation import user_stacklevel

__all__ = [
    "MIN_CALIBRATION_EVENTS",
    "CalibratedSurvivalEstimator",
    "CalibratedSurvivalMixin",
    "fit_scale_and_baseline",
    "holdout_split",
]

#: Fewest events a calibration sample must hold. The scale is a one-variable Cox fit: ten events
#: per fitted parameter is the usual floor for a Cox model (Peduzzi et al., J Clin Epidemiol 1995),
#: and its standard error is about ``1 / (sd(log-risk) * sqrt(events))``, about 0.3 for 10 events
#: and a log-risk of standard deviation 1 (C about 0.75); below that the slope is noise.
MIN_CALIBRATION_EVENTS = 10


def holdout_split(event, fraction, random_state):
    """Indices ``(train, calibration)``: ``fraction`` held out, stratified on the event, each sorted.

    The same call as :class:`sksurv_ecg._training.StratifiedValidSplit`, so the deep model's
    network holds out exactly these samples.

    Parameters
    ----------
    event : ndarray of shape (n_samples,)
        Event indicators (the stratum).
    fraction : float
        Share held out for calibration, in (0, 1).
    random_state : int
        Seed of the split.

    Returns
    -------
    train, calibration : ndarray of int
        Sorted indices.
    """
    train, calibration = train_test_split(
        np.arange(event.shape[0]), test_size=fraction, stratify=event, random_state=random_state
    )
    return np.sort(train), np.sort(calibration)


def _warn_too_few_events(n_events, where, remedy):
    """Issue the :class:`~sksurv_ecg.exceptions.CalibrationWarning` of a sample too small to calibrate on.

    Parameters
    ----------
    n_events : int
        Events the calibration sample would hold.
    where : str
        What the sample is, for the message.
    remedy : str
        What the caller can do, for the message.
    """
    warnings.warn(
        f"{where} holds {n_events} events, fewer than the {MIN_CALIBRATION_EVENTS} needed to fit the scale and "
        f"baseline of the risk (sksurv_ecg.calibration.MIN_CALIBRATION_EVENTS); the survival functions keep the "
        f"model's own scale and a baseline fitted on its training predictions, which are usually too extreme. "
        f"{remedy}",
        CalibrationWarning,
        stacklevel=user_stacklevel(),
    )


def _checked_scale(scale, source):
    """``scale`` clipped at 0, with a warning when it is not positive.

    A non-positive Cox coefficient of the log-risk on a calibration sample means the model does not
    rank those patients in the direction it learned. Its honest survival prediction is then the
    baseline for everyone (scale 0: every risk equal), not a reversed or unscaled ranking.

    Parameters
    ----------
    scale : float
        The fitted Cox coefficient of the raw log-risk.
    source : str
        The calibration sample, for the message.

    Returns
    -------
    scale : float
        ``max(scale, 0)``.
    """
    if scale > 0:
        return float(scale)
    warnings.warn(
        f"the fitted log-risk scale on the {source} predictions is {scale:.3g} (not positive): the model does "
        "not rank these patients in the direction it learned, so every patient gets the baseline survival "
        "(risk_scale_=0). Train longer or on more data, or check the calibration sample.",
        TrainingWarning,
        stacklevel=user_stacklevel(),
    )
    return 0.0


def fit_scale_and_baseline(log_risk, event, time, *, fit_scale=True, source="calibration", follow_up=None):
    """The scale of ``log_risk`` and the Breslow baseline of the scaled, centred log-risk.

    Parameters
    ----------
    log_risk : ndarray of shape (n_samples,)
        The model's log-risk on the calibration sample.
    event, time : ndarray of shape (n_samples,)
        Their outcomes.
    fit_scale : bool, default=True
        Fit the scale (a one-variable Cox fit); False keeps 1.
    source : str, default="calibration"
        The sample's name, for warnings.
    follow_up : float or None, default=None
        The last time of the whole training set. When the calibration sample ends before it, the
        baseline is carried flat to it (as Breslow's estimate is flat from the last event to the
        last censoring time), so that estimators calibrated on different samples of the same
        training set (the causes of :class:`~sksurv_ecg.competing.CauseSpecificHazards`) share a
        time range. :meth:`CalibratedSurvivalMixin.predict_event_probability` still gives NaN after
        the last event time of the calibration sample.

    Returns
    -------
    scale : float
        Factor on the log-risk (1.0 when not fitted or when the log-risk is constant).
    offset : float
        Mean of the scaled log-risk on the sample (the centre of the baseline).
    baseline : sksurv.linear_model.coxph.BreslowEstimator
        Fitted on ``scale * log_risk - offset``.
    """
    log_risk = np.asarray(log_risk, dtype=np.float64)
    scale = 1.0
    # A constant log-risk has no scale to fit; its baseline is the Nelson-Aalen estimate of the sample.
    if fit_scale and np.ptp(log_risk) > 0:
        scale = _checked_scale(fit_risk_scale(log_risk, Surv.from_arrays(event, time)), source)
    scaled = scale * log_risk
    offset = float(scaled.mean())
    baseline = BreslowEstimator().fit(scaled - offset, event, time)
    if follow_up is not None and follow_up > baseline.unique_times_[-1]:
        times = np.append(baseline.unique_times_, float(follow_up))
        hazard = baseline.cum_baseline_hazard_.y
        baseline = _breslow_from_fitted(times, np.append(hazard, hazard[-1]))
    return scale, offset, baseline


def _breslow_from_fitted(unique_times, cum_baseline_hazard):
    """A ``BreslowEstimator`` with the given fitted cumulative hazard (saved models, an extended baseline).

    scikit-survival has no constructor from fitted values, so the three fitted attributes are set
    here, and only here; ``baseline_survival_`` is ``exp(-H0)``, as ``BreslowEstimator.fit`` computes it.

    Parameters
    ----------
    unique_times : array-like of shape (n_times,)
        The times.
    cum_baseline_hazard : array-like of shape (n_times,)
        The cumulative baseline hazard at them.

    Returns
    -------
    baseline : sksurv.linear_model.coxph.BreslowEstimator
        With ``unique_times_``, ``cum_baseline_hazard_`` and ``baseline_survival_`` set.
    """
    times = np.asarray(unique_times, dtype=float)
    cum_hazard = np.asarray(cum_baseline_hazard, dtype=float)
    baseline = BreslowEstimator()
    baseline.unique_times_ = times
    baseline.cum_baseline_hazard_ = StepFunction(times, cum_hazard)
    baseline.baseline_survival_ = StepFunction(times, np.exp(-cum_hazard))
    return baseline


def _legacy_cross_fitted_scale(estimator, X, event, time):
    """The log-risk scale fitted on ``k``-fold out-of-fold predictions (deprecated ``calibration=k``).

    Parameters
    ----------
    estimator : ECGSurvivalAnalysis
        The estimator whose ``calibration`` is an int.
    X : ndarray of shape (n_samples, n_leads, n_timesteps)
        Training ECGs.
    event, time : ndarray of shape (n_samples,)
        Training outcomes.

    Returns
    -------
    scale : float
        The Cox coefficient of the out-of-fold log-risk, clipped at 0.
    """
    k = estimator.calibration
    oof = np.empty(event.shape[0])
    y = Surv.from_arrays(event, time)
    folds = StratifiedKFold(k, shuffle=True, random_state=estimator._seed())
    for train, test in folds.split(np.zeros(event.shape[0]), event):
        member = clone(estimator).set_params(calibration=None, checkpoint_dir=None, verbose=0)
        oof[test] = member.fit(X[train], y[train]).predict(X[test])
    return _checked_scale(fit_risk_scale(oof, y), f"{k}-fold")


def _last_event_time(baseline):
    """The last time at which the baseline's cumulative hazard steps up (its last event time)."""
    hazard = baseline.cum_baseline_hazard_.y
    steps = np.flatnonzero(np.diff(hazard, prepend=0.0) > 0)
    return float(baseline.unique_times_[steps[-1]]) if steps.size else -np.inf


def _check_horizons(horizons):
    horizons = np.atleast_1d(np.asarray(horizons, dtype=np.float64))
    if horizons.ndim != 1 or horizons.size == 0 or not np.all(np.isfinite(horizons)) or np.any(horizons < 0):
        raise ValueError(
            f"horizons={horizons.tolist()!r} must be a non-empty 1-D sequence of finite times >= 0, e.g. [1, 5]."
        )
    return horizons


class CalibratedSurvivalMixin:
    """Survival, cumulative hazard and event probability from ``predict``, ``risk_offset_`` and ``baseline_model_``.

    Shared by :class:`~sksurv_ecg.ECGSurvivalAnalysis` and :class:`CalibratedSurvivalEstimator`: the
    cumulative hazard of a patient with log-risk ``r = predict(x)`` is
    ``H0(t) * exp(r - risk_offset_)``, where ``H0`` is ``baseline_model_``'s cumulative hazard.
    """

    @property
    def unique_times_(self):
        """Unique times of the sample the baseline was fitted on (of ``baseline_model_``)."""
        return self.baseline_model_.unique_times_

    @property
    def cum_baseline_hazard_(self):
        """Breslow cumulative hazard of a patient whose log-risk is ``risk_offset_`` (of ``baseline_model_``)."""
        return self.baseline_model_.cum_baseline_hazard_

    @property
    def baseline_survival_(self):
        """Survival function of a patient whose log-risk is ``risk_offset_`` (of ``baseline_model_``)."""
        return self.baseline_model_.baseline_survival_

    def _relative_hazard(self, X):
        """``exp(predict(X) - risk_offset_)``; ``predict`` checks that the estimator is fitted."""
        risk = np.asarray(self.predict(X), dtype=np.float64)
        return np.exp(risk - self.risk_offset_)

    def predict_cumulative_hazard_function(self, X, return_array=False):
        """Predict cumulative hazard functions ``H(t | x) = H0(t) * exp(risk(x) - risk_offset_)``.

        Parameters
        ----------
        X : array-like
            Samples, as ``predict`` takes them.
        return_array : bool, default=False
            Return an array evaluated at ``unique_times_`` instead of step functions.

        Returns
        -------
        cum_hazard : ndarray
            Array of :class:`sksurv.functions.StepFunction`, or of shape
            ``(n_samples, n_unique_times)`` when ``return_array=True``.
        """
        relative = self._relative_hazard(X)
        h0 = self.cum_baseline_hazard_
        if return_array:
            return relative[:, None] * h0.y[None, :]
        return np.array([StepFunction(h0.x, h0.y, a=a) for a in relative], dtype=object)

    def predict_survival_function(self, X, return_array=False):
        """Predict survival functions ``S(t | x) = exp(-H0(t) * exp(risk(x) - risk_offset_))``.

        Computed from the cumulative hazard, not as a power of the baseline survival, so that it
        underflows only where the exact value is below float64's range.

        Parameters
        ----------
        X : array-like
            Samples, as ``predict`` takes them.
        return_array : bool, default=False
            Return an array evaluated at ``unique_times_`` instead of step functions.

        Returns
        -------
        survival : ndarray
            Array of :class:`sksurv.functions.StepFunction`, or of shape
            ``(n_samples, n_unique_times)`` when ``return_array=True``.
        """
        relative = self._relative_hazard(X)
        h0 = self.cum_baseline_hazard_
        survival = np.exp(-relative[:, None] * h0.y[None, :])
        if return_array:
            return survival
        return np.array([StepFunction(h0.x, row) for row in survival], dtype=object)

    def predict_event_probability(self, X, horizons):
        """Predict the probability of an event by each horizon, ``1 - S(t | x)``.

        Computed as ``-expm1(-H(t | x))``, so a small risk is not rounded to 0.

        Parameters
        ----------
        X : array-like
            Samples, as ``predict`` takes them.
        horizons : float or array-like of shape (n_horizons,)
            Times (in the unit of ``y["time"]``) at which to give the risk, e.g. ``[1, 5]``. A
            horizon before the first time gets 0; one after the last event time of the sample the
            baseline was fitted on gets NaN with a :class:`~sksurv_ecg.exceptions.CalibrationWarning`
            (the baseline does not reach it).

        Returns
        -------
        probability : ndarray of shape (n_samples, n_horizons)
            Event probabilities in [0, 1] (NaN past the last event time).
        """
        horizons = _check_horizons(horizons)
        relative = self._relative_hazard(X)
        h0 = self.cum_baseline_hazard_
        idx = np.searchsorted(h0.x, horizons, side="right") - 1
        at = np.where(idx >= 0, h0.y[np.maximum(idx, 0)], 0.0)
        probability = -np.expm1(-relative[:, None] * at[None, :])
        last = _last_event_time(self.baseline_model_)
        beyond = horizons > last
        if beyond.any():
            warnings.warn(
                f"horizons {horizons[beyond].tolist()} are after the last event time {last:g} of the sample the "
                "baseline hazard was fitted on, so the risk there is unknown; they get NaN. Use horizons <= "
                f"{last:g}, or fit on data with longer follow-up.",
                CalibrationWarning,
                stacklevel=user_stacklevel(),
            )
            probability[:, beyond] = np.nan
        return probability


class CalibratedSurvivalEstimator(CalibratedSurvivalMixin, SurvivalAnalysisMixin, MetaEstimatorMixin, BaseEstimator):
    """Calibrate the survival functions of a survival estimator on a held-out split.

    scikit-learn's :class:`~sklearn.calibration.CalibratedClassifierCV` carried to survival, with
    one model: ``fit`` holds out ``calibration_fraction`` of the samples (stratified on the
    event), fits a clone of ``estimator`` on the rest, and on the held-out part fits the scale of
    its log-risk (the calibration slope, a one-variable Cox fit) and a Breslow baseline of the
    scaled log-risk centred on its mean. The estimator deployed is the one calibrated, and it is
    calibrated on data it did not train on. To calibrate an estimator that is already fitted,
    wrap it in :class:`sklearn.frozen.FrozenEstimator`: then all of ``(X, y)`` is calibration data
    (e.g. another hospital's cohort).

    Parameters
    ----------
    estimator : estimator object
        A survival estimator with ``fit`` and ``predict`` (a log-risk, higher is riskier), e.g.
        :class:`~sksurv_ecg.ECGSurvivalAnalysis` (``calibration=None``: it calibrates itself
        otherwise), a :class:`~sklearn.pipeline.Pipeline` ending in
        ``CoxnetSurvivalAnalysis(fit_baseline_model=True)``, or a ``FrozenEstimator``.
    method : {"scale", "baseline"}, default="scale"
        ``"scale"``: fit the scale of the log-risk and the baseline. ``"baseline"``: the baseline
        only (the log-risk kept as the estimator predicts it).
    calibration_fraction : float, default=0.25
        Share of the samples held out for calibration (ignored with a ``FrozenEstimator``).
    random_state : int, RandomState instance or None, default=None
        Seeds the split.

    Attributes
    ----------
    estimator_ : estimator object
        The fitted estimator (on the training part).
    risk_scale_ : float
        Factor on ``estimator_.predict``; 1.0 for ``method="baseline"``, a constant log-risk or too
        few calibration events; clipped at 0 with a ``TrainingWarning`` when the fit is not positive.
    risk_offset_ : float
        Mean scaled log-risk of the calibration sample, the centre of the baseline.
    baseline_model_ : sksurv.linear_model.coxph.BreslowEstimator
        Breslow baseline of the centred, scaled log-risk on the calibration sample.
    unique_times_ : ndarray of shape (n_unique_times,)
        Unique times of the calibration sample.
    cum_baseline_hazard_ : sksurv.functions.StepFunction
        Cumulative hazard of a patient whose log-risk is ``risk_offset_``.
    baseline_survival_ : sksurv.functions.StepFunction
        Survival function of that patient.
    n_calibration_events_ : int
        Events in the calibration sample.
    calibration_source_ : {"holdout", "prefit", "none"}
        Where the calibration was fitted; ``"none"`` when the held-out part had fewer than
        :data:`MIN_CALIBRATION_EVENTS` events: the estimator is then fitted on all samples and the
        baseline on its training predictions, with a :class:`~sksurv_ecg.exceptions.CalibrationWarning`.

    See Also
    --------
    sklearn.calibration.CalibratedClassifierCV : The classification analogue.
    sksurv_ecg.metrics.calibration_at : Calibration of predicted risks at a horizon.

    Notes
    -----
    Persistence: the fitted meta-estimator is saved as scikit-learn documents for its estimators,
    with :func:`joblib.dump` and read with :func:`joblib.load`. Loading a pickle runs code from the
    file: load only files you trust. :func:`sksurv_ecg.load_estimator` never unpickles; a deep model
    on its own is better saved with its ``save`` (safetensors weights and JSON, calibration included).

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sksurv.linear_model import CoxnetSurvivalAnalysis
    >>> from sksurv_ecg.calibration import CalibratedSurvivalEstimator
    >>> from sksurv_ecg.datasets import make_ecg_survival
    >>> _, y, frame = make_ecg_survival(400, fs=50, event_rate=0.4, random_state=0)
    >>> X = frame[["age", "heart_rate", "qrs_duration", "t_amplitude"]].to_numpy()
    >>> cox = make_pipeline(StandardScaler(), CoxnetSurvivalAnalysis(fit_baseline_model=True))
    >>> model = CalibratedSurvivalEstimator(cox, random_state=0).fit(X, y)
    >>> model.predict_event_probability(X[:2], horizons=[1.0, 2.0]).shape
    (2, 2)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict"])],
        "method": [StrOptions({"scale", "baseline"})],
        "calibration_fraction": [Interval(Real, 0, 1, closed="neither")],
        "random_state": ["random_state"],
    }

    def __init__(self, estimator, *, method="scale", calibration_fraction=0.25, random_state=None):
        self.estimator = estimator
        self.method = method
        self.calibration_fraction = calibration_fraction
        self.random_state = random_state

    def __sklearn_tags__(self):
        from sklearn.utils import get_tags

        tags = super().__sklearn_tags__()
        tags.input_tags = get_tags(self.estimator).input_tags
        return tags

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit the estimator on a training part and its scale and baseline on the held-out part.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples, as ``estimator`` takes them.
        y : structured array of shape (n_samples,)
            Event indicator and time, e.g. from :meth:`sksurv.util.Surv.from_arrays`.

        Returns
        -------
        self : object
            Fitted meta-estimator.
        """
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        event, time = check_y_survival(y)
        if event.shape[0] < 2:
            raise ValueError(
                f"Found array with {event.shape[0]} sample(s) while a minimum of 2 is required by "
                f"{type(self).__name__}; pass more samples."
            )
        if len(X) != event.shape[0]:
            raise ValueError(f"X has {len(X)} samples, but y has {event.shape[0]}; pass one outcome per sample.")
        fit_scale = self.method == "scale"
        if isinstance(self.estimator, FrozenEstimator):
            self.estimator_ = self.estimator
            calibration, source = np.arange(event.shape[0]), "prefit"
            if event.sum() < MIN_CALIBRATION_EVENTS:
                _warn_too_few_events(int(event.sum()), "the calibration set", "Calibrate on a larger cohort.")
        else:
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            train, calibration = holdout_split(event, self.calibration_fraction, seed)
            n_held = int(event[calibration].sum())
            source = "holdout"
            if n_held < MIN_CALIBRATION_EVENTS:
                _warn_too_few_events(
                    n_held,
                    f"the held-out calibration_fraction={self.calibration_fraction:g} of {event.shape[0]} samples",
                    "Raise calibration_fraction, use more data, or calibrate a fitted estimator on another cohort "
                    "(FrozenEstimator).",
                )
                train = calibration = np.arange(event.shape[0])
                source, fit_scale = "none", False
            self.estimator_ = clone(self.estimator).fit(_safe_indexing(X, train), y[train])
        log_risk = np.asarray(self.estimator_.predict(_safe_indexing(X, calibration)), dtype=np.float64)
        self.risk_scale_, self.risk_offset_, self.baseline_model_ = fit_scale_and_baseline(
            log_risk, event[calibration], time[calibration], fit_scale=fit_scale, source=source, follow_up=time.max()
        )
        self.n_calibration_events_ = int(event[calibration].sum())
        self.calibration_source_ = source
        return self

    def predict(self, X):
        """Predict calibrated log-risks: ``risk_scale_`` times the estimator's.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Samples.

        Returns
        -------
        risk_score : ndarray of shape (n_samples,)
            Log-hazard ratios (higher is riskier).
        """
        check_is_fitted(self, "estimator_")
        return self.risk_scale_ * np.asarray(self.estimator_.predict(X), dtype=np.float64)
