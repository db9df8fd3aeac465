"""What every format reader returns, and the helpers they share (lead names, units, limb leads)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray
from sklearn.utils import Tags

from ..conventions import FS_RANGE, LEAD_NAMES, declared_sampling_rate
from ..exceptions import ECGFileError

__all__ = [
    "FS_RANGE",
    "FloatArray",
    "Recording",
    "StrPath",
    "check_recording",
    "check_amplitude",
    "check_sampling_rate",
    "check_signal",
    "derive_limb_leads",
    "fail",
    "standard_lead_name",
    "to_float",
]

StrPath: TypeAlias = str | os.PathLike[str]
FloatArray: TypeAlias = NDArray[np.float64]

# Physical units -> factor to millivolts. Keys are lower-case with the micro sign spelt "u".
TO_MV = {"v": 1e3, "mv": 1.0, "uv": 1e-3, "nv": 1e-6, "microvolts": 1e-3, "millivolts": 1.0, "volts": 1e3}
_UPPER = {name.upper(): name for name in LEAD_NAMES}
# "Lead I (Einthoven)", "LEAD_II", "lead aVR", "V1 " ... -> the name in LEAD_NAMES; anything else is kept.
_NOISE = re.compile(r"^\s*(lead[\s_-]*)?|\(.*?\)|[\s_-]+$", re.IGNORECASE)
# Leads that Einthoven's and Goldberger's laws give from I and II (what 8-lead devices leave out).
LIMB_LEADS = ("III", "aVR", "aVL", "aVF")
# Largest amplitude a reader returns, in mV. Surface ECGs stay within tens of mV and electrode offsets within a few
# hundred; 10 V is a damaged scale factor or unit, and past float32's range it would turn into inf in the output.
MAX_ABS_MV = 1e4


class PathReaderMixin:
    """Estimator tags of the stateless readers, which take a 1-D list of file paths as ``X``.

    Shared by :class:`~sksurv_ecg.io.ECGReader` and :class:`~sksurv_ecg.io.WFDBReader` so that the
    estimator checks treat both alike: no ``fit`` needed, strings in, no 2-D numeric input.
    """

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()  # type: ignore[misc]  # a mixin: the estimator base comes later
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.input_tags.string = True
        return tags


def unit_factor(unit: str) -> float | None:
    """Factor from ``unit`` to mV, or None when the unit is not a voltage this package converts.

    Parameters
    ----------
    unit : str
        A unit as a file spells it (``"uV"``, ``"µV"``, ``"MICROVOLTS"``...), case-insensitive.
    """
    key = str(unit).strip().lower().replace("\u00b5", "u").replace("\u03bc", "u")
    return TO_MV.get(key)


def standard_lead_name(name: str) -> str:
    """The package's spelling of a lead name (``"Lead I (Einthoven)"`` -> ``"I"``), else the stripped name.

    Parameters
    ----------
    name : str
        A lead name as a file spells it.
    """
    stripped = _NOISE.sub("", str(name)).strip()
    return _UPPER.get(stripped.upper(), stripped)


def to_float(text: object) -> float | None:
    """A number from an XML/DICOM field, or None when it is empty or not a number.

    Parameters
    ----------
    text : object
        The field's value (text, a DICOM value or None); read through ``str``.
    """
    if text is None:
        return None
    try:
        value = float(str(text).strip())
    except ValueError:
        return None
    return value if np.isfinite(value) else None


def fail(path: StrPath, reason: str, remedy: str) -> ECGFileError:
    """The error every reader raises: the file, what is wrong, what to do.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    reason : str
        What is wrong with it.
    remedy : str
        What the user can do.
    """
    return ECGFileError(f"{str(path)!r}: {reason}; {remedy}")


def fit_length(path: StrPath, signal: FloatArray, length: int | None, pad: bool) -> FloatArray:
    """``signal`` cropped or zero-padded at the end to ``length`` samples (``None`` keeps it).

    Shared by :func:`~sksurv_ecg.io.read_ecg` and :func:`~sksurv_ecg.io.read_wfdb` so that ``length=``
    and ``pad=`` mean the same in both.

    Parameters
    ----------
    path : str or os.PathLike
        The file or record, named in the error.
    signal : ndarray of shape (n_leads, n_timesteps)
        The signal.
    length : int or None
        Samples wanted.
    pad : bool
        Whether a shorter signal is zero-padded instead of refused.
    """
    n = signal.shape[-1]
    if length is None or n == length:
        return signal
    if n > length:
        return signal[:, :length]
    if not pad:
        raise fail(
            path,
            f"the recording has {n} samples, fewer than length={length}",
            "pass pad=True to zero-pad it at the end, or a smaller length",
        )
    return np.pad(signal, ((0, 0), (0, length - n)))


@dataclass
class Recording:
    """One file as a format reader returns it, before lead selection and resampling.

    ``signal`` is float64 ``(n_leads, n_timesteps)`` in mV with its lead names in ``leads``;
    ``median`` is the device's median beat in the same layout (or None); ``info`` holds the
    frame's columns and ``identifiers`` the patient's name, ID and birth date.
    """

    signal: FloatArray
    leads: list[str]
    fs: float
    format: str
    info: dict[str, Any] = field(default_factory=dict)
    median: FloatArray | None = None
    median_leads: list[str] | None = None
    median_fs: float | None = None
    identifiers: dict[str, Any] = field(default_factory=dict)


def derive_limb_leads(signal: FloatArray, leads: list[str]) -> tuple[FloatArray, list[str]]:
    """Add III, aVR, aVL and aVF from I and II (Einthoven, Goldberger) when all four are missing.

    Parameters
    ----------
    signal : ndarray of shape (n_leads, n_timesteps)
        The recording in mV.
    leads : list of str
        The names of its rows.
    """
    if any(lead in leads for lead in LIMB_LEADS) or "I" not in leads or "II" not in leads:
        return signal, leads
    lead_i, lead_ii = signal[leads.index("I")], signal[leads.index("II")]
    derived = np.stack([lead_ii - lead_i, -(lead_i + lead_ii) / 2, lead_i - lead_ii / 2, lead_ii - lead_i / 2])
    return np.concatenate([signal, derived]), [*leads, *LIMB_LEADS]


def check_sampling_rate(path: StrPath, fs: object, what: str = "recording") -> float:
    """``fs`` as a float when it is a sampling rate a file may declare (:data:`FS_RANGE`), else an error.

    The one rule of every reader: checked on what the file declares, before anything divides by
    the rate or resamples, so that a damaged rate field never becomes a wrong signal.

    Parameters
    ----------
    path : str or os.PathLike
        The file, named in the error.
    fs : object
        The declared rate in Hz (a number, or None when the file declares none).
    what : str, default="recording"
        What the rate belongs to (``"recording"``, ``"median beat"``), named in the error.
    """
    accepted = declared_sampling_rate(fs)
    if accepted is None:
        low, high = FS_RANGE
        try:
            value = float(fs)  # type: ignore[arg-type]  # only for the message: anything float() refuses is NaN
        except (TypeError, ValueError):
            value = float("nan")
        raise fail(
            path,
            f"the {what} declares a sampling rate of {value:g} Hz, outside the accepted {low:g}-{high:g} Hz "
            "(a damaged or misread rate field)",
            "correct the rate in the file or export it again from the device",
        )
    return accepted


def check_signal(path: StrPath, signal: object, leads: object, what: str) -> None:
    """Refuse a signal without leads or samples, with a lead count unlike its names, or with non-finite values.

    Parameters
    ----------
    path : str or os.PathLike
        The file, named in the error.
    signal : object
        The signal as a reader decoded it, expected as a 2-D float array ``(n_leads, n_timesteps)``.
    leads : object
        Its lead names, expected as a list with one name per row.
    what : str
        What the signal is (``"recording"``, ``"median beat"``), named in the error.
    """
    if not isinstance(signal, np.ndarray) or signal.ndim != 2 or signal.shape[0] == 0:
        raise fail(path, f"the {what} holds no leads", "export the ECG again with its waveform")
    if signal.shape[1] == 0:
        raise fail(path, f"the {what} holds 0 samples per lead", "the file is truncated or empty; export it again")
    if not isinstance(leads, list) or len(leads) != signal.shape[0]:
        n_names = len(leads) if isinstance(leads, list) else 0
        raise fail(path, f"the {what} has {signal.shape[0]} leads but {n_names} lead names", "repair the file")
    n_bad = int(np.count_nonzero(~np.isfinite(signal)))
    if n_bad:
        raise fail(
            path,
            f"the {what} holds {n_bad} NaN or infinite samples (invalid values or a damaged scale factor)",
            "repair or drop the file",
        )
    check_amplitude(path, signal, what)


def check_amplitude(path: StrPath, signal: FloatArray, what: str) -> None:
    """Refuse a finite signal in mV whose amplitude no surface ECG reaches (:data:`MAX_ABS_MV`).

    Parameters
    ----------
    path : str or os.PathLike
        The file, named in the error.
    signal : ndarray
        The signal in mV, finite.
    what : str
        What the signal is, named in the error.
    """
    peak = float(np.abs(signal).max()) if signal.size else 0.0
    if peak > MAX_ABS_MV:
        raise fail(
            path,
            f"the {what} has amplitudes up to {peak:.3g} mV, beyond the {MAX_ABS_MV:g} mV that no surface ECG "
            "reaches (a damaged scale factor or wrong units)",
            "check the file's units and scale factors, or drop it",
        )


def check_recording(path: StrPath, recording: Recording, *, median: bool = False) -> Recording:
    """``recording`` when its rates, shapes and values are ones a reader may return, else an error naming ``path``.

    Every format reader's result goes through this before lead selection and resampling, so that the
    rate rule (:func:`check_sampling_rate`), the refusal of files without leads or samples and of
    non-finite samples hold for every format alike.

    Parameters
    ----------
    path : str or os.PathLike
        The file, named in the errors.
    recording : Recording
        What the format reader returned.
    median : bool, default=False
        Also check its device median beat (when it has one): only where the beat is used, so that a
        damaged beat does not cost a readable recording.
    """
    recording.fs = check_sampling_rate(path, recording.fs)
    check_signal(path, recording.signal, recording.leads, "recording")
    if median and recording.median is not None:
        recording.median_fs = check_sampling_rate(path, recording.median_fs, "median beat")
        check_signal(path, recording.median, recording.median_leads, "median beat")
    return recording
