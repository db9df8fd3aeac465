"""Handcrafted ECG biomarkers measured from 12-lead median beats or rhythm strips.

The classical baseline of Chen et al. (2024) was a Cox model on 15 biomarkers that the ECG device
had measured. :class:`ECGBiomarkers` measures the comparable interval, amplitude and axis
biomarkers from the signal itself, so that the same comparison can be made on any cohort.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names_in
from wfdb import processing

from .conventions import LEAD_NAMES, check_median_beats
from .exceptions import SignalQualityWarning, user_stacklevel
from .utils.validation import check_lead_index, check_n_timesteps, check_standard_12_leads

__all__ = ["ECGBiomarkers"]

_LEADS = LEAD_NAMES
_INDEPENDENT = [0, 1, 6, 7, 8, 9, 10, 11]  # I, II, V1-V6: the other four leads are linear in I and II
_T_UPRIGHT = [0, 1, 9, 10, 11]  # I, II, V4-V6: leads where a normal T wave is upright
_LEAD_I, _LEAD_AVF = 0, 5
_R_TOLERANCE_MS = 80  # how far (ms) the steepest QRS part of a median beat may lie from its R peak
_CORE = 0.3  # fraction of the peak spatial velocity that marks the steep core of the QRS
_WAVEFORM_FEATURES = [
    "qrs_duration",
    "qt_interval",
    "st_deviation",
    "t_amplitude",
    "r_amplitude",
    "qrs_axis",
    "t_axis",
    "qrs_t_angle",
]


def _walk(v, start, threshold, step, limit, gap):
    """Fractional index where ``v`` drops below ``threshold`` for good, walking from ``start`` by ``step``.

    Dips below the threshold shorter than ``gap`` samples (between Q, R and S waves whose
    directions differ) are walked through.
    """
    last = k = start
    while (k + step) * step <= limit * step and abs(k - last) < gap:
        k += step
        if v[k] >= threshold:
            last = k
    j = last + step
    if j * step > limit * step or v[last] == v[j]:
        return float(last)
    return last + (v[last] - threshold) / (v[last] - v[j]) * step


def _angle(y, x):
    return float(np.degrees(np.arctan2(y, x)))


class ECGBiomarkers(TransformerMixin, BaseEstimator):
    """Interval, amplitude and axis biomarkers of 12-lead ECGs (stateless).

    The measurements are made on the median beat (at most 2 s long; a longer input, e.g. a 10-s
    strip, is refused), whose R peak must sit at sample ``r_index``
    (``n_timesteps // 2`` by default, the layout of :class:`~sksurv_ecg.preprocessing.MedianBeat`
    and :func:`~sksurv_ecg.datasets.make_ecg_survival`). With ``kind="rhythm"``, ``X`` holds raw
    strips (e.g. 10 s): R peaks are detected on lead ``lead`` with :func:`wfdb.processing.xqrs_detect`
    and :func:`wfdb.processing.correct_peaks`, the heart rate is ``60 / median RR``, and the median
    beat (1.2 s, R peak at the centre) is cut from the same peaks. A median beat alone holds no RR
    interval, so ``heart_rate`` and ``qtc`` are only returned for ``kind="rhythm"``; with median
    beats from a device, compute QTc from the device's rate as ``qt_interval / sqrt(60 / rate)``.

    Delineation is simple thresholding on the median beat, with the 12 leads read through the 8
    independent ones (I, II, V1-V6):

    * spatial velocity ``v(t) = ||dx/dt||`` (2-point central difference, 10-ms moving average);
      within ``qrs_search_ms`` of R, the steep core of the QRS is where ``v >= 0.3 * max v``; QRS
      onset and offset (J point) are found by walking outwards from the first and last core sample
      until ``v`` stays below ``qrs_threshold * max v`` for 20 ms (linear interpolation between
      samples);
    * baseline: per lead, the mean of the flattest 20-ms window (smallest summed velocity) in the
      80 ms before QRS onset (the PR segment);
    * T peak: the maximum of the spatial magnitude ``||x(t) - baseline||`` from J + 80 ms to
      ``t_search_ms`` after R, or to 20 ms before the next beat's QRS (spatial velocity above
      ``4 * qrs_threshold * max v``) when one reaches into the window (high heart rates); T end: tangent method on the
      signal projected on the T-peak vector (the steepest descent after the T peak, extended to
      the baseline);
    * ``qrs_duration = offset - onset``, ``qt_interval = T end - onset`` (ms);
    * ``st_deviation``: level at J + ``st_offset_ms`` against the baseline, signed, in the lead
      where its magnitude is largest (mV);
    * ``t_amplitude``: mean T-peak level over I, II, V4-V6, where a normal T is upright (mV);
    * ``r_amplitude``: the largest positive QRS deflection over the 12 leads (mV);
    * ``qrs_axis`` / ``t_axis``: ``atan2(area aVF, area I)`` of the baseline-corrected QRS
      (onset to offset) and T wave (J to T end) in degrees; ``qrs_t_angle`` their absolute
      difference in [0, 180].

    Parameters
    ----------
    fs : float, default=500
        Sampling frequency in Hz.
    kind : {"median", "rhythm"}, default="median"
        ``"median"``: ``X`` holds median beats with the R peak at ``r_index``. ``"rhythm"``:
        ``X`` holds raw strips; heart rate and QTc are measured as well.
    r_index : int or None, default=None
        Sample of the R peak in a median beat; ``None`` means ``n_timesteps // 2``. Ignored with
        ``kind="rhythm"``.
    lead : int, default=1
        Lead the R peaks of a rhythm strip are detected on (1 = II).
    qrs_threshold : float, default=0.1
        Fraction of the peak spatial velocity that delimits the QRS complex.
    qrs_search_ms : float, default=150
        How far from the R peak (each side) the QRS onset and offset are looked for.
    st_offset_ms : float, default=60
        Where the ST level is read, after the J point (J + 60 ms, or 80 ms at low rates).
    t_search_ms : float, default=450
        Latest T peak after the R peak; the search also stops before a following beat's QRS.
    qtc_formula : {"bazett", "fridericia"}, default="bazett"
        Rate correction of the QT interval (``kind="rhythm"`` only).

    Attributes
    ----------
    n_features_in_ : int
        Number of leads seen in ``fit``.

    See Also
    --------
    sksurv_ecg.preprocessing.MedianBeat : Median beats from raw recordings.
    ECGEmbedder : Learned (deep) features instead of handcrafted ones.

    Notes
    -----
    The method targets clean median beats. It has no P-wave, bundle-branch or pacing logic, and
    its T end (tangent method) is known to read a little short of the visual T end. On a
    recording where a step fails (no QRS, a flat T) the values are still finite but meaningless;
    inspect outliers before modelling.

    Examples
    --------
    >>> from sksurv_ecg.biomarkers import ECGBiomarkers
    >>> from sksurv_ecg.datasets import make_ecg_survival
    >>> X, y, frame = make_ecg_survival(3, random_state=0)
    >>> bio = ECGBiomarkers(fs=500)
    >>> B = bio.fit_transform(X)
    >>> B.shape
    (3, 8)
    >>> bio.get_feature_names_out()[:3].tolist()
    ['qrs_duration', 'qt_interval', 'st_deviation']
    >>> bool(abs(B[:, 0] - frame["qrs_duration"]).max() < 25)
    True
    """

    _parameter_constraints: dict = {
        "fs": [Interval(Real, 0, None, closed="neither")],
        "kind": [StrOptions({"median", "rhythm"})],
        "r_index": [Interval(Integral, 0, None, closed="left"), None],
        "lead": [Interval(Integral, 0, None, closed="left")],
        "qrs_threshold": [Interval(Real, 0, 1, closed="neither")],
        "qrs_search_ms": [Interval(Real, 0, None, closed="neither")],
        "st_offset_ms": [Interval(Real, 0, None, closed="left")],
        "t_search_ms": [Interval(Real, 0, None, closed="neither")],
        "qtc_formula": [StrOptions({"bazett", "fridericia"})],
    }

    def __init__(
        self,
        fs=500,
        *,
        kind="median",
        r_index=None,
        lead=1,
        qrs_threshold=0.1,
        qrs_search_ms=150,
        st_offset_ms=60,
        t_search_ms=450,
        qtc_formula="bazett",
    ):
        self.fs = fs
        self.kind = kind
        self.r_index = r_index
        self.lead = lead
        self.qrs_threshold = qrs_threshold
        self.qrs_search_ms = qrs_search_ms
        self.st_offset_ms = st_offset_ms
        self.t_search_ms = t_search_ms
        self.qtc_formula = qtc_formula

    # --- sklearn plumbing -----------------------------------------------------------------------
    def _check_X(self, X, *, reset):
        X = check_standard_12_leads(X, owner=type(self).__name__)
        if reset:
            self.n_features_in_ = X.shape[1]
        return X

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check ``X``; nothing is learned.

        Parameters
        ----------
        X : array-like of shape (n_samples, 12, n_timesteps)
            Median beats (``kind="median"``) or rhythm strips (``kind="rhythm"``) in mV.
        y : None
            Ignored.

        Returns
        -------
        self : object
            The transformer.
        """
        self._check_X(X, reset=True)
        return self

    def get_feature_names_out(self, input_features=None):
        """Names of the biomarkers.

        Parameters
        ----------
        input_features : None
            Ignored (the output does not depend on input names).

        Returns
        -------
        feature_names_out : ndarray of str objects
            ``qrs_duration, qt_interval, st_deviation, t_amplitude, r_amplitude, qrs_axis, t_axis,
            qrs_t_angle``, preceded by ``heart_rate`` and followed by ``qtc`` with
            ``kind="rhythm"``.
        """
        if hasattr(self, "n_features_in_") and input_features is not None:
            _check_feature_names_in(self, input_features, generate_names=False)
        names = list(_WAVEFORM_FEATURES)
        if self.kind == "rhythm":
            names = ["heart_rate", *names, "qtc"]
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.three_d_array = True
        tags.input_tags.two_d_array = False
        return tags

    # --- measurement ----------------------------------------------------------------------------
    def _ms(self, ms):
        return max(1, int(round(ms * float(self.fs) / 1000.0)))

    def _rhythm_to_median(self, X):
        """Heart rate (bpm) and median beats (R at the centre) of raw strips."""
        fs = float(self.fs)
        window = int(round(1.2 * fs))
        half = window // 2
        offsets = np.arange(-half, window - half)
        beats = np.empty((X.shape[0], 12, window), dtype=np.float64)
        rate = np.empty(X.shape[0])
        for i in range(X.shape[0]):
            signal = X[i, self.lead].astype(np.float64)
            try:
                peaks = np.asarray(processing.xqrs_detect(signal, fs=fs, verbose=False), dtype=np.int64)
            except Exception as err:  # the detector fails in odd ways on flat or degenerate signals
                raise ValueError(
                    f"The xqrs R-peak detector failed on sample {i} (lead index {self.lead}): {err}; "
                    "check the signal, fs, or pass median beats with kind='median'."
                ) from err
            if peaks.size:
                peaks = np.unique(
                    processing.correct_peaks(
                        signal, peaks, search_radius=self._ms(80), smooth_window_size=self._ms(200), peak_dir="compare"
                    )
                )
            if peaks.size < 3:
                raise ValueError(
                    f"ECGBiomarkers found {peaks.size} R peaks in sample {i} (lead index {self.lead}), but at least "
                    "3 are needed for a heart rate; pass longer strips (e.g. 10 s) or check lead and fs."
                )
            rate[i] = 60.0 * fs / np.median(np.diff(peaks))
            inside = peaks[(peaks >= half) & (peaks + window - half <= X.shape[2])]
            if inside.size == 0:
                raise ValueError(f"ECGBiomarkers found no complete beat in sample {i}; pass strips longer than 1.2 s.")
            beats[i] = np.median(X[i][:, inside[:, None] + offsets], axis=1)
        return rate, beats, half

    def _velocity(self, x):
        """Spatial velocity of the 8 independent leads of ``x`` (12, T), smoothed over 10 ms."""
        vel = np.linalg.norm(np.gradient(x[_INDEPENDENT], axis=1), axis=0) * float(self.fs)
        k = self._ms(10)
        return np.convolve(vel, np.ones(k) / k, mode="same")

    def _warn_misplaced_r(self, beats, r):
        """Warn when the QRS of a median beat is not at ``r``: its steepest part lies elsewhere."""
        near = self._ms(_R_TOLERANCE_MS)
        edge = self._ms(30)  # the step into the zero padding of a median beat is steep too: leave it out
        misplaced = []
        for i, beat in enumerate(beats):
            vel = self._velocity(beat)[edge:-edge]
            if vel[max(0, r - edge - near) : r - edge + near + 1].max() < 0.5 * vel.max():
                misplaced.append(i)
        if misplaced:
            shown = ", ".join(map(str, misplaced[:10])) + (", ..." if len(misplaced) > 10 else "")
            warnings.warn(
                f"In {len(misplaced)} of {len(beats)} median beats (sample indices {shown}) the QRS complex is "
                f"not within {_R_TOLERANCE_MS} ms of r_index={r}: the spatial velocity there stays below half its "
                "peak. Their biomarkers are measured around the wrong sample; pass the right r_index and fs, align "
                "the beats with MedianBeat, or use kind='rhythm' for raw strips.",
                SignalQualityWarning,
                stacklevel=user_stacklevel(),
            )

    def _measure(self, x, r):
        """The waveform biomarkers of one median beat ``x`` (12, T) with its R peak at ``r``."""
        fs = float(self.fs)
        n_t = x.shape[1]
        vel = self._velocity(x)
        search = self._ms(self.qrs_search_ms)
        lo, hi = max(1, r - search), min(n_t - 1, r + search + 1)
        vmax = vel[lo:hi].max()
        threshold = self.qrs_threshold * vmax
        core = lo + np.flatnonzero(vel[lo:hi] >= _CORE * vmax)  # the steep part of the QRS
        gap = self._ms(20)
        onset = _walk(vel, int(core[0]), threshold, -1, lo, gap)
        offset = _walk(vel, int(core[-1]), threshold, 1, hi - 1, gap)
        # baseline: flattest 20-ms window in the 80 ms before the QRS onset
        w = self._ms(20)
        b_hi = max(w, int(np.floor(onset)))
        b_lo = max(0, b_hi - self._ms(80))
        energy = np.convolve(vel[b_lo:b_hi], np.ones(w), mode="valid")
        start = b_lo + (int(np.argmin(energy)) if energy.size else 0)
        baseline = x[:, start : start + w].mean(axis=1)
        xc = x - baseline[:, None]
        on_i, off_i = int(np.floor(onset)), int(np.ceil(offset))
        # ST level at J + st_offset_ms, signed, in the lead with the largest magnitude
        st_at = min(n_t - 1, int(round(offset + self.st_offset_ms * fs / 1000.0)))
        st = xc[:, st_at]
        st_deviation = st[np.argmax(np.abs(st))]
        # T peak on the spatial magnitude, T end by the tangent method on the T-vector projection
        t_lo = min(n_t - 2, off_i + self._ms(80))
        guard = n_t
        late = np.flatnonzero(vel[off_i + self._ms(150) :] >= 4 * threshold)
        if late.size:  # the next beat's QRS reaches into the window (high heart rate): stop before it
            guard = off_i + self._ms(150) + int(late[0]) - self._ms(20)
        t_hi = max(t_lo + 2, min(guard, r + self._ms(self.t_search_ms)))
        mag = np.linalg.norm(xc[_INDEPENDENT, t_lo:t_hi], axis=0)
        t_peak = t_lo + int(np.argmax(mag))
        u = xc[_INDEPENDENT, t_peak]
        u = u / max(np.linalg.norm(u), 1e-12)
        proj = u @ xc[_INDEPENDENT]
        slope = np.gradient(proj)
        d_hi = min(max(guard, t_peak + 2), n_t, t_peak + self._ms(250))
        if d_hi - t_peak > 1:
            kk = t_peak + int(np.argmin(slope[t_peak:d_hi]))
            t_end = kk - proj[kk] / slope[kk] if slope[kk] < 0 else float(d_hi - 1)
            t_end = float(np.clip(t_end, t_peak, n_t - 1))
        else:
            t_end = float(t_peak)
        to_ms = 1000.0 / fs
        qrs = xc[:, on_i : off_i + 1]
        t_wave = xc[:, off_i : int(np.ceil(t_end)) + 1]
        qrs_axis = _angle(qrs[_LEAD_AVF].sum(), qrs[_LEAD_I].sum())
        t_axis = _angle(t_wave[_LEAD_AVF].sum(), t_wave[_LEAD_I].sum())
        angle = abs(qrs_axis - t_axis) % 360.0
        return [
            (offset - onset) * to_ms,
            (t_end - onset) * to_ms,
            float(st_deviation),
            float(xc[_T_UPRIGHT, t_peak].mean()),
            float(max(qrs.max(), 0.0)),
            qrs_axis,
            t_axis,
            min(angle, 360.0 - angle),
        ]

    def transform(self, X):
        """Measure the biomarkers of each ECG.

        Parameters
        ----------
        X : array-like of shape (n_samples, 12, n_timesteps)
            Median beats (``kind="median"``) or rhythm strips (``kind="rhythm"``) in mV, leads
            I, II, III, aVR, aVL, aVF, V1-V6, sampled at ``fs``.

        Returns
        -------
        X_biomarkers : ndarray of shape (n_samples, n_biomarkers), dtype float64
            Columns as in :meth:`get_feature_names_out`: durations in ms, amplitudes in mV,
            axes in degrees, heart rate in beats per minute.

        Raises
        ------
        ValueError
            When ``X`` is not 12-lead, has NaN or infinite values, is too short for the median-beat
            window, is longer than a median beat (over 2 s, e.g. a strip) with ``kind="median"``,
            or (``kind="rhythm"``) holds fewer than 3 detectable beats.

        Warns
        -----
        SignalQualityWarning
            With ``kind="median"``, when the steepest part of the QRS of a beat lies more than
            80 ms from ``r_index`` (the beats are not aligned as expected).
        """
        self._validate_params()
        X = self._check_X(X, reset=False)
        fs = float(self.fs)
        if self.kind == "rhythm":
            check_lead_index(self.lead, X.shape[1], owner=type(self).__name__)
            check_n_timesteps(
                X,
                minimum=int(round(1.2 * fs)),
                owner=type(self).__name__,
                what=f"the 1.2-s median-beat window ({int(round(1.2 * fs))} samples at fs={fs:g})",
                remedy="pass whole strips (e.g. 10 s).",
            )
            rate, beats, r = self._rhythm_to_median(X)
        else:
            r = X.shape[2] // 2 if self.r_index is None else int(self.r_index)
            check_median_beats(X, fs=fs, r_index=r, margin=self._ms(self.qrs_search_ms) + 2, owner=type(self).__name__)
            beats = X.astype(np.float64)
            self._warn_misplaced_r(beats, r)
        out = np.array([self._measure(beat, r) for beat in beats], dtype=np.float64).reshape(len(beats), -1)
        if self.kind == "rhythm":
            rr = 60.0 / rate
            power = 0.5 if self.qtc_formula == "bazett" else 1.0 / 3.0
            out = np.column_stack([rate, out, out[:, 1] / rr**power])
        return out
