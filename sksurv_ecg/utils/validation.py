"""Every input check of sksurv-ecg, in one place.

Messages follow one pattern: the quoted name, what was observed against what was expected, then one
remedy. Where scikit-learn or scikit-survival already has the check, it is called so that the
exception type and wording are theirs.
"""

from __future__ import annotations

import ast
import math
import warnings
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_array, validate_data
from sksurv.util import check_array_survival

from ..exceptions import DeviceWarning, InsufficientEventsError

__all__ = [
    "check_device",
    "check_ecg_array",
    "check_event_batching",
    "check_reports",
    "check_sample_sequence",
    "check_survival_y",
    "check_text_embeddings",
    "validate_ecg",
]


def _as_3d(X: np.ndarray, n_leads: int | None, owner: str) -> np.ndarray:
    """Return ``X`` as ``(n_samples, n_leads, n_timesteps)``; 2-D rows are leads laid end to end."""
    if X.ndim == 3:
        if n_leads is not None and X.shape[1] != n_leads:
            raise ValueError(
                f"X has {X.shape[1]} leads (axis 1), but {owner} expects n_leads={n_leads}; "
                f"pass n_leads={X.shape[1]} or select the expected leads."
            )
        return X
    if X.ndim == 2:
        if n_leads is None:
            raise ValueError(
                f"X is 2-D with shape {X.shape}, but {owner} cannot tell how many leads it holds; "
                "pass a 3-D array of shape (n_samples, n_leads, n_timesteps) or set n_leads."
            )
        if X.shape[1] % n_leads:
            raise ValueError(
                f"X is 2-D with {X.shape[1]} columns, which is not divisible by n_leads={n_leads}; "
                "pass a 3-D array of shape (n_samples, n_leads, n_timesteps)."
            )
        return X.reshape(X.shape[0], n_leads, X.shape[1] // n_leads)
    raise ValueError(
        f"X has {X.ndim} dimensions with shape {X.shape}, but {owner} expects a 3-D array of shape "
        "(n_samples, n_leads, n_timesteps); reshape your data."
    )


def check_ecg_array(X, *, n_leads=None, ensure_min_samples=1, input_name="X"):
    """Check an ECG array and return it as float32 ``(n_samples, n_leads, n_timesteps)``.

    NaN, infinity, complex values, object arrays and sparse matrices are rejected with
    scikit-learn's messages. A 2-D array is read as leads laid end to end along its columns.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_leads, n_timesteps) or (n_samples, n_leads * n_timesteps)
        The signals. A ``numpy.memmap`` of float32 is returned without a copy.
    n_leads : int or None, default=None
        Expected number of leads; required when ``X`` is 2-D.
    ensure_min_samples : int, default=1
        Minimum number of samples.
    input_name : str, default="X"
        Name used in error messages.

    Returns
    -------
    X_checked : ndarray of shape (n_samples, n_leads, n_timesteps), dtype float32
        The validated signals.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv_ecg.utils.validation import check_ecg_array
    >>> check_ecg_array(np.zeros((2, 12, 100))).shape
    (2, 12, 100)
    >>> check_ecg_array(np.zeros((2, 24)), n_leads=12).shape
    (2, 12, 2)
    """
    X = check_array(
        X,
        allow_nd=True,
        dtype=np.float32,
        ensure_min_samples=ensure_min_samples,
        ensure_all_finite=True,
        input_name=input_name,
    )
    return _as_3d(X, n_leads, "the ECG reader")


def validate_ecg(estimator, X, *, reset, n_leads=None, ensure_min_samples=1):
    """Validate ``X`` for an estimator and return it as float32 ``(n, n_leads, n_timesteps)``.

    Wraps :func:`sklearn.utils.validation.validate_data` (which sets or checks ``n_features_in_``
    on axis 1, the leads) and adds the check scikit-learn does not do: the number of time steps,
    stored as ``n_timesteps_in_``.

    Parameters
    ----------
    estimator : BaseEstimator
        The estimator that receives ``X``.
    X : array-like of shape (n_samples, n_leads, n_timesteps) or (n_samples, n_leads * n_timesteps)
        The signals.
    reset : bool
        True in ``fit`` (record the shape), False afterwards (check it).
    n_leads : int or None, default=None
        Number of leads, needed to unfold a 2-D ``X``.
    ensure_min_samples : int, default=1
        Minimum number of samples.

    Returns
    -------
    X_checked : ndarray of shape (n_samples, n_leads, n_timesteps), dtype float32
        The validated signals.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import BaseEstimator
    >>> from sksurv_ecg.utils.validation import validate_ecg
    >>> est = BaseEstimator()
    >>> validate_ecg(est, np.zeros((3, 12, 50)), reset=True).shape
    (3, 12, 50)
    >>> est.n_features_in_, est.n_timesteps_in_
    (12, 50)
    """
    X = validate_data(
        estimator,
        X,
        reset=reset,
        allow_nd=True,
        dtype=np.float32,
        ensure_min_samples=ensure_min_samples,
    )
    owner = type(estimator).__name__
    # validate_data has already compared axis 1 with n_features_in_ (leads for 3-D X, columns for 2-D X).
    X = _as_3d(X, n_leads if reset else estimator.n_leads_, owner)
    if reset:
        estimator.n_leads_ = X.shape[1]
        estimator.n_timesteps_in_ = X.shape[2]
    elif X.shape[2] != estimator.n_timesteps_in_:
        raise ValueError(
            f"X has {X.shape[2]} time steps, but {owner} was fitted with {estimator.n_timesteps_in_}; "
            "resample or crop your signals to the fitted length, or refit."
        )
    return X


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


def check_device(device):
    """Resolve ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` to a usable torch device string.

    A CUDA request on a host without CUDA falls back to the CPU with a :class:`DeviceWarning`.

    Parameters
    ----------
    device : str
        Requested device.

    Returns
    -------
    device : str
        ``"cpu"`` or a CUDA device string.

    Examples
    --------
    >>> from sksurv_ecg.utils.validation import check_device
    >>> check_device("cpu")
    'cpu'
    """
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if isinstance(device, str) and device.startswith("cuda"):
        if torch.cuda.is_available():
            return device
        warnings.warn(
            f"device={device!r} was requested but CUDA is not available; using 'cpu'.",
            DeviceWarning,
            stacklevel=3,
        )
        return "cpu"
    if device == "cpu":
        return device
    raise ValueError(f"device={device!r} is not supported; use 'cpu', 'cuda', 'cuda:N' or 'auto'.")


# --------------------------------------------------------------------------------------------------
# Report inputs (ReportEmbedder): 1-D sequences of SCP-code dicts or free-text reports
# --------------------------------------------------------------------------------------------------


def check_sample_sequence(X, *, what, owner):
    """Return a 1-D input of one object per sample (reports, paths, dicts) as a non-empty list.

    Parameters
    ----------
    X : sequence of shape (n_samples,)
        A list, tuple, 1-D array (or one of shape ``(n_samples, 1)``), pandas Series or one-column
        DataFrame.
    what : str
        What one sample is, in plural, for the messages (e.g. ``"reports"``).
    owner : str
        Name of the estimator or function, for the messages.

    Returns
    -------
    samples : list of length n_samples
        The samples, in order.

    Raises
    ------
    TypeError
        If ``X`` is a single string, bytes or mapping, or not iterable.
    ValueError
        If ``X`` is 2-D with more than one column, or empty.

    Examples
    --------
    >>> import pandas as pd
    >>> from sksurv_ecg.utils.validation import check_sample_sequence
    >>> check_sample_sequence(pd.DataFrame({"report": ["a", "b"]}), what="reports", owner="me")
    ['a', 'b']
    """
    if isinstance(X, pd.DataFrame):
        if X.shape[1] != 1:
            raise ValueError(
                f"X is a DataFrame with {X.shape[1]} columns, but {owner} expects one column of {what}; "
                "select it, e.g. X['scp_codes']."
            )
        X = X.iloc[:, 0]
    if isinstance(X, str | bytes | Mapping):
        raise TypeError(f"X is a single {type(X).__name__}, but {owner} expects a sequence of them; wrap it in a list.")
    if isinstance(X, np.ndarray):
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        if X.ndim != 1:
            raise ValueError(
                f"X has shape {X.shape}, but {owner} expects a 1-D sequence of shape (n_samples,); ravel it."
            )
    try:
        samples = list(X)
    except TypeError:
        raise TypeError(
            f"X is a {type(X).__name__}, but {owner} expects a sequence of {what}; pass a list or a pandas Series."
        ) from None
    if not samples:
        raise ValueError(f"Found array with 0 sample(s) (shape=(0,)) while a minimum of 1 is required by {owner}.")
    return samples


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _check_scp_record(value, index: int) -> Mapping:
    """Return one record's SCP-code dict, parsed from its ``ptbxl_database.csv`` string form if need be."""
    if _is_missing(value):
        raise ValueError(f"X[{index}] is missing ({value!r}), but an SCP-code dict was expected; drop the record.")
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)  # literals only: a string never executes code
        except (ValueError, SyntaxError):
            raise ValueError(
                f"X[{index}] is the string {value[:60]!r}, which is not a dict literal such as "
                "\"{'NORM': 100.0}\"; pass a dict of SCP code to likelihood."
            ) from None
    if not isinstance(value, Mapping):
        raise TypeError(
            f"X[{index}] is a {type(value).__name__}, but source='scp' expects a dict of SCP code to likelihood; "
            "pass source='report' for free text."
        )
    if not value:
        raise ValueError(
            f"X[{index}] is an empty SCP-code dict, but every record needs at least one code; drop the record."
        )
    for code, lik in value.items():
        if isinstance(lik, bool) or not isinstance(lik, Real) or not math.isfinite(lik) or lik < 0:
            raise ValueError(
                f"X[{index}] gives code {code!r} the likelihood {lik!r}, but likelihoods must be finite numbers "
                ">= 0 (PTB-XL uses 0..100); fix the record."
            )
    return value


def _check_report_text(value, index: int) -> str:
    if _is_missing(value):
        raise ValueError(f"X[{index}] is missing ({value!r}), but a report text was expected; drop the record.")
    if not isinstance(value, str):
        raise TypeError(
            f"X[{index}] is a {type(value).__name__}, but source='report' expects a string; "
            "pass source='scp' for SCP-code dicts."
        )
    return value


def check_reports(X, *, source, owner="ReportEmbedder"):
    """Check ECG report inputs and return them as a list of SCP-code dicts or of texts.

    Parameters
    ----------
    X : sequence of dict or str of shape (n_samples,)
        With ``source="scp"``: dicts of SCP code to likelihood (finite, >= 0), or their string form
        as in PTB-XL's ``ptbxl_database.csv`` (``"{'NORM': 100.0}"``, read as a literal, never
        executed). With ``source="report"``: free-text reports. See :func:`check_sample_sequence`
        for the containers accepted.
    source : {"scp", "report"}
        What one sample is.
    owner : str, default="ReportEmbedder"
        Name of the caller, for the messages.

    Returns
    -------
    records : list of length n_samples
        Dicts of code to likelihood (``source="scp"``) or strings (``source="report"``).

    Raises
    ------
    ValueError
        If a record is missing, empty, not a dict literal, or has a likelihood that is negative or
        not finite; the message names the sample index.
    TypeError
        If a record has the wrong type for ``source``.

    Examples
    --------
    >>> from sksurv_ecg.utils.validation import check_reports
    >>> check_reports(["{'IMI': 50.0, 'ASMI': 50.0}", {"NORM": 100.0}], source="scp")
    [{'IMI': 50.0, 'ASMI': 50.0}, {'NORM': 100.0}]
    >>> check_reports(["Sinusrhythmus. Normales EKG."], source="report")
    ['Sinusrhythmus. Normales EKG.']
    """
    if source not in ("scp", "report"):
        raise ValueError(f"source={source!r} is not supported; use 'scp' for SCP-code dicts or 'report' for text.")
    samples = check_sample_sequence(X, what="reports or SCP-code dicts", owner=owner)
    check = _check_scp_record if source == "scp" else _check_report_text
    return [check(value, i) for i, value in enumerate(samples)]
