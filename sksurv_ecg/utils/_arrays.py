"""Checks of ECG arrays: shape, dtype, finiteness, lead count and length, for estimators and transformers."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_array, validate_data

from .. import conventions
from ..conventions import check_ecg_amplitude


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
    return conventions.check_standard_12_leads(check_ecg_array(X), owner=owner)


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
