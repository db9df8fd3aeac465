"""Fitting the scale of a deep model's log-risk before its Breslow baseline (calibrated survival).

Kept apart from :mod:`sksurv_ecg.survival` so that the estimator only calls :func:`risk_scale`;
the statistics are :func:`sksurv_ecg.metrics.fit_risk_scale` (a one-variable Cox fit).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold
from sksurv.util import Surv

from .exceptions import TrainingWarning
from .metrics import fit_risk_scale
from .utils.validation import user_stacklevel

__all__ = ["checked_scale", "risk_scale"]


def _validation_indices(net, X, target):
    """Indices of the samples the net held out (its ``train_split``), through skorch's public API."""
    if net.train_split is None:
        return None
    _, valid = net.train_split(net.get_dataset(X, target))
    return np.asarray(valid.indices)


def risk_scale(estimator, X, event, time, target):
    """The factor that multiplies ``estimator``'s raw log-risk, following ``estimator.calibration``.

    Parameters
    ----------
    estimator : ECGSurvivalAnalysis
        Fitted up to its network (``net_``).
    X : ndarray of shape (n_samples, n_leads, n_timesteps)
        The training ECGs.
    event, time : ndarray of shape (n_samples,)
        The training outcomes.
    target : ndarray of shape (n_samples, 2)
        ``[time, event]`` as the net was trained on (to rebuild its validation split).

    Returns
    -------
    scale : float
        The Cox coefficient of the raw log-risk on the calibration sample, or 1.0 without one.
    source : str
        Which sample: ``"none"``, ``"train"``, ``"validation"`` or ``"{k}-fold"``.
    """
    calibration = estimator.calibration
    if calibration == "auto":
        calibration = "validation" if estimator.validation_fraction else None
    if calibration is None:
        return 1.0, "none"
    y = Surv.from_arrays(event, time)
    if calibration == "train":
        scale = fit_risk_scale(estimator.net_.predict_risk(X), y)
        source = "train"
    elif calibration == "validation":
        idx = _validation_indices(estimator.net_, X, target)
        if idx is None:
            raise ValueError(
                "calibration='validation' needs a validation split, but validation_fraction=None; set "
                "validation_fraction (e.g. 0.2), or calibration=3 for out-of-fold predictions."
            )
        if not event[idx].any():
            raise ValueError(
                f"the validation split holds {idx.shape[0]} samples and no event, so the log-risk scale cannot be "
                "fitted on it; raise validation_fraction or use calibration=3 (out-of-fold)."
            )
        scale = fit_risk_scale(estimator.net_.predict_risk(X[idx]), y[idx])
        source = "validation"
    else:
        oof = np.empty(event.shape[0])
        folds = StratifiedKFold(calibration, shuffle=True, random_state=estimator._seed())
        for train, test in folds.split(np.zeros(event.shape[0]), event):
            member = clone(estimator).set_params(calibration=None, checkpoint_dir=None, verbose=0)
            oof[test] = member.fit(X[train], y[train]).predict(X[test])
        scale = fit_risk_scale(oof, y)
        source = f"{calibration}-fold"
    return checked_scale(scale, source), source


def checked_scale(scale, source):
    """``scale`` clipped at 0, with a warning when it is not positive.

    A non-positive Cox coefficient of the log-risk on a calibration sample means the network does not
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
        f"the fitted log-risk scale on the {source} predictions is {scale:.3g} (not positive): the network does "
        "not rank these patients in the direction it learned, so every patient gets the baseline survival "
        "(risk_scale_=0). Train longer or on more data, or check the calibration sample.",
        TrainingWarning,
        stacklevel=user_stacklevel(),
    )
    return 0.0
