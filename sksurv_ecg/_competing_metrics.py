"""Discrimination and calibration of cumulative incidence predictions under competing risks.

- :func:`concordance_index_competing_risks`: the time-truncated concordance of Wolbers et al.
  (2009) for the cumulative incidence of one cause, with the inverse-probability-of-censoring
  weights of Wolbers et al. (2014).
- :func:`competing_calibration_at`: predicted cumulative incidence of one cause at a horizon
  against the Aalen-Johansen estimate, per group of predicted risk.

Outcomes are the competing-risks structured array of
:func:`sksurv_ecg.competing.competing_risks_y`: an integer cause code per patient (0 = censored)
and a time.

References
----------
Wolbers M, Koller MT, Witteman JCM, Steyerberg EW. Prognostic models with competing risks: methods
and application to coronary risk prediction. Epidemiology 2009; 20: 555-561.

Wolbers M, Blanche P, Koller MT, Witteman JCM, Gerds TA. Concordance for prognostic models with
competing risks. Biostatistics 2014; 15: 526-539.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch
from sksurv.exceptions import NoComparablePairException
from sksurv.nonparametric import kaplan_meier_estimator

from .utils.validation import check_competing_y

__all__ = ["competing_calibration_at", "concordance_index_competing_risks"]


# --- input checks ---------------------------------------------------------------------------------
def _check_cause(cause, event):
    if isinstance(cause, bool) or not isinstance(cause, Integral) or cause < 1:
        raise ValueError(f"cause={cause!r} must be an integer cause code >= 1 (0 means censored).")
    if not np.any(event == cause):
        found = sorted(set(event.tolist()))
        raise ValueError(f"cause={cause} has no events in y (codes found: {found}); pass a cause that occurs in y.")
    return int(cause)


def _check_estimate(values, n, name):
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.shape[0] != n:
        raise ValueError(f"'{name}' has shape {values.shape}, but y has {n} samples; pass one value per sample.")
    if not np.all(np.isfinite(values)):
        raise ValueError(
            f"'{name}' contains {int(np.sum(~np.isfinite(values)))} NaN or infinite values; predictions must be "
            "finite (a horizon past the last training event gives NaN: choose an earlier one)."
        )
    return values


def _check_positive_time(value, name):
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"'{name}'={value!r} must be a positive finite time.")
    return float(value)


# --- concordance ----------------------------------------------------------------------------------
def _censoring_survival(event, time):
    """``G(t-)`` and ``G(t)`` of the Kaplan-Meier censoring distribution, as functions of t."""
    if np.all(event > 0):

        def ones(t):
            return np.ones(np.shape(t))

        return ones, ones
    grid, prob = kaplan_meier_estimator(event > 0, time, reverse=True)

    def after(t):
        i = np.searchsorted(grid, t, side="right") - 1
        return np.where(i >= 0, prob[np.maximum(i, 0)], 1.0)

    def before(t):
        i = np.searchsorted(grid, t, side="left") - 1
        return np.where(i >= 0, prob[np.maximum(i, 0)], 1.0)

    return before, after


def concordance_index_competing_risks(y, estimate, *, cause=1, tau=None, ipcw=True, tied_tol=1e-8):
    r"""Concordance of a predicted cumulative incidence with competing-risks outcomes.

    The truncated concordance of Wolbers et al. (2009) for cause :math:`k`:

    .. math::

        C_k(\tau) = P\big(M_i > M_j \mid \delta_i = k,\ T_i \le \tau,\
        (T_i < T_j \text{ or } \delta_j \notin \{0, k\})\big),

    where :math:`M_i` is the predicted cumulative incidence of cause :math:`k` (at :math:`\tau`,
    or any score that grows with it). A patient with a cause-:math:`k` event by :math:`\tau`
    should have a higher prediction than one still free of any event at that time (an *A* pair,
    :math:`T_i < T_j`) and than one who had a competing event at any time (a *B* pair: he can no
    longer have a cause-:math:`k` event). Patients censored before :math:`T_i` are not compared.

    With ``ipcw=True`` (Wolbers et al. 2014), pairs are weighted by the inverse
    probability of being observed, so that censoring that is independent of the outcome does not
    bias the estimate:

    .. math::

        \hat C_k(\tau) = \frac{\sum_{i,j} (A_{ij} W_{ij}^{-1} + B_{ij} V_{ij}^{-1})\, Q_{ij}\, N_i(\tau)}
        {\sum_{i,j} (A_{ij} W_{ij}^{-1} + B_{ij} V_{ij}^{-1})\, N_i(\tau)},

    with :math:`N_i(\tau) = 1(T_i \le \tau, \delta_i = k)`, :math:`A_{ij} = 1(T_i < T_j)`,
    :math:`B_{ij} = 1(T_j \le T_i, \delta_j \notin \{0, k\})`, :math:`Q_{ij} = 1(M_i > M_j)`,
    :math:`W_{ij} = \hat G(T_i^-) \hat G(T_i)` and :math:`V_{ij} = \hat G(T_i^-) \hat G(T_j^-)`,
    :math:`\hat G` the Kaplan-Meier estimate of the censoring distribution on ``y`` (any cause
    counts as an event). ``ipcw=False`` sets every weight to 1 (Wolbers et al. 2009).

    As in Harrell's C of :func:`sksurv.metrics.concordance_index_censored`, a patient censored at
    the same time as a cause-:math:`k` event counts as later (an *A* pair), two cause-:math:`k`
    events at the same time are not compared, and tied predictions (within ``tied_tol``) count
    1/2. Without competing events and without weights the statistic is therefore Harrell's C on
    the outcomes censored at :math:`\tau`. Pairs, ties and weights follow the ``cindex`` of the R
    package ``pec`` (maintained by T. A. Gerds, an author of the 2014 paper).

    Parameters
    ----------
    y : structured array of shape (n_samples,)
        Cause codes (0 = censored) and times, from :func:`sksurv_ecg.competing.competing_risks_y`.
    estimate : array-like of shape (n_samples,)
        Predicted cumulative incidence of ``cause`` at ``tau`` (higher = riskier).
    cause : int, default=1
        The cause of interest; every other positive code is a competing event.
    tau : float or None, default=None
        Truncation time: only cause-``cause`` events at or before ``tau`` are compared. None uses
        every event.
    ipcw : bool, default=True
        Weight the pairs by the inverse probability of censoring (Wolbers et al. 2014).
    tied_tol : float, default=1e-8
        Predictions closer than this are tied.

    Returns
    -------
    cindex : float
        The concordance index.
    concordant : int
        Number of concordant comparable pairs (unweighted).
    discordant : int
        Number of discordant comparable pairs (unweighted).
    tied_risk : int
        Number of comparable pairs with tied predictions.
    tied_time : int
        Number of comparable pairs with tied times.

    Raises
    ------
    sksurv.exceptions.NoComparablePairException
        If no pair is comparable (no event of ``cause`` by ``tau``).
    ValueError
        If the estimated censoring survival is 0 where a weight needs it; the message names the
        time and suggests an earlier ``tau``.

    See Also
    --------
    sksurv.metrics.concordance_index_censored : Harrell's C without competing risks.
    sksurv.metrics.concordance_index_ipcw : Uno's C without competing risks.

    References
    ----------
    Wolbers M, Koller MT, Witteman JCM, Steyerberg EW. Prognostic models with competing risks:
    methods and application to coronary risk prediction. Epidemiology 2009; 20: 555-561.

    Wolbers M, Blanche P, Koller MT, Witteman JCM, Gerds TA. Concordance for prognostic models with
    competing risks. Biostatistics 2014; 15: 526-539.

    Examples
    --------
    >>> from sksurv_ecg.competing import competing_risks_y, concordance_index_competing_risks
    >>> y = competing_risks_y([1, 2, 1, 0, 0], [1.0, 2.0, 3.0, 4.0, 5.0])
    >>> concordance_index_competing_risks(y, [0.9, 0.1, 0.5, 0.2, 0.3], cause=1, ipcw=False)[0]
    1.0
    """
    event, time = check_competing_y(y)
    n = time.shape[0]
    estimate = _check_estimate(estimate, n, "estimate")
    if isinstance(cause, bool) or not isinstance(cause, Integral) or cause < 1:
        raise ValueError(f"cause={cause!r} must be an integer cause code >= 1 (0 means censored).")
    if tau is not None:
        tau = _check_positive_time(tau, "tau")
    if isinstance(tied_tol, bool) or not isinstance(tied_tol, Real) or not tied_tol >= 0:
        raise ValueError(f"tied_tol={tied_tol!r} must be a non-negative number.")

    cases = np.flatnonzero((event == cause) & (time <= (np.inf if tau is None else tau)))
    competing = (event > 0) & (event != cause)
    g_before, g_after = _censoring_survival(event, time) if ipcw else (None, None)
    if ipcw:
        g_j = g_before(time)
        g_case = g_before(time[cases]) * g_after(time[cases])
        zero = time[cases][g_case <= 0]
        if zero.size:
            raise ValueError(
                f"the censoring survival estimate is 0 at time {zero.min():g}, where a cause-{cause} event needs "
                f"a weight; pass an earlier tau (below {zero.min():g}) or ipcw=False."
            )

    concordant = discordant = tied_risk = tied_time = 0
    numerator = denominator = 0.0
    for n_case, i in enumerate(cases):
        t_i = time[i]
        later = (time > t_i) | ((time == t_i) & (event == 0))  # A pairs
        earlier_competing = competing & (time <= t_i)  # B pairs (a later competing event is an A pair)
        if ipcw:
            weight = np.where(later, 1.0 / g_case[n_case], 0.0)
            weight[earlier_competing] = 1.0 / (g_before(t_i) * g_j[earlier_competing])
        else:
            weight = (later | earlier_competing).astype(np.float64)
        mask = weight > 0
        if not mask.any():
            continue
        diff = estimate[i] - estimate[mask]
        ties = np.abs(diff) <= tied_tol
        con = (diff > 0) & ~ties
        w = weight[mask]
        numerator += w[con].sum() + 0.5 * w[ties].sum()
        denominator += w.sum()
        concordant += int(con.sum())
        tied_risk += int(ties.sum())
        discordant += int(mask.sum() - con.sum() - ties.sum())
        tied_time += int(np.sum(time[mask] == t_i))
    if denominator == 0:
        where = "" if tau is None else f" at or before tau={tau:g}"
        raise NoComparablePairException(
            f"no comparable pair: y has {cases.size} events of cause {cause}{where} and no patient to compare them "
            "with; pass outcomes with such events (or a later tau)."
        )
    return float(numerator / denominator), concordant, discordant, tied_risk, tied_time


# --- calibration ----------------------------------------------------------------------------------
def _aalen_johansen_at(event, time, cause, horizon):
    r"""Aalen-Johansen cumulative incidence of ``cause`` at ``horizon``.

    :math:`\hat F_k(t) = \sum_{s \le t} \hat S(s^-)\, d_k(s) / n(s)`, with :math:`\hat S` the
    all-cause Kaplan-Meier estimate, :math:`d_k(s)` the cause-``k`` events at :math:`s` and
    :math:`n(s)` the number at risk. Written out rather than taken from
    :func:`sksurv.nonparametric.cumulative_incidence_competing_risks`, which needs every code from
    1 to the largest to occur and fails when only one does (as in a risk group without competing
    events); the tests check it equals that function where it works, and one minus Kaplan-Meier
    with a single cause.
    """
    unique, inverse, counts = np.unique(time, return_inverse=True, return_counts=True)
    at_risk = time.shape[0] - np.concatenate([[0], np.cumsum(counts)[:-1]])
    events = np.bincount(inverse, weights=event > 0, minlength=unique.shape[0])
    cause_events = np.bincount(inverse, weights=event == cause, minlength=unique.shape[0])
    surv_before = np.concatenate([[1.0], np.cumprod(1.0 - events / at_risk)[:-1]])
    increments = surv_before * cause_events / at_risk
    return float(increments[unique <= horizon].sum())


def competing_calibration_at(y, cif_at_horizon, horizon, cause, *, n_groups=10):
    r"""Calibration of a predicted cumulative incidence at a horizon, against Aalen-Johansen.

    Patients are split into ``n_groups`` quantile groups of predicted incidence of ``cause`` at
    ``horizon``; in each, the observed incidence is the Aalen-Johansen estimate (the estimator of
    :func:`sksurv.nonparametric.cumulative_incidence_competing_risks`), which accounts for
    censoring and treats the other causes as competing, not as censored (one minus Kaplan-Meier
    would overstate the incidence when they are common). With a single cause it equals one minus
    the Kaplan-Meier estimate.

    Two summaries:

    - ``mean_absolute_difference``, an ICI-like index: :math:`\sum_g n_g |\bar p_g - \hat F_g| / n`,
      the mean over patients of the absolute difference between their group's mean predicted and
      observed incidence (0 is ideal);
    - ``calibration_in_the_large``: mean predicted incidence minus the Aalen-Johansen incidence of
      the whole sample (0 is ideal; > 0 means over-prediction).

    Parameters
    ----------
    y : structured array of shape (n_samples,)
        Cause codes (0 = censored) and times of the evaluation set, from
        :func:`sksurv_ecg.competing.competing_risks_y`.
    cif_at_horizon : array-like of shape (n_samples,)
        Predicted cumulative incidence of ``cause`` at ``horizon``, in [0, 1], e.g.
        ``model.predict_event_probability(X, [horizon])[:, k, 0]`` of a
        :class:`~sksurv_ecg.competing.CauseSpecificHazards`.
    horizon : float
        The horizon; it must be below the last observed time in ``y``, with an event of ``cause``
        at or before it.
    cause : int
        The cause code whose incidence is predicted.
    n_groups : int, default=10
        Number of quantile groups of predicted incidence.

    Returns
    -------
    result : Bunch
        ``horizon``, ``cause``; ``group_predicted`` (mean predicted incidence per group),
        ``group_observed`` (Aalen-Johansen per group), ``group_size``; ``mean_absolute_difference``;
        ``calibration_in_the_large``; ``observed_incidence`` (Aalen-Johansen, whole sample) and
        ``mean_predicted_incidence``.

    Raises
    ------
    ValueError
        If the horizon is not a positive finite time, is beyond the follow-up or precedes every
        event of ``cause`` (the message names the horizon and the last event time), or if the
        predictions are not finite values in [0, 1].

    See Also
    --------
    sksurv_ecg.metrics.calibration_at : The same without competing risks.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv_ecg.competing import competing_calibration_at, competing_risks_y
    >>> rng = np.random.default_rng(0)
    >>> t1, t2 = rng.exponential(1.0, 4000), rng.exponential(2.0, 4000)
    >>> y = competing_risks_y(np.where(t1 < t2, 1, 2), np.minimum(t1, t2))
    >>> true_cif = (1 - np.exp(-1.5 * 0.5)) / 1.5  # cause 1 at t = 0.5 (rates 1 and 0.5)
    >>> cal = competing_calibration_at(y, np.full(4000, true_cif), 0.5, cause=1, n_groups=4)
    >>> bool(abs(cal.calibration_in_the_large) < 0.02)
    True
    """
    event, time = check_competing_y(y)
    n = time.shape[0]
    cause = _check_cause(cause, event)
    horizon = _check_positive_time(horizon, "horizon")
    last_event = float(time[event == cause].max())
    if horizon >= time.max():
        raise ValueError(
            f"horizon={horizon:g} is beyond the follow-up: the last observed time is {time.max():g} and the last "
            f"event of cause {cause} is at {last_event:g}; choose a horizon below {time.max():g}."
        )
    if not np.any((event == cause) & (time <= horizon)):
        raise ValueError(
            f"horizon={horizon:g} has no event of cause {cause} at or before it (first at "
            f"{time[event == cause].min():g}, last at {last_event:g}); choose a later horizon."
        )
    p = _check_estimate(cif_at_horizon, n, "cif_at_horizon")
    if np.any((p < 0) | (p > 1)):
        raise ValueError(
            f"'cif_at_horizon' must lie in [0, 1], got values in [{p.min():g}, {p.max():g}]; pass a cumulative "
            "incidence."
        )
    if isinstance(n_groups, bool) or not isinstance(n_groups, Integral) or not 1 <= n_groups <= n:
        raise ValueError(f"n_groups={n_groups!r} must be an int between 1 and the {n} samples.")

    groups = np.array_split(np.argsort(p, kind="stable"), n_groups)
    size = np.array([g.size for g in groups])
    predicted = np.array([p[g].mean() for g in groups])
    observed = np.array([_aalen_johansen_at(event[g], time[g], cause, horizon) for g in groups])
    overall = _aalen_johansen_at(event, time, cause, horizon)
    return Bunch(
        horizon=horizon,
        cause=cause,
        group_predicted=predicted,
        group_observed=observed,
        group_size=size,
        mean_absolute_difference=float(np.sum(size * np.abs(predicted - observed)) / n),
        calibration_in_the_large=float(p.mean() - overall),
        observed_incidence=overall,
        mean_predicted_incidence=float(p.mean()),
    )
