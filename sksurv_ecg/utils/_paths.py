"""Checks of file-path inputs of the readers."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd


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
