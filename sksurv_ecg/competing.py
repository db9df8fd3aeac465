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
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted
from sksurv.util import Surv

__all__ = ["CauseSpecificHazards", "competing_risks_y"]


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
    event = np.asarray(event)
    time = np.asarray(time, dtype=np.float64)
    if event.ndim != 1 or time.shape != event.shape:
        raise ValueError(
            f"'event' has shape {event.shape} and 'time' has shape {time.shape}; pass two 1-D arrays of equal length."
        )
    if event.dtype == bool or not (np.issubdtype(event.dtype, np.integer) or np.all(np.mod(event, 1) == 0)):
        raise ValueError(
            f"'event' must hold integer cause codes (0 = censored, 1, 2, ... = causes), got dtype {event.dtype}."
        )
    if np.any(event < 0):
        raise ValueError(f"'event' has negative codes {sorted(set(event[event < 0].tolist()))}; 0 means censored.")
    if not np.all(np.isfinite(time)) or np.any(time < 0):
        raise ValueError("'time' must be finite and non-negative.")
    y = np.empty(event.shape[0], dtype=[("event", np.int64), ("time", np.float64)])
    y["event"] = event.astype(np.int64)
    y["time"] = time
    return y


def _check_competing_y(y):
    names = getattr(getattr(y, "dtype", None), "names", None)
    if names is None or len(names) != 2:
        raise ValueError(
            "y must be a structured array with an integer cause code and a time per sample; build it with "
            "sksurv_ecg.competing.competing_risks_y(event, time)."
        )
    return competing_risks_y(y[names[0]], y[names[1]])


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

    Parameters
    ----------
    estimator : estimator object
        A survival estimator with ``fit(X, y)`` and ``predict_cumulative_hazard_function``, e.g.
        :class:`~sksurv_ecg.ECGSurvivalAnalysis` or
        :class:`sksurv.linear_model.CoxPHSurvivalAnalysis`.
    causes : sequence of int or None, default=None
        The cause codes to model (codes >= 1). None takes every positive code in ``y`` at
        ``fit``. ``y`` with a code that is neither 0 nor listed raises ``ValueError``.

    Attributes
    ----------
    causes_ : ndarray of shape (n_causes,)
        The modelled cause codes, in order.
    estimators_ : list of estimators
        The fitted estimator of each cause, in the order of ``causes_``.
    unique_times_ : ndarray of shape (n_times,)
        The union of the estimators' time grids, where the cumulative incidence steps.

    See Also
    --------
    sksurv.nonparametric.cumulative_incidence_competing_risks : The estimator without covariates.

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
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_cumulative_hazard_function"])],
        "causes": ["array-like", None],
    }

    def __init__(self, estimator, *, causes=None):
        self.estimator = estimator
        self.causes = causes

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
        self._validate_params()
        y = _check_competing_y(y)
        if len(X) != y.shape[0]:
            raise ValueError(f"X has {len(X)} samples, but y has {y.shape[0]}; pass one outcome per sample.")
        self.causes_ = self._check_causes(y["event"])
        self.estimators_ = [
            clone(self.estimator).fit(X, Surv.from_arrays(y["event"] == cause, y["time"])) for cause in self.causes_
        ]
        first = [est.predict_cumulative_hazard_function(X[:1])[0] for est in self.estimators_]
        self.unique_times_ = np.unique(np.concatenate([np.asarray(fn.x, dtype=np.float64) for fn in first]))
        return self

    def _increments(self, X):
        """Cause-specific hazard increments ``(n_causes, n_samples, n_times)`` on ``unique_times_``."""
        grid = self.unique_times_
        fns = [est.predict_cumulative_hazard_function(X) for est in self.estimators_]
        cum = np.stack([np.vstack([fn(grid) for fn in per_cause]) for per_cause in fns])
        increments = np.diff(cum, axis=-1, prepend=0.0)
        return grid, np.clip(increments, 0.0, None)

    def predict_cumulative_incidence(self, X, times=None):
        """Predict each cause's cumulative incidence function.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Features.
        times : array-like of shape (n_times,) or None, default=None
            Where to evaluate; None gives ``unique_times_``. Times before the first grid time get
            0; times after the last one raise ``ValueError``.

        Returns
        -------
        cum_incidence : ndarray of shape (n_causes, n_samples, n_times)
            ``F_k(t | x)`` for the causes in ``causes_``.
        """
        check_is_fitted(self, "estimators_")
        grid, dh = self._increments(X)
        total = dh.sum(axis=0)
        step = np.minimum(total, 1.0)  # capped at the survival left (documented in the class)
        surv = np.cumprod(1.0 - step, axis=-1)
        surv_before = np.concatenate([np.ones_like(surv[:, :1]), surv[:, :-1]], axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, dh / total, 0.0)
        cif = np.cumsum(surv_before * step * share, axis=-1)
        if times is None:
            return cif
        times = np.atleast_1d(np.asarray(times, dtype=np.float64))
        if np.any(times > grid[-1]):
            raise ValueError(
                f"times up to {times.max():g} were asked, but the fitted estimators end at {grid[-1]:g}; "
                f"pass times <= {grid[-1]:g}."
            )
        idx = np.searchsorted(grid, times, side="right") - 1
        padded = np.concatenate([np.zeros_like(cif[..., :1]), cif], axis=-1)
        return padded[..., idx + 1]

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
