"""PTB-XL: its file layout (which record lives where), the loader of a local download, the bundled metadata.

The package's readers know nothing of PTB-XL; everything about its folders and CSV files is here."""

from __future__ import annotations

import ast
import os
from collections.abc import Iterable
from numbers import Integral
from pathlib import Path

import pandas as pd

from ..io import read_wfdb
from ._base import get_data_home

__all__ = ["load_ptbxl", "load_ptbxl_metadata", "load_scp_statements", "ptbxl_records", "read_ptbxl_database"]

_DATABASE = "ptbxl_database.csv"
_STATEMENTS = "scp_statements.csv"
_FILENAME_COLUMN = {100: "filename_lr", 500: "filename_hr"}
_DOWNLOAD = "https://physionet.org/content/ptb-xl/"


def _parse_scp_codes(text) -> dict[str, float]:
    """Parse PTB-XL's ``scp_codes`` cell (a Python-literal dict) into ``{code: likelihood}``."""
    value = ast.literal_eval(text) if isinstance(text, str) else {}
    if not isinstance(value, dict):
        raise ValueError(f"scp_codes cell {text!r} is not a dict literal; check that the database file is PTB-XL's.")
    return {str(code): float(likelihood) for code, likelihood in value.items()}


def _diagnostic_superclass(scp_codes: pd.Series, statements: pd.DataFrame) -> pd.Series:
    """Diagnostic superclasses of each record, as in PTB-XL's ``example_physionet.py``.

    Every code of the record that is a diagnostic statement contributes its ``diagnostic_class``,
    whatever its likelihood; the classes are returned sorted and without duplicates.
    """
    diagnostic = statements[statements["diagnostic"] == 1]["diagnostic_class"].dropna().astype(str).to_dict()
    return scp_codes.map(lambda codes: sorted({diagnostic[c] for c in codes if c in diagnostic}))


def _read_database(database: Path, statements: pd.DataFrame) -> pd.DataFrame:
    """Read a ``ptbxl_database.csv`` (plain or gzipped) into a clean frame indexed by ``ecg_id``."""
    frame = pd.read_csv(database, index_col="ecg_id")
    frame["scp_codes"] = frame["scp_codes"].map(_parse_scp_codes).astype(object)
    # Reports are free text (German, English, some Swedish) with runs of blanks; keep the words only.
    frame["report"] = frame["report"].fillna("").astype(str).str.split().str.join(" ").astype(object)
    frame["diagnostic_superclass"] = _diagnostic_superclass(frame["scp_codes"], statements).astype(object)
    return frame


def _read_statements(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(
            f"{str(path)!r} does not exist; pass the PTB-XL folder that holds {_STATEMENTS} "
            f"(download from {_DOWNLOAD})."
        )
    statements = pd.read_csv(path, index_col=0)
    statements.index.name = "scp_code"
    return statements


def _as_id_list(values, name: str) -> list[int]:
    if isinstance(values, Integral):
        values = [values]
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise TypeError(f"{name}={values!r} must be an int or a list of ints.")
    values = list(values)
    if not all(isinstance(v, Integral) for v in values):
        raise TypeError(f"{name}={values!r} must be an int or a list of ints.")
    return [int(v) for v in values]


def _rows_of(frame: pd.DataFrame, ecg_ids: list[int], *, where: str, remedy: str) -> pd.DataFrame:
    """The rows of ``frame`` for ``ecg_ids``, refusing ids it lacks (``loc`` would raise a bare KeyError).

    Used by the loader of a local download and by :func:`~sksurv_ecg.datasets.fetch_ptbxl`; ``where``
    and ``remedy`` name the table the ids were looked up in and where valid ones are listed.
    """
    missing = [i for i in ecg_ids if i not in frame.index]
    if missing:
        raise ValueError(f"ecg_ids {missing[:10]} are not in {where}; pass ecg_ids from {remedy}.")
    return frame.loc[ecg_ids]


def _select(frame: pd.DataFrame, folds, ecg_ids) -> pd.DataFrame:
    if folds is not None:
        folds = _as_id_list(folds, "folds")
        unknown = sorted(set(folds) - set(range(1, 11)))
        if unknown:
            raise ValueError(f"folds={folds} contains {unknown}; PTB-XL's strat_fold runs from 1 to 10.")
        frame = frame[frame["strat_fold"].isin(folds)]
    if ecg_ids is not None:
        ecg_ids = _as_id_list(ecg_ids, "ecg_ids")
        frame = _rows_of(
            frame,
            ecg_ids,
            where=f"the database{' (within the selected folds)' if folds else ''}",
            remedy="the frame's index",
        )
    if frame.empty:
        raise ValueError("The selection holds no record; widen folds or ecg_ids.")
    return frame


def _check_files(root: Path, filenames: pd.Series, sampling_rate: int) -> None:
    missing = [f for f in filenames if not (root / f"{f}.hea").is_file() or not (root / f"{f}.dat").is_file()]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} of {len(filenames)} PTB-XL records at {sampling_rate} Hz are missing under "
            f"{str(root)!r}, e.g. {missing[:3]} (.hea or .dat); complete the download from {_DOWNLOAD} "
            "or select the available records with ecg_ids=."
        )


def _check_sampling_rate(sampling_rate) -> int:
    if sampling_rate not in _FILENAME_COLUMN or isinstance(sampling_rate, bool):
        raise ValueError(f"sampling_rate={sampling_rate!r} is not available; PTB-XL has 100 or 500 Hz records.")
    return int(sampling_rate)


def _check_root(root) -> tuple[Path, Path]:
    """The PTB-XL folder and its database file, refusing a non-path or a folder without the database.

    Shared by every reader of a user's download so that all of them name the same remedy.
    """
    if not isinstance(root, str | os.PathLike):
        raise TypeError(f"root must be a path to the PTB-XL folder, got {type(root).__name__}.")
    root = Path(root)
    database = root / _DATABASE
    if not database.is_file():
        raise FileNotFoundError(
            f"{str(database)!r} does not exist; pass the PTB-XL folder that holds {_DATABASE}, records100/ and "
            f"records500/ (download from {_DOWNLOAD})."
        )
    return root, database


def load_ptbxl(root, *, sampling_rate=500, folds=None, ecg_ids=None, verbose=None, median_beats=None, plus_root=None):
    """Load PTB-XL signals and metadata from a local copy of the PhysioNet release.

    ``root`` is the folder of the download (it holds ``ptbxl_database.csv``,
    ``scp_statements.csv``, ``records100/`` and ``records500/``). Records are read with
    :func:`sksurv_ecg.io.read_wfdb` in the order of the selected rows.

    Parameters
    ----------
    root : str or os.PathLike
        PTB-XL folder.
    sampling_rate : {500, 100}, default=500
        500 Hz records (``filename_hr``, 5000 samples) or 100 Hz records (``filename_lr``,
        1000 samples).
    folds : int, list of int or None, default=None
        Keep only these ``strat_fold`` values (1-10; PTB-XL recommends 1-8 train, 9 validation,
        10 test). ``None`` keeps all.
    ecg_ids : int, list of int or None, default=None
        Keep only these records, in this order. ``None`` keeps all.
    verbose : bool or None, default=None
        Progress bar while reading; ``None`` shows it for 50 records or more.
    median_beats : {None, "12sl", "unig"}, default=None
        ``None`` reads the 10-s records. ``"12sl"`` (GE 12SL, the paper's input) or ``"unig"``
        (University of Glasgow) reads PTB-XL+'s 1.2-s median beats instead (500 Hz, 600 samples,
        centre zero-padded to 608 as in the seed), leads matched by name. Not every record has
        one: such rows of ``X`` are NaN (so that no estimator accepts them unnoticed), the frame's
        ``median_beat`` column is False and a :class:`~sksurv_ecg.exceptions.SksurvECGWarning`
        gives the count; select ``frame["median_beat"]`` to keep the others.
    plus_root : str, path-like or None, default=None
        The PTB-XL+ folder (holding ``median_beats/``), e.g. from :func:`fetch_ptbxl_plus`;
        ``None`` looks in ``root``.

    Returns
    -------
    X : ndarray of shape (n_records, 12, n_timesteps), dtype float32
        Signals in mV, leads I, II, III, aVR, aVL, aVF, V1-V6 (``n_timesteps`` 608 with
        ``median_beats``).
    frame : pandas.DataFrame of shape (n_records, n_columns)
        Indexed by ``ecg_id``: every column of ``ptbxl_database.csv`` (``age``, ``sex`` with
        0 = male and 1 = female, ``report``, ``strat_fold``, ``filename_lr``, ``filename_hr``, ...)
        with ``scp_codes`` parsed to dicts ``{code: likelihood}`` and ``report`` with its
        whitespace collapsed, plus ``diagnostic_superclass``: the sorted list of the diagnostic
        classes (NORM, MI, STTC, CD, HYP) of the record's codes.

    Raises
    ------
    FileNotFoundError
        When the database, the statements or a selected record's files are missing.

    See Also
    --------
    ptbxl_records : The record files of a download, e.g. for :func:`sksurv_ecg.io.to_memmap`.
    load_ptbxl_metadata : All 21,837 metadata rows, no signals.

    Examples
    --------
    With a download of PTB-XL in ``root`` (the records are not shipped with the package):

    >>> from sksurv_ecg.datasets import load_ptbxl
    >>> X, frame = load_ptbxl(root, folds=[9, 10])  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (4357, 12, 5000)
    """
    sampling_rate = _check_sampling_rate(sampling_rate)
    root, database = _check_root(root)
    statements = _read_statements(root / _STATEMENTS)
    frame = _select(_read_database(database, statements), folds, ecg_ids)
    if median_beats is not None:
        from ._median_beats import read_median_beats

        X, available = read_median_beats(
            root if plus_root is None else Path(plus_root), frame.index.tolist(), median_beats, verbose=verbose
        )
        frame = frame.assign(median_beat=available)
        return X, frame
    filenames = frame[_FILENAME_COLUMN[sampling_rate]]
    _check_files(root, filenames, sampling_rate)
    X = read_wfdb(filenames.tolist(), root=root, fs=sampling_rate, verbose=verbose)
    return X, frame


def load_ptbxl_metadata():
    """Load the metadata of all 21,837 PTB-XL records (bundled, no signals).

    The complete ``ptbxl_database.csv`` of PTB-XL v1.0.1 (same records and columns as v1.0.3).
    Its free-text ``report`` (German, English, some Swedish) and ``scp_codes`` are the real text
    for :class:`sksurv_ecg.ReportEmbedder` at full scale.

    Returns
    -------
    frame : pandas.DataFrame of shape (21837, 28)
        Indexed by ``ecg_id``, columns as in :func:`load_ptbxl`: ``scp_codes`` as dicts
        ``{code: likelihood}`` (floats), ``report`` as str with its whitespace collapsed (never
        missing), ``diagnostic_superclass`` as sorted lists, ``strat_fold``, ``age``, ``sex``
        (0 = male, 1 = female), ``filename_lr``, ``filename_hr``, ...

    See Also
    --------
    load_scp_statements : What each SCP code means.

    Examples
    --------
    >>> from sksurv_ecg.datasets import load_ptbxl_metadata
    >>> frame = load_ptbxl_metadata()
    >>> frame.shape
    (21837, 28)
    >>> frame.loc[1, "scp_codes"]
    {'NORM': 100.0, 'LVOLT': 0.0, 'SR': 0.0}
    >>> frame.loc[1, "report"]
    'sinusrhythmus periphere niederspannung'
    """
    home = get_data_home() / "ptbxl-metadata"
    statements = _read_statements(home / _STATEMENTS)
    return _read_database(home / f"{_DATABASE}.gz", statements)


def load_scp_statements():
    """Load PTB-XL's table of the 71 SCP-ECG statements (bundled, as shipped with v1.0.1).

    Returns
    -------
    statements : pandas.DataFrame of shape (71, 12)
        Indexed by the SCP code (``scp_code``), with ``description``, ``diagnostic``, ``form``,
        ``rhythm`` (1.0 or NaN), ``diagnostic_class``, ``diagnostic_subclass``,
        ``Statement Category``, ``SCP-ECG Statement Description`` and the AHA, aECG, CDISC and
        DICOM codes.

    See Also
    --------
    load_ptbxl_metadata : The records these codes annotate.

    Examples
    --------
    >>> from sksurv_ecg.datasets import load_scp_statements
    >>> statements = load_scp_statements()
    >>> statements.loc["IMI", "diagnostic_class"], statements.loc["IMI", "description"]
    ('MI', 'inferior myocardial infarction')
    """
    return _read_statements(get_data_home() / "ptbxl-metadata" / _STATEMENTS)


def ptbxl_records(root, *, sampling_rate=500):
    """Return the record paths of a PTB-XL download, indexed by ``ecg_id``.

    PTB-XL's layout in one place: ``ptbxl_database.csv`` lists every record with its 100 Hz
    (``filename_lr``) and 500 Hz (``filename_hr``) file. The result feeds
    :func:`sksurv_ecg.io.to_memmap` (record ids = ``ecg_id``) or :func:`sksurv_ecg.io.read_ecg`.

    Parameters
    ----------
    root : str or os.PathLike
        PTB-XL folder (it holds ``ptbxl_database.csv``, ``records100/`` and ``records500/``).
    sampling_rate : {500, 100}, default=500
        Which files: 500 Hz (``filename_hr``) or 100 Hz (``filename_lr``).

    Returns
    -------
    records : pandas.Series of shape (n_records,)
        Record paths (``root`` joined with the file name, no extension), indexed by ``ecg_id`` in
        the database's order.

    Raises
    ------
    FileNotFoundError
        When ``ptbxl_database.csv`` is missing.

    See Also
    --------
    load_ptbxl : Read the records and their metadata.

    Examples
    --------
    >>> from sksurv_ecg.datasets import ptbxl_records
    >>> from sksurv_ecg.io import to_memmap
    >>> X = to_memmap(ptbxl_records(root), "ptbxl.npy")  # doctest: +SKIP
    """
    sampling_rate = _check_sampling_rate(sampling_rate)
    root, database = _check_root(root)
    column = _FILENAME_COLUMN[sampling_rate]
    frame = pd.read_csv(database, index_col="ecg_id", usecols=["ecg_id", column])
    return frame[column].map(lambda name: str(root / name)).rename("path")


def read_ptbxl_database(root, *, folds=None, ecg_ids=None):
    """Read the metadata frame of a PTB-XL download, without its signals, selected by fold or record.

    The frame :func:`load_ptbxl` returns, for a caller that reads the signals another way (the
    ``sksurv-ecg pretrain`` command reads cached median beats).

    Parameters
    ----------
    root : str or os.PathLike
        PTB-XL folder (it holds ``ptbxl_database.csv`` and ``scp_statements.csv``).
    folds : int, sequence of int or None, default=None
        ``strat_fold`` values (1-10) to keep; None keeps all.
    ecg_ids : int, sequence of int or None, default=None
        ``ecg_id`` values to keep, in this order; None keeps all.

    Returns
    -------
    frame : pandas.DataFrame
        Indexed by ``ecg_id``, columns as in :func:`load_ptbxl`.

    Raises
    ------
    FileNotFoundError
        When ``ptbxl_database.csv`` is missing.
    ValueError
        When ``folds`` or ``ecg_ids`` select nothing or name what the database lacks.

    See Also
    --------
    load_ptbxl_metadata : The same frame for all records, bundled with the package.

    Examples
    --------
    >>> from sksurv_ecg.datasets import read_ptbxl_database
    >>> frame = read_ptbxl_database(root, folds=[10])  # doctest: +SKIP
    """
    root, database = _check_root(root)
    frame = _read_database(database, _read_statements(root / _STATEMENTS))
    return _select(frame, folds, ecg_ids)
