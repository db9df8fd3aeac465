"""Figures for explaining a deep ECG survival model.

Every function draws with Matplotlib's object-oriented API only: it draws on the ``ax`` or
``fig`` it is given, or on a new :class:`matplotlib.figure.Figure` that is not registered with
pyplot (so nothing opens a window, nothing needs a display, and figures are freed when dropped),
changes no ``rcParams`` and returns the figure. Save it with ``fig.savefig("name.png")``.
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Real

import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from sksurv.compare import compare_survival
from sksurv.nonparametric import kaplan_meier_estimator
from sksurv.util import check_array_survival

from .explain import lead_names as _default_lead_names

__all__ = [
    "plot_calibration",
    "plot_ecg_attention",
    "plot_lead_attention",
    "plot_oof_risk_groups",
    "plot_risk_groups",
    "plot_shap_leads",
    "risk_groups",
]


def _root_figure(ax):
    fig = ax.figure
    return getattr(fig, "figure", fig) or fig


def _figure_and_ax(ax, figsize):
    if ax is None:
        fig = Figure(figsize=figsize, layout="constrained")
        return fig, fig.add_subplot()
    return _root_figure(ax), ax


def _names(names, n_leads):
    if names is None:
        return _default_lead_names(n_leads)
    names = [str(n) for n in names]
    if len(names) != n_leads:
        raise ValueError(
            f"'lead_names' has {len(names)} names, but the data has {n_leads} leads; pass one name per lead."
        )
    return names


def _check_percentile(percentile):
    if isinstance(percentile, bool) or not isinstance(percentile, Real) or not 0 < percentile < 100:
        raise ValueError(f"'percentile'={percentile!r} must be a number in (0, 100); pass e.g. percentile=96.")


def risk_groups(risk, percentile=96.0):
    """Split predicted risks into a high-risk group above a percentile and a low-risk rest.

    Parameters
    ----------
    risk : array-like of shape (n_samples,)
        Predicted risk scores (higher = riskier), e.g. ``ECGSurvivalAnalysis.predict(X)``.
    percentile : float, default=96.0
        Samples with a risk strictly above this percentile of ``risk`` are high risk. The original
        study used the 96th percentile for myocardial infarction and the 98th for hypertrophy,
        roughly the event rates.

    Returns
    -------
    high : ndarray of shape (n_samples,), dtype bool
        True for the high-risk group.
    threshold : float
        The risk at the percentile.

    Examples
    --------
    >>> from sksurv_ecg.plotting import risk_groups
    >>> high, threshold = risk_groups([0.1, 0.5, 0.2, 3.0, 0.3], percentile=75)
    >>> high.tolist(), threshold
    ([False, False, False, True, False], 0.5)
    """
    _check_percentile(percentile)
    risk = np.asarray(risk, dtype=np.float64)
    if risk.ndim != 1 or not np.isfinite(risk).all():
        raise ValueError(f"'risk' must be a finite 1-D array, got shape {risk.shape}; pass model.predict(X).")
    threshold = float(np.percentile(risk, percentile))
    high = risk > threshold
    if not high.any() or high.all():
        raise ValueError(
            f"'percentile'={percentile} puts {int(high.sum())} of {risk.shape[0]} samples in the high-risk group, "
            "expected at least one in each group; lower the percentile or pass more samples."
        )
    return high, threshold


def plot_ecg_attention(
    ecg,
    attention,
    *,
    fs=500.0,
    lead_names=None,
    ncols=1,
    cmap="Oranges",
    symmetric=False,
    colorbar_label="Attention",
    title=None,
    fig=None,
):
    """Plot a 12-lead ECG with each trace coloured by a per-sample map (attention or SHAP).

    Each lead gets its own panel: a thick line coloured by the map under a thin black trace, as in
    the seed's ``vis_colored_lines`` but without resampling. One colour scale is shared by all
    leads, so colours compare across leads.

    Parameters
    ----------
    ecg : array-like of shape (n_leads, n_timesteps)
        One ECG.
    attention : array-like of shape (n_leads, n_timesteps)
        The map to colour by, e.g. ``attention_maps(model, X).time[i]`` or
        ``shap_values(...).attributions[i]``.
    fs : float, default=500.0
        Sampling frequency in Hz (for the time axis in seconds).
    lead_names : list of str or None, default=None
        Panel labels; the standard names for 12 leads.
    ncols : int, default=1
        Number of panel columns (``2`` gives the 6 x 2 layout).
    cmap : str or Colormap, default="Oranges"
        Colour map.
    symmetric : bool, default=False
        Centre the colour scale on zero (for signed maps such as SHAP values; use e.g.
        ``cmap="coolwarm"``); otherwise it runs from the minimum to the maximum of the map, as
        the seed's min-max normalisation.
    colorbar_label : str, default="Attention"
        Label of the colour bar.
    title : str or None, default=None
        Figure title.
    fig : Figure, SubFigure or None, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv_ecg.plotting import plot_ecg_attention
    >>> t = np.linspace(0, 1, 500)
    >>> ecg = np.tile(np.sin(2 * np.pi * 3 * t), (12, 1))
    >>> fig = plot_ecg_attention(ecg, np.abs(ecg) / 500)
    >>> len(fig.axes), fig.axes[0].get_ylabel()
    (13, 'I')
    """
    ecg = np.asarray(ecg, dtype=np.float64)
    attention = np.asarray(attention, dtype=np.float64)
    if ecg.ndim != 2 or attention.shape != ecg.shape:
        raise ValueError(
            f"'ecg' has shape {ecg.shape} and 'attention' {attention.shape}, expected the same (n_leads, n_timesteps) "
            "for both; pass one ECG, e.g. X[i] and maps.time[i]."
        )
    if isinstance(ncols, bool) or not isinstance(ncols, int) or ncols < 1:
        raise ValueError(f"'ncols'={ncols!r} must be a positive integer; pass ncols=1 or ncols=2.")
    n_leads, n_timesteps = ecg.shape
    names = _names(lead_names, n_leads)
    nrows = -(-n_leads // ncols)
    root = fig is None
    if root:
        fig = Figure(figsize=(7 * ncols, 0.8 * nrows + 1.2), layout="constrained")
    axes = fig.subplots(nrows, ncols, sharex=True, squeeze=False)
    if symmetric:
        vmax = float(np.abs(attention).max()) or 1.0
        norm = Normalize(-vmax, vmax)
    else:
        low, high = float(attention.min()), float(attention.max())
        norm = Normalize(low, high if high > low else low + 1.0)
    t = np.arange(n_timesteps) / fs
    for k, ax in enumerate(axes.T.ravel()):
        if k >= n_leads:
            ax.set_visible(False)
            continue
        points = np.column_stack([t, ecg[k]])
        segments = np.stack([points[:-1], points[1:]], axis=1)
        colours = LineCollection(segments, cmap=cmap, norm=norm, linewidths=4, capstyle="round", joinstyle="round")
        colours.set_array((attention[k, :-1] + attention[k, 1:]) / 2)
        ax.add_collection(colours)
        ax.plot(t, ecg[k], color="k", linewidth=0.7)
        ax.set_xlim(t[0], t[-1])
        low, high = ecg[k].min(), ecg[k].max()
        pad = 0.1 * (high - low) or 0.1
        ax.set_ylim(low - pad, high + pad)
        ax.set_ylabel(names[k], rotation=0, ha="right", va="center")
        ax.tick_params(labelleft=False, left=False)
    for ax in axes[-1]:
        ax.set_xlabel("Time (s)")
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=axes.ravel().tolist(), label=colorbar_label, shrink=0.6)
    if title is not None:
        fig.suptitle(title)
    return _root_figure(axes[0, 0])


def _heatmap(ax, matrix, names, *, cmap, vmin, vmax, title):
    image = ax.imshow(matrix, cmap=cmap, vmin=vmin, vmax=vmax)
    ticks = np.arange(len(names))
    ax.set_xticks(ticks, names, rotation=90)
    ax.set_yticks(ticks, names)
    ax.set_xlabel("Attended lead (key)")
    ax.set_ylabel("Query lead")
    ax.set_title(title)
    _root_figure(ax).colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    return image


def plot_lead_attention(
    lead_attention,
    risk=None,
    *,
    percentile=96.0,
    lead_names=None,
    cmap="Oranges",
    diff_cmap="coolwarm",
    ax=None,
    fig=None,
):
    """Heatmaps of the cross-lead attention, for one ECG, a cohort, or high versus low risk.

    - A ``(n_leads, n_leads)`` map gives one heatmap (on ``ax`` if given).
    - A ``(n_samples, n_leads, n_leads)`` stack without ``risk`` gives the mean map.
    - With ``risk``, the samples are split at a percentile (:func:`risk_groups`) and a 2 x 3 grid
      shows the mean (top) and standard deviation (bottom) for the low-risk group, the high-risk
      group and their difference high - low (diverging colours centred at zero), as the seed's
      group figure. The two groups share one colour scale per row.

    Colour scales run from the smallest to the largest value shown (attention rows are close to
    uniform, ``1 / n_leads``, so a scale from 0 would hide the differences).

    Rows are query leads and sum to 1; columns are the leads attended to.

    Parameters
    ----------
    lead_attention : array-like of shape (n_leads, n_leads) or (n_samples, n_leads, n_leads)
        Lead maps, e.g. ``attention_maps(model, X).lead``.
    risk : array-like of shape (n_samples,) or None, default=None
        Predicted risk of each sample, to compare high- and low-risk groups.
    percentile : float, default=96.0
        Risk percentile above which a sample is high risk (with ``risk``).
    lead_names : list of str or None, default=None
        Tick labels; the standard names for 12 leads.
    cmap : str or Colormap, default="Oranges"
        Colour map of attention and spread.
    diff_cmap : str or Colormap, default="coolwarm"
        Colour map of the group differences.
    ax : Axes or None, default=None
        Where to draw a single heatmap.
    fig : Figure, SubFigure or None, default=None
        Where to draw the 2 x 3 group grid.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv_ecg.plotting import plot_lead_attention
    >>> maps = np.random.default_rng(0).dirichlet(np.ones(12), size=(50, 12))
    >>> fig = plot_lead_attention(maps, risk=np.arange(50.0), percentile=90)
    >>> [ax.get_title() for ax in fig.axes if ax.get_title()][:3]
    ['Mean, low risk (n=45)', 'Mean, high risk (n=5)', 'Mean, high - low']
    """
    maps = np.asarray(lead_attention, dtype=np.float64)
    if maps.ndim not in (2, 3) or maps.shape[-1] != maps.shape[-2]:
        raise ValueError(
            f"'lead_attention' has shape {maps.shape}, expected (n_leads, n_leads) or (n_samples, n_leads, n_leads); "
            "pass attention_maps(model, X).lead."
        )
    names = _names(lead_names, maps.shape[-1])
    if risk is None:
        title = "Lead attention"
        if maps.ndim == 3:
            title = f"Mean lead attention (n={maps.shape[0]})"
            maps = maps.mean(axis=0)
        fig, ax = _figure_and_ax(ax, (5.5, 4.5))
        _heatmap(ax, maps, names, cmap=cmap, vmin=None, vmax=None, title=title)
        return fig
    if ax is not None:
        raise ValueError("'ax' is given with 'risk', but the group figure needs a 2 x 3 grid; pass fig= instead.")
    risk = np.asarray(risk)
    if maps.ndim != 3 or risk.shape != (maps.shape[0],):
        raise ValueError(
            f"'risk' has shape {risk.shape}, expected ({maps.shape[0] if maps.ndim == 3 else 'n_samples'},) "
            "with one risk per map of a 3-D 'lead_attention'; pass model.predict(X) for the same X."
        )
    high, _ = risk_groups(risk, percentile)
    low_maps, high_maps = maps[~high], maps[high]
    stats = {
        "Mean": (low_maps.mean(axis=0), high_maps.mean(axis=0)),
        "Std": (low_maps.std(axis=0), high_maps.std(axis=0)),
    }
    if fig is None:
        fig = Figure(figsize=(16, 10), layout="constrained")
    axes = fig.subplots(2, 3, squeeze=False)
    n_low, n_high = int((~high).sum()), int(high.sum())
    for row, (stat, (low, hi)) in enumerate(stats.items()):
        vmin, vmax = min(low.min(), hi.min()), max(low.max(), hi.max())
        _heatmap(axes[row, 0], low, names, cmap=cmap, vmin=vmin, vmax=vmax, title=f"{stat}, low risk (n={n_low})")
        _heatmap(axes[row, 1], hi, names, cmap=cmap, vmin=vmin, vmax=vmax, title=f"{stat}, high risk (n={n_high})")
        diff = hi - low
        limit = float(np.abs(diff).max()) or 1.0
        _heatmap(axes[row, 2], diff, names, cmap=diff_cmap, vmin=-limit, vmax=limit, title=f"{stat}, high - low")
    fig.suptitle(f"Lead attention by predicted risk (high: above the {percentile:g}th percentile)")
    return _root_figure(axes[0, 0])


def plot_risk_groups(
    risk,
    y,
    *,
    percentile=96.0,
    labels=("Low risk", "High risk"),
    conf_int=True,
    time_label="Time",
    n_at_risk_times=None,
    ax=None,
):
    """Kaplan-Meier curves of the predicted high- and low-risk groups with the log-rank p value.

    The groups are split at a percentile of the predicted risk (:func:`risk_groups`); each curve is
    :func:`sksurv.nonparametric.kaplan_meier_estimator` with its 95 % log-log confidence band, and
    the legend title gives the log-rank test of :func:`sksurv.compare.compare_survival`.

    Parameters
    ----------
    risk : array-like of shape (n_samples,)
        Predicted risk scores (higher = riskier).
    y : structured array of shape (n_samples,)
        Observed event indicator and time, e.g. from :meth:`sksurv.util.Surv.from_arrays`.
    percentile : float, default=96.0
        Risk percentile above which a sample is high risk (the seed: 96 for MI, 98 for HYP).
    labels : tuple of str, default=("Low risk", "High risk")
        Legend labels of the two groups; the group sizes are appended.
    conf_int : bool, default=True
        Draw the pointwise confidence bands.
    time_label : str, default="Time"
        Label of the x axis (e.g. ``"Time (years)"``).
    n_at_risk_times : int or None, default=None
        When given, the number at risk of each group at this many evenly spaced times is written
        under the axis.
    ax : Axes or None, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.

    See Also
    --------
    plot_oof_risk_groups : The same from out-of-fold predictions of an estimator.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv.util import Surv
    >>> from sksurv_ecg.plotting import plot_risk_groups
    >>> rng = np.random.default_rng(0)
    >>> risk = rng.normal(size=100)
    >>> y = Surv.from_arrays(rng.random(100) < 0.5, rng.exponential(np.exp(-risk)))
    >>> fig = plot_risk_groups(risk, y, percentile=80)
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['Low risk (n=80)', 'High risk (n=20)']
    """
    risk = np.asarray(risk, dtype=np.float64)
    event, time = check_array_survival(risk.reshape(-1, 1), y)
    if len(labels) != 2:
        raise ValueError(f"'labels' has {len(labels)} entries, expected 2 (low, high); pass e.g. ('Low', 'High').")
    high, _ = risk_groups(risk, percentile)
    fig, ax = _figure_and_ax(ax, (6, 4.5))
    for group, label, colour in ((~high, labels[0], "C0"), (high, labels[1], "C3")):
        if conf_int:
            x, surv, (lower, upper) = kaplan_meier_estimator(event[group], time[group], conf_type="log-log")
            ax.fill_between(x, lower, upper, step="post", alpha=0.2, color=colour, linewidth=0)
        else:
            x, surv = kaplan_meier_estimator(event[group], time[group])
        ax.step(np.r_[0.0, x], np.r_[1.0, surv], where="post", color=colour, label=f"{label} (n={group.sum()})")
    _, pvalue = compare_survival(y, np.where(high, labels[1], labels[0]))
    ax.set_xlabel(time_label)
    ax.set_ylabel("Survival probability")
    ax.set_title(f"Kaplan-Meier by predicted risk (cut at the {percentile:g}th percentile)")
    ax.legend(title=f"log-rank p = {pvalue:.2g}", loc="lower left")
    if n_at_risk_times:
        _number_at_risk(ax, time, high, int(n_at_risk_times))
    return fig


def _number_at_risk(ax, time, high, n_times):
    """Write the number at risk of the low and high group at ``n_times`` evenly spaced times under ``ax``."""
    ticks = np.linspace(0.0, float(time.max()), n_times)
    for row, (group, name) in enumerate(((~high, "Low"), (high, "High"))):
        y_pos = -0.22 - 0.07 * row
        ax.text(-0.02, y_pos, f"{name} at risk", transform=ax.transAxes, ha="right", fontsize="small")
        for t in ticks:
            n = int((time[group] >= t).sum())
            ax.text(t, y_pos, str(n), transform=ax.get_xaxis_transform(), ha="center", fontsize="small")


def plot_shap_leads(lead_importance, *, lead_names=None, ax=None, color="C0", title="SHAP importance per lead"):
    """Bar chart of the SHAP importance of each lead (mean over samples, with the standard deviation).

    Parameters
    ----------
    lead_importance : array-like of shape (n_leads,) or (n_samples, n_leads), or Bunch
        Importance per lead, e.g. ``shap_values(...).lead_importance`` (mean absolute SHAP value
        over time), or the whole result of :func:`sksurv_ecg.explain.shap_values`.
    lead_names : list of str or None, default=None
        Bar labels; those of the result, or the standard names for 12 leads.
    ax : Axes or None, default=None
        Where to draw; a new figure when None.
    color : color, default="C0"
        Bar colour.
    title : str, default="SHAP importance per lead"
        Axes title.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv_ecg.plotting import plot_shap_leads
    >>> fig = plot_shap_leads(np.eye(12)[[1, 1, 2]])
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()][:3]
    ['I', 'II', 'III']
    """
    if hasattr(lead_importance, "lead_importance"):
        lead_names = lead_names if lead_names is not None else lead_importance.get("lead_names")
        lead_importance = lead_importance.lead_importance
    values = np.asarray(lead_importance, dtype=np.float64)
    if values.ndim not in (1, 2):
        raise ValueError(
            f"'lead_importance' has shape {values.shape}, expected (n_leads,) or (n_samples, n_leads); "
            "pass shap_values(...).lead_importance."
        )
    values = values.reshape(-1, values.shape[-1])
    names = _names(lead_names, values.shape[1])
    mean = values.mean(axis=0)
    err = values.std(axis=0) if values.shape[0] > 1 else None
    fig, ax = _figure_and_ax(ax, (5, 4.5))
    position = np.arange(len(names))
    ax.barh(position, mean, xerr=err, color=color, capsize=2)
    ax.set_yticks(position, names)
    ax.invert_yaxis()
    ax.set_xlabel("Mean |SHAP value| (log-risk)")
    ax.set_title(f"{title} (n={values.shape[0]})" if values.shape[0] > 1 else title)
    return fig


def plot_calibration(
    y,
    predicted_risk=None,
    horizon=None,
    *,
    log_risk=None,
    n_knots=3,
    confidence_level=0.95,
    n_resamples=200,
    random_state=0,
    ax=None,
    title=None,
):
    """Calibration plot at a horizon: smoothed observed against predicted risk, a band and a histogram.

    As in Austin, Harrell and van Klaveren (Stat Med 2020): the observed risk is the ``1 - S(t | x)``
    of a Cox model of the outcome on a restricted cubic spline of the complementary log-log of the
    predicted risk (:func:`sksurv_ecg.metrics.smoothed_calibration`), drawn with a pointwise
    bootstrap band; the Kaplan-Meier risk of deciles of predicted risk are dots; a histogram of
    the predictions runs along the bottom; ICI, E50, E90, the calibration slope and
    calibration-in-the-large (:func:`sksurv_ecg.metrics.calibration_at`) are written in the corner.

    Parameters
    ----------
    y : structured array of shape (n_samples,) or Bunch
        Outcomes of the evaluation set. A result of :func:`~sksurv_ecg.metrics.calibration_at`
        is also accepted (then ``predicted_risk`` and ``horizon`` are not given): its curve is
        drawn without a band or histogram.
    predicted_risk : array-like of shape (n_samples,)
        Predicted risk by ``horizon``, e.g. ``model.predict_event_probability(X, [t])[:, 0]``.
    horizon : float
        The horizon ``t``.
    log_risk : array-like of shape (n_samples,) or None, default=None
        Predicted log-risk for the slope (see :func:`~sksurv_ecg.metrics.calibration_at`).
    n_knots : {3, 4, 5}, default=3
        Knots of the spline.
    confidence_level : float, default=0.95
        Coverage of the band.
    n_resamples : int, default=200
        Bootstrap resamples of the band.
    random_state : int or None, default=0
        Seed of the resampling.
    ax : Axes or None, default=None
        Where to draw; a new figure when None.
    title : str or None, default=None
        Axes title; None gives ``"Calibration at t = ..."``.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure; ``fig.calibration`` holds the ``calibration_at`` result and ``fig.curve`` the
        ``smoothed_calibration`` one (None for a ``calibration_at`` input).

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv.util import Surv
    >>> from sksurv_ecg.plotting import plot_calibration
    >>> rng = np.random.default_rng(0)
    >>> eta = rng.normal(size=500)
    >>> t = rng.exponential(np.exp(-eta))
    >>> y = Surv.from_arrays(t < 2.0, np.minimum(t, 2.0))
    >>> fig = plot_calibration(y, 1 - np.exp(-0.5 * np.exp(eta)), 0.5, n_resamples=50)
    >>> "ICI" in fig.axes[0].texts[0].get_text()
    True
    """
    from .metrics import calibration_at, smoothed_calibration

    needed = ("predicted", "observed", "group_predicted", "group_observed", "ici", "t0")
    if isinstance(y, Mapping) and all(k in y for k in needed):
        calibration, curve = y, None
    elif predicted_risk is None or horizon is None:
        raise TypeError(
            "plot_calibration takes (y, predicted_risk, horizon), or the result of "
            "sksurv_ecg.metrics.calibration_at(y, risk, t0) alone."
        )
    else:
        calibration = calibration_at(y, predicted_risk, horizon, log_risk=log_risk, n_knots=n_knots)
        curve = smoothed_calibration(
            y,
            predicted_risk,
            horizon,
            n_knots=n_knots,
            confidence_level=confidence_level,
            n_resamples=n_resamples,
            random_state=random_state,
        )
    fig, ax = _figure_and_ax(ax, (5, 5))
    top = float(max(calibration.predicted.max(), np.nanmax(calibration.group_observed), calibration.observed.max()))
    if curve is not None:
        top = float(max(top, curve.high.max()))
    ax.plot([0, top], [0, top], color="0.5", linestyle="--", label="Ideal")
    if curve is None:
        ax.plot(calibration.predicted, calibration.observed, color="C0", label="Smoothed (hazard regression)")
    else:
        ax.plot(curve.predicted, curve.observed, color="C0", label="Smoothed (hazard regression)")
        ax.fill_between(
            curve.predicted,
            curve.low,
            curve.high,
            color="C0",
            alpha=0.2,
            label=f"{curve.confidence_level:.0%} bootstrap band",
        )
    ax.plot(calibration.group_predicted, calibration.group_observed, "o", color="C3", label="Kaplan-Meier per group")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel(f"Predicted risk by t = {calibration.t0:.3g}")
    ax.set_ylabel("Observed risk")
    ax.set_title(title if title is not None else f"Calibration at t = {calibration.t0:.3g}")
    ax.text(
        0.02,
        0.98,
        f"ICI {calibration.ici:.3f}\nE50 {calibration.e50:.3f}\nE90 {calibration.e90:.3f}\n"
        f"slope {calibration.slope:.2f}\ncalibration-in-the-large {calibration.calibration_in_the_large:+.3f}",
        transform=ax.transAxes,
        va="top",
        fontsize="small",
    )
    if curve is not None:
        # the distribution of the predictions along the bottom (Austin et al.'s figures)
        hist = ax.inset_axes([0.0, 0.0, 1.0, 0.15], sharex=ax)
        hist.hist(calibration.predicted, bins=40, range=(0, top), color="0.6")
        hist.set_axis_off()
        hist.patch.set_alpha(0.0)
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 0.15 if curve is not None else 0.0), fontsize="small")
    fig.calibration, fig.curve = calibration, curve
    return fig


def plot_oof_risk_groups(estimator, X, y, *, cv=5, percentile=50.0, n_at_risk_times=5, time_label="Time", ax=None):
    """Kaplan-Meier curves of risk groups split on out-of-fold predictions, with the number at risk.

    Splitting groups on the risks a model predicts for its own training data overstates their
    separation; here every patient's risk comes from a model that did not see them
    (:func:`sklearn.model_selection.cross_val_predict`), then :func:`plot_risk_groups` draws the
    curves and the number at risk of each group is written under the axis.

    Parameters
    ----------
    estimator : estimator object
        An unfitted survival estimator (``predict`` gives a risk, higher = riskier).
    X : array-like of shape (n_samples, ...)
        Features (ECGs for the deep model).
    y : structured array of shape (n_samples,)
        Outcomes.
    cv : int or cross-validation generator, default=5
        Passed to ``cross_val_predict``; an int gives ``StratifiedKFold`` on the event indicator.
    percentile : float, default=50.0
        Risk percentile splitting the groups.
    n_at_risk_times : int, default=5
        Number of evenly spaced times where the number at risk is shown.
    time_label : str, default="Time"
        Label of the x axis.
    ax : Axes or None, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure; ``fig.oof_risk`` holds the out-of-fold risks.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv.linear_model import CoxPHSurvivalAnalysis
    >>> from sksurv.util import Surv
    >>> from sksurv_ecg.plotting import plot_oof_risk_groups
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2))
    >>> y = Surv.from_arrays(rng.random(200) < 0.7, rng.exponential(np.exp(-X[:, 0])))
    >>> fig = plot_oof_risk_groups(CoxPHSurvivalAnalysis(), X, y, cv=3)
    >>> fig.oof_risk.shape
    (200,)
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    event, _ = check_array_survival(np.zeros((len(y), 1)), y)
    if isinstance(cv, int | np.integer):
        cv = list(StratifiedKFold(int(cv), shuffle=True, random_state=0).split(np.zeros(event.shape[0]), event))
    risk = cross_val_predict(estimator, X, y, cv=cv)
    fig = plot_risk_groups(
        risk, y, percentile=percentile, time_label=time_label, n_at_risk_times=n_at_risk_times, ax=ax
    )
    (fig.axes[0] if ax is None else ax).set_title("Kaplan-Meier by out-of-fold predicted risk")
    fig.oof_risk = risk
    return fig
