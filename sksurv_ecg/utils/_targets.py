"""Checks of the targets ``y``: survival outcomes, events per batch, text embeddings."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.utils.validation import check_array
from sksurv.util import check_array_survival

from ..exceptions import InsufficientEventsError


def check_survival_y(X, y, *, allow_time_zero=True):
    """Check a scikit-survival outcome against ``X`` and return ``(event, time)``.

    Parameters
    ----------
    X : array-like of shape (n_samples, ...)
        Samples the outcome belongs to (only its length is used).
    y : structured array of shape (n_samples,)
        Event indicator (bool) as the first field and time as the second, as made by
        :meth:`sksurv.util.Surv.from_arrays`.
    allow_time_zero : bool, default=True
        Whether a time of exactly 0 is accepted.

    Returns
    -------
    event : ndarray of shape (n_samples,), dtype bool
        Event indicator.
    time : ndarray of shape (n_samples,), dtype float64
        Time of event or censoring.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv.util import Surv
    >>> from sksurv_ecg.utils.validation import check_survival_y
    >>> y = Surv.from_arrays([True, False], [3.0, 5.0])
    >>> event, time = check_survival_y(np.zeros((2, 12, 10)), y)
    >>> event.tolist(), time.tolist()
    ([True, False], [3.0, 5.0])
    """
    if y is None:
        raise ValueError(
            "This survival estimator requires y to be passed, but the target y is None; "
            "pass y = sksurv.util.Surv.from_arrays(event, time)."
        )
    event, time = check_array_survival(X, y, allow_time_zero=allow_time_zero)
    return np.asarray(event, dtype=bool), np.asarray(time, dtype=np.float64)


def check_event_batching(event, batch_size, min_events_per_batch):
    """Return the number of event-stratified batches, or raise when events are too few.

    Parameters
    ----------
    event : array-like of shape (n_samples,)
        Event indicator.
    batch_size : int
        Requested batch size; the number of batches is ``max(1, n_samples // batch_size)``.
    min_events_per_batch : int
        Events every batch must hold.

    Returns
    -------
    n_batches : int
        Number of batches per epoch.

    Raises
    ------
    InsufficientEventsError
        When ``n_events < n_batches * min_events_per_batch``.

    Examples
    --------
    >>> from sksurv_ecg.utils.validation import check_event_batching
    >>> check_event_batching([1, 0, 0, 1, 0, 0, 1, 0], batch_size=4, min_events_per_batch=1)
    2
    """
    event = np.asarray(event).astype(bool).ravel()
    if not isinstance(batch_size, Integral) or batch_size < 1:
        raise ValueError(f"batch_size={batch_size!r} must be a positive integer.")
    if not isinstance(min_events_per_batch, Integral) or min_events_per_batch < 0:
        raise ValueError(f"min_events_per_batch={min_events_per_batch!r} must be a non-negative integer.")
    n_samples = event.shape[0]
    n_batches = max(1, n_samples // batch_size)
    n_events = int(event.sum())
    if n_events < n_batches * min_events_per_batch:
        most = n_events // max(min_events_per_batch, 1)
        remedy = (
            f"use at most {most} batches (batch_size >= {-(-n_samples // most)}) or lower min_events_per_batch."
            if most
            else f"no batch size can help; lower min_events_per_batch to at most {n_events}."
        )
        raise InsufficientEventsError(
            f"{n_events} events cannot give each of {n_batches} batches (n_samples={n_samples}, "
            f"batch_size={batch_size}) at least min_events_per_batch={min_events_per_batch} events; {remedy}"
        )
    return n_batches


def check_text_embeddings(y, n_samples):
    """Check report embeddings paired with ECGs and return them as float32 ``(n_samples, d)``.

    Parameters
    ----------
    y : array-like of shape (n_samples, n_text_features) or (n_samples,)
        One embedding per ECG, e.g. from :class:`sksurv_ecg.ReportEmbedder`; a 1-D array is read
        as one feature per ECG.
    n_samples : int
        Number of ECGs the embeddings must match.

    Returns
    -------
    y_checked : ndarray of shape (n_samples, n_text_features), dtype float32
        The validated embeddings.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv_ecg.utils.validation import check_text_embeddings
    >>> check_text_embeddings(np.ones((3, 4)), 3).dtype
    dtype('float32')
    """
    if y is None:
        raise ValueError(
            "TextAlignedPretrainer requires y to be passed, but the target y is None; pass an array of "
            "shape (n_samples, n_text_features) of report embeddings (e.g. from ReportEmbedder)."
        )
    y = check_array(y, dtype=np.float32, ensure_2d=False, input_name="y")
    if y.ndim == 1:  # one number per sample, as scikit-learn's multi-output estimators accept
        y = y.reshape(-1, 1)
    if y.ndim != 2:
        raise ValueError(
            f"y has shape {y.shape}, but text embeddings must be 2-D (n_samples, n_text_features); "
            "embed each report into one vector."
        )
    if y.shape[0] != n_samples:
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: X has {n_samples}, "
            f"y has {y.shape[0]}; pass one text embedding per ECG."
        )
    return y


def check_competing_event_time(event, time):
    """Check competing-risks outcomes: integer cause codes (0 = censored) and finite, non-negative times.

    Parameters
    ----------
    event : array-like of shape (n_samples,)
        Cause code per sample: 0 for censored, 1, 2, ... for the causes.
    time : array-like of shape (n_samples,)
        Event or censoring time per sample.

    Returns
    -------
    event : ndarray of shape (n_samples,), dtype int64
        The cause codes.
    time : ndarray of shape (n_samples,), dtype float64
        The times.

    Raises
    ------
    ValueError
        When the shapes differ, a code is not a non-negative integer, or a time is NaN, infinite or
        negative; the message names the values.

    Examples
    --------
    >>> from sksurv_ecg.utils.validation import check_competing_event_time
    >>> event, time = check_competing_event_time([0, 1, 2], [1.0, 2.0, 3.0])
    >>> event.dtype, time.dtype
    (dtype('int64'), dtype('float64'))
    """
    event = np.asarray(event)
    time = np.asarray(time, dtype=np.float64)
    if event.ndim != 1 or time.shape != event.shape:
        raise ValueError(
            f"'event' has shape {event.shape} and 'time' has shape {time.shape}; pass two 1-D arrays of equal length."
        )
    integral = np.issubdtype(event.dtype, np.integer) or (
        np.issubdtype(event.dtype, np.floating) and np.all(np.isfinite(event)) and np.all(np.mod(event, 1) == 0)
    )
    if event.dtype == bool or not integral:
        raise ValueError(
            f"'event' must hold integer cause codes (0 = censored, 1, 2, ... = causes), got dtype {event.dtype}."
        )
    if np.any(event < 0):
        raise ValueError(f"'event' has negative codes {sorted(set(event[event < 0].tolist()))}; 0 means censored.")
    bad = time[~np.isfinite(time) | (time < 0)]
    if bad.size:
        raise ValueError(
            f"'time' has {bad.size} values that are NaN, infinite or negative (e.g. {bad[:3].tolist()}); "
            "pass finite, non-negative event or censoring times."
        )
    return event.astype(np.int64), time


def check_competing_y(y):
    """Check a competing-risks structured array (cause code, time) and return its two fields.

    Parameters
    ----------
    y : structured ndarray of shape (n_samples,)
        Two fields, the cause code (0 = censored) and the time, as
        :func:`sksurv_ecg.competing.competing_risks_y` builds it.

    Returns
    -------
    event : ndarray of shape (n_samples,), dtype int64
        The cause codes.
    time : ndarray of shape (n_samples,), dtype float64
        The times.

    Raises
    ------
    ValueError
        When ``y`` is not a two-field structured array, or its fields fail
        :func:`check_competing_event_time`.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv_ecg.utils.validation import check_competing_y
    >>> y = np.array([(1, 2.0), (0, 3.0)], dtype=[("event", "i8"), ("time", "f8")])
    >>> check_competing_y(y)[0]
    array([1, 0])
    """
    names = getattr(getattr(y, "dtype", None), "names", None)
    if names is None or len(names) != 2:
        raise ValueError(
            "y must be a structured array with an integer cause code and a time per sample; build it with "
            "sksurv_ecg.competing.competing_risks_y(event, time)."
        )
    return check_competing_event_time(y[names[0]], y[names[1]])
