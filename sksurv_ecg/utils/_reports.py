"""Checks of 1-D inputs of one object per sample: SCP-code dicts and free-text reports."""

from __future__ import annotations

import ast
import math
from collections.abc import Mapping
from numbers import Real

import numpy as np
import pandas as pd

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
