"""Competing risks by cause-specific hazards: one survival estimator per cause.

Outcomes with competing causes are a structured array with an integer cause code per patient:

=========  =========  ================================================================
field      dtype      meaning
=========  =========  ================================================================
``event``  int64      0 = censored, ``k >= 1`` = the event of cause ``k`` happened first
``time``   float64    time of that event or of censoring
=========  =========  ================================================================

:func:`competing_risks_y` builds it (the form :func:`sksurv.nonparametric.cumulative_incidence_competing_risks`
takes as two arrays, and :func:`sksurv_ecg.datasets.make_ecg_survival` returns with
``competing_risks=True``).

:class:`CauseSpecificHazards` predicts each cause's cumulative incidence; its ``score`` is the
competing-risks concordance of :func:`concordance_index_competing_risks`, and
:func:`competing_calibration_at` compares the predicted incidence at a horizon with the
Aalen-Johansen estimate.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, _fit_context, clone
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import check_is_fitted
from sksurv.util import Surv

from ._competing_metrics import competing_calibration_at, concordance_index_competing_risks
from .exceptions import HorizonWarning, user_stacklevel
from .utils.validation import check_competing_event_time, check_competing_y

__all__ = [
    "CauseSpecificHazards",
    "competing_calibration_at",
    "competing_risks_y",
    "concordance_index_competing_risks",
]


def competing_risks_y(event, time):
    """Build competing-risks outcomes: an integer cause code and a time per patient.

    Parameters
    ----------
    event : array-like of shape (n_samples,)
        Cause codes: 0 = censored, ``k >= 1`` = cause ``k``.
    time : array-like of shape (n_samples,)
        Event or censoring times, finite and non-negative.

    Returns
    -------
    y : structured array of shape (n_samples,)
        Fields ``"event"`` (int64) and ``"time"`` (float64).

    Examples
    --------
    >>> from sksurv_ecg.competing import competing_risks_y
    >>> y = competing_risks_y([0, 1, 2], [3.0, 1.0, 2.5])
    >>> y.dtype.names, y["event"].tolist()
    (('event', 'time'), [0, 1, 2])
    """
    event, time = check_competing_event_time(event, time)
    y = np.empty(event.shape[0], dtype=[("event", np.int64), ("time", np.float64)])
    y["event"] = event.astype(np.int64)
    y["time"] = time
    return y


def _check_competing_y(y):
    return competing_risks_y(*check_competing_y(y))


def _check_times(times, name):
    """1-D float64 times, refusing NaN, infinite and negative values by name."""
    times = np.atleast_1d(np.asarray(times, dtype=np.float64))
    if times.ndim != 1:
        raise ValueError(f"'{name}' has shape {times.shape}; pass a 1-D sequence of times.")
    bad = times[~np.isfinite(times) | (times < 0)]
    if bad.size:
        raise ValueError(
            f"'{name}' contains {bad.size} NaN, infinite or negative values ({bad[:5].tolist()}); pass finite, "
            "non-negative times."
        )
    return times


class CauseSpecificHazards(MetaEstimatorMixin, BaseEstimator):
    """Competing risks by cause-specific hazards: one survival estimator per cause.

    For each cause ``k``, a clone of ``estimator`` is fitted with the events of cause ``k`` as
    events and everything else (censoring and the other causes) as censored; this estimates the
    cause-specific cumulative hazard ``H_k(t | x)``. The cumulative incidence of cause ``k`` is the
    Aalen-Johansen product integral

    .. math::

        F_k(t \\mid x) = \\sum_{s \\le t} S(s^- \\mid x)\\, \\Delta H_k(s \\mid x), \\qquad
        S(t \\mid x) = \\prod_{s \\le t} \\big(1 - \\sum_j \\Delta H_j(s \\mid x)\\big)

    over the union of the cause estimators' time grids. Without covariates (Nelson-Aalen
    increments) it equals :func:`sksurv.nonparametric.cumulative_incidence_competing_risks`.
    Where a covariate pattern's summed increment ``sum_j dH_j(s)`` exceeds 1 (only possible with
    very high predicted hazards), the step is capped at the survival left, ``S(s^-)``, and
    shared between the causes in proportion to their increments, so the incidences never exceed 1.

    Unlike ``1 - S_k(t | x)`` from a single-cause model that censors the other causes, which
    estimates the risk in a world without them and overstates the incidence when they are common,
    ``F_k`` is the probability of a cause-``k`` event by ``t`` in the presence of the others.

    The cumulative hazards come from each cause's estimator through its public
    ``predict_cumulative_hazard_function``, so whatever the inner estimator predicts flows in
    unchanged: a calibrated inner estimator (the package's calibrated default, or any scikit-survival
    estimator wrapped in a calibration meta-estimator) gives calibrated incidences.

    ``score`` is the truncated concordance of Wolbers et al. (2009) for the cumulative incidence of
    ``score_cause`` at ``score_horizon``, with inverse-probability-of-censoring weights
    (Wolbers et al. 2014); see :func:`concordance_index_competing_risks` for the formula.

    Parameters
    ----------
    estimator : estimator object
        A survival estimator with ``fit(X, y)`` and ``predict_cumulative_hazard_function``, e.g.
        :class:`~sksurv_ecg.ECGSurvivalAnalysis` or
        :class:`sksurv.linear_model.CoxPHSurvivalAnalysis`.
    causes : sequence of int or None, default=None
        The cause codes to model (codes >= 1). None takes every positive code in ``y`` at
        ``fit``. ``y`` with a code that is neither 0 nor listed raises ``ValueError``.
    score_cause : int or None, default=None
        The cause whose incidence ``score`` ranks; None takes the first of ``causes_``.
    score_horizon : float or None, default=None
        The truncation time of ``score``; None takes the median event time of ``score_cause`` in
        the training data (``median_event_times_``). The training median, not that of the data
        given to ``score``, so that one fitted model is scored at one horizon on every test set
        (the folds of ``cross_validate`` then estimate the same quantity), and the horizon is
        always inside the model's follow-up.

    Attributes
    ----------
    causes_ : ndarray of shape (n_causes,)
        The modelled cause codes, in order.
    estimators_ : list of estimators
        The fitted estimator of each cause, in the order of ``causes_``.
    unique_times_ : ndarray of shape (n_times,)
        The union of the estimators' time grids, where the cumulative incidence steps.
    median_event_times_ : ndarray of shape (n_causes,)
        Median training event time of each cause (the default horizons of ``score``).
    last_event_time_ : float
        The last training event time of any modelled cause; ``predict_event_probability`` gives
        NaN past it.

    See Also
    --------
    sksurv.nonparametric.cumulative_incidence_competing_risks : The estimator without covariates.
    concordance_index_competing_risks : The concordance that ``score`` returns.
    competing_calibration_at : Predicted incidence against Aalen-Johansen at a horizon.

    References
    ----------
    Wolbers M, Koller MT, Witteman JCM, Steyerberg EW. Prognostic models with competing risks:
    methods and application to coronary risk prediction. Epidemiology 2009; 20: 555-561.

    Wolbers M, Blanche P, Koller MT, Witteman JCM, Gerds TA. Concordance for prognostic models with
    competing risks. Biostatistics 2014; 15: 526-539.

    Examples
    --------
    >>> from sksurv.linear_model import CoxPHSurvivalAnalysis
    >>> from sksurv_ecg.competing import CauseSpecificHazards
    >>> from sksurv_ecg.datasets import make_ecg_survival
    >>> _, y, frame = make_ecg_survival(300, fs=50, competing_risks=True, random_state=0)
    >>> X = frame[["log_hazard", "log_hazard_2"]].to_numpy()
    >>> model = CauseSpecificHazards(CoxPHSurvivalAnalysis()).fit(X, y)
    >>> cif = model.predict_cumulative_incidence(X[:4], times=[1.0, 2.0])
    >>> cif.shape  # (n_causes, n_samples, n_times)
    (2, 4, 2)
    >>> bool((cif.sum(axis=0) <= 1).all())
    True
    >>> model.predict_event_probability(X[:4], [1.0, 2.0]).shape  # (n_samples, n_causes, n_horizons)
    (4, 2, 2)
    >>> bool(0.5 < model.score(X, y) <= 1.0)
    True
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_cumulative_hazard_function"])],
        "causes": ["array-like", None],
        "score_cause": [Interval(Integral, 1, None, closed="left"), None],
        "score_horizon": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(self, estimator, *, causes=None, score_cause=None, score_horizon=None):
        self.estimator = estimator
        self.causes = causes
        self.score_cause = score_cause
        self.score_horizon = score_horizon

    def _check_causes(self, codes):
        found = sorted(set(codes.tolist()) - {0})
        if self.causes is None:
            if not found:
                raise ValueError("y has no events of any cause (all codes are 0); pass outcomes with events.")
            return np.asarray(found, dtype=np.int64)
        expected = [int(c) for c in self.causes]
        if any(isinstance(c, bool) or not isinstance(c, Integral) or c < 1 for c in self.causes):
            raise ValueError(f"causes={list(self.causes)!r} must be integer codes >= 1 (0 means censored).")
        unknown = sorted(set(found) - set(expected))
        if unknown:
            raise ValueError(
                f"y has cause codes {unknown} that are not in causes={expected}; codes found in y: {[0, *found]}, "
                f"expected 0 (censored) and {expected}. Add them to 'causes' or recode them as 0."
            )
        missing = sorted(set(expected) - set(found))
        if missing:
            raise ValueError(
                f"causes {missing} have no events in y (codes found: {[0, *found]}); a cause-specific hazard "
                "cannot be fitted without events. Remove them from 'causes'."
            )
        return np.asarray(expected, dtype=np.int64)

    def _score_cause_index(self):
        if self.score_cause is None:
            return 0
        matches = np.flatnonzero(self.causes_ == self.score_cause)
        if matches.size == 0:
            raise ValueError(
                f"score_cause={self.score_cause!r} is not a modelled cause; causes_ = {self.causes_.tolist()}. "
                "Pass one of them."
            )
        return int(matches[0])

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit one survival estimator per cause, the other causes treated as censored.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Features in the form ``estimator`` takes (ECG arrays for the deep model).
        y : structured array of shape (n_samples,)
            Cause codes and times, from :func:`competing_risks_y`.

        Returns
        -------
        self : object
            Fitted meta-estimator.
        """
        y = _check_competing_y(y)
        if len(X) != y.shape[0]:
            raise ValueError(f"X has {len(X)} samples, but y has {y.shape[0]}; pass one outcome per sample.")
        self.causes_ = self._check_causes(y["event"])
        self._score_cause_index()  # an unknown score_cause fails here, not after the fit of every cause
        self.estimators_ = [
            clone(self.estimator).fit(X, Surv.from_arrays(y["event"] == cause, y["time"])) for cause in self.causes_
        ]
        first = [est.predict_cumulative_hazard_function(X[:1])[0] for est in self.estimators_]
        self.unique_times_ = np.unique(np.concatenate([np.asarray(fn.x, dtype=np.float64) for fn in first]))
        self.median_event_times_ = np.array([np.median(y["time"][y["event"] == cause]) for cause in self.causes_])
        self.last_event_time_ = float(y["time"][np.isin(y["event"], self.causes_)].max())
        return self

    @staticmethod
    def _cumulative_hazard_on(estimator, X, grid):
        """``H(grid | x)`` of one cause, ``(n_samples, n_times)``."""
        # scikit-survival's convention: return_array=True evaluates at the estimator's unique_times_.
        # Where that grid is ours, the array avoids one step-function call per patient (most of the
        # prediction time on thousands of patients); elsewhere (a Pipeline exposes no
        # unique_times_) the step functions are evaluated.
        own = getattr(estimator, "unique_times_", None)
        if own is not None and np.array_equal(own, grid):
            cum = np.asarray(estimator.predict_cumulative_hazard_function(X, return_array=True), dtype=np.float64)
            if cum.shape[-1] == grid.shape[0]:
                return cum
        return np.vstack([fn(grid) for fn in estimator.predict_cumulative_hazard_function(X)])

    def _increments(self, X):
        """Cause-specific hazard increments ``(n_causes, n_samples, n_times)`` on ``unique_times_``."""
        grid = self.unique_times_
        cum = np.stack([self._cumulative_hazard_on(est, X, grid) for est in self.estimators_])
        increments = np.diff(cum, axis=-1, prepend=0.0)
        return grid, np.clip(increments, 0.0, None)

    def _incidence_on_grid(self, X):
        """``unique_times_`` and the incidences ``(n_causes, n_samples, n_times)`` on it."""
        grid, dh = self._increments(X)
        total = dh.sum(axis=0)
        step = np.minimum(total, 1.0)  # capped at the survival left (documented in the class)
        surv = np.cumprod(1.0 - step, axis=-1)
        surv_before = np.concatenate([np.ones_like(surv[:, :1]), surv[:, :-1]], axis=-1)
        # each cause takes its share dh_k / total of the step; one division for all causes
        per_unit = np.divide(surv_before * step, total, out=np.zeros_like(total), where=total > 0)
        return grid, np.cumsum(dh * per_unit, axis=-1)

    @staticmethod
    def _at(grid, cif, times):
        idx = np.searchsorted(grid, times, side="right") - 1
        padded = np.concatenate([np.zeros_like(cif[..., :1]), cif], axis=-1)
        return padded[..., idx + 1]

    def predict_cumulative_incidence(self, X, times=None):
        """Predict each cause's cumulative incidence function.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Features.
        times : array-like of shape (n_times,) or None, default=None
            Where to evaluate; None gives ``unique_times_``. Times before the first grid time get
            0; times after the last one raise ``ValueError``, and so do NaN, infinite or negative
            times.

        Returns
        -------
        cum_incidence : ndarray of shape (n_causes, n_samples, n_times)
            ``F_k(t | x)`` for the causes in ``causes_``.

        See Also
        --------
        predict_event_probability : The incidences at horizons, NaN past the last training event.
        """
        check_is_fitted(self, "estimators_")
        if times is not None:
            times = _check_times(times, "times")
        grid, cif = self._incidence_on_grid(X)
        if times is None:
            return cif
        if np.any(times > grid[-1]):
            raise ValueError(
                f"times up to {times.max():g} were asked, but the fitted estimators end at {grid[-1]:g}; "
                f"pass times <= {grid[-1]:g}."
            )
        return self._at(grid, cif, times)

    def predict_event_probability(self, X, horizons):
        """Predict each cause's cumulative incidence at horizons, as an array.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Features.
        horizons : float or array-like of shape (n_horizons,)
            Times at which to predict, finite and non-negative. A horizon past
            ``last_event_time_`` (the last training event of any modelled cause) gives NaN, with a
            :class:`~sksurv_ecg.exceptions.HorizonWarning`: the model has seen no event there.

        Returns
        -------
        probability : ndarray of shape (n_samples, n_causes, n_horizons)
            ``F_k(h | x)``: the probability of an event of cause ``causes_[k]`` by horizon ``h``,
            in the presence of the other causes.

        Raises
        ------
        ValueError
            If a horizon is NaN, infinite or negative (the message lists them).

        Examples
        --------
        >>> import numpy as np
        >>> from sksurv.linear_model import CoxPHSurvivalAnalysis
        >>> from sksurv_ecg.competing import CauseSpecificHazards, competing_risks_y
        >>> X = np.array([[0.0], [1.0], [0.0], [1.0], [0.5], [0.2]])
        >>> y = competing_risks_y([1, 2, 0, 1, 2, 1], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
        >>> model = CauseSpecificHazards(CoxPHSurvivalAnalysis(alpha=0.1)).fit(X, y)
        >>> model.predict_event_probability(X[:2], [0.5, 2.5]).shape
        (2, 2, 2)
        """
        check_is_fitted(self, "estimators_")
        horizons = _check_times(horizons, "horizons")
        beyond = horizons > self.last_event_time_
        if beyond.any():
            warnings.warn(
                f"horizons {horizons[beyond].tolist()} are past the last training event time "
                f"{self.last_event_time_:g}; their probabilities are NaN. Pass horizons <= {self.last_event_time_:g}.",
                HorizonWarning,
                stacklevel=user_stacklevel(),
            )
        grid, cif = self._incidence_on_grid(X)
        probability = self._at(grid, cif, np.minimum(horizons, self.last_event_time_))
        probability[..., beyond] = np.nan
        return np.moveaxis(probability, 0, 1)

    def score(self, X, y):
        """Concordance of the predicted incidence of ``score_cause`` at ``score_horizon``.

        The time-truncated, inverse-probability-of-censoring weighted concordance of Wolbers et al.
        (2009, 2014), computed by :func:`concordance_index_competing_risks` with the censoring
        distribution estimated on ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Features.
        y : structured array of shape (n_samples,)
            Cause codes and times, from :func:`competing_risks_y`.

        Returns
        -------
        cindex : float
            The concordance index (0.5 = random ranking, 1 = perfect).

        Raises
        ------
        ValueError
            If ``score_horizon`` is past ``last_event_time_``, ``score_cause`` is not modelled or
            ``y`` has cause codes the model was not fitted on.
        sksurv.exceptions.NoComparablePairException
            If ``y`` has no event of ``score_cause`` by the horizon.
        """
        check_is_fitted(self, "estimators_")
        y = _check_competing_y(y)
        unknown = sorted(set(y["event"].tolist()) - {0} - set(self.causes_.tolist()))
        if unknown:
            raise ValueError(
                f"y has cause codes {unknown} that the model was not fitted on (causes_ = {self.causes_.tolist()}); "
                "recode them as in the training outcomes."
            )
        index = self._score_cause_index()
        horizon = self.median_event_times_[index] if self.score_horizon is None else float(self.score_horizon)
        if horizon > self.last_event_time_:
            raise ValueError(
                f"score_horizon={horizon:g} is past the last training event time {self.last_event_time_:g}, where "
                f"the model predicts nothing; pass score_horizon <= {self.last_event_time_:g}."
            )
        grid, cif = self._incidence_on_grid(X)
        estimate = self._at(grid, cif[index], np.array([horizon]))[:, 0]
        return concordance_index_competing_risks(y, estimate, cause=int(self.causes_[index]), tau=horizon)[0]

    def predict_cumulative_hazard_function(self, X, return_array=False):
        """Cause-specific cumulative hazard functions, one set per cause.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Features.
        return_array : bool, default=False
            Passed to each cause's estimator.

        Returns
        -------
        cum_hazards : list of length n_causes
            Each cause's estimator's ``predict_cumulative_hazard_function(X, return_array)``.
        """
        check_is_fitted(self, "estimators_")
        return [est.predict_cumulative_hazard_function(X, return_array=return_array) for est in self.estimators_]
