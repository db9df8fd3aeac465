"""Public 12-lead ECG cohorts with time-to-event outcomes: CODE-15%, SaMi-Trop and MIMIC-IV-ECG.

Each loader reads a local copy of the release (as :func:`fetch_code15`, :func:`fetch_samitrop` and
:func:`fetch_mimic_iv_ecg` leave it, or as downloaded by hand) and returns ``X, y, frame`` like
:func:`~sksurv_ecg.datasets.load_ptbxl`: signals in mV, float32, leads I, II, III, aVR, aVL, aVF,
V1-V6, at the asked rate and length; ``y`` a scikit-survival structured array (``event``, ``time``
in years); ``frame`` indexed by the exam (``exam_id``, or ``study_id`` for MIMIC-IV-ECG) with the
patient id for grouped splits and the dataset's covariates.

Where each fact about the releases comes from is written in ``docs/real_cohorts.md``. In short:

* CODE-15% (Zenodo 4916206) and SaMi-Trop (Zenodo 4905618): HDF5 ``tracings`` of shape
  ``(N, 4096, 12)`` at 400 Hz, leads DI, DII, DIII, AVR, AVL, AVF, V1-V6, in mV; 7-s and 10-s
  records are zero-padded on both sides to 4096 samples. CODE-15%'s parts carry ``exam_id``;
  SaMi-Trop's ``exams.hdf5`` does not, and its rows follow ``exams.csv``'s rows.
* MIMIC-IV-ECG (PhysioNet): WFDB records at 500 Hz, 10 s, listed in ``record_list.csv``; deaths
  from MIMIC-IV's ``patients.csv`` (``dod``), which records out-of-hospital deaths up to one year
  after a patient's last hospital discharge (``admissions.csv``, ``dischtime``).
"""

from __future__ import annotations

import os
import re
import warnings
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed, effective_n_jobs
from scipy.signal import resample_poly
from sksurv.util import Surv
from tqdm.auto import tqdm

from ..conventions import LEAD_NAMES, polyphase_factors
from ..exceptions import SignalQualityWarning, SksurvECGWarning
from ..io import read_wfdb
from ..utils.validation import user_stacklevel

__all__ = ["load_code15", "load_mimic_iv_ecg", "load_samitrop"]

#: Sampling rate of CODE-15% and SaMi-Trop tracings (Hz).
CODE_FS = 400
#: Lead order of CODE-15% and SaMi-Trop tracings (the datasets' names), the package's order.
CODE_LEADS = ("DI", "DII", "DIII", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V6")
CODE_N_SAMPLES = 4096
CODE15_LABELS = ("1dAVb", "RBBB", "LBBB", "SB", "ST", "AF")
_CODE15_URL = "https://zenodo.org/records/4916206"
_SAMITROP_URL = "https://zenodo.org/records/4905618"
_MIMIC_ECG_URL = "https://physionet.org/content/mimic-iv-ecg/"
_MIMIC_URL = "https://physionet.org/content/mimiciv/"
_PART = re.compile(r"exams_part(\d+)\.hdf5")
_CHUNK = 256  # exams read from HDF5 at once: bounded memory whatever the part size
_DAYS_PER_YEAR = 365.25
#: Time given to a death on the day of the ECG (days): the day resolution cannot order them.
SAME_DAY_DEATH_DAYS = 0.5
#: MIMIC-IV records out-of-hospital deaths up to this many days after the last hospital discharge.
MIMIC_DOD_WINDOW_DAYS = 365
# Peak-to-peak amplitude of lead II (median over exams) outside this range, in mV, means a wrong scale.
_PLAUSIBLE_MV = (0.15, 12.0)


# ----------------------------------------------------------------------------------------------
# Arguments and files
# ----------------------------------------------------------------------------------------------


def _check_folder(root, name: str, url: str) -> Path:
    if not isinstance(root, str | os.PathLike):
        raise TypeError(f"root must be a path to the {name} folder, got {type(root).__name__}.")
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{str(root)!r} is not a folder; pass the {name} folder (download from {url}).")
    return root


def _check_file(path: Path, what: str, url: str) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} does not exist; {what} is part of the release at {url}.")
    return path


def _check_signal_args(fs, length, n_jobs, to_memmap) -> tuple[float, int]:
    if isinstance(fs, bool) or not isinstance(fs, Real) or not np.isfinite(fs) or not 0 < fs <= 10_000:
        raise ValueError(f"fs={fs!r} must be a sampling rate in Hz in (0, 10000], e.g. 500.")
    if isinstance(length, bool) or not isinstance(length, Integral) or length < 1:
        raise ValueError(f"length={length!r} must be a positive number of samples, e.g. 5000 (10 s at 500 Hz).")
    if n_jobs is not None and (isinstance(n_jobs, bool) or not isinstance(n_jobs, Integral) or n_jobs == 0):
        raise ValueError(f"n_jobs={n_jobs!r} must be None or a non-zero int (-1: all cores).")
    if to_memmap is not None and not isinstance(to_memmap, str | os.PathLike):
        raise TypeError(f"to_memmap must be a path to a .npy file or None, got {type(to_memmap).__name__}.")
    return float(fs), int(length)


def _csv_columns(frame: pd.DataFrame, required, path: Path, url: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{str(path)!r} lacks the columns {missing} (it has {list(frame.columns)}); pass the release's own "
            f"file from {url}."
        )


def _parse_event(values: pd.Series, path: Path) -> pd.Series:
    """``death`` as a nullable boolean: True/False (any case), 1/0; blank stays missing."""
    mapping = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False}
    text = values.astype("string").str.strip().str.lower()
    parsed = text.map(mapping, na_action="ignore")
    bad = text.notna() & (text != "") & parsed.isna()
    if bad.any():
        raise ValueError(
            f"{str(path)!r}: column 'death' holds {sorted(set(values[bad].astype(str)))[:5]}; expected True/False "
            "or 1/0 (blank for no follow-up). Pass the release's own exams.csv."
        )
    return parsed.astype("boolean")


# ----------------------------------------------------------------------------------------------
# Signals: zero padding, resampling, output array (in memory or a .npy memmap)
# ----------------------------------------------------------------------------------------------


def strip_zero_padding(tracing: np.ndarray) -> np.ndarray | None:
    """Remove the all-zero samples at both ends of a ``(n_samples, n_leads)`` tracing.

    CODE-15% and SaMi-Trop pad 7-s and 10-s records with zeros on both sides to 4096 samples; a
    sample is padding when every lead is exactly zero.

    Parameters
    ----------
    tracing : ndarray of shape (n_samples, n_leads)
        One tracing as stored in the release's HDF5 file.

    Returns
    -------
    signal : ndarray of shape (n_kept, n_leads) or None
        The samples from the first to the last non-zero one; ``None`` for an all-zero tracing.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv_ecg.datasets._cohorts import strip_zero_padding
    >>> x = np.zeros((6, 2)); x[2:4] = 1.0
    >>> strip_zero_padding(x).shape
    (2, 2)
    """
    nonzero = np.flatnonzero(np.any(tracing != 0, axis=1))
    if nonzero.size == 0:
        return None
    return tracing[nonzero[0] : nonzero[-1] + 1]


def _code_signal(tracing: np.ndarray, up: int, down: int, length: int) -> np.ndarray | None:
    """One CODE/SaMi-Trop tracing ``(4096, 12)`` -> ``(12, length)`` float32 mV, or None if all zero."""
    signal = strip_zero_padding(tracing)
    if signal is None:
        return None
    signal = np.asarray(signal, dtype=np.float64).T
    if up != down:
        signal = resample_poly(signal, up, down, axis=-1)
    out = np.zeros((signal.shape[0], length), dtype=np.float32)
    n = min(length, signal.shape[-1])
    out[:, :n] = signal[:, :n]
    return out


class _Output:
    """Rows written in order into an array or a ``.npy`` memmap; rows left out are never stored.

    The array is created for ``n`` rows; :meth:`finish` returns the first rows written. For a memmap
    the ``.npy`` header is rewritten for the final count and the file cut, so no row is copied.
    """

    def __init__(self, n: int, n_leads: int, length: int, to_memmap):
        shape = (n, n_leads, length)
        self.path = None if to_memmap is None else Path(to_memmap)
        if self.path is None:
            # np.empty pages are only touched when written, so rows never written cost no memory.
            self.array = np.empty(shape, dtype=np.float32)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.array = np.lib.format.open_memmap(self.path, mode="w+", dtype=np.float32, shape=shape)
        self.n = 0

    def write(self, rows: np.ndarray) -> None:
        self.array[self.n : self.n + len(rows)] = rows
        self.n += len(rows)

    def finish(self) -> np.ndarray:
        if self.path is None:
            return self.array[: self.n]
        offset = self.array.offset
        shape = (self.n, *self.array.shape[1:])
        self.array.flush()
        del self.array
        if shape[0] != 0:
            _rewrite_npy_header(self.path, offset, shape)
            return np.load(self.path, mmap_mode="r+")
        self.path.unlink()
        return np.empty(shape, dtype=np.float32)


def _rewrite_npy_header(path: Path, offset: int, shape: tuple[int, ...]) -> None:
    """Give a float32 C-order ``.npy`` (format 1.0, data at ``offset``) the leading ``shape``; cut the rest.

    The new header is padded with spaces to the old length (the format allows any padding), so the
    data stay where they are.
    """
    header = repr({"descr": "<f4", "fortran_order": False, "shape": shape})
    magic = b"\x93NUMPY\x01\x00"
    room = offset - len(magic) - 2
    text = header.encode("latin1")
    text = text + b" " * (room - len(text) - 1) + b"\n"
    with open(path, "r+b") as fh:
        fh.write(magic + np.uint16(room).astype("<u2").tobytes() + text)
        fh.truncate(offset + int(np.prod(shape)) * 4)


def _read_hdf5(
    h5_path: Path, rows: np.ndarray, *, fs: float, length: int, out: _Output, n_jobs, verbose, desc: str
) -> np.ndarray:
    """Read tracings ``rows`` (increasing) of an HDF5 file into ``out``; return which were kept (not all zero).

    Rows are read ``_CHUNK`` at a time in increasing order (what h5py's fancy indexing needs and
    what its chunk cache serves best), so memory holds one chunk of raw tracings at a time.
    """
    import h5py

    up, down = polyphase_factors(CODE_FS, fs)
    kept = np.zeros(len(rows), dtype=bool)
    with h5py.File(h5_path, "r") as fh:
        tracings = fh["tracings"]
        if tracings.ndim != 3 or tracings.shape[1:] != (CODE_N_SAMPLES, len(CODE_LEADS)):
            raise ValueError(
                f"{str(h5_path)!r}: dataset 'tracings' has shape {tracings.shape}, expected (N, {CODE_N_SAMPLES}, "
                f"{len(CODE_LEADS)}); pass the release's own HDF5 file."
            )
        starts = range(0, len(rows), _CHUNK)
        with Parallel(n_jobs=n_jobs, prefer="threads") as parallel:
            for start in tqdm(starts, desc=desc, unit="chunk", disable=not verbose):
                index = rows[start : start + _CHUNK]
                raw = tracings[index]
                if effective_n_jobs(n_jobs) == 1:
                    signals = [_code_signal(t, up, down, length) for t in raw]
                else:
                    signals = parallel(delayed(_code_signal)(t, up, down, length) for t in raw)
                ok = [s is not None for s in signals]
                kept[start : start + len(index)] = ok
                if any(ok):
                    out.write(np.stack([s for s in signals if s is not None]))
    return kept


def _check_amplitude(X: np.ndarray, what: str) -> None:
    """Warn when lead II's typical peak-to-peak amplitude says the signals are not in mV."""
    if len(X) == 0:
        return
    sample = X[:: max(1, len(X) // 200), 1]
    ptp = float(np.median(np.ptp(sample, axis=-1)))
    low, high = _PLAUSIBLE_MV
    if not low <= ptp <= high:
        warnings.warn(
            f"{what}: the median peak-to-peak amplitude of lead II is {ptp:.3g} mV, outside the {low}-{high} mV "
            "of human ECGs; the file's amplitude scale is not the documented one (mV). Check the release and "
            "rescale X (e.g. X / 10 if the values are in units of 1e-4 V).",
            SignalQualityWarning,
            stacklevel=user_stacklevel(),
        )


# ----------------------------------------------------------------------------------------------
# Outcomes
# ----------------------------------------------------------------------------------------------


def _survival(frame: pd.DataFrame, *, all_exams: bool) -> tuple[np.ndarray, pd.DataFrame]:
    """``y`` from ``frame``'s ``event`` (nullable bool) and ``time_years``; missing time = NaN, never censored."""
    has = frame["has_outcome"].to_numpy(bool)
    event = frame["event"].fillna(False).to_numpy(bool) & has
    time = np.where(has, frame["time_years"].to_numpy(float), np.nan)
    if all_exams:
        y = np.empty(len(frame), dtype=[("event", bool), ("time", float)])
        y["event"], y["time"] = event, time
        return y, frame
    return Surv.from_arrays(event=event, time=time), frame


def _warn_left_out(what: str, n_patients: int, n_flat: int, *, unit: str = "patients") -> None:
    if n_patients:
        warnings.warn(
            f"{what}: {n_patients} {unit} without follow-up left out; a missing outcome is never censored or "
            "counted as survival. all_exams=True returns their exams with time NaN and has_outcome False.",
            SksurvECGWarning,
            stacklevel=user_stacklevel(),
        )
    if n_flat:
        warnings.warn(
            f"{what}: {n_flat} all-zero tracings (no signal) left out.",
            SignalQualityWarning,
            stacklevel=user_stacklevel(),
        )


def _code_outcomes(frame: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Add ``event``, ``time_years`` and ``has_outcome`` from CODE's ``death`` and ``timey``."""
    event = _parse_event(frame["death"], path)
    time = pd.to_numeric(frame["timey"], errors="coerce")
    bad = frame["timey"].notna() & time.isna()
    if bad.any():
        raise ValueError(f"{str(path)!r}: column 'timey' holds non-numbers {frame['timey'][bad].unique()[:5]}.")
    if (time < 0).any():
        raise ValueError(f"{str(path)!r}: column 'timey' holds negative follow-up times; expected years >= 0.")
    half = event.notna() ^ time.notna()
    if half.any():
        raise ValueError(
            f"{str(path)!r}: exams {frame.index[half].tolist()[:5]} have only one of 'death' and 'timey'; the release "
            "fills both or neither."
        )
    return frame.assign(event=event, time_years=time, has_outcome=time.notna().to_numpy())


def _baseline_exams(frame: pd.DataFrame, patient: str) -> pd.Series:
    """One exam per patient: the one the follow-up starts from (outcome filled; the longest if several)."""
    followed = frame[frame["has_outcome"]]
    order = followed.sort_values(["time_years"], ascending=False, kind="stable")
    first = order[~order[patient].duplicated(keep="first")].index
    return frame.index.isin(first)


# ----------------------------------------------------------------------------------------------
# CODE-15% and SaMi-Trop
# ----------------------------------------------------------------------------------------------


def _code15_parts(root: Path, parts) -> dict[int, Path]:
    found = {int(m.group(1)): p for p in root.glob("exams_part*.hdf5") if (m := _PART.fullmatch(p.name))}
    if parts is None:
        if not found:
            raise FileNotFoundError(
                f"{str(root)!r} holds no exams_part<k>.hdf5; unzip the parts there or fetch them with "
                f"fetch_code15(parts=[0]) (release: {_CODE15_URL})."
            )
        return dict(sorted(found.items()))
    wanted = [parts] if isinstance(parts, Integral) else parts
    if (
        isinstance(wanted, str)
        or not hasattr(wanted, "__iter__")
        or not (wanted := list(wanted))
        or not all(isinstance(p, Integral) and not isinstance(p, bool) and 0 <= p <= 17 for p in wanted)
    ):
        raise ValueError(f"parts={parts!r} must be None or a non-empty list of part numbers from 0 to 17.")
    wanted = sorted({int(p) for p in wanted})
    missing = [p for p in wanted if p not in found]
    if missing:
        raise FileNotFoundError(
            f"CODE-15% parts {missing} are not in {str(root)!r} (exams_part<k>.hdf5); fetch them with "
            f"fetch_code15(parts={missing}) or unzip them from {_CODE15_URL}."
        )
    return {p: found[p] for p in wanted}


def _hdf5_ids(path: Path) -> np.ndarray:
    import h5py

    with h5py.File(path, "r") as fh:
        if "tracings" not in fh:
            raise ValueError(f"{str(path)!r} has no dataset 'tracings'; pass the release's own HDF5 file.")
        return np.asarray(fh["exam_id"][:], dtype=np.int64) if "exam_id" in fh else None


def _load_code(
    frame: pd.DataFrame,
    sources: list[tuple[Path, np.ndarray]],
    *,
    patient: str,
    all_exams: bool,
    fs,
    length,
    n_jobs,
    verbose,
    to_memmap,
    what: str,
    followed: set | None = None,
):
    """Shared body of the CODE-15% and SaMi-Trop loaders.

    ``sources`` pairs each HDF5 file with, for every exam of ``frame`` (in order), the row it lives
    at in that file, or -1 when it lives elsewhere. ``followed`` lists the patients with an outcome
    anywhere in the release (default: in ``frame``).
    """
    fs, length = _check_signal_args(fs, length, n_jobs, to_memmap)
    if all_exams:
        selected = np.ones(len(frame), dtype=bool)
        n_no_follow_up = 0
    else:
        selected = _baseline_exams(frame, patient)
        if followed is None:
            followed = set(frame.loc[frame["has_outcome"], patient])
        n_no_follow_up = int(frame.loc[~frame[patient].isin(followed), patient].nunique())
    frame = frame[selected]
    n_total = len(frame)
    out = _Output(n_total, len(LEAD_NAMES), length, to_memmap)
    kept_index = []
    for path, positions in sources:
        positions = positions[selected]
        mine = np.flatnonzero(positions >= 0)
        order = mine[np.argsort(positions[mine], kind="stable")]
        kept = _read_hdf5(
            path,
            positions[order],
            fs=fs,
            length=length,
            out=out,
            n_jobs=n_jobs,
            verbose=verbose,
            desc=f"Reading {path.name}",
        )
        kept_index.append(frame.index[order][kept])
    X = out.finish()
    index = np.concatenate(kept_index) if kept_index else np.empty(0, dtype=np.int64)
    n_flat = n_total - len(index)
    frame = frame.loc[index]
    _warn_left_out(what, n_no_follow_up, n_flat)
    _check_amplitude(X, what)
    y, frame = _survival(frame, all_exams=all_exams)
    return X, y, frame


def load_code15(root, *, parts=None, fs=500, length=5000, all_exams=False, n_jobs=None, verbose=0, to_memmap=None):
    """Load CODE-15% (signals, mortality, labels) from a local copy of the Zenodo release.

    ``root`` holds ``exams.csv`` and the unzipped parts ``exams_part<k>.hdf5`` (each with datasets
    ``tracings`` of shape ``(N, 4096, 12)`` and ``exam_id`` of shape ``(N,)``), e.g. the folder
    :func:`fetch_code15` returns. Exams are matched to their tracings by ``exam_id``, never by row
    order. Each tracing (400 Hz, mV, leads DI, DII, DIII, AVR, AVL, AVF, V1-V6) loses its zero
    padding (the all-zero samples at both ends), is resampled to ``fs`` with
    :func:`scipy.signal.resample_poly`, then zero-padded at the end or cut to ``length``.

    ``death`` and ``timey`` are filled on the exam each patient's follow-up starts from and blank
    elsewhere and for patients without follow-up. A blank outcome is missing, never censored:
    by default each followed patient contributes that one exam (the one with the longest ``timey``
    should a patient have several filled), patients without follow-up are left out and counted in
    a :class:`~sksurv_ecg.exceptions.SksurvECGWarning`. All-zero tracings are left out and counted in
    a :class:`~sksurv_ecg.exceptions.SignalQualityWarning`.

    Parameters
    ----------
    root : str or os.PathLike
        CODE-15% folder.
    parts : int, list of int or None, default=None
        Parts (0-17) to read; ``None`` reads every ``exams_part<k>.hdf5`` in ``root``. Exams of
        other parts are not returned.
    fs : float, default=500
        Sampling rate of ``X`` in Hz.
    length : int, default=5000
        Samples per signal after resampling (10 s at 500 Hz); shorter signals are zero-padded at
        the end, longer ones cut.
    all_exams : bool, default=False
        Return every exam of the selected parts: exams without an outcome have ``y["time"]`` NaN,
        ``y["event"]`` False and ``frame["has_outcome"]`` False. ``y`` is then a plain structured
        array that scikit-survival refuses ("Input contains NaN") until you select
        ``frame["has_outcome"]``, so nothing missing can pass for censored.
    n_jobs : int or None, default=None
        Threads that resample the tracings of a chunk (joblib; ``-1``: all cores).
    verbose : int, default=0
        Progress bar per part when non-zero.
    to_memmap : str, os.PathLike or None, default=None
        Write ``X`` into this ``.npy`` file (memory-mapped) instead of memory; memory then holds
        one chunk of 256 tracings at a time.

    Returns
    -------
    X : ndarray of shape (n_exams, 12, length), dtype float32
        Signals in mV, leads I, II, III, aVR, aVL, aVF, V1-V6 (a read-write memmap with ``to_memmap``).
    y : structured ndarray of shape (n_exams,)
        ``event`` (death) and ``time`` (years from the exam).
    frame : pandas.DataFrame of shape (n_exams, n_columns)
        Indexed by ``exam_id`` in the order of ``X``: ``patient_id``, ``age``, ``is_male``,
        ``nn_predicted_age``, the labels ``1dAVb``, ``RBBB``, ``LBBB``, ``SB``, ``ST``, ``AF``,
        ``normal_ecg``, ``trace_file``, the raw ``death`` and ``timey``, and ``event``,
        ``time_years``, ``has_outcome``.

    Raises
    ------
    FileNotFoundError
        When ``exams.csv`` or a requested part is missing.
    ValueError
        When a file does not have the release's layout, or an exam listed for a part is not in it.

    See Also
    --------
    load_samitrop : The SaMi-Trop cohort, same layout.

    Examples
    --------
    With part 0 in ``root`` (about 1.3 GB; see ``docs/real_cohorts.md``):

    >>> from sklearn.model_selection import GroupKFold
    >>> from sksurv_ecg.datasets import load_code15
    >>> X, y, frame = load_code15(root, parts=[0])  # doctest: +SKIP
    >>> folds = GroupKFold(5).split(X, y, groups=frame["patient_id"])  # doctest: +SKIP
    """
    root = _check_folder(root, "CODE-15%", _CODE15_URL)
    csv = _check_file(root / "exams.csv", "exams.csv", _CODE15_URL)
    files = _code15_parts(root, parts)
    frame = pd.read_csv(csv, dtype={"death": "string"})
    _csv_columns(frame, ["exam_id", "patient_id", "age", "is_male", "death", "timey", "trace_file"], csv, _CODE15_URL)
    if frame["exam_id"].duplicated().any():
        raise ValueError(
            f"{str(csv)!r}: exam_id {frame['exam_id'][frame['exam_id'].duplicated()].tolist()[:5]} repeat."
        )
    frame = _code_outcomes(frame.set_index("exam_id"), csv)
    # Follow-up is a property of the patient over the whole release: a patient whose outcome exam
    # lives in a part not read here is not "without follow-up".
    followed = set(frame.loc[frame["has_outcome"], "patient_id"])
    # Exams are found by exam_id in the parts read; trace_file (blank on some rows) is only checked.
    found = {path: _hdf5_ids(path) for path in files.values()}
    for path, ids in found.items():
        if ids is None:
            raise ValueError(f"{str(path)!r} has no dataset 'exam_id'; CODE-15%'s parts carry one ({_CODE15_URL}).")
        listed = frame.index[frame["trace_file"] == path.name]
        absent = listed[pd.Index(ids).get_indexer(listed) < 0]
        if len(absent):
            raise ValueError(
                f"{str(path)!r} lacks exams {absent.tolist()[:5]} that exams.csv assigns to it; the part is "
                "incomplete or from another release: fetch it again."
            )
    in_parts = np.zeros(len(frame), dtype=bool)
    sources = []
    for path, ids in found.items():
        where = pd.Index(ids).get_indexer(frame.index)
        named = frame["trace_file"].notna() & (frame["trace_file"] != path.name)
        clash = (where >= 0) & named.to_numpy()
        if clash.any():
            raise ValueError(
                f"exams {frame.index[clash].tolist()[:5]} are in {str(path)!r} but exams.csv names another "
                "trace_file for them; pass the files of one release."
            )
        in_parts |= where >= 0
        sources.append((path, where))
    frame = frame[in_parts]
    sources = [(path, where[in_parts]) for path, where in sources]
    return _load_code(
        frame,
        sources,
        patient="patient_id",
        all_exams=all_exams,
        fs=fs,
        length=length,
        n_jobs=n_jobs,
        verbose=verbose,
        to_memmap=to_memmap,
        what="CODE-15%",
        followed=followed,
    )


def load_samitrop(root, *, fs=500, length=5000, all_exams=False, n_jobs=None, verbose=0, to_memmap=None):
    """Load SaMi-Trop (Chagas-disease cohort: signals, mortality) from a local copy of the Zenodo release.

    ``root`` holds ``exams.csv`` and ``exams.hdf5`` (dataset ``tracings`` of shape
    ``(1631, 4096, 12)``), e.g. the folder :func:`fetch_samitrop` returns. The release's HDF5
    carries no ``exam_id``: its rows follow ``exams.csv``'s rows, so the two are joined by row
    order (and refused when their lengths differ). Should a file carry an ``exam_id`` dataset it
    is used instead. Signals are processed as by :func:`load_code15`.

    SaMi-Trop has one exam per patient, so ``exam_id`` is also the patient id (``patient_id``). An
    exam with a blank ``death``/``timey`` has no follow-up: left out and counted in a
    :class:`~sksurv_ecg.exceptions.SksurvECGWarning` (``all_exams=True`` keeps it, time NaN).

    Parameters
    ----------
    root : str or os.PathLike
        SaMi-Trop folder.
    fs : float, default=500
        Sampling rate of ``X`` in Hz.
    length : int, default=5000
        Samples per signal after resampling.
    all_exams : bool, default=False
        Keep exams without follow-up (``y["time"]`` NaN, ``frame["has_outcome"]`` False).
    n_jobs : int or None, default=None
        Threads that resample the tracings (joblib).
    verbose : int, default=0
        Progress bar when non-zero.
    to_memmap : str, os.PathLike or None, default=None
        Write ``X`` into this ``.npy`` file (memory-mapped) instead of memory.

    Returns
    -------
    X : ndarray of shape (n_exams, 12, length), dtype float32
        Signals in mV, leads I, II, III, aVR, aVL, aVF, V1-V6.
    y : structured ndarray of shape (n_exams,)
        ``event`` (death) and ``time`` (years from the exam).
    frame : pandas.DataFrame of shape (n_exams, n_columns)
        Indexed by ``exam_id``: every column of ``exams.csv`` (``age``, ``is_male``, ``death``,
        ``timey``, ...), ``patient_id``, ``hdf5_row`` (the row of the tracing), ``event``,
        ``time_years`` and ``has_outcome``.

    Raises
    ------
    FileNotFoundError
        When ``exams.csv`` or ``exams.hdf5`` is missing.
    ValueError
        When the files do not have the release's layout or their row counts differ.

    See Also
    --------
    load_code15 : The CODE-15% cohort, same layout.

    Examples
    --------
    >>> from sksurv_ecg.datasets import load_samitrop
    >>> X, y, frame = load_samitrop(root)  # doctest: +SKIP
    """
    root = _check_folder(root, "SaMi-Trop", _SAMITROP_URL)
    csv = _check_file(root / "exams.csv", "exams.csv", _SAMITROP_URL)
    h5 = _check_file(root / "exams.hdf5", "exams.hdf5 (from exams.zip)", _SAMITROP_URL)
    frame = pd.read_csv(csv, dtype={"death": "string"})
    _csv_columns(frame, ["exam_id", "age", "is_male", "death", "timey"], csv, _SAMITROP_URL)
    if frame["exam_id"].duplicated().any():
        raise ValueError(
            f"{str(csv)!r}: exam_id {frame['exam_id'][frame['exam_id'].duplicated()].tolist()[:5]} repeat."
        )
    ids = _hdf5_ids(h5)
    if ids is None:
        import h5py

        with h5py.File(h5, "r") as fh:
            n_rows = fh["tracings"].shape[0]
        if n_rows != len(frame):
            raise ValueError(
                f"{str(h5)!r} holds {n_rows} tracings and {str(csv)!r} {len(frame)} rows; SaMi-Trop joins them by "
                f"row order, which needs equal counts: pass both files of one release ({_SAMITROP_URL})."
            )
        positions = np.arange(len(frame), dtype=np.int64)
    else:
        positions = pd.Index(ids).get_indexer(frame["exam_id"])
        if (positions < 0).any():
            missing = frame["exam_id"][positions < 0].tolist()[:5]
            raise ValueError(f"{str(h5)!r} lacks exams {missing} listed in exams.csv; fetch the release again.")
    frame = frame.assign(patient_id=frame["exam_id"], hdf5_row=positions).set_index("exam_id")
    frame = _code_outcomes(frame, csv)
    return _load_code(
        frame,
        [(h5, positions.astype(np.int64))],
        patient="patient_id",
        all_exams=all_exams,
        fs=fs,
        length=length,
        n_jobs=n_jobs,
        verbose=verbose,
        to_memmap=to_memmap,
        what="SaMi-Trop",
    )


# ----------------------------------------------------------------------------------------------
# MIMIC-IV-ECG
# ----------------------------------------------------------------------------------------------


def _read_table(path, what: str, columns, url: str, **kwargs) -> pd.DataFrame:
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"{what} must be a path to MIMIC-IV's {what}.csv(.gz), got {type(path).__name__}.")
    path = _check_file(Path(path), f"MIMIC-IV's {what}.csv (credentialed access)", url)
    frame = pd.read_csv(path, **kwargs)
    _csv_columns(frame, columns, path, url)
    return frame


def _mimic_follow_up(records: pd.DataFrame, patients: pd.DataFrame, admissions: pd.DataFrame | None) -> pd.DataFrame:
    """Event, time (days, then years) and ``has_outcome`` of every ECG of ``records``.

    Deaths: ``dod`` (a date). Survivors: censored at the last ``dischtime`` + 365 days (the window in
    which MIMIC-IV records out-of-hospital deaths) or, without ``admissions``, at the subject's last
    ECG. Times are whole days from the ECG's date; a death on the ECG's date gets
    :data:`SAME_DAY_DEATH_DAYS`.
    """
    dod = pd.to_datetime(patients.set_index("subject_id")["dod"], errors="coerce").dt.normalize()
    ecg_day = records["ecg_time"].dt.normalize()
    death_day = records["subject_id"].map(dod)
    if admissions is not None:
        last = admissions.groupby("subject_id")["dischtime"].max().dt.normalize()
        end = records["subject_id"].map(last + pd.Timedelta(days=MIMIC_DOD_WINDOW_DAYS))
    else:
        end = records.groupby("subject_id")["ecg_time"].transform("max").dt.normalize()
    event = death_day.notna()
    stop = death_day.where(event, end)
    days = (stop - ecg_day).dt.days.astype(float)
    days = days.where(~(event & (days == 0)), SAME_DAY_DEATH_DAYS)
    # No follow-up: a death dated before the ECG, a window closed by the ECG's date, or (with admissions)
    # a subject without any admission, whose window is undefined (left out dead or alive, so that the
    # selection does not depend on the outcome).
    has = (days > 0).to_numpy(bool, copy=True)
    if admissions is not None:
        has &= end.notna().to_numpy(bool)
    return records.assign(
        dod=death_day,
        follow_up_end=stop,
        event=event.astype("boolean").where(has, pd.NA),
        time_days=days.where(has),
        time_years=(days / _DAYS_PER_YEAR).where(has),
        has_outcome=has,
    )


def load_mimic_iv_ecg(
    root,
    outcomes,
    *,
    admissions=None,
    fs=500,
    length=5000,
    all_exams=False,
    machine_measurements=True,
    n_jobs=None,
    verbose=0,
    to_memmap=None,
):
    """Load MIMIC-IV-ECG with all-cause mortality from MIMIC-IV's ``patients`` (and ``admissions``) tables.

    ``root`` is the MIMIC-IV-ECG folder (open access; ``record_list.csv``,
    ``machine_measurements.csv`` and ``files/p<xxxx>/p<subject>/s<study>/<study>.hea|.dat``), e.g. as
    :func:`fetch_mimic_iv_ecg` leaves it. ``outcomes`` is MIMIC-IV's ``hosp/patients.csv(.gz)`` and
    ``admissions`` its ``hosp/admissions.csv(.gz)``, which a credentialed user downloads from
    PhysioNet. Records (500 Hz, 10 s) are read with :func:`sksurv_ecg.io.read_wfdb`: leads by name
    (the release stores aVF before aVL), mV, resampled to ``fs``, zero-padded at the end or cut to
    ``length``.

    Outcome (all-cause death), per ECG:

    * death: ``dod`` of ``patients`` (a date; MIMIC-IV links the state death registry and records
      out-of-hospital deaths up to one year after the patient's last hospital discharge);
    * survivors are censored at the end of that window: the date of the last ``dischtime`` in
      ``admissions`` plus 365 days. A patient with no admission has no defined window: left out
      (no follow-up) and counted. Without ``admissions`` survivors are censored at their last ECG
      (a lower bound of their follow-up; a warning says so), which makes hazards look higher;
    * time: whole days from the ECG's date to the death or censoring date, in years (days /
      365.25). A death on the ECG's date is kept with :data:`SAME_DAY_DEATH_DAYS` (0.5 day) and
      never refused; a ``dod`` before the ECG (date shifting or linkage error) or a window closed
      before the ECG means no follow-up: left out and counted.

    By default each subject contributes the first ECG (earliest ``ecg_time``) that has follow-up;
    ``all_exams=True`` returns every ECG, each with its own time from that ECG (NaN without
    follow-up, ``has_outcome`` False).

    Parameters
    ----------
    root : str or os.PathLike
        MIMIC-IV-ECG folder.
    outcomes : str or os.PathLike
        MIMIC-IV's ``patients.csv`` or ``patients.csv.gz`` (``subject_id``, ``gender``,
        ``anchor_age``, ``dod``, ...).
    admissions : str, os.PathLike or None, default=None
        MIMIC-IV's ``admissions.csv(.gz)`` (``subject_id``, ``dischtime``) for the documented
        censoring rule; strongly recommended.
    fs : float, default=500
        Sampling rate of ``X`` in Hz.
    length : int, default=5000
        Samples per signal after resampling.
    all_exams : bool, default=False
        Every ECG instead of one per subject.
    machine_measurements : bool, default=True
        Join ``machine_measurements.csv`` (intervals, axes, the machine's report lines) by
        ``study_id`` when the file is present.
    n_jobs : int or None, default=None
        Threads reading records (joblib; ``-1``: all cores).
    verbose : int, default=0
        Progress bar when non-zero.
    to_memmap : str, os.PathLike or None, default=None
        Write ``X`` into this ``.npy`` file (memory-mapped) instead of memory.

    Returns
    -------
    X : ndarray of shape (n_ecgs, 12, length), dtype float32
        Signals in mV, leads I, II, III, aVR, aVL, aVF, V1-V6.
    y : structured ndarray of shape (n_ecgs,)
        ``event`` (death) and ``time`` (years from the ECG).
    frame : pandas.DataFrame of shape (n_ecgs, n_columns)
        Indexed by ``study_id``: ``subject_id``, ``ecg_time``, ``path``, ``file_name``, ``gender``,
        ``anchor_age``, ``anchor_year``, ``dod``, ``follow_up_end``, ``event``, ``time_days``,
        ``time_years``, ``has_outcome`` and the machine measurements.

    Raises
    ------
    FileNotFoundError
        When ``record_list.csv``, a table or a selected record is missing.
    ValueError
        When a table lacks its documented columns.

    Examples
    --------
    >>> from sksurv_ecg.datasets import load_mimic_iv_ecg
    >>> X, y, frame = load_mimic_iv_ecg(
    ...     root, "mimiciv/3.1/hosp/patients.csv.gz", admissions="mimiciv/3.1/hosp/admissions.csv.gz"
    ... )  # doctest: +SKIP
    """
    root = _check_folder(root, "MIMIC-IV-ECG", _MIMIC_ECG_URL)
    fs, length = _check_signal_args(fs, length, n_jobs, to_memmap)
    listing = _check_file(root / "record_list.csv", "record_list.csv", _MIMIC_ECG_URL)
    records = pd.read_csv(listing)
    _csv_columns(records, ["subject_id", "study_id", "ecg_time", "path"], listing, _MIMIC_ECG_URL)
    records["ecg_time"] = pd.to_datetime(records["ecg_time"])
    patients = _read_table(outcomes, "patients", ["subject_id", "dod"], _MIMIC_URL)
    adm = None
    if admissions is not None:
        adm = _read_table(admissions, "admissions", ["subject_id", "dischtime"], _MIMIC_URL)
        adm["dischtime"] = pd.to_datetime(adm["dischtime"])
    else:
        warnings.warn(
            "load_mimic_iv_ecg without admissions=: survivors are censored at their last ECG, not at the end of "
            "MIMIC-IV's death-recording window (last discharge + 1 year); pass admissions.csv for the documented rule.",
            SksurvECGWarning,
            stacklevel=user_stacklevel(),
        )
    records = _mimic_follow_up(records, patients, adm)
    extra = [c for c in ("gender", "anchor_age", "anchor_year") if c in patients.columns]
    records = records.join(patients.set_index("subject_id")[extra], on="subject_id")
    mm = root / "machine_measurements.csv"
    if machine_measurements and mm.is_file():
        measures = pd.read_csv(mm).drop(columns=["subject_id", "ecg_time"], errors="ignore")
        records = records.join(measures.set_index("study_id"), on="study_id")
    records = records.set_index("study_id")
    if all_exams:
        frame = records.sort_values(["subject_id", "ecg_time"], kind="stable")
        n_left = 0
    else:
        followed = records[records["has_outcome"]].sort_values(["subject_id", "ecg_time"], kind="stable")
        frame = followed[~followed["subject_id"].duplicated(keep="first")]
        n_left = int(records["subject_id"].nunique() - frame["subject_id"].nunique())
    paths = [root / p for p in frame["path"]]
    missing = [str(p) for p in paths if not p.with_suffix(".hea").is_file()]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} of {len(paths)} MIMIC-IV-ECG records are missing under {str(root)!r}, e.g. {missing[:3]}; "
            "complete the download (fetch_mimic_iv_ecg) or remove their rows from record_list.csv."
        )
    out = _Output(len(frame), len(LEAD_NAMES), length, to_memmap)
    with Parallel(n_jobs=n_jobs, prefer="threads") as parallel:
        for start in tqdm(range(0, len(paths), _CHUNK), desc="Reading MIMIC-IV-ECG", unit="chunk", disable=not verbose):
            chunk = paths[start : start + _CHUNK]
            read = delayed(read_wfdb)
            signals = parallel(read(p, fs=fs, resample=True, length=length, pad=True, verbose=False) for p in chunk)
            out.write(np.concatenate(signals))
    X = out.finish()
    _warn_left_out("MIMIC-IV-ECG", n_left, 0, unit="subjects")
    y, frame = _survival(frame, all_exams=all_exams)
    return X, y, frame
