"""Stateless scikit-learn transformers for ``(n_samples, n_leads, n_timesteps)`` ECG arrays.

``fit`` only validates its input and records the number of leads; every transformer also works
without ``fit`` (``requires_fit=False``), like :class:`sklearn.preprocessing.Normalizer`.
"""

from __future__ import annotations

from fractions import Fraction
from numbers import Integral, Real

import numpy as np
from scipy.signal import butter, resample_poly, sosfiltfilt
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from wfdb import processing

from .utils.validation import check_ecg_array

__all__ = ["BandpassFilter", "LeadStandardizer", "MedianBeat", "Resample"]

_CHUNK = 256  # samples processed at once where float64 intermediates are needed


class _ECGTransformer(TransformerMixin, BaseEstimator):
    """Shared ``fit``, input checks and tags of the stateless ECG transformers."""

    def _check_X(self, X, *, reset):
        """Return ``X`` as float32 3-D and whether it came as 2-D (leads laid end to end)."""
        two_d = (len(X.shape) if hasattr(X, "shape") else np.asarray(X).ndim) == 2
        X_checked = check_ecg_array(X, n_leads=self.n_leads)
        # like scikit-learn, n_features_in_ counts axis 1 of the input: leads, or columns of a 2-D X
        n_features = X_checked.shape[1] * (X_checked.shape[2] if two_d else 1)
        if reset:
            self.n_features_in_ = n_features
        elif hasattr(self, "n_features_in_") and n_features != self.n_features_in_:
            raise ValueError(
                f"X has {n_features} features, but {type(self).__name__} is expecting {self.n_features_in_} "
                "features as input."
            )
        return X_checked, two_d

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


class MedianBeat(_ECGTransformer):
    """Median heartbeat of each ECG, with the R peak at the centre.

    R peaks are detected on one lead with :mod:`wfdb.processing` (``xqrs_detect`` or
    ``gqrs_detect``) and moved to the local extremum with ``correct_peaks``. Every beat whose
    ``window`` fits in the recording is cut with its R peak at sample ``window // 2``, the
    per-sample median over beats is taken for each lead, and the result is centre zero-padded to
    ``n_timesteps``. The defaults give the layout of the PTB-XL+ median beats the original study
    used: 600 samples (1.2 s at 500 Hz), padded by 4 + 4 to 608, R peak at sample 304.

    Parameters
    ----------
    fs : float, default=500
        Sampling frequency of the input in Hz.
    window : int, default=600
        Beat length in samples.
    n_timesteps : int, default=608
        Output length; at least ``window``.
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
    n_leads : int or None, default=None
        Number of leads, needed only to read a 2-D ``X`` whose rows hold the leads end to end;
        the output is then 2-D in the same layout.

    Attributes
    ----------
    n_features_in_ : int
        Number of leads seen in ``fit``.

    See Also
    --------
    sksurv_ecg.datasets.make_ecg_survival : Synthetic median beats in the same layout.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv_ecg.datasets import load_ecg_examples
    >>> from sksurv_ecg.io import read_ecg
    >>> from sksurv_ecg.preprocessing import MedianBeat
    >>> X, _ = read_ecg(load_ecg_examples()[1:3])  # two real 10-s strips at 500 Hz
    >>> beats = MedianBeat().fit_transform(X)
    >>> beats.shape
    (2, 12, 608)
    >>> np.abs(beats[:, 1]).argmax(axis=1).tolist()
    [304, 304]
    """

    _parameter_constraints = {
        "fs": [Interval(Real, 0, None, closed="neither")],
        "window": [Interval(Integral, 2, None, closed="left")],
        "n_timesteps": [Interval(Integral, 2, None, closed="left")],
        "detector": [StrOptions({"xqrs", "gqrs"})],
        "lead": [Interval(Integral, 0, None, closed="left")],
        "peak_dir": [StrOptions({"compare", "up", "down", "both"})],
        "min_beats": [Interval(Integral, 1, None, closed="left")],
        "n_leads": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        fs=500,
        *,
        window=600,
        n_timesteps=608,
        detector="xqrs",
        lead=1,
        peak_dir="compare",
        min_beats=3,
        n_leads=None,
    ):
        self.fs = fs
        self.window = window
        self.n_timesteps = n_timesteps
        self.detector = detector
        self.lead = lead
        self.peak_dir = peak_dir
        self.min_beats = min_beats
        self.n_leads = n_leads

    def _r_peaks(self, signal, i):
        fs = float(self.fs)
        try:
            if self.detector == "xqrs":
                peaks = processing.xqrs_detect(signal, fs=fs, verbose=False)
            else:
                peaks = processing.gqrs_detect(sig=signal, fs=fs)
        except Exception as err:  # the detectors fail in odd ways on flat or degenerate signals
            raise ValueError(
                f"The {self.detector} R-peak detector failed on sample {i} (lead index {self.lead}): {err}; "
                "check the signal or try detector='gqrs'/'xqrs'."
            ) from err
        peaks = np.asarray(peaks, dtype=np.int64)
        if peaks.size == 0:
            return peaks
        peaks = processing.correct_peaks(
            signal,
            peaks,
            search_radius=max(1, round(0.08 * fs)),
            smooth_window_size=max(2, round(0.2 * fs)),
            peak_dir=self.peak_dir,
        )
        return np.unique(np.asarray(peaks, dtype=np.int64))

    def transform(self, X):
        """Return the median beat of each ECG.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_leads, n_timesteps_in)
            ECG signals in mV sampled at ``fs``.

        Returns
        -------
        X_beats : ndarray of shape (n_samples, n_leads, n_timesteps), dtype float32
            Median beats, R peak at sample ``(n_timesteps - window) // 2 + window // 2``.

        Raises
        ------
        ValueError
            When a recording holds fewer than ``min_beats`` complete beats; the message names the
            sample index.
        """
        X, two_d = self._prepare(X)
        if self.n_timesteps < self.window:
            raise ValueError(
                f"n_timesteps={self.n_timesteps} is shorter than window={self.window}; pass n_timesteps >= window."
            )
        if self.lead >= X.shape[1]:
            raise ValueError(
                f"lead={self.lead} is out of range for X with {X.shape[1]} leads; pass a lead index below {X.shape[1]}."
            )
        if X.shape[2] < self.window:
            raise ValueError(
                f"X has {X.shape[2]} time steps, fewer than window={self.window}; pass whole recordings "
                "(e.g. 10 s) or a smaller window."
            )
        half = self.window // 2
        offsets = np.arange(-half, self.window - half)
        left = (self.n_timesteps - self.window) // 2
        out = np.zeros((X.shape[0], X.shape[1], self.n_timesteps), dtype=np.float32)
        for i in range(X.shape[0]):
            peaks = self._r_peaks(X[i, self.lead].astype(np.float64), i)
            peaks = peaks[(peaks >= half) & (peaks + self.window - half <= X.shape[2])]
            if peaks.size < self.min_beats:
                raise ValueError(
                    f"MedianBeat found {peaks.size} complete beats in sample {i} (lead index {self.lead}), but "
                    f"min_beats={self.min_beats} are needed; check the lead, fs={self.fs} and the signal quality, "
                    "or drop the sample."
                )
            segments = X[i][:, peaks[:, None] + offsets]  # (n_leads, n_beats, window)
            out[i, :, left : left + self.window] = np.median(segments, axis=1)
        return self._restore(out, two_d)


class LeadStandardizer(_ECGTransformer):
    """Z-score every lead of every ECG over time (per sample, per lead).

    No statistic is shared between samples, as in the original study. A flat lead (standard
    deviation at most ``eps``, e.g. a lead that was zeroed or is missing) becomes zeros, never NaN.

    Parameters
    ----------
    eps : float, default=1e-8
        Standard deviations at or below this are treated as a flat lead.
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
        "eps": [Interval(Real, 0, None, closed="left")],
        "n_leads": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(self, *, eps=1e-8, n_leads=None):
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
        for start in range(0, X.shape[0], _CHUNK):
            chunk = X[start : start + _CHUNK].astype(np.float64)
            centred = chunk - chunk.mean(axis=-1, keepdims=True)
            std = np.sqrt(np.mean(centred**2, axis=-1, keepdims=True))
            flat = std <= self.eps
            out[start : start + _CHUNK] = np.where(flat, 0.0, centred / np.where(flat, 1.0, std))
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
        ratio = Fraction(float(self.fs_out) / float(self.fs_in)).limit_denominator(1000)
        if ratio == 1:
            return self._restore(X.copy(), two_d)
        out = resample_poly(X, ratio.numerator, ratio.denominator, axis=-1).astype(np.float32, copy=False)
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
