"""One entry point for every format: :func:`read_ecg` and the :class:`ECGReader` transformer."""

from __future__ import annotations

import glob
import os
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from numbers import Integral, Real
from pathlib import Path
from typing import Any, Self, TypeAlias

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy.signal import resample_poly
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from tqdm.auto import tqdm
from wfdb import processing

from ..conventions import LEAD_NAMES, median_beat_layout, polyphase_factors
from ..exceptions import ECGFileError, ECGReadWarning, user_stacklevel
from ..preprocessing import MedianBeat
from ..utils.validation import check_path_list
from ._common import (
    LIMB_LEADS,
    FloatArray,
    PathReaderMixin,
    Recording,
    StrPath,
    check_recording,
    derive_limb_leads,
    fail,
    fit_length,
)
from ._dicom import read_dicom
from ._wfdb import read_wfdb_recording
from ._xml import local, parse_xml

__all__ = ["ECGReader", "ecg_files_in", "read_ecg", "sniff_format"]

FORMATS = ("wfdb", "dicom", "cardiosoft", "muse", "sierra")
# Root elements of the XML formats (namespace stripped).
_XML_ROOTS = {"CardiologyXML": "cardiosoft", "RestingECG": "muse", "restingecgdata": "sierra"}
_UNSUPPORTED_XML = {"AnnotatedECG": "HL7 aECG"}
_ROOT_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_WFDB_RECORD_LINE = re.compile(rb"^[\w.-]+(/\d+)?\s+\d+(\s|$)")
_VERBOSE_MIN_FILES = 50
# File names an ECG goes by: kept when listing a folder even when their content is damaged.
_ECG_SUFFIXES = {".xml", ".dcm", ".dicom", ".hea"}
# Files of a WFDB record other than its header: the header names the record.
_WFDB_COMPANIONS = {".dat", ".atr", ".xws", ".qrs", ".ecg", ".hea-"}
_GLOB_MAGIC = re.compile(r"[*?[]")
_FRAME_COLUMNS = [
    "path", "format", "device", "fs", "n_samples", "acquisition_time", "interpretation", "age", "sex",
    "pr_ms", "qrs_ms", "qt_ms", "qtc_ms", "heart_rate", "derived_leads", "has_median_beat", "median_beat_source",
    "skipped", "skip_reason",
]  # fmt: skip
_IDENTIFIERS = ["patient_id", "patient_name", "birth_date"]

# What reading one file gives: its signal and device median beat (None when skipped or not asked for)
# and its row of the frame.
_ReadResult: TypeAlias = tuple[FloatArray | None, FloatArray | None, dict[str, Any]]
# The arguments of `_read_one` after the path: fs, leads, derive_leads, resample, length, pad,
# median mode (see `_median_mode`), keep_identifiers.
_ReadArgs: TypeAlias = tuple[float | None, list[str], bool, bool, int | None, bool, str | None, bool]


def sniff_format(path: StrPath) -> str | None:
    """The format of ``path`` from its content: one of ``FORMATS``, or None when it is not an ECG file read here.

    A DICOM file has ``DICM`` at byte 128; an XML file is told by its root element; a WFDB record by
    its header's record line (the path may name the ``.hea``, the ``.dat`` or the record).

    Parameters
    ----------
    path : str or os.PathLike
        The file, or a WFDB record name without extension.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(
            f"{str(path)!r} is a folder, not an ECG file; pass it to read_ecg, which reads the ECG files in it."
        )
    if not path.is_file():
        header = path.with_name(path.name + ".hea")
        if header.is_file() or (path.suffix.lower() == ".dat" and path.with_suffix(".hea").is_file()):
            return "wfdb"
        raise FileNotFoundError(f"ECG file {str(path)!r} does not exist; check the path.")
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head[128:132] == b"DICM":
        return "dicom"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        for match in _ROOT_TAG.finditer(text):
            name = local(match.group(1).decode("ascii", "replace"))
            if name in _XML_ROOTS or name in _UNSUPPORTED_XML:
                return _XML_ROOTS.get(name, name)
            if text[match.start() - 1 : match.start()] != b"!":  # the first element, not a DOCTYPE
                return None
        return None
    first = next((line for line in text.splitlines() if line.strip() and not line.startswith(b"#")), b"")
    if _WFDB_RECORD_LINE.match(first) or path.suffix.lower() == ".dat" and path.with_suffix(".hea").is_file():
        return "wfdb"
    return None


def ecg_files_in(folder: StrPath) -> list[Path]:
    """The ECG files below ``folder``, sorted by path; a WFDB record is named without extension.

    Shared by :func:`read_ecg` and :func:`~sksurv_ecg.io.to_memmap`, so that a folder means the same
    to both. Hidden files and folders (``.name``) are left out, and so are files that are neither an
    ECG by content (:func:`sniff_format`) nor named as one (``.xml``, ``.dcm``, ``.hea``...): tables,
    notes and PDFs beside the ECGs. A file with an ECG suffix that is not readable as one (a cut
    XML) is kept, so that the reader names it or, with ``errors="warn"``, counts it as skipped.

    Parameters
    ----------
    folder : str or os.PathLike
        The folder, searched recursively.

    Returns
    -------
    files : list of pathlib.Path
        The files, maybe none.
    """
    folder = Path(folder)
    candidates = (p for p in folder.rglob("*") if not any(part.startswith(".") for part in p.relative_to(folder).parts))
    return _ecg_files(sorted(p for p in candidates if p.is_file()))


def _ecg_files(candidates: Iterable[Path]) -> list[Path]:
    """The ECG files among ``candidates`` (see :func:`ecg_files_in`), in the given order."""
    files = []
    for path in candidates:
        suffix = path.suffix.lower()
        if suffix == ".hea":
            files.append(path.with_suffix(""))
        elif suffix in _WFDB_COMPANIONS:
            if not path.with_suffix(".hea").is_file():  # a record's data without its header: named, not lost
                files.append(path)
        elif suffix in _ECG_SUFFIXES or _sniff_or_none(path) is not None:
            files.append(path)
    return files


def _sniff_or_none(path: Path) -> str | None:
    """:func:`sniff_format`, or ``"unreadable"`` for a file it cannot open (kept, so that its reading names it)."""
    try:
        return sniff_format(path)
    except OSError:
        return "unreadable"


def _expand_paths(paths: StrPath | Iterable[StrPath]) -> list[Path]:
    """The files that ``paths`` names: folders and glob patterns expanded, other paths kept as they are."""
    files: list[Path] = []
    for path in check_path_list(paths):
        if path.is_dir():
            found = ecg_files_in(path)
            if not found:
                others = sorted(p.name for p in path.iterdir())[:3]
                raise FileNotFoundError(
                    f"folder {str(path)!r} holds no ECG file in a supported format (it holds {others or 'nothing'}); "
                    "pass the folder of the ECG files, a glob pattern or a list of paths."
                )
            files.extend(found)
        elif not path.exists() and _GLOB_MAGIC.search(str(path)) and not path.with_name(path.name + ".hea").is_file():
            # glob leaves out hidden files unless the pattern names them
            matches = [Path(p) for p in sorted(glob.glob(str(path), recursive=True))]
            found = _ecg_files(p for p in matches if p.is_file())
            if not found:
                what = f"{len(matches)} paths, none an ECG file" if matches else "no file"
                raise FileNotFoundError(
                    f"the pattern {str(path)!r} matches {what}; check the pattern, or pass a folder or a list of paths."
                )
            files.extend(found)
        else:
            files.append(path)
    return files


def _read_recording(path: StrPath, *, median: bool = False) -> Recording:
    """Sniff and read one file with its format's reader; the result has passed :func:`check_recording`."""
    kind = sniff_format(path)
    if kind in _UNSUPPORTED_XML:
        raise fail(path, f"{_UNSUPPORTED_XML[kind]} files are not supported", f"convert to one of {FORMATS}")
    if kind is None:
        size = Path(path).stat().st_size
        raise fail(path, f"not an ECG file in a supported format ({size} bytes)", f"pass files of {FORMATS}")
    # A damaged scale factor overflows to inf (or 0 * inf to NaN) in the readers' arithmetic; check_recording
    # refuses such a signal naming the file, so numpy's floating-point warnings would only repeat it.
    with np.errstate(all="ignore"):
        recording = _read_format(path, kind)
    return check_recording(path, recording, median=median)


def _read_format(path: StrPath, kind: str) -> Recording:
    """The recording of ``path`` as the reader of ``kind`` (a sniffed format) returns it."""
    if kind == "wfdb":
        return read_wfdb_recording(path)
    if kind == "dicom":
        return read_dicom(path)
    root = parse_xml(path)
    if local(root.tag) not in _XML_ROOTS:  # the sniffed root was in a comment or a cut file
        raise fail(path, f"the XML root is {local(root.tag)!r}, not an ECG", f"pass files of {FORMATS}")
    from ._cardiosoft import read_cardiosoft
    from ._muse import read_muse
    from ._sierra import read_sierra

    return {"cardiosoft": read_cardiosoft, "muse": read_muse, "sierra": read_sierra}[kind](path, root)


def _select_leads(
    path: StrPath,
    signal: FloatArray,
    names: list[str],
    leads: Sequence[str],
    derive_leads: bool,
    what: str = "recording",
) -> tuple[FloatArray, bool]:
    """Rows of ``signal`` in the order of ``leads``; III, aVR, aVL, aVF derived from I and II if allowed."""
    upper = [n.upper() for n in names]
    if len(set(upper)) != len(upper):
        raise fail(path, f"the {what} lists a lead twice: {names}", "repair the file")
    missing = [lead for lead in leads if str(lead).upper() not in upper]
    derived = False
    if missing and derive_leads and set(missing) <= set(LIMB_LEADS):
        signal, names = derive_limb_leads(signal, names)
        upper, derived = [n.upper() for n in names], True
        missing = [lead for lead in leads if str(lead).upper() not in upper]
    if missing:
        hint = "pass derive_leads=True to derive them from I and II" if set(missing) <= set(LIMB_LEADS) else ""
        raise fail(
            path,
            f"the {what} has {len(names)} leads {names}, missing {missing} of the requested {list(leads)}",
            hint or "pass leads= with the leads it holds, or drop the file",
        )
    return signal[[upper.index(str(lead).upper()) for lead in leads]], derived


def _resample(signal: FloatArray, fs_in: float, fs_out: float) -> FloatArray:
    """``signal`` resampled along its last axis from ``fs_in`` to ``fs_out`` Hz (polyphase)."""
    if np.isclose(fs_in, fs_out):
        return signal
    resampled: FloatArray = resample_poly(signal, *polyphase_factors(fs_in, fs_out), axis=-1)
    return resampled


def align_median_beat(
    beat: ArrayLike, fs_in: float, fs_out: float, leads: Sequence[str] = LEAD_NAMES
) -> NDArray[np.float64]:
    """Resample a device median beat to ``fs_out`` and place its R peak where ``MedianBeat`` puts it.

    The R peak is found on lead II (else the first lead) as ``MedianBeat`` finds it: the largest
    deflection from the beat's median, moved by :func:`wfdb.processing.correct_peaks` with
    MedianBeat's search radius (80 ms), smoothing (200 ms) and ``peak_dir="compare"``. The beat is
    then shifted so that this peak sits where :func:`~sksurv_ecg.conventions.median_beat_layout`
    puts it (sample 304 of 608 at 500 Hz, 64 of 128 at 100 Hz), cropped or zero-padded at the ends.

    Parameters
    ----------
    beat : array-like of shape (n_leads, n_beat_timesteps)
        The device's median beat in mV, leads in the order of ``leads``.
    fs_in : float
        Sampling rate of ``beat`` in Hz.
    fs_out : float
        Sampling rate of the result in Hz.
    leads : sequence of str, default=LEAD_NAMES
        Lead names of the rows of ``beat``; the R peak is searched on ``"II"`` when it is among them.

    Returns
    -------
    aligned : ndarray of shape (n_leads, n_timesteps), dtype float64
        The beat at ``fs_out`` in :class:`~sksurv_ecg.preprocessing.MedianBeat`'s layout
        (``n_timesteps`` is ``round(1.2 * fs_out) + 8``).

    See Also
    --------
    read_ecg : Reads and aligns the device median beats with ``median_beats=True``.

    Examples
    --------
    A beat whose R peak lies at 0.4 s is moved to MedianBeat's R-peak sample:

    >>> import numpy as np
    >>> from sksurv_ecg.io import align_median_beat
    >>> t = np.arange(600) / 500
    >>> beat = np.tile(np.exp(-(((t - 0.4) / 0.01) ** 2)), (12, 1))
    >>> aligned = align_median_beat(beat, fs_in=500, fs_out=100)
    >>> aligned.shape, int(np.argmax(aligned[1]))
    ((12, 128), 64)
    """
    beat = _resample(np.asarray(beat, dtype=np.float64), fs_in, fs_out)
    lead = list(leads).index("II") if "II" in leads else 0
    trace = beat[lead]
    guess = int(np.argmax(np.abs(trace - np.median(trace))))
    peak = int(
        processing.correct_peaks(
            trace,
            np.array([guess]),
            search_radius=max(1, round(0.08 * fs_out)),
            smooth_window_size=max(2, round(0.2 * fs_out)),
            peak_dir="compare",
        )[0]
    )
    _, n_out, target = median_beat_layout(fs_out)
    out = np.zeros((beat.shape[0], n_out))
    start = target - peak  # where sample 0 of the beat lands
    lo, hi = max(0, start), min(n_out, start + beat.shape[1])
    out[:, lo:hi] = beat[:, lo - start : hi - start]
    return out


def _read_one(
    path: Path,
    fs: float | None,
    leads: list[str],
    derive_leads: bool,
    resample: bool,
    length: int | None,
    pad: bool,
    median_mode: str | None,
    keep_identifiers: bool,
) -> tuple[FloatArray, FloatArray | None, dict[str, Any]]:
    """Read, select, resample and fit one file; returns (signal, median or None, frame row)."""
    recording = _read_recording(path, median=median_mode is not None)
    if fs is not None and not np.isclose(recording.fs, fs) and not resample:
        raise fail(path, f"the file is sampled at {recording.fs:g} Hz, expected {fs:g} Hz", "pass resample=True")
    signal, derived = _select_leads(path, recording.signal, recording.leads, leads, derive_leads)
    fs_out = recording.fs if fs is None else fs
    signal = fit_length(path, _resample(signal, recording.fs, fs_out), length, pad)
    median, source = _median_beat(path, recording, signal, fs_out, leads, derive_leads, median_mode)
    row: dict[str, Any] = {
        "path": str(path),
        "format": recording.format,
        "fs": recording.fs,
        "n_samples": recording.signal.shape[-1],
        **recording.info,
        "derived_leads": derived,
        "has_median_beat": recording.median is not None,
        "median_beat_source": source,
        "skipped": False,
        "skip_reason": None,
    }
    if keep_identifiers:
        row.update({key: recording.identifiers.get(key) for key in _IDENTIFIERS})
    return signal, median, row


def _median_mode(median_beats: bool | str, errors: str) -> str | None:
    """What ``_read_one`` does for median beats: None (none), ``"device"`` (the file's, or an error),
    ``"device_or_nan"`` (the file's, else a NaN row, for ``errors="warn"``) or ``"compute"``."""
    if isinstance(median_beats, str):  # validate_params allows only "compute"
        return "compute"
    if not median_beats:
        return None
    return "device" if errors == "raise" else "device_or_nan"


def _median_beat(
    path: StrPath,
    recording: Recording,
    signal: FloatArray,
    fs_out: float,
    leads: list[str],
    derive_leads: bool,
    mode: str | None,
) -> tuple[FloatArray | None, str | None]:
    """The median beat of one file at ``fs_out`` in MedianBeat's layout, and where it came from."""
    if mode is None:
        return None, None
    if recording.median is not None and recording.median_leads is not None and recording.median_fs is not None:
        beat, _ = _select_leads(path, recording.median, recording.median_leads, leads, derive_leads, "median beat")
        return align_median_beat(beat, recording.median_fs, fs_out, leads), "device"
    if mode == "device":
        raise fail(
            path,
            "the file carries no device median beat",
            "pass median_beats='compute' to compute it with MedianBeat, or errors='warn' to keep the file with a "
            "NaN beat, or median_beats=False",
        )
    if mode == "device_or_nan":
        return np.full((len(leads), median_beat_layout(fs_out)[1]), np.nan), None
    # R peaks are found on lead II wherever the caller put it, else on the first lead
    lead = leads.index("II") if "II" in leads else 0
    detector = MedianBeat(fs=fs_out, lead=lead)  # type: ignore[no-untyped-call]  # typed by its numpydoc
    try:
        beat = detector.fit_transform(signal[None])[0]
    except ValueError as err:
        raise fail(
            path, f"no median beat can be computed from the recording ({err})", "drop the file or check its signal"
        ) from err
    return np.asarray(beat, dtype=np.float64), "computed"


def _safe_read_one(path: Path, *args: *_ReadArgs) -> _ReadResult:
    """``_read_one`` that returns the fault instead of raising it (for ``errors="warn"``)."""
    try:
        return _read_one(path, *args)
    except (ECGFileError, OSError, ValueError) as err:
        return None, None, {"path": str(path), "skipped": True, "skip_reason": f"{type(err).__name__}: {err}"}


@validate_params(
    {
        "paths": ["array-like", str, os.PathLike],
        "fs": [Interval(Real, 0, None, closed="neither"), None],
        "leads": ["array-like"],
        "length": [Interval(Integral, 1, None, closed="left"), None],
        "pad": ["boolean"],
        "errors": [StrOptions({"raise", "warn"})],
        "derive_leads": ["boolean"],
        "median_beats": ["boolean", StrOptions({"compute"})],
        "n_jobs": [Integral, None],
        "keep_identifiers": ["boolean"],
        "verbose": ["boolean", None],
    },
    prefer_skip_nested_validation=True,
)  # type: ignore[untyped-decorator]  # sklearn ships no type information
def read_ecg(
    paths: StrPath | Iterable[StrPath],
    *,
    fs: float | None = None,
    leads: Sequence[str] = LEAD_NAMES,
    length: int | None = None,
    pad: bool = False,
    errors: str = "raise",
    derive_leads: bool = True,
    median_beats: bool | str = False,
    n_jobs: int | None = None,
    keep_identifiers: bool = False,
    verbose: bool | None = None,
) -> tuple[NDArray[np.float32], pd.DataFrame] | tuple[NDArray[np.float32], pd.DataFrame, NDArray[np.float32]]:
    """Read ECG files of any supported format into one array, a frame of what the files say, and beats.

    The format is recognised from each file's content, not its extension: WFDB records, DICOM
    waveforms (12-lead ECG and General ECG IODs, through pydicom), GE CardioSoft XML (UK Biobank
    field 20205), GE MUSE XML and Philips Sierra XML (plain or XLI-compressed, through ``sierraecg``).
    XML is parsed with defusedxml: a file that declares entities (an "entity bomb") or external
    references is refused. Signals come out in mV, leads matched by name in the order of ``leads``.

    Parameters
    ----------
    paths : str, os.PathLike or array-like of them
        ECG files (a WFDB record may be named by its ``.hea``, its ``.dat`` or the record name),
        folders or glob patterns (``"cohort/*.xml"``, ``"cohort/**/*.dcm"``), mixed at will. A folder
        gives its ECG files below it in sorted order: files told as ECGs by their content or named
        ``.xml``, ``.dcm``, ``.dicom`` or ``.hea``; hidden files and folders (``.name``) and other
        files (tables, notes, PDFs) are left out, while a damaged file with an ECG name is read and
        so refused by name (or skipped with ``errors="warn"``). A pattern gives the ECG files it
        matches, sorted.
    fs : float or None, default=None
        Sampling rate in Hz of the returned signals; files at another rate are resampled
        (:func:`scipy.signal.resample_poly`). ``None`` keeps each file's own rate, which must then
        be the same for all.
    leads : sequence of str, default=LEAD_NAMES
        Lead names to return, in this order (I, II, III, aVR, aVL, aVF, V1-V6).
    length : int or None, default=None
        Samples per recording after resampling; longer ones are cropped at the end, shorter ones an
        error unless ``pad=True``. ``None`` requires all recordings to have one length.
    pad : bool, default=False
        With ``length``, zero-pad shorter recordings at the end.
    errors : {"raise", "warn"}, default="raise"
        ``"raise"``: the first unreadable file raises :class:`~sksurv_ecg.exceptions.ECGFileError`
        naming the file and the fault (truncated, not an ECG, missing leads, unsupported IOD,
        unreadable base64, refused XML entities). ``"warn"``: such files are skipped, one
        :class:`~sksurv_ecg.exceptions.ECGReadWarning` gives their count, and the frame lists each
        with its ``skip_reason``.
    derive_leads : bool, default=True
        When a file stores only I, II and V1-V6 (8-lead devices, MUSE exports), derive III, aVR,
        aVL and aVF from I and II (Einthoven and Goldberger); the frame's ``derived_leads`` says so.
        With ``False`` such a file lacks leads.
    median_beats : bool or "compute", default=False
        Also return the device's median beat of each file, at ``fs``, aligned so that its R peak
        sits where :class:`~sksurv_ecg.preprocessing.MedianBeat` puts it (sample 304 of 608 at
        500 Hz; see :func:`align_median_beat`). ``True``: a file that carries none (a Philips
        Sierra file, a WFDB record) is an error with ``errors="raise"``; with ``errors="warn"`` it
        is kept, its beat is NaN, its frame row has ``has_median_beat=False`` and one
        :class:`~sksurv_ecg.exceptions.ECGReadWarning` counts such files. ``"compute"``: such a
        file's beat is computed from its recording by ``MedianBeat`` (R peaks on lead II); a
        recording without detectable beats is then an error (or a skip). The frame's
        ``median_beat_source`` says ``"device"`` or ``"computed"``. For beats of one algorithm
        across vendors, apply ``MedianBeat`` to ``X`` instead.
    n_jobs : int or None, default=None
        Files read in parallel (joblib processes); ``None`` reads in this process.
    keep_identifiers : bool, default=False
        Add the columns ``patient_id``, ``patient_name`` and ``birth_date``. Clinical exports carry
        them; they are left out unless asked for.
    verbose : bool or None, default=None
        Show a progress bar; ``None`` shows one for 50 files or more.

    Returns
    -------
    X : ndarray of shape (n_read, n_leads, n_timesteps), dtype float32
        Signals in mV of the files read, in the order of ``paths``.
    frame : pandas.DataFrame of shape (n_files, n_columns)
        One row per file, in the order of ``paths``: ``path``, ``format``, ``device``, ``fs`` (the
        file's own rate), ``n_samples`` (its own length), ``acquisition_time``, ``interpretation``
        (the device's statements joined by "; "), ``age``, ``sex``, ``pr_ms``, ``qrs_ms``,
        ``qt_ms``, ``qtc_ms``, ``heart_rate`` (the device's measurements, NaN where the file has
        none), ``derived_leads``, ``has_median_beat`` (the file carries a device median beat),
        ``median_beat_source`` (``"device"``, ``"computed"``, or None when no beat was asked for
        or found), ``skipped`` and ``skip_reason``. The rows with ``skipped == False`` are the rows
        of ``X``.
    median_beats : ndarray of shape (n_read, n_leads, round(1.2 * fs) + 8), dtype float32
        Only with ``median_beats=True`` or ``"compute"``: the aligned median beats (NaN rows for
        files kept without one, see ``median_beats``).

    Raises
    ------
    ECGFileError
        With ``errors="raise"``, for the first file that cannot be read, including one that declares
        a sampling rate that is not finite or outside 50-10,000 Hz, or holds no lead or no sample.
    FileNotFoundError
        When a file does not exist, a folder holds no ECG file or a pattern matches none.
    ValueError
        When the recordings differ in rate (``fs=None``) or length (``length=None``).

    See Also
    --------
    ECGReader : The same as the first step of a pipeline.
    sksurv_ecg.datasets.load_ecg_examples : Real files of each format to try it on.

    Examples
    --------
    >>> from sksurv_ecg.datasets import load_ecg_examples
    >>> from sksurv_ecg.io import read_ecg
    >>> paths = load_ecg_examples()
    >>> X, frame, beats = read_ecg(paths[:3], fs=500, length=5000, median_beats=True)
    >>> X.shape, beats.shape
    ((3, 12, 5000), (3, 12, 608))
    >>> frame[["format", "fs", "n_samples"]].values.tolist()
    [['dicom', 1000.0, 10000], ['dicom', 500.0, 5000], ['dicom', 500.0, 5000]]
    >>> frame.loc[2, "interpretation"][:19]
    'ATRIAL FIBRILLATION'
    """
    files = _expand_paths(paths)
    lead_list = list(leads)
    if not lead_list or not all(isinstance(lead, str) for lead in lead_list):
        raise ValueError(f"leads={lead_list!r} must be a non-empty sequence of lead names such as LEAD_NAMES.")
    median_mode = _median_mode(median_beats, errors)
    args: _ReadArgs = (fs, lead_list, derive_leads, fs is not None, length, pad, median_mode, keep_identifiers)
    show = len(files) >= _VERBOSE_MIN_FILES if verbose is None else verbose
    reader: Callable[[Path, *_ReadArgs], _ReadResult] = _read_one if errors == "raise" else _safe_read_one
    results = _map(reader, files, args, n_jobs, show)
    return _assemble(results, fs, median_mode, keep_identifiers)


def _map(
    reader: Callable[[Path, *_ReadArgs], _ReadResult],
    files: list[Path],
    args: _ReadArgs,
    n_jobs: int | None,
    show: bool,
) -> list[_ReadResult]:
    """``reader`` applied to each file (in joblib processes with ``n_jobs``), in order, with a progress bar."""
    bar = tqdm(total=len(files), desc="Reading ECGs", unit="file", disable=not show)
    try:
        if n_jobs is None or n_jobs == 1:
            results: list[_ReadResult] = []
            for path in files:
                results.append(reader(path, *args))
                bar.update()
            return results
        from joblib import Parallel, delayed

        results = []
        for result in Parallel(n_jobs=n_jobs, return_as="generator")(delayed(reader)(p, *args) for p in files):
            results.append(result)
            bar.update()
        return results
    finally:
        bar.close()


def _assemble(
    results: list[_ReadResult], fs: float | None, median_mode: str | None, keep_identifiers: bool
) -> tuple[NDArray[np.float32], pd.DataFrame] | tuple[NDArray[np.float32], pd.DataFrame, NDArray[np.float32]]:
    """The array, the frame and the median beats of what ``_map`` read; warns of the skipped files."""
    frame = pd.DataFrame([row for _, _, row in results]).reindex(
        columns=_FRAME_COLUMNS + (_IDENTIFIERS if keep_identifiers else [])
    )
    frame["skipped"] = frame["skipped"].astype(bool)
    read = [(signal, median, row) for signal, median, row in results if signal is not None]
    n_skipped = len(results) - len(read)
    if n_skipped:
        warnings.warn(
            f"{n_skipped} of {len(results)} ECG files could not be read and were skipped; their rows in the "
            "frame have skipped=True and a skip_reason.",
            ECGReadWarning,
            stacklevel=user_stacklevel(),
        )
    if not read:
        raise ECGFileError(f"None of the {len(results)} ECG files could be read; see the frame's skip_reason, e.g. "
                           f"{frame['skip_reason'].iloc[0]!r}.")  # fmt: skip
    rates = {row["fs"] for _, _, row in read}
    if fs is None and len(rates) > 1:
        raise ValueError(f"The files are sampled at {sorted(rates)} Hz; pass fs= to read them at one rate.")
    lengths = {signal.shape[-1] for signal, _, _ in read}
    if len(lengths) > 1:
        raise ValueError(
            f"The recordings have {sorted(lengths)} samples; pass length= (with pad=True for shorter ones) to read "
            "them to one length."
        )
    X = np.stack([signal for signal, _, _ in read]).astype(np.float32)
    if median_mode is None:
        return X, frame
    n_without = sum(not row["has_median_beat"] for _, _, row in read)
    if median_mode == "device_or_nan" and n_without:
        warnings.warn(
            f"{n_without} of {len(read)} ECG files carry no device median beat; they are kept with NaN median "
            "beats and has_median_beat=False in the frame. Pass median_beats='compute' to compute theirs with "
            "MedianBeat, or drop them with the frame's has_median_beat.",
            ECGReadWarning,
            stacklevel=user_stacklevel(),
        )
    beats = [median for _, median, _ in read if median is not None]
    assert len(beats) == len(read)  # _read_one returns a median beat (maybe NaN) for every file it read
    return X, frame, np.stack(beats).astype(np.float32)


class ECGReader(PathReaderMixin, TransformerMixin, BaseEstimator):  # type: ignore[misc]  # sklearn ships no type information
    """Read ECG files of any supported format as the first step of a pipeline.

    A stateless transformer: ``transform`` maps file paths to a float32 array of shape
    ``(n_files, n_leads, n_timesteps)`` through :func:`read_ecg` (with ``errors="raise"``, since a
    pipeline cannot drop rows of ``y``).

    Parameters
    ----------
    fs : float or None, default=None
        Sampling rate of the output; files at another rate are resampled. ``None`` keeps the files'
        common rate.
    leads : sequence of str, default=LEAD_NAMES
        Lead names to return, in this order.
    length : int or None, default=None
        Samples per recording (see :func:`read_ecg`).
    pad : bool, default=False
        With ``length``, zero-pad shorter recordings.
    derive_leads : bool, default=True
        Derive III, aVR, aVL, aVF from I and II for 8-lead files.
    n_jobs : int or None, default=None
        Files read in parallel.
    verbose : bool or None, default=None
        Show a progress bar; ``None`` shows one for 50 files or more.

    See Also
    --------
    read_ecg : The function this transformer calls.

    Examples
    --------
    >>> from sksurv_ecg.datasets import load_ecg_examples
    >>> from sksurv_ecg.io import ECGReader
    >>> ECGReader(fs=500, length=5000).fit_transform(load_ecg_examples()).shape
    (5, 12, 5000)
    """

    _parameter_constraints = {
        "fs": [Interval(Real, 0, None, closed="neither"), None],
        "leads": ["array-like"],
        "length": [Interval(Integral, 1, None, closed="left"), None],
        "pad": ["boolean"],
        "derive_leads": ["boolean"],
        "n_jobs": [Integral, None],
        "verbose": ["boolean", None],
    }

    def __init__(
        self,
        fs: float | None = None,
        *,
        leads: Sequence[str] = LEAD_NAMES,
        length: int | None = None,
        pad: bool = False,
        derive_leads: bool = True,
        n_jobs: int | None = None,
        verbose: bool | None = None,
    ) -> None:
        self.fs = fs
        self.leads = leads
        self.length = length
        self.pad = pad
        self.derive_leads = derive_leads
        self.n_jobs = n_jobs
        self.verbose = verbose

    def fit(self, X: object, y: object = None) -> Self:
        """Check the parameters and return the reader (it learns nothing).

        Parameters
        ----------
        X : array-like of shape (n_files,) or (n_files, 1)
            File paths (unused).
        y : None
            Ignored.

        Returns
        -------
        self : ECGReader
            The reader.
        """
        self._validate_params()
        return self

    def transform(self, X: object) -> NDArray[np.float32]:
        """Read the files.

        Parameters
        ----------
        X : array-like of shape (n_files,) or (n_files, 1)
            File paths (str or os.PathLike), e.g. a list, a pandas Series or a one-column frame.

        Returns
        -------
        X_signals : ndarray of shape (n_files, n_leads, n_timesteps), dtype float32
            Signals in mV.
        """
        self._validate_params()
        signals: NDArray[np.float32]
        signals, _ = read_ecg(
            check_path_list(X),
            fs=self.fs,
            leads=self.leads,
            length=self.length,
            pad=self.pad,
            derive_leads=self.derive_leads,
            n_jobs=self.n_jobs,
            verbose=self.verbose,
        )
        return signals
