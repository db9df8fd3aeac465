"""Reading 12-lead ECGs from WFDB records into ``(n_samples, n_leads, n_timesteps)`` arrays.

Every record goes through :func:`wfdb.rdheader` and :func:`wfdb.rdrecord` (the header is never parsed
here), then through the same checks: files present, header well formed, sampling rate, lead names
(reordered to :data:`~sksurv_ecg.conventions.LEAD_NAMES` by name, case-insensitively), units (converted to mV), no NaN,
one common length.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from numbers import Real
from pathlib import Path
from typing import Self

import numpy as np
import wfdb
from numpy.typing import NDArray
from scipy.signal import resample_poly
from sklearn.base import BaseEstimator, TransformerMixin
from tqdm.auto import tqdm

from ..conventions import LEAD_NAMES, polyphase_factors
from ..utils.validation import check_path_list
from ._common import (
    FloatArray,
    PathReaderMixin,
    Recording,
    StrPath,
    check_amplitude,
    check_sampling_rate,
    fail,
    fit_length,
    standard_lead_name,
)

__all__ = ["WFDBReader", "read_wfdb", "read_wfdb_recording"]

"""The lead order of every array in sksurv-ecg: I, II, III, aVR, aVL, aVF, V1-V6."""

# Physical units -> factor to millivolts. Keys are lower-case with the micro sign spelt "u".
_TO_MV = {"v": 1e3, "mv": 1.0, "uv": 1e-3, "nv": 1e-6}
_OUTPUT_UNITS = {"mv": 1.0, "uv": 1e3}
_VERBOSE_MIN_RECORDS = 50
_SUFFIXES = (".hea", ".dat")


def _unit_key(unit: object) -> str:
    return str(unit).strip().lower().replace("\u00b5", "u").replace("\u03bc", "u")


def _as_path_list(paths: object, root: StrPath | None) -> list[Path]:
    # A record is named without its extension (wfdb appends .hea/.dat), relative to ``root``.
    out = []
    for path in check_path_list(paths, what="WFDB record"):
        if path.suffix.lower() in _SUFFIXES:
            path = path.with_suffix("")
        out.append(Path(root) / path if root is not None else path)
    return out


def _read_header(record: Path) -> wfdb.Record:
    """Return the wfdb header of ``record``, raising our errors for missing or malformed files."""
    hea = record.with_name(record.name + ".hea")
    if not hea.is_file():
        raise FileNotFoundError(
            f"WFDB record {str(record)!r} has no header file {str(hea)!r}; check the path (give the record "
            "name with or without extension) and that the download is complete."
        )
    try:
        header = wfdb.rdheader(str(record))
    except FileNotFoundError:
        raise
    except Exception as err:  # wfdb raises HeaderSyntaxError, but also IndexError, TypeError, ... on bad text
        raise ValueError(
            f"WFDB record {str(record)!r} has a malformed header {str(hea)!r} ({type(err).__name__}: {err}); "
            "re-download the record or repair its .hea file."
        ) from err
    if isinstance(header, wfdb.MultiRecord):
        raise ValueError(
            f"WFDB record {str(record)!r} is a multi-segment record, which is not supported; "
            "convert it to a single-segment record first."
        )
    header.fs = _declared_fs(record, hea)
    if not header.n_sig:
        raise fail(record, "the WFDB header declares no leads (0 signals)", "repair the header or drop the record")
    described = len(header.sig_name or [])
    if described != header.n_sig:  # wfdb reads such a header, and fails later on a bare IndexError
        raise fail(
            record,
            f"the WFDB header declares {header.n_sig} signals but describes {described}",
            "repair the header or re-download the record",
        )
    if header.sig_len == 0:
        raise fail(record, "the WFDB header declares 0 samples per lead", "re-download the record or drop it")
    return header


def _declared_fs(record: Path, hea: Path) -> float:
    """The sampling rate the header's record line declares, checked by the readers' rate rule.

    wfdb reads an absent or unparsable rate (``-500``) as the format's default of 250 Hz; a reader
    that trusted it would then report a 250-Hz recording that the file never declared.
    """
    lines = hea.read_text(encoding="latin-1").splitlines()
    # the record line: the first that is neither blank nor a comment; wfdb.rdheader has already parsed it
    fields = next((line.split("#", 1)[0].split() for line in lines if line.split("#", 1)[0].strip()), [])
    if len(fields) < 3:
        raise fail(
            record,
            "the WFDB header declares no sampling rate (WFDB would assume 250 Hz, rarely right for an ECG)",
            "add the rate to the header's record line (third field), e.g. 'name 12 500 5000'",
        )
    # "fs[/counter_freq[(base_counter)]]": the rate is what precedes "/" or "("
    return check_sampling_rate(record, fields[2].split("/", 1)[0].split("(", 1)[0], "WFDB header")


def _lead_index(record: Path, header: wfdb.Record, leads: Sequence[str]) -> list[int]:
    """Positions of ``leads`` among the header's signals, matched by name case-insensitively."""
    names = [str(s).strip().upper() for s in (header.sig_name or [])]
    if len(set(names)) != len(names):
        raise ValueError(f"WFDB record {str(record)!r} lists a lead twice: {list(header.sig_name)}; repair the header.")
    wanted = [str(lead).strip().upper() for lead in leads]
    missing = [lead for lead, w in zip(leads, wanted, strict=True) if w not in names]
    if missing:
        raise ValueError(
            f"WFDB record {str(record)!r} has leads {list(header.sig_name or [])}, but leads {list(leads)} "
            f"were expected (missing: {missing}); pass leads= with the record's lead names or select another "
            "record."
        )
    return [names.index(w) for w in wanted]


def _check_fs(record: Path, header: wfdb.Record, fs: float, resample: bool) -> None:
    found = header.fs
    if found is None or not np.isfinite(found) or found <= 0:
        raise ValueError(f"WFDB record {str(record)!r} has no valid sampling frequency in its header ({found!r}).")
    if not np.isclose(found, fs) and resample and not 0.01 <= fs / found <= 100:
        raise ValueError(
            f"WFDB record {str(record)!r} is sampled at {found:g} Hz, too far from fs={fs:g} Hz to resample "
            "(ratio outside 1/100..100); check the header's sampling frequency."
        )
    if not np.isclose(found, fs) and not resample:
        raise ValueError(
            f"WFDB record {str(record)!r} is sampled at {found:g} Hz (found {found:g} Hz, expected {fs:g} Hz); "
            "pass resample=True to resample it, or fs= to read it at its own rate."
        )


def _unit_factors(record: Path, header: wfdb.Record, idx: list[int], out_factor: float) -> FloatArray:
    units = header.units if header.units is not None else ["mV"] * header.n_sig
    factors = []
    for i in idx:
        key = _unit_key(units[i] or "mV")
        if key not in _TO_MV:
            raise ValueError(
                f"WFDB record {str(record)!r} gives lead {header.sig_name[i]!r} in units {units[i]!r}, "
                f"but only {sorted({'V', 'mV', 'uV', 'nV'})} can be converted to mV; convert the record first."
            )
        factors.append(_TO_MV[key] * out_factor)
    return np.asarray(factors, dtype=np.float64)[:, None]


def _read_one(record: Path, *, fs: float, leads: Sequence[str], resample: bool, out_factor: float) -> FloatArray:
    """Read one record as float64 ``(n_leads, n_timesteps)`` in the requested units at ``fs``."""
    header = _read_header(record)
    _check_fs(record, header, fs, resample)
    idx = _lead_index(record, header, leads)
    factors = _unit_factors(record, header, idx, out_factor)
    for name in dict.fromkeys(header.file_name or []):
        if not (record.parent / name).is_file():
            raise FileNotFoundError(
                f"WFDB record {str(record)!r} has no data file {str(record.parent / name)!r} named by its header; "
                "check that the download is complete."
            )
    try:
        signal = wfdb.rdrecord(str(record), channels=idx, physical=True).p_signal
    except FileNotFoundError:
        raise
    except Exception as err:
        raise ValueError(
            f"WFDB record {str(record)!r} could not be read ({type(err).__name__}: {err}); "
            "re-download the record or repair its files."
        ) from err
    signal = np.asarray(signal, dtype=np.float64).T
    if signal.shape[-1] == 0:
        raise fail(record, "the WFDB record holds 0 samples per lead", "re-download the record or drop it")
    n_nan = int(np.isnan(signal).sum())
    if n_nan:
        bad = [leads[i] for i in np.flatnonzero(np.isnan(signal).any(axis=1)).tolist()]
        raise ValueError(
            f"WFDB record {str(record)!r} contains {n_nan} NaN samples (invalid ADC values) in leads {bad}; "
            "drop the record or repair it (e.g. interpolate) before reading."
        )
    signal *= factors
    check_amplitude(record, signal / out_factor, "WFDB record")
    if not np.isclose(header.fs, fs):
        resampled: FloatArray = resample_poly(signal, *polyphase_factors(header.fs, fs), axis=-1)
        return resampled
    return signal


def _check_params(fs: object, leads: object, units: object, length: object) -> None:
    """Refuse parameters of the wrong type or range, naming the value (users pass them unchecked)."""
    if isinstance(fs, bool) or not isinstance(fs, Real) or not float(fs) > 0:
        raise ValueError(f"fs={fs!r} must be a positive number of Hz, e.g. fs=500.")
    if isinstance(leads, str) or not isinstance(leads, Sequence) or not leads:
        raise ValueError(f"leads={leads!r} must be a non-empty sequence of lead names such as LEAD_NAMES.")
    if _unit_key(units) not in _OUTPUT_UNITS:
        raise ValueError(f"units={units!r} is not supported; use 'mV' or 'uV'.")
    if length is not None and (isinstance(length, bool) or not isinstance(length, int) or length < 1):
        raise ValueError(f"length={length!r} must be None or a positive int number of samples.")


def read_wfdb(
    paths: StrPath | Iterable[StrPath],
    *,
    fs: float = 500,
    leads: Sequence[str] = LEAD_NAMES,
    resample: bool = False,
    units: str = "mV",
    length: int | None = None,
    pad: bool = False,
    root: StrPath | None = None,
    verbose: bool | None = None,
) -> NDArray[np.float32]:
    """Read WFDB records into one float32 array of shape ``(n_records, n_leads, n_timesteps)``.

    Leads are matched by name, case-insensitively (``AVR`` is ``aVR``), and returned in the order
    of ``leads``; a record may hold extra leads, which are dropped, but a record that lacks a
    requested lead is an error. Physical units (V, mV, µV, nV) are converted to ``units``.

    Parameters
    ----------
    paths : str, os.PathLike or iterable of them
        Record paths, with or without the ``.hea``/``.dat`` extension (e.g. PTB-XL's
        ``records500/00000/00001_hr``). A single path gives an array with one record.
    fs : float, default=500
        Expected sampling frequency in Hz. A record sampled at another rate is an error unless
        ``resample=True``.
    leads : sequence of str, default=LEAD_NAMES
        Lead names to return, in this order.
    resample : bool, default=False
        Whether a record at another rate is resampled to ``fs`` (polyphase,
        :func:`scipy.signal.resample_poly`).
    units : {"mV", "uV"}, default="mV"
        Units of the returned signals.
    length : int or None, default=None
        Number of samples to return per record (after resampling). ``None`` requires all records
        to have the same length. Longer records are cropped to their first ``length`` samples;
        shorter ones are an error unless ``pad=True``.
    pad : bool, default=False
        With ``length``, zero-pad shorter records at the end instead of raising.
    root : str, os.PathLike or None, default=None
        Folder that relative ``paths`` are joined to (e.g. the PTB-XL download folder).
    verbose : bool or None, default=None
        Show a progress bar; ``None`` shows one for 50 records or more.

    Returns
    -------
    X : ndarray of shape (n_records, n_leads, n_timesteps), dtype float32
        The signals.

    Raises
    ------
    FileNotFoundError
        When a record's ``.hea`` or data file is missing.
    ValueError
        When a header is malformed (chained from wfdb's error), the sampling rate, lead set or
        units do not fit, a record contains NaN samples, or the lengths differ.

    See Also
    --------
    WFDBReader : The same as a scikit-learn transformer.

    Examples
    --------
    A record written on the spot (use your own, e.g. PTB-XL's ``records500/00000/00001_hr``):

    >>> import tempfile
    >>> import numpy as np
    >>> import wfdb
    >>> from sksurv_ecg.conventions import LEAD_NAMES
    >>> from sksurv_ecg.io import read_wfdb
    >>> root = tempfile.mkdtemp()
    >>> signal = np.random.default_rng(0).normal(scale=0.2, size=(1000, 12))
    >>> wfdb.wrsamp("rec_lr", fs=100, units=["mV"] * 12, sig_name=list(LEAD_NAMES), p_signal=signal,
    ...             fmt=["16"] * 12, write_dir=root)
    >>> X = read_wfdb(["rec_lr", "rec_lr.hea"], root=root, fs=100)
    >>> X.shape, X.dtype
    ((2, 12, 1000), dtype('float32'))
    >>> read_wfdb(f"{root}/rec_lr", fs=500, resample=True).shape
    (1, 12, 5000)
    """
    _check_params(fs, leads, units, length)
    records = _as_path_list(paths, root)
    out_factor = _OUTPUT_UNITS[_unit_key(units)]
    show = len(records) >= _VERBOSE_MIN_RECORDS if verbose is None else bool(verbose)
    X: NDArray[np.float32] | None = None
    for i, record in enumerate(tqdm(records, desc="Reading WFDB", unit="record", disable=not show)):
        signal = _read_one(record, fs=fs, leads=leads, resample=resample, out_factor=out_factor)
        if length is not None:
            signal = fit_length(record, signal, length, pad)
        if X is None:
            X = np.empty((len(records), len(leads), signal.shape[-1]), dtype=np.float32)
        elif signal.shape[-1] != X.shape[-1]:
            raise ValueError(
                f"WFDB record {str(record)!r} has {signal.shape[-1]} samples, but {str(records[0])!r} has "
                f"{X.shape[-1]}; pass length= (with pad=True for shorter records) to read them to one length."
            )
        X[i] = signal
    assert X is not None  # _as_path_list refuses an empty list of records
    return X


class WFDBReader(PathReaderMixin, TransformerMixin, BaseEstimator):  # type: ignore[misc]  # sklearn ships no type information
    """Read WFDB records as the first step of a pipeline.

    A stateless transformer: ``fit`` does nothing, ``transform`` maps record paths to a float32
    array of shape ``(n_records, n_leads, n_timesteps)`` through :func:`read_wfdb`.

    Parameters
    ----------
    fs : float, default=500
        Expected sampling frequency in Hz.
    leads : sequence of str, default=LEAD_NAMES
        Lead names to return, in this order.
    resample : bool, default=False
        Whether records at another rate are resampled to ``fs``.
    units : {"mV", "uV"}, default="mV"
        Units of the returned signals.
    length : int or None, default=None
        Samples per record; ``None`` requires equal lengths (see :func:`read_wfdb`).
    pad : bool, default=False
        With ``length``, zero-pad shorter records instead of raising.
    root : str, os.PathLike or None, default=None
        Folder that relative paths are joined to.
    verbose : bool or None, default=None
        Show a progress bar; ``None`` shows one for 50 records or more.

    See Also
    --------
    read_wfdb : The function this transformer calls.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> import wfdb
    >>> from sksurv_ecg.conventions import LEAD_NAMES
    >>> from sksurv_ecg.io import WFDBReader
    >>> root = tempfile.mkdtemp()
    >>> signal = np.random.default_rng(0).normal(scale=0.2, size=(5000, 12))
    >>> wfdb.wrsamp("rec_hr", fs=500, units=["mV"] * 12, sig_name=list(LEAD_NAMES), p_signal=signal,
    ...             fmt=["16"] * 12, write_dir=root)
    >>> WFDBReader(root=root).fit_transform(["rec_hr"]).shape
    (1, 12, 5000)
    """

    def __init__(
        self,
        fs: float = 500,
        *,
        leads: Sequence[str] = LEAD_NAMES,
        resample: bool = False,
        units: str = "mV",
        length: int | None = None,
        pad: bool = False,
        root: StrPath | None = None,
        verbose: bool | None = None,
    ) -> None:
        self.fs = fs
        self.leads = leads
        self.resample = resample
        self.units = units
        self.length = length
        self.pad = pad
        self.root = root
        self.verbose = verbose

    def fit(self, X: object, y: object = None) -> Self:
        """Do nothing and return the reader (it learns nothing).

        Parameters
        ----------
        X : array-like of shape (n_records,) or (n_records, 1)
            Record paths (unused).
        y : None
            Ignored.

        Returns
        -------
        self : WFDBReader
            The reader.
        """
        return self

    def transform(self, X: object) -> NDArray[np.float32]:
        """Read the records.

        Parameters
        ----------
        X : array-like of shape (n_records,) or (n_records, 1)
            Record paths (str or os.PathLike), e.g. a list, a pandas Series or a one-column frame.

        Returns
        -------
        X_signals : ndarray of shape (n_records, n_leads, n_timesteps), dtype float32
            The signals.
        """
        paths: StrPath | Iterable[StrPath]
        if isinstance(X, str | os.PathLike):
            paths = X
        else:
            array = np.asarray(X, dtype=object)
            if array.ndim == 2 and array.shape[1] == 1:
                array = array[:, 0]
            if array.ndim != 1:
                raise ValueError(
                    f"X has shape {array.shape}, but WFDBReader expects a 1-D list of record paths; "
                    "pass one path per row."
                )
            paths = array.tolist()  # read_wfdb checks each element
        return read_wfdb(
            paths,
            fs=self.fs,
            leads=self.leads,
            resample=self.resample,
            units=self.units,
            length=self.length,
            pad=self.pad,
            root=self.root,
            verbose=self.verbose,
        )


def read_wfdb_recording(path: StrPath) -> Recording:
    """Read every lead of one WFDB record at its own rate, in mV, for :func:`sksurv_ecg.io.read_ecg`.

    Parameters
    ----------
    path : str or os.PathLike
        The record, with or without its ``.hea``/``.dat`` extension.
    """
    record = Path(path)
    if record.suffix.lower() in _SUFFIXES:
        record = record.with_suffix("")
    header = _read_header(record)
    idx = list(range(header.n_sig))
    factors = _unit_factors(record, header, idx, 1.0)
    try:
        signal = wfdb.rdrecord(str(record), physical=True).p_signal
    except Exception as err:
        raise fail(
            path, f"the WFDB data cannot be read ({type(err).__name__}: {err})", "re-download the record"
        ) from err
    signal = np.asarray(signal, dtype=np.float64).T * factors
    if np.isnan(signal).any():
        raise fail(path, "the WFDB record contains NaN samples (invalid ADC values)", "repair or drop the record")
    leads = [standard_lead_name(name) for name in header.sig_name]
    return Recording(signal, leads, float(header.fs), "wfdb", {"device": None, "interpretation": ""})
