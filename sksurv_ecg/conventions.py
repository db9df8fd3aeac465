"""ECG conventions: the 12-lead names and order, lead checks, sampling rates and the median-beat layout.

A leaf of the package: it imports nothing from sksurv-ecg but :mod:`sksurv_ecg.exceptions`, so that
the readers (:mod:`sksurv_ecg.io`), the data sets, the preprocessing, the input checks and the
torch layer (:mod:`sksurv_ecg.nn`) all take the conventions from here without importing each other.

The checks here are the ECG rules (which leads, in which order, at which rate, in which unit);
the generic checks of arrays, outcomes and parameters are in :mod:`sksurv_ecg.utils.validation`.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .exceptions import LeadOrderWarning

__all__ = [
    "FS_RANGE",
    "LEAD_NAMES",
    "LIMB_LEAD_NAMES",
    "MAX_ECG_RANGE_MV",
    "MAX_MEDIAN_BEAT_SECONDS",
    "LeadOrderCheck",
    "check_ecg_amplitude",
    "check_lead_names",
    "check_lead_order",
    "check_median_beats",
    "check_standard_12_leads",
    "declared_sampling_rate",
    "median_beat_layout",
    "polyphase_factors",
]

#: The 12 standard leads in the order every array of the package holds them along axis 1. The only
#: place the order is written: everything else (readers, models, lead masks, explanations) reads it here.
LEAD_NAMES: tuple[str, ...] = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")

#: The six limb leads (I, II, III, aVR, aVL, aVF), linear in two by Einthoven's and Goldberger's laws.
LIMB_LEAD_NAMES: tuple[str, ...] = LEAD_NAMES[:6]

#: Sampling rates, in Hz, a file may declare. Below 50 Hz a QRS complex (80-120 ms) spans fewer than 6
#: samples; above 10 kHz lies pacemaker-spike and research hardware, not a resting ECG. A value outside
#: is a damaged or misread field.
FS_RANGE: tuple[float, float] = (50.0, 10_000.0)


def declared_sampling_rate(fs: object) -> float | None:
    """``fs`` as a float when it is a sampling rate a file may declare (:data:`FS_RANGE`), else None.

    The rate rule of every reader, applied to what a file declares before anything divides by the rate
    or resamples. Text (``"500"``) is read as a number; NaN, infinity and text that is no number are
    refused.

    Parameters
    ----------
    fs : object
        The declared rate in Hz (a number or text, or None when the file declares none).

    Returns
    -------
    fs : float or None
        The rate, or None when it is missing, not a number, or outside :data:`FS_RANGE`.

    Examples
    --------
    >>> from sksurv_ecg.conventions import declared_sampling_rate
    >>> declared_sampling_rate("500"), declared_sampling_rate(5), declared_sampling_rate(None)
    (500.0, None, None)
    """
    low, high = FS_RANGE
    try:
        value = float(fs)  # type: ignore[arg-type]  # anything float() refuses is refused below
    except (TypeError, ValueError):
        return None
    return value if low <= value <= high else None  # False for NaN too


def polyphase_factors(fs_in: float, fs_out: float) -> tuple[int, int]:
    """Up- and down-sampling factors of :func:`scipy.signal.resample_poly` from ``fs_in`` to ``fs_out`` Hz.

    The rate ratio is approximated by a fraction with a denominator of at most 1000, which keeps the
    polyphase filter short; :class:`~sksurv_ecg.preprocessing.Resample`, the file readers and the
    cohort builders share this so that a record resampled while reading equals one resampled afterwards.

    Parameters
    ----------
    fs_in, fs_out : float
        Input and output sampling rates in Hz.

    Returns
    -------
    up, down : int
        The factors, ``up / down`` close to ``fs_out / fs_in``.

    Examples
    --------
    >>> from sksurv_ecg.conventions import polyphase_factors
    >>> polyphase_factors(500, 100), polyphase_factors(257, 500)
    ((1, 5), (500, 257))
    """
    ratio = Fraction(float(fs_out) / float(fs_in)).limit_denominator(1000)
    return ratio.numerator, ratio.denominator


def median_beat_layout(
    fs: float = 500, *, window_s: float = 1.2, n_timesteps: int | None = None
) -> tuple[int, int, int]:
    """Window, output length and R-peak sample of :class:`~sksurv_ecg.preprocessing.MedianBeat` at a sampling rate.

    The beat spans ``window_s`` seconds whatever the rate: ``window = round(window_s * fs)``
    samples with the R peak at ``window // 2``, centre zero-padded to ``n_timesteps``
    (``window + 8`` by default, as :func:`~sksurv_ecg.datasets.make_ecg_survival` does).

    Parameters
    ----------
    fs : float, default=500
        Sampling frequency in Hz.
    window_s : float, default=1.2
        Beat length in seconds.
    n_timesteps : int or None, default=None
        Output length; ``None`` means ``window + 8``.

    Returns
    -------
    window : int
        Beat length in samples.
    n_timesteps : int
        Output length in samples.
    r_index : int
        Sample of the R peak in the output, ``(n_timesteps - window) // 2 + window // 2``.

    Examples
    --------
    >>> from sksurv_ecg.conventions import median_beat_layout
    >>> median_beat_layout(500)
    (600, 608, 304)
    >>> median_beat_layout(100)
    (120, 128, 64)
    """
    window = int(round(float(window_s) * float(fs)))
    if window < 2:
        raise ValueError(
            f"window_s={window_s} s at fs={fs} Hz gives a {window}-sample beat; pass a longer window_s "
            "(e.g. 1.2) or check fs."
        )
    n_out = window + 8 if n_timesteps is None else int(n_timesteps)
    if n_out < window:
        raise ValueError(
            f"n_timesteps={n_out} is shorter than the {window}-sample window (window_s={window_s} s at "
            f"fs={fs} Hz); pass n_timesteps >= {window} or None."
        )
    return window, n_out, (n_out - window) // 2 + window // 2


#: Longest input, in seconds, that is read as a median beat: about two beats at 60 bpm. A median beat
#: spans 1-1.25 s (600 samples at 500 Hz in PTB-XL+ and UK Biobank); a rhythm strip is 2.5 s or longer.
MAX_MEDIAN_BEAT_SECONDS = 2.0


def check_standard_12_leads(X: NDArray[Any], *, owner: str) -> NDArray[Any]:
    """Refuse an ECG array whose axis 1 does not hold the 12 standard leads; return it unchanged.

    The lead rule alone, on an array already read as ``(n_samples, n_leads, n_timesteps)``;
    :func:`sksurv_ecg.utils.validation.check_standard_12_leads` applies it after the array checks
    (finite float32, 3-D).

    Parameters
    ----------
    X : ndarray of shape (n_samples, 12, n_timesteps)
        Signals, leads I, II, III, aVR, aVL, aVF, V1-V6 (:data:`LEAD_NAMES`).
    owner : str
        Name of the caller, used in the message.

    Returns
    -------
    X : ndarray of shape (n_samples, 12, n_timesteps)
        The same array.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv_ecg.conventions import check_standard_12_leads
    >>> check_standard_12_leads(np.zeros((1, 12, 10)), owner="ECGBiomarkers").shape
    (1, 12, 10)
    """
    if X.ndim != 3 or X.shape[1] != len(LEAD_NAMES):
        n_leads = X.shape[1] if X.ndim > 1 else 0
        raise ValueError(
            f"X has {n_leads} leads (axis 1), but {owner} expects the 12 standard leads "
            f"{', '.join(LEAD_NAMES[:6])}, V1-V6; pass 12-lead ECGs in that order."
        )
    return X


#: Largest robust amplitude range (median over leads of the 1st-99th percentile range) a record in mV
#: may have. Real 12-lead ECGs span 0.45-1.35 mV (19 real records: PTB-XL and clinical files); the
#: same records in microvolts span 450-1350, so the bound sits far from both.
MAX_ECG_RANGE_MV = 100.0


def _robust_ranges(X: Any, rows: NDArray[np.int64]) -> NDArray[np.float64]:
    """Median over leads of the 1st-99th percentile range of each record in ``rows`` (NaN if not finite)."""
    out = np.full(rows.size, np.nan)
    for start in range(0, rows.size, 64):
        chunk = np.asarray(X[rows[start : start + 64]], dtype=np.float32)
        finite = np.isfinite(chunk).all(axis=(1, 2))
        if finite.any():
            low, high = np.percentile(chunk[finite], [1, 99], axis=2)
            out[start : start + 64][finite] = np.median(high - low, axis=1)
    return out


def check_ecg_amplitude(X: Any, *, owner: str, max_records: int = 64) -> None:
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
    >>> from sksurv_ecg.conventions import check_ecg_amplitude
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


def check_median_beats(X: Any, *, fs: float, r_index: int, margin: int, owner: str) -> None:
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
    >>> from sksurv_ecg.conventions import check_median_beats
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
    order: tuple[int, ...]
    signs: tuple[int, ...]
    warned: bool


#: Share of the limb-lead energy below which the relations count as holding, and above which the given
#: order counts as wrong. Between them nothing is said (noisy or partly derived leads).
_LEAD_ORDER_CONSISTENT = 0.02
_LEAD_ORDER_INCONSISTENT = 0.05
# Columns (I, II) of each limb lead in I, II: III = II - I, aVR = -(I + II)/2, aVL = I - II/2, aVF = II - I/2.
_LIMB_BASIS = np.array([[1, 0], [0, 1], [-1, 1], [-0.5, -0.5], [1, -0.5], [-0.5, 1]])


def _limb_lead_gram(X6: Any, max_records: int) -> NDArray[np.float64] | None:
    """Mean over records of the trace-normalised 6x6 Gram matrix of the centred limb leads (None if no energy)."""
    n = X6.shape[0]
    rows = np.unique(np.linspace(0, n - 1, num=min(n, max_records)).round().astype(np.int64))
    parts: list[NDArray[np.float64]] = []
    for start in range(0, rows.size, 64):
        chunk = np.asarray(X6[rows[start : start + 64]], dtype=np.float64)
        chunk = chunk[np.isfinite(chunk).all(axis=(1, 2))]
        chunk = chunk - chunk.mean(axis=-1, keepdims=True)
        gram = np.einsum("nit,njt->nij", chunk, chunk)
        energy = np.trace(gram, axis1=1, axis2=2)
        keep = energy > 1e-12 * max(1.0, float(energy.max(initial=0.0)))
        parts.append(gram[keep] / energy[keep, None, None])
    grams = np.concatenate(parts) if parts else np.empty((0, 6, 6))
    if not len(grams):
        return None
    mean: NDArray[np.float64] = grams.mean(axis=0)
    return mean


def _describe_lead_fix(order: tuple[int, ...], signs: tuple[int, ...], names: list[str]) -> str:
    """Words for the change that makes the relations hold, e.g. "I and II look exchanged"."""
    limb = LIMB_LEAD_NAMES
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


def _evenly_spread_rows(n: int, max_records: int) -> NDArray[np.int64]:
    return np.unique(np.linspace(0, n - 1, num=min(n, max_records)).round().astype(np.int64))


def _reversed_lead_order(
    X: NDArray[Any], columns: list[int], lead_names: list[str], max_records: int, given: float, stacklevel: int
) -> LeadOrderCheck | None:
    """Warn when the limb relations fail as given but hold with the leads read in reverse (``X[:, ::-1]``)."""
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


def _r_dominance(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """(R - S) / (R + S) per lead: R and S are the largest deflections above and below the lead's median."""
    centred = x - np.median(x, axis=-1, keepdims=True)
    r = np.percentile(centred, 99.5, axis=-1)
    s = -np.percentile(centred, 0.5, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (r - s) / (r + s)


def _precordial_swap(X: NDArray[Any], lead_names: list[str], max_records: int, stacklevel: int) -> bool:
    """Warn when most records show V1 and V6 exchanged (R progression broken at both ends); never for one record.

    Normally V1 is dominated by its S wave and V6 by its R wave (all 19 real records checked: V1 -0.82
    to -0.09, V6 0.44 to 0.86 in ``_r_dominance``). A record counts as exchanged when V1 is R-dominant and
    above V2 while V6 is S-dominant and below V5.
    """
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


def check_lead_order(
    X: ArrayLike, *, lead_names: Sequence[str] | None = None, max_records: int = 256, stacklevel: int = 2
) -> LeadOrderCheck | None:
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
        (:data:`LEAD_NAMES`). The check needs I, II, III, aVR, aVL and aVF.
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
    >>> from sksurv_ecg.conventions import check_lead_order
    >>> X, _, _ = make_ecg_survival(4, random_state=0)
    >>> check_lead_order(X).warned
    False
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     result = check_lead_order(X[:, [1, 0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]])
    >>> result.warned, result.order, str(caught[0].message).split("; ")[1].split(".")[0]
    (True, (1, 0, 2, 3, 4, 5), 'I and II look exchanged')
    """
    names = list(LEAD_NAMES if lead_names is None else lead_names)
    shape = getattr(X, "shape", None) or np.shape(X)
    if len(shape) != 3 or shape[1] != len(names):
        raise ValueError(
            f"X has shape {tuple(shape)}, but check_lead_order expects (n_samples, {len(names)}, "
            "n_timesteps) with one lead per name in lead_names; pass a 3-D array or matching lead_names."
        )
    limb = LIMB_LEAD_NAMES
    if not set(limb) <= set(names):
        return None
    columns = [names.index(name) for name in limb]
    signals: NDArray[Any] = X if isinstance(X, np.ndarray) else np.asarray(X)
    gram = _limb_lead_gram(signals[:, columns] if columns != list(range(6)) else signals[:, :6], max_records)
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
        fix = _describe_lead_fix(tuple(int(c) for c in perms[p]), sign, [names[c] for c in columns])
        reorder = list(range(len(names)))
        for k, column in enumerate(order):
            reorder[columns[k]] = column
        flips = ", ".join(limb[k] for k in range(6) if sign[k] < 0)
        steps = [f"reorder the leads to {', '.join(names)} (e.g. X[:, {reorder}])"] if order != tuple(columns) else []
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
        mirrored = _reversed_lead_order(signals, columns, names, max_records, given, stacklevel + 1)
        if mirrored is not None:
            return mirrored
    swapped = _precordial_swap(signals, names, max_records, stacklevel + 1)
    return LeadOrderCheck(given, best, order, sign, warned or swapped)


def check_lead_names(lead_names: Sequence[str] | None, n_leads: int, *, owner: str) -> list[str] | None:
    """Resolve the ``lead_names`` parameter of an estimator for ``n_leads`` leads.

    Parameters
    ----------
    lead_names : sequence of str or None
        Names of the leads along axis 1 of ``X``, in order. None means the 12 standard leads
        (:data:`LEAD_NAMES`) when there are 12, else unnamed leads.
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
    >>> from sksurv_ecg.conventions import check_lead_names
    >>> check_lead_names(None, 12, owner="ECGEmbedder")[:3]
    ['I', 'II', 'III']
    >>> check_lead_names(None, 8, owner="ECGEmbedder") is None
    True
    >>> check_lead_names(["II", "I"], 2, owner="ECGEmbedder")
    ['II', 'I']
    """
    if lead_names is None:
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
