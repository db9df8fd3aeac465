"""Stateless scikit-learn transformers for ``(n_samples, n_leads, n_timesteps)`` ECG arrays.

``fit`` only validates its input and records the number of leads; every transformer also works
without ``fit`` (``requires_fit=False``), like :class:`sklearn.preprocessing.Normalizer`.
"""

from __future__ import annotations

import math
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from joblib import Parallel, delayed, effective_n_jobs
from scipy.signal import butter, find_peaks, peak_widths, resample_poly, sosfiltfilt
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Hidden, Interval, StrOptions
from tqdm.auto import tqdm
from wfdb import processing

from .conventions import check_ecg_amplitude, check_lead_order, median_beat_layout, polyphase_factors
from .exceptions import ECGPlausibilityWarning, SignalQualityWarning, user_stacklevel
from .utils.validation import check_ecg_transformer_input, check_lead_index, check_n_timesteps

__all__ = [
    "MEDIAN_BEAT_N_TIMESTEPS",
    "MEDIAN_BEAT_R_INDEX",
    "BandpassFilter",
    "LeadStandardizer",
    "MedianBeat",
    "Resample",
    "median_beat_layout",
]

_CHUNK = 256  # samples processed at once where float64 intermediates are needed
# Standard deviation below which a lead counts as flat: the default of sksurv_ecg.nn.tasks.standardize_leads.
_STANDARDIZE_EPS = 1e-6

#: Length of :class:`MedianBeat`'s output at its defaults (500 Hz): the 1.2-s, 600-sample beat
#: centre zero-padded by 4 + 4, the layout of the PTB-XL+ median beats the original study used.
MEDIAN_BEAT_N_TIMESTEPS = 608

#: Sample of the R peak in :class:`MedianBeat`'s output at its defaults (500 Hz). Median beats from
#: other sources (e.g. a device's) should be shifted so that their R peak sits here.
MEDIAN_BEAT_R_INDEX = 304


class _ECGTransformer(TransformerMixin, BaseEstimator):
    """Shared ``fit``, input checks and tags of the stateless ECG transformers."""

    def _check_X(self, X, *, reset, ensure_all_finite=True):
        """Return ``X`` as float32 3-D and whether it came as 2-D (leads laid end to end)."""
        return check_ecg_transformer_input(
            self, X, reset=reset, n_leads=self.n_leads, ensure_all_finite=ensure_all_finite
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check ``X`` and record its number of leads; nothing is learned.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_leads, n_timesteps)
            ECG signals.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The transformer.
        """
        self._check_X(X, reset=True)
        return self

    def _prepare(self, X):
        self._validate_params()
        return self._check_X(X, reset=False)

    @staticmethod
    def _restore(out, two_d):
        """Lay the leads end to end again when the input was 2-D."""
        return out.reshape(out.shape[0], -1) if two_d else out

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def _r_peaks(signal, fs, detector, peak_dir):
    """R-peak sample indices of one lead (sorted, unique), by a wfdb detector and ``correct_peaks``."""
    if detector == "xqrs":
        peaks = processing.xqrs_detect(signal, fs=fs, verbose=False)
    else:
        peaks = processing.gqrs_detect(sig=signal, fs=fs)
    peaks = np.asarray(peaks, dtype=np.int64)
    if peaks.size == 0:
        return peaks
    peaks = processing.correct_peaks(
        signal,
        peaks,
        search_radius=max(1, round(0.08 * fs)),
        smooth_window_size=max(2, round(0.2 * fs)),
        peak_dir=peak_dir,
    )
    return np.unique(np.asarray(peaks, dtype=np.int64))


#: Width at half height of the largest deflections of a 12-lead ECG, in ms (median over leads, then
#: over beats and records). Measured on 19 real records (14 PTB-XL, 5 clinical files) at 500 Hz:
#: 21-38 ms per record, 25 ms over all; decimated to 100 Hz: 23-37 ms, 27 ms. At a rate k times the
#: truth every width is divided by k, so the ratio of the measured width to this one estimates it.
_DEFLECTION_HALF_WIDTH_MS = 26.0
#: Ratios of the measured to the expected width outside which MedianBeat warns. Across a cohort (at
#: least ``_RATE_COHORT`` records measured) a rate 2 times off is flagged (the real records give 0.98
#: at their rate, 0.49 and 1.96 at 2 times off). Single records vary more (0.84-1.47 real, up to 3.35
#: for a synthetic wide QRS), so fewer records flag only a rate about 5 times off (0.18-0.28 and
#: 4.2-7.3 per real record).
_RATE_RATIOS_COHORT = (2 / 3, 1.5)
_RATE_RATIOS_FEW = (1 / 3, 3.5)
_RATE_COHORT = 5
_COMMON_RATES = (50, 100, 125, 128, 200, 250, 256, 257, 300, 360, 400, 500, 512, 600, 1000, 1024, 2000, 4000, 8000)


def _deflection_half_width(x):
    """Median width (samples) at half height of the largest deflections of one record, over its leads."""
    x = x.astype(np.float64)
    centred = x - np.median(x, axis=1, keepdims=True)
    widths = []
    tops, bottoms = np.percentile(centred, [99.5, 0.5], axis=1)
    for lead, top, bottom in zip(centred, tops, bottoms, strict=True):
        y = lead if top >= -bottom else -lead  # the dominant direction: R in most leads, S in V1-V2
        height = y.max()
        if not height > 0:
            continue
        # at most one peak per 0.2-0.3 s beat in ECGs at the stated rate; the widths need only a few
        peaks, _ = find_peaks(y, height=0.5 * height, distance=max(1, y.size // 64))
        if peaks.size:
            widths.append(float(np.median(peak_widths(y, peaks, rel_height=0.5)[0])))
    return float(np.median(widths)) if widths else np.nan


def _check_sampling_rate(X, fs, *, max_records=64, stacklevel=2):
    """Warn (once) when the QRS complexes of ``X`` are far too wide or narrow for ``fs``; name the likely rate."""
    n = X.shape[0]
    rows = np.unique(np.linspace(0, n - 1, num=min(n, max_records)).round().astype(np.int64)) if n else []
    widths = []
    for i in rows:
        x = np.asarray(X[i])
        if np.isfinite(x).all():
            widths.append(_deflection_half_width(x))
    widths = np.asarray(widths, dtype=np.float64)
    widths = widths[np.isfinite(widths)]
    if widths.size == 0:
        return
    width_ms = float(np.median(widths)) / fs * 1000.0
    ratio = width_ms / _DEFLECTION_HALF_WIDTH_MS
    low, high = _RATE_RATIOS_COHORT if widths.size >= _RATE_COHORT else _RATE_RATIOS_FEW
    if low <= ratio <= high:
        return
    estimate = fs * ratio
    likely = min(_COMMON_RATES, key=lambda rate: abs(math.log(rate / estimate)))
    warnings.warn(
        f"MedianBeat was told fs={fs:g} Hz, but at that rate the largest deflections of X (the QRS complexes) are "
        f"{width_ms:.3g} ms wide at half height (median over {widths.size} records), against "
        f"{_DEFLECTION_HALF_WIDTH_MS:g} ms in real 12-lead ECGs: X looks sampled at about {likely:g} Hz "
        f"({estimate:.0f} Hz estimated). Pass fs={likely:g}, or resample X with "
        f"sksurv_ecg.preprocessing.Resample({likely:g}, {fs:g}) first.",
        ECGPlausibilityWarning,
        stacklevel=stacklevel + 1,
    )


def _median_beat_chunk(X, start, *, fs, window, detector, lead, peak_dir, min_beats):
    """Median beats of the records of ``X`` (a chunk starting at record ``start``) and their faults.

    Runs in joblib workers, so it raises nothing: a record that fails gets NaN and a message.
    """
    half = window // 2
    offsets = np.arange(-half, window - half)
    beats = np.full((X.shape[0], X.shape[1], window), np.nan, dtype=np.float32)
    faults = {}
    for j in range(X.shape[0]):
        i = start + j
        x = np.asarray(X[j])
        bad = ~np.isfinite(x).all(axis=1)
        if bad.any():
            faults[i] = (
                f"Sample {i} contains NaN or infinity in lead indices {np.flatnonzero(bad).tolist()}; "
                "repair or drop the record, or pass errors='warn' to skip it."
            )
            continue
        try:
            peaks = _r_peaks(x[lead].astype(np.float64), fs, detector, peak_dir)
        except Exception as err:  # the detectors fail in odd ways on flat or degenerate signals
            faults[i] = (
                f"The {detector} R-peak detector failed on sample {i} (lead index {lead}): {err}; "
                "check the signal or try detector='gqrs'/'xqrs', or pass errors='warn' to skip it."
            )
            continue
        peaks = peaks[(peaks >= half) & (peaks + window - half <= x.shape[1])]
        if peaks.size < min_beats:
            faults[i] = (
                f"MedianBeat found {peaks.size} complete beats in sample {i} (lead index {lead}), but "
                f"min_beats={min_beats} are needed; check the lead, fs={fs:g} and the signal quality, "
                "or drop the sample (errors='warn' skips it)."
            )
            continue
        beats[j] = np.median(x[:, peaks[:, None] + offsets], axis=1)  # (n_leads, n_beats, window) -> median
    return start, beats, faults


class MedianBeat(_ECGTransformer):
    """Median heartbeat of each ECG, with the R peak at the centre.

    R peaks are detected on one lead with :mod:`wfdb.processing` (``xqrs_detect`` or
    ``gqrs_detect``) and moved to the local extremum with ``correct_peaks``. Every beat whose
    window (``window_s`` seconds, ``round(window_s * fs)`` samples) fits in the recording is cut
    with its R peak at sample ``window // 2``, the per-sample median over beats is taken for each
    lead, and the result is centre zero-padded to ``n_timesteps``. The defaults give the layout of
    the PTB-XL+ median beats the original study used: 600 samples (1.2 s at 500 Hz), padded by
    4 + 4 to 608, R peak at sample 304 (:data:`MEDIAN_BEAT_N_TIMESTEPS`,
    :data:`MEDIAN_BEAT_R_INDEX`). At 100 Hz the same 1.2 s is 120 samples, padded to 128, R peak
    at 64, so a model fitted on 500 Hz beats refuses them by their length.

    Parameters
    ----------
    fs : float, default=500
        Sampling frequency of the input in Hz.
    window_s : float, default=1.2
        Beat length in seconds.
    n_timesteps : int or None, default=None
        Output length in samples, at least the window; ``None`` means the window plus 8
        (608 at 500 Hz, 128 at 100 Hz), the layout of
        :func:`~sksurv_ecg.datasets.make_ecg_survival`.
    detector : {"xqrs", "gqrs"}, default="xqrs"
        The :mod:`wfdb.processing` QRS detector.
    lead : int, default=1
        Index of the lead the R peaks are detected on (1 = lead II in the standard order).
    peak_dir : {"compare", "up", "down", "both"}, default="compare"
        How ``correct_peaks`` moves each detection: to the larger of the upward and downward
        deflections (chosen once per recording), to the local maximum (the R wave), minimum, or
        maximum of the absolute signal.
    min_beats : int, default=3
        Fewest complete beats a recording must hold.
    errors : {"raise", "warn"}, default="raise"
        What a record that yields no median beat does (NaN or infinity in it, a detector failure,
        fewer than ``min_beats`` complete beats, e.g. a flat lead): ``"raise"`` raises a
        ``ValueError`` naming its sample index and the fault; ``"warn"`` fills its output row
        with NaN, issues one :class:`~sksurv_ecg.exceptions.SignalQualityWarning` with the count
        and the indices, and reports the rows in the failure mask (``failed_`` after
        ``fit_transform``, or ``transform(X, return_mask=True)``). Downstream estimators refuse
        NaN, so drop the failed rows (and their outcomes) with the mask.
    n_jobs : int or None, default=None
        Processes that detect beats in parallel (joblib; ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context, -1 means all cores).
    verbose : int, default=0
        Show a progress bar (tqdm, on stderr) when positive.
    n_leads : int or None, default=None
        Number of leads, needed only to read a 2-D ``X`` whose rows hold the leads end to end;
        the output is then 2-D in the same layout.
    window : int, default="deprecated"
        Beat length in samples. Deprecated: pass ``window_s`` in seconds (``window`` will be
        removed in the next release); when given, it overrides ``window_s``.

    Attributes
    ----------
    n_features_in_ : int
        Number of leads seen in ``fit``.
    fs_ : float
        Sampling frequency of the input, in Hz (that of the output too).
    window_ : int
        Beat length in samples.
    n_timesteps_out_ : int
        Length of the output.
    r_peak_index_ : int
        Sample of the R peak in the output.
    failed_ : ndarray of shape (n_samples,), dtype bool
        Records of the ``X`` given to ``fit_transform`` that yielded no median beat (only set by
        ``fit_transform``; all False with ``errors="raise"``).

    See Also
    --------
    sksurv_ecg.datasets.make_ecg_survival : Synthetic median beats in the same layout.
    median_beat_layout : The window, length and R-peak sample at any rate.

    Notes
    -----
    When ``X`` has 12 leads, ``fit`` and ``transform`` call
    :func:`~sksurv_ecg.conventions.check_lead_order`, which warns when the leads look out of
    the standard order. Both also refuse signals in microvolts
    (:func:`~sksurv_ecg.conventions.check_ecg_amplitude`) and check ``fs`` against the
    signals: the largest deflections (the QRS complexes) of real 12-lead ECGs are about 26 ms wide
    at half height, so the median width at ``fs`` over up to 64 records estimates the true rate. An
    :class:`~sksurv_ecg.exceptions.ECGPlausibilityWarning` naming the likely rate is issued once per
    call when, over 5 or more records, the estimate is 1.5 times off or more (a rate 2 times off is
    flagged on the real records tried), or, over fewer records, 3 to 3.5 times off or more (a rate 5
    times off is flagged on each real record alone; 2 times off is not). A cohort made only of very
    wide QRS complexes (bundle branch blocks) may be flagged although ``fs`` is right.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv_ecg.datasets import load_ecg_examples
    >>> from sksurv_ecg.io import read_ecg
    >>> from sksurv_ecg.preprocessing import MedianBeat
    >>> X, _ = read_ecg(load_ecg_examples()[1:3])  # two real 10-s strips at 500 Hz
    >>> median = MedianBeat()
    >>> beats = median.fit_transform(X)
    >>> beats.shape, median.r_peak_index_
    ((2, 12, 608), 304)
    >>> np.abs(beats[:, 1]).argmax(axis=1).tolist()
    [304, 304]
    """

    _parameter_constraints = {
        "fs": [Interval(Real, 0, None, closed="neither")],
        "window_s": [Interval(Real, 0, None, closed="neither")],
        "n_timesteps": [Interval(Integral, 2, None, closed="left"), None],
        "detector": [StrOptions({"xqrs", "gqrs"})],
        "lead": [Interval(Integral, 0, None, closed="left")],
        "peak_dir": [StrOptions({"compare", "up", "down", "both"})],
        "min_beats": [Interval(Integral, 1, None, closed="left")],
        "errors": [StrOptions({"raise", "warn"})],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
        "n_leads": [Interval(Integral, 1, None, closed="left"), None],
        "window": [Interval(Integral, 2, None, closed="left"), Hidden(StrOptions({"deprecated"}))],
    }

    def __init__(
        self,
        fs=500,
        *,
        window_s=1.2,
        n_timesteps=None,
        detector="xqrs",
        lead=1,
        peak_dir="compare",
        min_beats=3,
        errors="raise",
        n_jobs=None,
        verbose=0,
        n_leads=None,
        window="deprecated",
    ):
        self.fs = fs
        self.window_s = window_s
        self.n_timesteps = n_timesteps
        self.detector = detector
        self.lead = lead
        self.peak_dir = peak_dir
        self.min_beats = min_beats
        self.errors = errors
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.n_leads = n_leads
        self.window = window

    def _layout(self):
        """``(window, n_timesteps, r_index)`` in samples, from ``window_s`` (or the deprecated ``window``)."""
        if isinstance(self.window, str):
            return median_beat_layout(self.fs, window_s=self.window_s, n_timesteps=self.n_timesteps)
        warnings.warn(
            f"window={self.window} (samples) is deprecated and will be removed in the next release; pass "
            f"window_s={self.window / float(self.fs):g} (seconds) instead.",
            FutureWarning,
            stacklevel=user_stacklevel(),
        )
        window = int(self.window)
        n_out = int(self.n_timesteps) if self.n_timesteps is not None else window + 8
        if n_out < window:
            raise ValueError(
                f"n_timesteps={n_out} is shorter than window={window}; pass n_timesteps >= window or None."
            )
        return window, n_out, (n_out - window) // 2 + window // 2

    def _check_input(self, X, *, reset):
        X, two_d = self._check_X(X, reset=reset, ensure_all_finite=False)
        layout = self._layout()
        check_lead_index(self.lead, X.shape[1], owner=type(self).__name__)
        check_n_timesteps(
            X,
            minimum=layout[0],
            owner="MedianBeat",
            what=f"window={layout[0]} samples (window_s={self.window_s:g} s at fs={float(self.fs):g} Hz)",
            remedy="pass whole recordings (e.g. 10 s), the right fs, or a smaller window_s.",
        )
        if X.shape[1] == 12:
            check_lead_order(X, stacklevel=user_stacklevel())
        check_ecg_amplitude(X, owner="MedianBeat")
        _check_sampling_rate(X, float(self.fs), stacklevel=user_stacklevel())
        return X, two_d, layout

    def _fit(self, X):
        X, two_d, (window, n_out, r_index) = self._check_input(X, reset=True)
        self.fs_ = float(self.fs)
        self.window_ = window
        self.n_timesteps_out_ = n_out
        self.r_peak_index_ = r_index
        return X, two_d, (window, n_out, r_index)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check ``X`` and record the input rate and the output layout; nothing is learned.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_leads, n_timesteps)
            ECG signals in mV sampled at ``fs``.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The transformer.
        """
        self._fit(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit and return the median beat of each ECG, recording the failed records in ``failed_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_leads, n_timesteps_in)
            ECG signals in mV sampled at ``fs``.
        y : None
            Ignored.

        Returns
        -------
        X_beats : ndarray of shape (n_samples, n_leads, n_timesteps_out_), dtype float32
            Median beats, R peak at sample ``r_peak_index_``; rows of failed records are NaN
            (``errors="warn"``).
        """
        X, two_d, layout = self._fit(X)
        beats, self.failed_ = self._extract(X, layout)
        return self._restore(beats, two_d)

    def transform(self, X, *, return_mask=False):
        """Return the median beat of each ECG.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_leads, n_timesteps_in)
            ECG signals in mV sampled at ``fs``.
        return_mask : bool, default=False
            Also return which records failed.

        Returns
        -------
        X_beats : ndarray of shape (n_samples, n_leads, n_timesteps), dtype float32
            Median beats, R peak at sample ``(n_timesteps - window) // 2 + window // 2``; rows of
            failed records are NaN (``errors="warn"``).
        failed : ndarray of shape (n_samples,), dtype bool
            Records that yielded no median beat; only with ``return_mask=True``.

        Raises
        ------
        ValueError
            With ``errors="raise"``, when a record holds NaN or infinity, the detector fails, or it
            holds fewer than ``min_beats`` complete beats; the message names the sample index.
        """
        self._validate_params()
        X, two_d, layout = self._check_input(X, reset=False)
        beats, failed = self._extract(X, layout)
        beats = self._restore(beats, two_d)
        return (beats, failed) if return_mask else beats

    def _extract(self, X, layout):
        window, n_out, _ = layout
        n = X.shape[0]
        n_workers = effective_n_jobs(self.n_jobs)
        size = max(1, min(128, math.ceil(n / (4 * n_workers))))
        settings = {
            "fs": float(self.fs),
            "window": window,
            "detector": self.detector,
            "lead": int(self.lead),
            "peak_dir": self.peak_dir,
            "min_beats": int(self.min_beats),
        }
        left = (n_out - window) // 2
        out = np.zeros((n, X.shape[1], n_out), dtype=np.float32)
        faults = {}
        tasks = (delayed(_median_beat_chunk)(X[a : a + size], a, **settings) for a in range(0, n, size))
        results = Parallel(n_jobs=self.n_jobs, return_as="generator")(tasks)
        with tqdm(total=n, desc="MedianBeat", unit="ECG", disable=not self.verbose) as bar:
            for start, beats, chunk_faults in results:
                if chunk_faults and self.errors == "raise":
                    with warnings.catch_warnings():
                        # joblib says that the remaining tasks are cancelled: that is the intent
                        warnings.filterwarnings("ignore", message=".*tasks which were still being processed")
                        results.close()
                    raise ValueError(chunk_faults[min(chunk_faults)])
                out[start : start + len(beats), :, left : left + window] = beats
                faults.update(chunk_faults)
                bar.update(len(beats))
        failed = np.zeros(n, dtype=bool)
        if faults:
            indices = sorted(faults)
            failed[indices] = True
            out[indices] = np.nan
            shown = ", ".join(map(str, indices[:10])) + (", ..." if len(indices) > 10 else "")
            warnings.warn(
                f"MedianBeat found no median beat in {len(indices)} of {n} records (sample indices {shown}); "
                f"their rows are NaN. First fault: {faults[indices[0]]} Drop the rows with the failure mask "
                "(failed_ after fit_transform, or transform(X, return_mask=True)) from X and y.",
                SignalQualityWarning,
                stacklevel=user_stacklevel(),
            )
        return out, failed


class LeadStandardizer(_ECGTransformer):
    """Z-score every lead of every ECG over time (per sample, per lead), as the model does.

    No statistic is shared between samples, as in the original study. The computation is the
    model's own, :func:`sksurv_ecg.nn.tasks.standardize_leads` (float32, population standard
    deviation): a flat lead (standard deviation below ``eps``, e.g. a lead that was zeroed or is
    missing) becomes zeros, never NaN.

    Parameters
    ----------
    eps : float or None, default=None
        Standard deviations below this are treated as a flat lead; ``None`` means the model's
        threshold (the default of :func:`~sksurv_ecg.nn.tasks.standardize_leads`, 1e-6).
    n_leads : int or None, default=None
        Number of leads, needed only to read a 2-D ``X`` whose rows hold the leads end to end;
        the output is then 2-D in the same layout.

    Attributes
    ----------
    n_features_in_ : int
        Number of leads seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv_ecg.preprocessing import LeadStandardizer
    >>> X = np.stack([np.sin(np.linspace(0, 6, 100)), np.full(100, 3.0)])[None]
    >>> Z = LeadStandardizer().fit_transform(X)
    >>> Z.std(axis=-1).round(3).tolist(), bool(np.isfinite(Z).all())
    ([[1.0, 0.0]], True)
    """

    _parameter_constraints = {
        "eps": [Interval(Real, 0, None, closed="left"), None],
        "n_leads": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, *, eps=None, n_leads=None):
        self.eps = eps
        self.n_leads = n_leads

    def transform(self, X):
        """Return the per-sample, per-lead z-scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_leads, n_timesteps)
            ECG signals.

        Returns
        -------
        X_std : ndarray of shape (n_samples, n_leads, n_timesteps), dtype float32
            Standardised signals; flat leads are zeros.
        """
        X, two_d = self._prepare(X)
        out = np.empty(X.shape, dtype=np.float32)
        eps = _STANDARDIZE_EPS if self.eps is None else float(self.eps)
        with torch.no_grad():
            for start in range(0, X.shape[0], _CHUNK):
                x = torch.from_numpy(np.ascontiguousarray(X[start : start + _CHUNK]))
                # Op for op sksurv_ecg.nn.tasks.standardize_leads, so that the result is bitwise the model's
                # (tests/test_preprocessing.py compares them); the data code does not import nn/.
                mean = x.mean(dim=-1, keepdim=True)
                std = x.std(dim=-1, keepdim=True, unbiased=False)
                flat = std < eps
                z = torch.where(flat, torch.zeros_like(x), (x - mean) / torch.where(flat, torch.ones_like(std), std))
                out[start : start + _CHUNK] = z.numpy()
        return self._restore(out, two_d)


class Resample(_ECGTransformer):
    """Resample ECGs from ``fs_in`` to ``fs_out`` Hz with a polyphase filter.

    Uses :func:`scipy.signal.resample_poly` with the up/down factors of ``fs_out / fs_in``. A
    recording of ``T`` samples becomes ``ceil(T * fs_out / fs_in)`` samples.

    Parameters
    ----------
    fs_in : float, default=500
        Sampling frequency of the input in Hz.
    fs_out : float, default=100
        Sampling frequency of the output in Hz.
    n_leads : int or None, default=None
        Number of leads, needed only to read a 2-D ``X`` whose rows hold the leads end to end;
        the output is then 2-D in the same layout.

    Attributes
    ----------
    n_features_in_ : int
        Number of leads seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv_ecg.preprocessing import Resample
    >>> Resample(500, 100).fit_transform(np.zeros((2, 12, 5000))).shape
    (2, 12, 1000)
    """

    _parameter_constraints = {
        "fs_in": [Interval(Real, 0, None, closed="neither")],
        "fs_out": [Interval(Real, 0, None, closed="neither")],
        "n_leads": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, fs_in=500, fs_out=100, *, n_leads=None):
        self.fs_in = fs_in
        self.fs_out = fs_out
        self.n_leads = n_leads

    def transform(self, X):
        """Return the resampled signals.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_leads, n_timesteps)
            ECG signals sampled at ``fs_in``.

        Returns
        -------
        X_resampled : ndarray of shape (n_samples, n_leads, n_timesteps_out), dtype float32
            Signals sampled at ``fs_out``.
        """
        X, two_d = self._prepare(X)
        up, down = polyphase_factors(self.fs_in, self.fs_out)
        if up == down:
            return self._restore(X.copy(), two_d)
        out = resample_poly(X, up, down, axis=-1).astype(np.float32, copy=False)
        return self._restore(out, two_d)


class BandpassFilter(_ECGTransformer):
    """Zero-phase Butterworth band-pass (or high-/low-pass) filter along time.

    A second-order-sections Butterworth filter (:func:`scipy.signal.butter`) applied forwards and
    backwards (:func:`scipy.signal.sosfiltfilt`), so waves are not shifted. ``low=None`` gives a
    low-pass, ``high=None`` a high-pass filter.

    Parameters
    ----------
    fs : float, default=500
        Sampling frequency of the input in Hz.
    low : float or None, default=0.5
        Lower cut-off in Hz (removes baseline wander).
    high : float or None, default=40.0
        Upper cut-off in Hz, below ``fs / 2`` (removes mains and muscle noise; 100 Hz keeps
        more of the QRS detail).
    order : int, default=4
        Filter order (doubled by the forward-backward pass).
    n_leads : int or None, default=None
        Number of leads, needed only to read a 2-D ``X`` whose rows hold the leads end to end;
        the output is then 2-D in the same layout.

    Attributes
    ----------
    n_features_in_ : int
        Number of leads seen in ``fit``.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv_ecg.preprocessing import BandpassFilter
    >>> t = np.arange(5000) / 500
    >>> X = (np.sin(2 * np.pi * 10 * t) + 1.0 + np.sin(2 * np.pi * 0.05 * t))[None, None]
    >>> Y = BandpassFilter(fs=500, low=0.5, high=40).fit_transform(X)
    >>> bool(np.abs(Y[0, 0, 500:-500] - np.sin(2 * np.pi * 10 * t[500:-500])).max() < 0.05)
    True
    """

    _parameter_constraints = {
        "fs": [Interval(Real, 0, None, closed="neither")],
        "low": [Interval(Real, 0, None, closed="neither"), None],
        "high": [Interval(Real, 0, None, closed="neither"), None],
        "order": [Interval(Integral, 1, None, closed="left")],
        "n_leads": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, fs=500, *, low=0.5, high=40.0, order=4, n_leads=None):
        self.fs = fs
        self.low = low
        self.high = high
        self.order = order
        self.n_leads = n_leads

    def _sos(self):
        nyquist = self.fs / 2
        if self.low is None and self.high is None:
            raise ValueError("low=None and high=None leave nothing to filter; set low, high or both.")
        for name, value in (("low", self.low), ("high", self.high)):
            if value is not None and value >= nyquist:
                raise ValueError(
                    f"{name}={value} Hz is not below the Nyquist frequency fs/2 = {nyquist:g} Hz; "
                    f"pass {name} < {nyquist:g}."
                )
        if self.low is None:
            return butter(self.order, self.high, btype="lowpass", fs=self.fs, output="sos")
        if self.high is None:
            return butter(self.order, self.low, btype="highpass", fs=self.fs, output="sos")
        if self.low >= self.high:
            raise ValueError(f"low={self.low} Hz must be below high={self.high} Hz.")
        return butter(self.order, [self.low, self.high], btype="bandpass", fs=self.fs, output="sos")

    def transform(self, X):
        """Return the filtered signals.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_leads, n_timesteps)
            ECG signals sampled at ``fs``.

        Returns
        -------
        X_filtered : ndarray of shape (n_samples, n_leads, n_timesteps), dtype float32
            Filtered signals.
        """
        X, two_d = self._prepare(X)
        sos = self._sos()
        padlen = 3 * (2 * len(sos) + 1 - min((sos[:, 2] == 0).sum(), (sos[:, 5] == 0).sum()))
        if X.shape[2] <= padlen:
            raise ValueError(
                f"X has {X.shape[2]} time steps, but the order-{self.order} filter needs more than {padlen}; "
                "pass longer signals or a lower order."
            )
        out = np.empty(X.shape, dtype=np.float32)
        for start in range(0, X.shape[0], _CHUNK):
            out[start : start + _CHUNK] = sosfiltfilt(sos, X[start : start + _CHUNK].astype(np.float64), axis=-1)
        return self._restore(out, two_d)
