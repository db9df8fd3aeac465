"""Every input check of sksurv-ecg, in one place.

Messages follow one pattern: the quoted name, what was observed against what was expected, then one
remedy. Where scikit-learn or scikit-survival already has the check, it is called so that the
exception type and wording are theirs.
"""

from __future__ import annotations

import ast
import itertools
import math
import os
import sys
import warnings
from collections.abc import Iterable, Mapping
from numbers import Integral, Real
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_array, validate_data
from sksurv.util import check_array_survival

from ..exceptions import DeviceWarning, InsufficientEventsError

__all__ = [
    "bf16_is_native",
    "check_device",
    "check_ecg_array",
    "check_ecg_length",
    "check_event_batching",
    "check_lead_names",
    "check_precision",
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


def validate_ecg(estimator, X, *, reset, n_leads=None, ensure_min_samples=1, check_length=True):
    """Validate ``X`` for an estimator and return it as float32 ``(n, n_leads, n_timesteps)``.

    Wraps :func:`sklearn.utils.validation.validate_data` (which sets or checks ``n_features_in_``
    on axis 1, the leads) and adds the check scikit-learn does not do: the number of time steps,
    stored as ``n_timesteps_in_``. Signals in microvolts are refused (:func:`check_ecg_amplitude`).

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
    check_length : bool, default=True
        With ``reset=False``, require exactly ``n_timesteps_in_`` time steps. The deep estimators
        pass False and call :func:`check_ecg_length`, which accepts every length that pads to the
        network's length.

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
    elif check_length and X.shape[2] != estimator.n_timesteps_in_:
        raise ValueError(
            f"X has {X.shape[2]} time steps, but {owner} was fitted with {estimator.n_timesteps_in_}; "
            "resample or crop your signals to the fitted length, or refit."
        )
    check_ecg_amplitude(X, owner=owner)
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


def bf16_is_native(device):
    """Whether ``device`` computes in bfloat16 natively rather than emulating it.

    A CPU counts as native when oneDNN has bfloat16 kernels for it (AVX-512 or newer; not AVX2), a
    CUDA device from compute capability 8.0. A torch build without oneDNN cannot tell, and counts as
    native (no false alarm).

    Parameters
    ----------
    device : str
        A resolved device (``check_device``'s output).

    Returns
    -------
    native : bool
        False where bf16 autocast runs several times slower than float32.

    Examples
    --------
    >>> from sksurv_ecg.utils.validation import bf16_is_native
    >>> isinstance(bf16_is_native("cpu"), bool)
    True
    """
    import torch

    if device.startswith("cuda"):
        return bool(torch.cuda.is_bf16_supported(including_emulation=False))
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without oneDNN: no way to tell
        return True


def check_precision(precision, device):
    """Warn when ``precision="bf16"`` asks for bfloat16 arithmetic that ``device`` only emulates.

    On a CPU without AVX-512 (``torch.backends.cpu.get_cpu_capability()`` AVX2 or less), oneDNN has
    no bfloat16 kernels and torch falls back to generic loops: bf16 autocast then trains and predicts
    several times slower than float32 (4.6 s against 0.53 s per training step of 128 ECGs on a
    2-core AVX2 AMD EPYC, docs/results.md) instead of faster. A CUDA device without native bfloat16
    (before compute capability 8.0) is likewise emulated. Either way the computation is correct, so
    this warns and carries on. See :func:`bf16_is_native`.

    Parameters
    ----------
    precision : {"float32", "bf16"}
        Requested precision.
    device : str
        The resolved device (``check_device``'s output).

    Examples
    --------
    >>> from sksurv_ecg.utils.validation import check_precision
    >>> check_precision("float32", "cpu")  # nothing to check
    """
    import torch

    if precision != "bf16" or bf16_is_native(device):
        return
    if device.startswith("cuda"):
        where = f"CUDA device {torch.cuda.get_device_name(torch.device(device))!r}"
    else:
        where = f"this CPU (instruction set {torch.backends.cpu.get_cpu_capability()}, no bfloat16 kernels)"
    warnings.warn(
        f"precision='bf16' on {where}: bfloat16 is emulated there, so it runs several times slower "
        "than float32 instead of faster. Use precision='float32' on this machine.",
        DeviceWarning,
        stacklevel=user_stacklevel(),
    )


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


# --- Checks of the stateless transformers (preprocessing, biomarkers) and of the limb-lead order -------------

__all__ += [
    "MAX_MEDIAN_BEAT_SECONDS",
    "LeadOrderCheck",
    "check_ecg_transformer_input",
    "check_lead_index",
    "check_ecg_amplitude",
    "check_lead_order",
    "check_median_beats",
    "check_n_timesteps",
    "check_path_list",
    "check_standard_12_leads",
]

#: Longest input, in seconds, that is read as a median beat: about two beats at 60 bpm. A median beat
#: spans 1-1.25 s (600 samples at 500 Hz in PTB-XL+ and UK Biobank); a rhythm strip is 2.5 s or longer.
MAX_MEDIAN_BEAT_SECONDS = 2.0


def check_ecg_transformer_input(transformer, X, *, reset, n_leads=None, ensure_all_finite=True):
    """Check the input of a stateless ECG transformer; return it as float32 3-D and whether it was 2-D.

    Like scikit-learn, ``n_features_in_`` counts axis 1 of the input: the leads of a 3-D ``X``, the
    columns of a 2-D ``X`` (leads laid end to end). It is recorded when ``reset`` is true and checked
    otherwise (when it exists: the transformers also work unfitted).

    Parameters
    ----------
    transformer : BaseEstimator
        The transformer that receives ``X``.
    X : array-like of shape (n_samples, n_leads, n_timesteps) or (n_samples, n_leads * n_timesteps)
        The signals.
    reset : bool
        True in ``fit`` (record ``n_features_in_``), False afterwards (check it).
    n_leads : int or None, default=None
        Number of leads, needed to unfold a 2-D ``X``.
    ensure_all_finite : bool, default=True
        Reject NaN and infinity with scikit-learn's message. False leaves them to the transformer,
        which then handles them record by record.

    Returns
    -------
    X_checked : ndarray of shape (n_samples, n_leads, n_timesteps), dtype float32
        The validated signals.
    two_d : bool
        Whether ``X`` came 2-D (the output is then laid out 2-D again).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.base import BaseEstimator
    >>> from sksurv_ecg.utils.validation import check_ecg_transformer_input
    >>> est = BaseEstimator()
    >>> X, two_d = check_ecg_transformer_input(est, np.zeros((2, 24)), reset=True, n_leads=12)
    >>> X.shape, two_d, est.n_features_in_
    ((2, 12, 2), True, 24)
    """
    two_d = (len(X.shape) if hasattr(X, "shape") else np.asarray(X).ndim) == 2
    owner = type(transformer).__name__
    if ensure_all_finite:
        X_checked = check_ecg_array(X, n_leads=n_leads)
    else:
        X_checked = check_array(X, allow_nd=True, dtype=np.float32, ensure_all_finite=False)
        X_checked = _as_3d(X_checked, n_leads, owner)
    n_features = X_checked.shape[1] * (X_checked.shape[2] if two_d else 1)
    if reset:
        transformer.n_features_in_ = n_features
    elif hasattr(transformer, "n_features_in_") and n_features != transformer.n_features_in_:
        raise ValueError(
            f"X has {n_features} features, but {owner} is expecting {transformer.n_features_in_} features as input."
        )
    return X_checked, two_d


def check_path_list(paths, *, what="ECG file"):
    """Return one path, an iterable of paths, or a one-column array or frame of them as a list of paths.

    The file readers (:func:`sksurv_ecg.io.read_ecg`, :func:`sksurv_ecg.io.read_wfdb`,
    :func:`sksurv_ecg.io.to_memmap`) all take their paths through this check, so that a wrong
    argument is refused with the same wording whichever reader is called.

    Parameters
    ----------
    paths : str, os.PathLike, iterable of them, or array or DataFrame of shape (n_paths, 1)
        What the user passed.
    what : str, default="ECG file"
        What a path names (``"ECG file"``, ``"WFDB record"``), used in the messages.

    Returns
    -------
    path_list : list of pathlib.Path
        The paths, at least one, in the given order.

    Raises
    ------
    TypeError
        When ``paths`` or one of its elements is not a path.
    ValueError
        When an array has more than one column, or there is no path.

    Examples
    --------
    >>> from sksurv_ecg.utils.validation import check_path_list
    >>> [p.name for p in check_path_list(["a.xml", "b.dcm"])]
    ['a.xml', 'b.dcm']
    >>> check_path_list([])
    Traceback (most recent call last):
    ...
    ValueError: paths is empty; pass at least one ECG file path.
    """
    if isinstance(paths, str | os.PathLike):
        return [Path(paths)]
    if isinstance(paths, pd.DataFrame | np.ndarray):
        paths = np.asarray(paths, dtype=object)
        if paths.ndim == 2 and paths.shape[1] == 1:
            paths = paths[:, 0]
        if paths.ndim != 1:
            raise ValueError(f"paths has shape {paths.shape}; pass one file path per row (a 1-D list).")
    if not isinstance(paths, Iterable):
        raise TypeError(f"paths must be one {what} path or a list of {what} paths, got {type(paths).__name__}.")
    out = []
    for p in paths:
        if not isinstance(p, str | os.PathLike):
            raise TypeError(f"Each {what} path must be a str or os.PathLike, got {type(p).__name__} ({p!r}).")
        out.append(Path(p))
    if not out:
        raise ValueError(f"paths is empty; pass at least one {what} path.")
    return out


def check_standard_12_leads(X, *, owner):
    """Check an ECG array that must hold the 12 standard leads; return it as float32 3-D.

    Parameters
    ----------
    X : array-like of shape (n_samples, 12, n_timesteps)
        Signals, leads I, II, III, aVR, aVL, aVF, V1-V6.
    owner : str
        Name of the caller, used in the message.

    Returns
    -------
    X_checked : ndarray of shape (n_samples, 12, n_timesteps), dtype float32
        The validated signals.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv_ecg.utils.validation import check_standard_12_leads
    >>> check_standard_12_leads(np.zeros((1, 12, 10)), owner="ECGBiomarkers").shape
    (1, 12, 10)
    """
    X = check_ecg_array(X)
    if X.shape[1] != 12:
        raise ValueError(
            f"X has {X.shape[1]} leads (axis 1), but {owner} expects the 12 standard leads "
            "I, II, III, aVR, aVL, aVF, V1-V6; pass 12-lead ECGs in that order."
        )
    return X


def check_lead_index(lead, n_leads, *, owner):
    """Check that ``lead`` indexes one of ``n_leads`` leads.

    Parameters
    ----------
    lead : int
        Index along axis 1 of ``X``.
    n_leads : int
        Number of leads of ``X``.
    owner : str
        Name of the caller, used in the message.

    Examples
    --------
    >>> from sksurv_ecg.utils.validation import check_lead_index
    >>> check_lead_index(1, 12, owner="MedianBeat")
    """
    if not 0 <= lead < n_leads:
        raise ValueError(
            f"lead={lead} is out of range for X with {n_leads} leads in {owner}; pass a lead index below {n_leads}."
        )


def check_n_timesteps(X, *, minimum, owner, what, remedy):
    """Check that ``X`` (3-D) holds at least ``minimum`` time steps.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_leads, n_timesteps)
        The signals.
    minimum : int
        Fewest time steps accepted.
    owner : str
        Name of the caller, used in the message.
    what : str
        What needs ``minimum`` samples, e.g. ``"window=600"``.
    remedy : str
        What the caller can do instead.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv_ecg.utils.validation import check_n_timesteps
    >>> check_n_timesteps(np.zeros((1, 12, 700)), minimum=600, owner="MedianBeat", what="window=600", remedy="")
    """
    if X.shape[2] < minimum:
        raise ValueError(f"X has {X.shape[2]} time steps, fewer than {what} of {owner}; {remedy}")


#: Largest robust amplitude range (median over leads of the 1st-99th percentile range) a record in mV
#: may have. Real 12-lead ECGs span 0.45-1.35 mV (19 real records: PTB-XL and clinical files); the
#: same records in microvolts span 450-1350, so the bound sits far from both.
MAX_ECG_RANGE_MV = 100.0


def _robust_ranges(X, rows):
    """Median over leads of the 1st-99th percentile range of each record in ``rows`` (NaN if not finite)."""
    out = np.full(rows.size, np.nan)
    for start in range(0, rows.size, 64):
        chunk = np.asarray(X[rows[start : start + 64]], dtype=np.float32)
        finite = np.isfinite(chunk).all(axis=(1, 2))
        if finite.any():
            low, high = np.percentile(chunk[finite], [1, 99], axis=2)
            out[start : start + 64][finite] = np.median(high - low, axis=1)
    return out


def check_ecg_amplitude(X, *, owner, max_records=64):
    """Refuse ECGs in microvolts (or raw ADC counts) where millivolts are expected.

    A record's robust amplitude range is the median over its leads of the 1st-99th percentile
    range; it is 0.45-1.35 for real 12-lead ECGs in mV and about 1000 times that in microvolts.
    Any checked record above :data:`MAX_ECG_RANGE_MV` is refused. Standardised signals (a range of a
    few units) pass.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_leads, n_timesteps)
        Signals in mV; records with NaN or infinity are left out.
    owner : str
        Name of the caller, used in the message.
    max_records : int, default=64
        Records (spread evenly) that are checked, so that the check stays cheap on large memory maps
        and at every ``predict``.

    Raises
    ------
    ValueError
        Naming the record, its range and the remedy (divide by 1000).

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv_ecg.utils.validation import check_ecg_amplitude
    >>> X = np.sin(np.linspace(0, 60, 5000))[None, None, :].repeat(12, axis=1)  # 2 mV peak to peak
    >>> check_ecg_amplitude(X, owner="MedianBeat")
    >>> check_ecg_amplitude(X * 1000, owner="MedianBeat")
    Traceback (most recent call last):
    ...
    ValueError: X looks like microvolts, ...
    """
    n = X.shape[0]
    if n == 0 or X.shape[2] == 0:
        return
    rows = np.unique(np.linspace(0, n - 1, num=min(n, max_records)).round().astype(np.int64))
    ranges = _robust_ranges(X, rows)
    too_large = np.flatnonzero(ranges > MAX_ECG_RANGE_MV)
    if too_large.size:
        first = int(rows[too_large[0]])
        raise ValueError(
            f"X looks like microvolts, not millivolts: record {first} has a robust amplitude range (median over "
            f"leads of the 1st-99th percentile range) of {ranges[too_large[0]]:.4g}, about 1000 times a 12-lead "
            f"ECG's in mV (0.5-3); {too_large.size} of {rows.size} records checked exceed {MAX_ECG_RANGE_MV:g}. "
            f"{owner} expects mV: divide X by 1000 (or read the files in mV)."
        )


def check_median_beats(X, *, fs, r_index, margin, owner):
    """Check that ``X`` holds median beats (not strips) with room for ``margin`` samples around ``r_index``.

    Input longer than :data:`MAX_MEDIAN_BEAT_SECONDS` is a rhythm strip, not a median beat: measured as
    one, it gives meaningless values (a 10-s strip read as a beat gave a QRS of 300 ms).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_leads, n_timesteps)
        The median beats.
    fs : float
        Sampling frequency in Hz.
    r_index : int
        Sample of the R peak.
    margin : int
        Samples needed on each side of the R peak.
    owner : str
        Name of the caller, used in the message.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv_ecg.utils.validation import check_median_beats
    >>> check_median_beats(np.zeros((1, 12, 608)), fs=500, r_index=304, margin=77, owner="ECGBiomarkers")
    """
    fs = float(fs)
    n_timesteps = X.shape[2]
    longest = int(MAX_MEDIAN_BEAT_SECONDS * fs)
    if n_timesteps > longest:
        raise ValueError(
            f"X has {n_timesteps} time steps ({n_timesteps / fs:g} s at fs={fs:g} Hz), but {owner} with "
            f"kind='median' reads each row as one median beat, at most {MAX_MEDIAN_BEAT_SECONDS:g} s "
            f"({longest} samples); run sksurv_ecg.preprocessing.MedianBeat(fs={fs:g}) on the strips first, "
            "or pass kind='rhythm' to measure raw strips."
        )
    if not margin <= r_index < n_timesteps - margin:
        raise ValueError(
            f"r_index={r_index} leaves less than {margin} samples on one side of the R peak in X with "
            f"{n_timesteps} time steps at fs={fs:g}; pass median beats with the R peak inside (e.g. from "
            "MedianBeat), the right fs, or kind='rhythm' for raw strips."
        )


class LeadOrderCheck(NamedTuple):
    """Result of :func:`check_lead_order`.

    Attributes
    ----------
    residual : float
        Share of the limb leads' energy that breaks Einthoven's and Goldberger's relations in the
        given order (0 = they hold exactly; about 0.67 for independent noise).
    best_residual : float
        The same share in the best order and signs of the six limb leads.
    order : tuple of int
        Column of ``X`` (axis 1) that holds I, II, III, aVR, aVL, aVF in the best order.
    signs : tuple of int
        Sign (+1 or -1) each of those columns takes in the best order.
    warned : bool
        Whether a :class:`~sksurv_ecg.exceptions.LeadOrderWarning` was issued (limb leads out of
        order, all leads reversed, or V1 and V6 exchanged across a cohort).
    """

    residual: float
    best_residual: float
    order: tuple
    signs: tuple
    warned: bool


#: Share of the limb-lead energy below which the relations count as holding, and above which the given
#: order counts as wrong. Between them nothing is said (noisy or partly derived leads).
_LEAD_ORDER_CONSISTENT = 0.02
_LEAD_ORDER_INCONSISTENT = 0.05
# Columns (I, II) of each limb lead in I, II: III = II - I, aVR = -(I + II)/2, aVL = I - II/2, aVF = II - I/2.
_LIMB_BASIS = np.array([[1, 0], [0, 1], [-1, 1], [-0.5, -0.5], [1, -0.5], [-0.5, 1]])


def _limb_lead_gram(X6, max_records):
    """Mean over records of the trace-normalised 6x6 Gram matrix of the centred limb leads (None if no energy)."""
    n = X6.shape[0]
    rows = np.unique(np.linspace(0, n - 1, num=min(n, max_records)).round().astype(np.int64))
    grams = []
    for start in range(0, rows.size, 64):
        chunk = np.asarray(X6[rows[start : start + 64]], dtype=np.float64)
        chunk = chunk[np.isfinite(chunk).all(axis=(1, 2))]
        chunk = chunk - chunk.mean(axis=-1, keepdims=True)
        gram = np.einsum("nit,njt->nij", chunk, chunk)
        energy = np.trace(gram, axis1=1, axis2=2)
        keep = energy > 1e-12 * max(1.0, float(energy.max(initial=0.0)))
        grams.append(gram[keep] / energy[keep, None, None])
    grams = np.concatenate(grams) if grams else np.empty((0, 6, 6))
    return grams.mean(axis=0) if len(grams) else None


def _describe_lead_fix(order, signs, names):
    """Words for the change that makes the relations hold, e.g. "I and II look exchanged"."""
    limb = ("I", "II", "III", "aVR", "aVL", "aVF")
    parts, seen = [], set()
    for k, column in enumerate(order):
        if column == k or k in seen:
            continue
        if order[column] == k:  # a swap of two columns
            parts.append(f"{names[k]} and {names[column]} look exchanged")
            seen.update({k, column})
        else:
            parts.append(f"{limb[k]} looks to be in the column of {names[column]} (index {column})")
    parts += [f"{limb[k]} looks inverted" for k in range(6) if signs[k] < 0]
    return "; ".join(parts)


def _evenly_spread_rows(n, max_records):
    return np.unique(np.linspace(0, n - 1, num=min(n, max_records)).round().astype(np.int64))


def _reversed_lead_order(X, columns, lead_names, max_records, given, stacklevel):
    """Warn when the limb relations fail as given but hold with the leads read in reverse (``X[:, ::-1]``)."""
    from ..exceptions import LeadOrderWarning

    n_leads = len(lead_names)
    mirrored = [n_leads - 1 - c for c in columns]
    rows = _evenly_spread_rows(X.shape[0], max_records)
    gram = _limb_lead_gram(np.asarray(X[rows])[:, mirrored], max_records)
    if gram is None:
        return None
    off_plane = np.eye(6) - _LIMB_BASIS @ np.linalg.pinv(_LIMB_BASIS)
    residual = float(np.einsum("kl,kl->", off_plane, gram))
    if residual >= _LEAD_ORDER_CONSISTENT:
        return None
    warnings.warn(
        f"The {n_leads} leads of X look reversed: the limb leads break Einthoven's and Goldberger's relations in the "
        f"given order ({given:.2f} of their energy off the plane of I and II) but satisfy them read from the last "
        f"column backwards ({residual:.4f}), so column 0 holds {lead_names[-1]} and column {n_leads - 1} holds "
        f"{lead_names[0]}. Fix: reverse the leads, X[:, ::-1]; if the order is right, silence this with "
        "warnings.filterwarnings('ignore', category=sksurv_ecg.exceptions.LeadOrderWarning).",
        LeadOrderWarning,
        stacklevel=stacklevel + 1,
    )
    return LeadOrderCheck(given, residual, tuple(mirrored), (1,) * 6, True)


#: Fewest records the V1/V6 check needs: one record with a tall R in V1 and a deep S in V6 is a
#: patient (posterior infarction, right bundle branch block, dextrocardia), a majority of a cohort is
#: a cable or export mistake.
_PRECORDIAL_COHORT = 5


def _r_dominance(x):
    """(R - S) / (R + S) per lead: R and S are the largest deflections above and below the lead's median."""
    centred = x - np.median(x, axis=-1, keepdims=True)
    r = np.percentile(centred, 99.5, axis=-1)
    s = -np.percentile(centred, 0.5, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (r - s) / (r + s)


def _precordial_swap(X, lead_names, max_records, stacklevel):
    """Warn when most records show V1 and V6 exchanged (R progression broken at both ends); never for one record.

    Normally V1 is dominated by its S wave and V6 by its R wave (all 19 real records checked: V1 -0.82
    to -0.09, V6 0.44 to 0.86 in ``_r_dominance``). A record counts as exchanged when V1 is R-dominant and
    above V2 while V6 is S-dominant and below V5.
    """
    from ..exceptions import LeadOrderWarning

    needed = ("V1", "V2", "V5", "V6")
    if not set(needed) <= set(lead_names):
        return False
    columns = [lead_names.index(name) for name in needed]
    rows = _evenly_spread_rows(X.shape[0], max_records)
    dominance = []
    for start in range(0, rows.size, 64):
        chunk = np.asarray(X[rows[start : start + 64]], dtype=np.float64)[:, columns]
        chunk = chunk[np.isfinite(chunk).all(axis=(1, 2))]
        dominance.append(_r_dominance(chunk))
    d = np.concatenate(dominance) if dominance else np.empty((0, 4))
    d = d[np.isfinite(d).all(axis=1)]
    if d.shape[0] < _PRECORDIAL_COHORT:
        return False
    v1, v2, v5, v6 = d.T
    exchanged = (v1 > 0) & (v6 < 0) & (v1 > v2) & (v6 < v5)
    if exchanged.sum() * 2 <= d.shape[0]:
        return False
    i, j = lead_names.index("V1"), lead_names.index("V6")
    reorder = list(range(len(lead_names)))
    reorder[i], reorder[j] = j, i
    warnings.warn(
        f"V1 and V6 look exchanged in {int(exchanged.sum())} of {d.shape[0]} records: V1 is dominated by its R wave "
        "and V6 by its S wave, the reverse of the usual R-wave progression. A single record can look like this "
        "(posterior infarction, dextrocardia), a majority of a cohort rarely does. Fix, if the cables or the "
        f"export swapped them: X[:, {reorder}]; if the order is right, silence this with "
        "warnings.filterwarnings('ignore', category=sksurv_ecg.exceptions.LeadOrderWarning).",
        LeadOrderWarning,
        stacklevel=stacklevel + 1,
    )
    return True


def check_lead_order(X, *, lead_names=None, max_records=256, stacklevel=2):
    """Warn when the limb leads of ``X`` look out of order, by Einthoven's and Goldberger's relations.

    The six limb leads are linear in two: III = II - I, aVR = -(I + II)/2, aVL = I - II/2,
    aVF = II - I/2. Their share of energy outside that plane (after centring each lead, averaged over
    up to ``max_records`` records) is near 0 in the standard order (under 1e-5 on PTB-XL records)
    and 0.14-0.42 on the same records with I and II exchanged. All 720 orders of the six limb
    leads and their 64 sign patterns are tried. A
    :class:`~sksurv_ecg.exceptions.LeadOrderWarning` naming the likely fix is issued only when the
    given order breaks the relations (share above 0.05) and another order or sign satisfies them
    (share below 0.02). Signals that are not limb-lead-derived at all (independent noise, leads
    standardised one by one, identical channels) satisfy them in no order and raise no warning.

    Two more orders are recognised. All leads reversed (``X[:, ::-1]``, V6 first): the relations
    then hold in the mirrored columns, which is checked for every record. V1 and V6 exchanged: V1
    is normally dominated by its S wave and V6 by its R wave; when most of at least 5 records show
    the reverse (V1 R-dominant above V2, V6 S-dominant below V5) a warning is issued. One record
    alone is never judged, since posterior infarction or dextrocardia look the same.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_leads, n_timesteps)
        Signals; records with NaN, infinity or no energy in the limb leads are left out.
    lead_names : sequence of str or None, default=None
        Names of the leads along axis 1; ``None`` means the 12 standard leads
        (:data:`sksurv_ecg.nn.LEAD_NAMES`). The check needs I, II, III, aVR, aVL and aVF.
    max_records : int, default=256
        Records (spread evenly) that the check reads, so that it stays cheap on large memory maps.
    stacklevel : int, default=2
        As for :func:`warnings.warn`, counted from the caller of this function.

    Returns
    -------
    result : LeadOrderCheck or None
        The residual shares, the best order and signs, and whether a warning was issued; ``None``
        when ``X`` lacks one of the six limb leads or holds no usable record. For reversed leads,
        ``order`` names the columns holding I, II, III, aVR, aVL, aVF and ``best_residual`` their share.

    Examples
    --------
    >>> import warnings
    >>> from sksurv_ecg.datasets import make_ecg_survival
    >>> from sksurv_ecg.exceptions import LeadOrderWarning
    >>> from sksurv_ecg.utils.validation import check_lead_order
    >>> X, _, _ = make_ecg_survival(4, random_state=0)
    >>> check_lead_order(X).warned
    False
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     result = check_lead_order(X[:, [1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]])
    >>> result.warned, result.order, str(caught[0].message).split("; ")[1].split(".")[0]
    (True, (1, 0, 2, 3, 4, 5), 'I and II look exchanged')
    """
    from ..exceptions import LeadOrderWarning

    if lead_names is None:
        from ..nn._leads import LEAD_NAMES

        lead_names = LEAD_NAMES
    lead_names = list(lead_names)
    shape = getattr(X, "shape", None) or np.shape(X)
    if len(shape) != 3 or shape[1] != len(lead_names):
        raise ValueError(
            f"X has shape {tuple(shape)}, but check_lead_order expects (n_samples, {len(lead_names)}, "
            "n_timesteps) with one lead per name in lead_names; pass a 3-D array or matching lead_names."
        )
    limb = ("I", "II", "III", "aVR", "aVL", "aVF")
    if not set(limb) <= set(lead_names):
        return None
    columns = [lead_names.index(name) for name in limb]
    X = X if isinstance(X, np.ndarray) else np.asarray(X)
    gram = _limb_lead_gram(X[:, columns] if columns != list(range(6)) else X[:, :6], max_records)
    if gram is None:
        return None
    off_plane = np.eye(6) - _LIMB_BASIS @ np.linalg.pinv(_LIMB_BASIS)
    perms = np.array(list(itertools.permutations(range(6))))  # perms[p, k]: the column read as limb lead k
    signs = np.array(list(itertools.product((1.0, -1.0), repeat=6)))
    permuted = gram[perms[:, :, None], perms[:, None, :]]  # (720, 6, 6)
    residual = np.einsum("sk,sl,kl,pkl->ps", signs, signs, off_plane, permuted)
    given = float(residual[0, 0])  # identity order, all signs +1
    best = float(residual.min())
    # Orders that are equivalent by the symmetry of the hexaxial system give the same residual: prefer
    # the one that moves and flips the fewest leads.
    cost = (perms != np.arange(6)).sum(axis=1)[:, None] + (signs < 0).sum(axis=1)[None, :]
    tied = residual <= best * 1.01 + 1e-12
    p, s = np.unravel_index(np.argmin(np.where(tied, cost, np.iinfo(np.int64).max)), residual.shape)
    order = tuple(int(columns[c]) for c in perms[p])
    sign = tuple(int(v) for v in signs[s])
    warned = given > _LEAD_ORDER_INCONSISTENT and best < _LEAD_ORDER_CONSISTENT
    if warned:
        fix = _describe_lead_fix(tuple(int(c) for c in perms[p]), sign, [lead_names[c] for c in columns])
        reorder = list(range(len(lead_names)))
        for k, column in enumerate(order):
            reorder[columns[k]] = column
        flips = ", ".join(limb[k] for k in range(6) if sign[k] < 0)
        steps = (
            [f"reorder the leads to {', '.join(lead_names)} (e.g. X[:, {reorder}])"] if order != tuple(columns) else []
        )
        steps += [f"negate {flips}"] if flips else []
        warnings.warn(
            f"The limb leads of X break Einthoven's and Goldberger's relations in the given order "
            f"({given:.2f} of their energy off the plane of I and II, against {best:.4f} after the fix); "
            f"{fix}. Fix: {', then '.join(steps)}; if the order is right, silence this with "
            "warnings.filterwarnings('ignore', category=sksurv_ecg.exceptions.LeadOrderWarning).",
            LeadOrderWarning,
            stacklevel=stacklevel + 1,
        )
    elif given > _LEAD_ORDER_INCONSISTENT:  # no order of the first six columns helps: are all leads reversed?
        mirrored = _reversed_lead_order(X, columns, lead_names, max_records, given, stacklevel + 1)
        if mirrored is not None:
            return mirrored
    swapped = _precordial_swap(X, lead_names, max_records, stacklevel + 1)
    return LeadOrderCheck(given, best, order, sign, warned or swapped)


def check_lead_names(lead_names, n_leads, *, owner):
    """Resolve the ``lead_names`` parameter of an estimator for ``n_leads`` leads.

    Parameters
    ----------
    lead_names : sequence of str or None
        Names of the leads along axis 1 of ``X``, in order. None means the 12 standard leads
        (:data:`sksurv_ecg.nn.LEAD_NAMES`) when there are 12, else unnamed leads.
    n_leads : int
        Number of leads of ``X``.
    owner : str
        Name of the estimator, for messages.

    Returns
    -------
    lead_names : list of str or None
        The names, or None for unnamed leads.

    Examples
    --------
    >>> from sksurv_ecg.utils.validation import check_lead_names
    >>> check_lead_names(None, 12, owner="ECGEmbedder")[:3]
    ['I', 'II', 'III']
    >>> check_lead_names(None, 8, owner="ECGEmbedder") is None
    True
    >>> check_lead_names(["II", "I"], 2, owner="ECGEmbedder")
    ['II', 'I']
    """
    if lead_names is None:
        from ..nn._leads import LEAD_NAMES

        return list(LEAD_NAMES) if n_leads == len(LEAD_NAMES) else None
    if isinstance(lead_names, str) or not all(isinstance(name, str) for name in lead_names):
        raise TypeError(
            f"lead_names={lead_names!r} must be a sequence of lead names (str), one per lead of X; "
            "e.g. ['I', 'II', 'V1']."
        )
    names = list(lead_names)
    if len(names) != n_leads:
        raise ValueError(
            f"lead_names has {len(names)} names, but X has {n_leads} leads (axis 1); give one name per lead, in order."
        )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"lead_names repeats {duplicates}; every lead of X needs its own name.")
    return names


def check_ecg_length(n_timesteps, *, fitted, padded, downsample, fs, owner):
    """Refuse a signal length that does not pad to the network's length.

    The network runs on ``padded`` samples (a multiple of ``2**downsample``); every input that pads
    to it is accepted, e.g. the 600-sample median beats of UK Biobank on a model fitted on 608-sample
    beats. Anything else is a different window or sampling rate, and is refused with what to do.

    Parameters
    ----------
    n_timesteps : int
        Time steps of ``X``.
    fitted : int
        Time steps seen in ``fit`` (``n_timesteps_in_``).
    padded : int
        Length the network runs on.
    downsample : int
        Stride-2 stages of the network (the padding step is ``2**downsample``).
    fs : float
        Sampling rate the estimator was fitted at, in Hz.
    owner : str
        Name of the estimator, for messages.

    Examples
    --------
    >>> from sksurv_ecg.utils.validation import check_ecg_length
    >>> check_ecg_length(600, fitted=608, padded=608, downsample=5, fs=500, owner="ECGEmbedder")
    >>> check_ecg_length(128, fitted=608, padded=608, downsample=5, fs=500, owner="ECGEmbedder")
    Traceback (most recent call last):
    ...
    ValueError: X has 128 time steps, but ECGEmbedder was fitted with 608 samples at 500 Hz (1.22 s) ...
    """
    step = 2**downsample
    if -(-n_timesteps // step) * step == padded:
        return
    shortest = padded - step + 1
    seconds = fitted / fs
    implied = n_timesteps / seconds
    raise ValueError(
        f"X has {n_timesteps} time steps, but {owner} was fitted with {fitted} samples at {fs:g} Hz "
        f"({seconds:.2f} s) and accepts {shortest} to {padded}. If X covers the same {seconds:.2f} s, it was "
        f"sampled at about {implied:.0f} Hz: a beat at another rate must be resampled to {fs:g} Hz "
        f"(sksurv_ecg.preprocessing.Resample, or MedianBeat(fs={fs:g}) on the strips); if X covers another "
        f"window, crop or pad it to {fitted} samples; or refit {owner} on signals like X."
    )


def _package_dirs():
    import sklearn

    # sksurv_ecg/ is two folders up from this file; importing the package to ask would be a cycle.
    package = os.path.dirname(os.path.dirname(__file__))
    return (package + os.sep, os.path.dirname(sklearn.__file__) + os.sep)


def user_stacklevel():
    """The ``stacklevel`` that points a warning at the first frame outside sksurv-ecg and scikit-learn.

    Counted from the caller of this function, as :func:`warnings.warn` counts from its caller: call
    it in the function that issues (or passes on) the warning. ``fit`` is reached through
    scikit-learn's decorators and from ``Pipeline`` or ``cross_validate``, so a fixed number would
    point at library code in one of these paths.

    Returns
    -------
    stacklevel : int
        1 for the caller itself, 2 for its caller, and so on.

    Examples
    --------
    >>> from sksurv_ecg.utils.validation import user_stacklevel
    >>> user_stacklevel()  # called from user code: the caller itself
    1
    """
    prefixes = _package_dirs()
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(prefixes):
        frame, level = frame.f_back, level + 1
    return level
