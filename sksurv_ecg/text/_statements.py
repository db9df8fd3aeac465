"""SCP-ECG statements: the seed's structured text of each code, and its likelihood weights."""

from __future__ import annotations

import functools
from collections.abc import Mapping

import pandas as pd

__all__ = ["record_weights", "scp_statement", "scp_statements"]

_CATEGORY = "Statement Category"
_DESCRIPTION = "SCP-ECG Statement Description"
UNKNOWN_REMEDY = "check the spelling, add it to 'statements', or pass unknown='ignore' to drop unknown codes."


@functools.cache
def _bundled_scp_statements() -> pd.DataFrame:
    """The bundled PTB-XL ``scp_statements.csv`` (71 codes, indexed by code), read once."""
    from ..datasets import load_scp_statements  # imported here to keep ``import sksurv_ecg.text`` light

    return load_scp_statements()


def scp_statements(statements=None):
    """Return the structured statement of every SCP code, ``"category:description"``.

    Parameters
    ----------
    statements : DataFrame or mapping, default=None
        A table indexed by SCP code with the columns ``"Statement Category"`` and
        ``"SCP-ECG Statement Description"`` (PTB-XL's ``scp_statements.csv``), or a mapping of code to
        ready-made statement text. ``None`` uses the bundled PTB-XL table (71 codes).

    Returns
    -------
    statements : dict of str to str
        The statement text of each code, in table order.

    See Also
    --------
    scp_statement : The statement of one code.

    Examples
    --------
    >>> from sksurv_ecg.text import scp_statements
    >>> table = scp_statements()
    >>> len(table)
    71
    >>> table["NORM"]
    'Normal/abnormal:normal ECG'
    """
    if statements is None:
        statements = _bundled_scp_statements()
    if isinstance(statements, pd.DataFrame):
        missing = [c for c in (_CATEGORY, _DESCRIPTION) if c not in statements.columns]
        if missing:
            raise ValueError(
                f"'statements' lacks the column(s) {missing}, but a statements table needs "
                f"{[_CATEGORY, _DESCRIPTION]}; pass PTB-XL's scp_statements.csv read with index_col=0."
            )
        category = statements[_CATEGORY].fillna("").astype(str).str.strip()
        description = statements[_DESCRIPTION].fillna("").astype(str).str.strip()
        return {str(code): f"{c}:{d}" for code, c, d in zip(statements.index, category, description, strict=True)}
    if isinstance(statements, Mapping):
        bad = [k for k, v in statements.items() if not isinstance(v, str)]
        if bad:
            raise TypeError(
                f"'statements' maps the code(s) {bad[:5]} to non-strings, but a mapping must give each code its "
                "statement text; pass a dict of str to str or a DataFrame."
            )
        return {str(k): v for k, v in statements.items()}
    raise TypeError(
        f"'statements' is a {type(statements).__name__}, but a DataFrame indexed by code or a mapping of code to "
        "text was expected; pass PTB-XL's scp_statements.csv read with index_col=0."
    )


def scp_statement(code, statements=None):
    """Return the structured statement of one SCP code as in the seed, ``"category:description"``.

    Parameters
    ----------
    code : str
        An SCP-ECG code such as ``"IMI"``.
    statements : DataFrame or mapping, default=None
        See :func:`scp_statements`; ``None`` uses the bundled PTB-XL table.

    Returns
    -------
    statement : str
        ``<Statement Category>:<SCP-ECG Statement Description>``.

    Raises
    ------
    ValueError
        If ``code`` is not in the table.

    See Also
    --------
    scp_statements : The statements of all codes.
    ReportEmbedder : Embeds records through these statements.

    Examples
    --------
    >>> from sksurv_ecg.text import scp_statement
    >>> scp_statement("IMI")
    'Myocardial Infarction:inferior myocardial infarction'
    """
    table = scp_statements(statements)
    if code not in table:
        raise ValueError(f"SCP code {code!r} is not in the statements table of {len(table)} codes; {UNKNOWN_REMEDY}")
    return table[code]


def record_weights(record: Mapping, index: int, known: Mapping, unknown: str, dropped: set) -> dict[str, float]:
    """Return the seed's weights ``lik_k / sum(lik)`` of one record's known codes; uniform if all are 0.

    Parameters
    ----------
    record : mapping of str to float
        One record's SCP codes and likelihoods (checked by ``check_reports``).
    index : int
        The record's position in ``X``, for the messages.
    known : mapping
        The statements table; its keys are the known codes.
    unknown : {"error", "ignore"}
        A code missing from ``known`` raises a ``ValueError``, or is added to ``dropped``.
    dropped : set
        Collects the unknown codes dropped, so that the caller warns once.

    Returns
    -------
    weights : dict of str to float
        Weights of the codes of non-zero likelihood, summing to 1.
    """
    codes = {}
    for code, lik in record.items():
        if code in known:
            codes[code] = float(lik)
        elif unknown == "error":
            raise ValueError(
                f"X[{index}] has the SCP code {code!r}, which is not in the statements table; {UNKNOWN_REMEDY}"
            )
        else:
            dropped.add(code)
    if not codes:
        raise ValueError(
            f"X[{index}] has only unknown SCP codes {sorted(record)}, so it has no embedding; add them to "
            "'statements' or drop the record."
        )
    total = sum(codes.values())
    if total > 0:  # the seed: drop codes of likelihood 0, weight the rest by likelihood
        return {code: lik / total for code, lik in codes.items() if lik > 0}
    return dict.fromkeys(codes, 1.0 / len(codes))  # all 0: the seed crashes; we weight uniformly
