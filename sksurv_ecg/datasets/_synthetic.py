"""A synthetic 12-lead ECG survival cohort whose hazard is a known function of the waveform.

Each heartbeat is a cardiac dipole in Frank vectorcardiogram space (X to the left, Y to the feet,
Z to the back): a sum of Gaussian P, Q, R, S and (asymmetric) T components plus a smooth ST
plateau, each with its own direction, in the spirit of McSharry et al.'s ECGSYN. The dipole is
projected on Dower's lead vectors for I, II and V1-V6; III, aVR, aVL and aVF are then derived from
I and II, so Einthoven's and Goldberger's relations hold exactly, noise included.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd
from scipy.optimize import brentq
from scipy.special import expit
from sksurv.util import Surv

from ..competing import competing_risks_y

__all__ = ["make_ecg_survival"]

# Dower et al. (1980) Frank XYZ -> lead coefficients for I, II, V1-V6 (rows), columns X, Y, Z.
_DOWER = np.array(
    [
        [0.632, -0.235, 0.059],  # I
        [0.235, 1.066, -0.132],  # II
        [-0.515, 0.157, -0.917],  # V1
        [0.044, 0.164, -1.387],  # V2
        [0.882, 0.098, -1.277],  # V3
        [1.213, 0.127, -0.601],  # V4
        [1.125, 0.127, -0.086],  # V5
        [0.831, 0.076, 0.230],  # V6
    ]
)


def _unit(v):
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


# Fixed directions (Frank XYZ) of the components whose orientation does not vary between people.
_DIR_P = _unit([0.5, 0.85, -0.15])  # left, inferior, slightly anterior
_DIR_Q = _unit([-0.6, -0.1, -0.8])  # septal depolarisation: right and anterior
_DIR_S = _unit([-0.4, -0.5, 0.75])  # terminal depolarisation: right, superior, posterior
_DIR_ST = _unit([0.3, 0.5, -0.8])  # injury current of an anterior-inferior wall

# Population centres and scales of the standardised terms of the log-hazard.
_Z = {
    "age": (62.0, 13.0),
    "heart_rate": (70.0, 12.0),
    "qrs_duration": (95.0, 15.0),
    "qtc": (415.0, 25.0),
    "st_deviation": (0.0, 0.07),
    "t_amplitude": (0.35, 0.15),
}

_WEIBULL_SHAPE = 1.5
_WEIBULL_SCALE = 10.0  # years, at log-hazard 0


def _check_params(n_samples, n_timesteps, fs, kind, event_rate, censoring, noise):
    if isinstance(n_samples, bool) or not isinstance(n_samples, Integral) or n_samples < 1:
        raise ValueError(f"n_samples={n_samples!r} must be a positive int.")
    if isinstance(fs, bool) or not isinstance(fs, Real) or not fs >= 50:
        raise ValueError(f"fs={fs!r} must be a number of Hz >= 50, e.g. fs=500.")
    if kind not in ("median", "rhythm"):
        raise ValueError(f"kind={kind!r} is not supported; use 'median' or 'rhythm'.")
    if n_timesteps is not None and (
        isinstance(n_timesteps, bool) or not isinstance(n_timesteps, Integral) or n_timesteps < 1
    ):
        raise ValueError(f"n_timesteps={n_timesteps!r} must be None or a positive int.")
    if isinstance(event_rate, bool) or not isinstance(event_rate, Real) or not 0 < event_rate <= 1:
        raise ValueError(f"event_rate={event_rate!r} must be in (0, 1], e.g. 0.2.")
    if censoring not in ("uniform", "exponential"):
        raise ValueError(f"censoring={censoring!r} is not supported; use 'uniform' or 'exponential'.")
    if noise is not None and (isinstance(noise, bool) or not isinstance(noise, Real) or not noise >= 0):
        raise ValueError(f"noise={noise!r} must be None or a non-negative number of mV.")


def _draw_features(rng, n):
    """Clinical and waveform parameters of ``n`` people (one dict of arrays)."""
    age = np.clip(rng.normal(62.0, 13.0, n), 18.0, 95.0)
    sex = (rng.random(n) < 0.48).astype(np.int64)  # PTB-XL coding: 0 = male, 1 = female
    heart_rate = np.clip(np.exp(rng.normal(np.log(70.0), 0.17, n)), 40.0, 140.0)
    conduction_delay = (rng.random(n) < 0.08) * rng.uniform(25.0, 60.0, n)  # bundle-branch-block-like
    qrs_duration = np.clip(rng.normal(90.0, 9.0, n) + conduction_delay, 65.0, 180.0)
    qtc = np.clip(rng.normal(408.0 + 8.0 * sex, 22.0, n), 340.0, 540.0)
    rr = 60.0 / heart_rate
    qt_interval = qtc * np.sqrt(rr)  # Bazett
    return {
        "age": age,
        "sex": sex,
        "heart_rate": heart_rate,
        "rr_interval": 1000.0 * rr,
        "pr_interval": np.clip(rng.normal(160.0, 20.0, n), 110.0, 250.0),
        "qrs_duration": qrs_duration,
        "qt_interval": qt_interval,
        "qtc": qtc,
        "st_deviation": np.clip(rng.normal(0.0, 0.07, n), -0.3, 0.3),
        "t_amplitude": np.clip(rng.normal(0.35, 0.15, n), -0.4, 0.9),
        "qrs_axis": np.clip(rng.normal(45.0, 30.0, n), -90.0, 180.0),
        "r_amplitude": np.exp(rng.normal(np.log(1.4), 0.2, n)),
        "p_amplitude": np.exp(rng.normal(np.log(0.12), 0.25, n)),
    }


def _log_hazard(f):
    """The true log-hazard; the formula is documented in :func:`make_ecg_survival`."""
    z = {k: (f[k] - c) / s for k, (c, s) in _Z.items()}
    return (
        0.4 * z["age"]
        - 0.3 * f["sex"]
        + 0.8 * z["heart_rate"]
        + 0.9 * z["qrs_duration"]
        - 0.9 * z["t_amplitude"]
        - 0.6 * z["st_deviation"]
        + 0.5 * np.abs(z["st_deviation"])
        + 0.5 * z["qtc"]
        + 0.8 * np.maximum(z["qtc"] - 1.0, 0.0)
    )


def _log_hazard_competing(f):
    """The true log-hazard of the competing cause (2): atrial and conduction terms, none of cause 1's."""
    z_age = (f["age"] - 62.0) / 13.0
    z_pr = (f["pr_interval"] - 160.0) / 20.0
    z_p = (np.log(f["p_amplitude"]) - np.log(0.12)) / 0.25
    z_axis = (f["qrs_axis"] - 45.0) / 30.0
    return 0.6 * z_age + 0.8 * z_pr + 0.7 * z_p - 0.6 * z_axis


def _censor(rng, event_time, event_rate, censoring):
    """Independent censoring times whose scale is tuned so that about ``event_rate`` are events."""
    n = event_time.shape[0]
    if event_rate >= 1.0:
        return np.full(n, np.inf)
    if censoring == "uniform":  # C ~ U(0, tau): P(event | T) = max(0, 1 - T / tau)

        def rate(log_tau):
            tau = np.exp(log_tau)
            return np.mean(np.clip(1.0 - event_time / tau, 0.0, None)) - event_rate
    else:  # C ~ Exp(mean tau): P(event | T) = exp(-T / tau)

        def rate(log_tau):
            return np.mean(np.exp(-event_time / np.exp(log_tau))) - event_rate

    lo, hi = np.log(event_time.min()) - 30.0, np.log(event_time.max()) + 30.0
    tau = np.exp(brentq(rate, lo, hi, xtol=1e-10))
    u = rng.random(n)
    return u * tau if censoring == "uniform" else -np.log1p(-u) * tau


def _waves(f, idx):
    """Per-component timing (s), width (s), amplitude (mV) and direction for the people ``idx``."""
    qrs = f["qrs_duration"][idx] / 1000.0
    qt = f["qt_interval"][idx] / 1000.0
    pr = f["pr_interval"][idx] / 1000.0
    r_amp = f["r_amplitude"][idx]
    axis = np.deg2rad(f["qrs_axis"][idx])
    t_axis = np.deg2rad(45.0 + 0.3 * (f["qrs_axis"][idx] - 45.0))
    n = idx.shape[0]
    ones = np.ones(n)
    dir_r = _unit(np.stack([np.cos(axis), np.sin(axis), 0.35 * ones], axis=1))
    dir_t = _unit(np.stack([np.cos(t_axis), np.sin(t_axis), -0.25 * ones], axis=1))
    t_end = -qrs / 2.0 + qt
    sigma_t = 0.11 * qt
    return {
        # name: (centre, width, amplitude, direction (n, 3))
        "P": (-qrs / 2.0 - pr + 0.05, 0.022 * ones, f["p_amplitude"][idx], np.broadcast_to(_DIR_P, (n, 3))),
        "Q": (-0.32 * qrs, 0.08 * qrs, 0.12 * r_amp, np.broadcast_to(_DIR_Q, (n, 3))),
        "R": (0.0 * ones, 0.11 * qrs, r_amp, dir_r),
        "S": (0.30 * qrs, 0.09 * qrs, 0.35 * r_amp, np.broadcast_to(_DIR_S, (n, 3))),
        "T": (t_end - 2.2 * sigma_t, sigma_t, f["t_amplitude"][idx], dir_t),
        "ST": (qrs / 2.0, t_end - 2.2 * sigma_t, f["st_deviation"][idx], np.broadcast_to(_DIR_ST, (n, 3))),
    }


def _dipole(f, idx, t, beats):
    """Dipole ``(len(idx), 3, n_t)`` at times ``t`` (s) for R peaks at ``beats`` (s, NaN = none)."""
    # float32 is ample for waveforms in mV and halves the cost of the (n, n_beats, n_t) grids.
    tau = (t[None, None, :] - np.nan_to_num(beats, nan=1e4)[:, :, None]).astype(np.float32)
    dipole = np.zeros((idx.shape[0], 3, t.shape[0]), dtype=np.float32)
    for name, (centre, width, amp, direction) in _waves(f, idx).items():
        c = centre.astype(np.float32)[:, None, None]
        w = width.astype(np.float32)[:, None, None]
        if name == "ST":  # plateau from the J point to the T peak (``width`` holds its end), smooth edges
            g = expit((tau - c) / np.float32(0.006)) * expit((w - tau) / np.float32(0.03))
        elif name == "T":  # slower rise than fall
            g = np.exp(np.float32(-0.5) * ((tau - c) / (w * np.where(tau < c, np.float32(1.25), np.float32(0.8)))) ** 2)
        else:
            g = np.exp(np.float32(-0.5) * ((tau - c) / w) ** 2)
        dipole += (amp[:, None] * direction).astype(np.float32)[:, :, None] * g.sum(axis=1)[:, None, :]
    return dipole


def _leads(independent, out):
    """Write twelve float32 leads from float32 I, II, V1-V6 into ``out`` (Einthoven/Goldberger exactly)."""
    lead_i, lead_ii = independent[:, 0], independent[:, 1]
    half = np.float32(0.5)
    out[:, :2] = independent[:, :2]
    out[:, 2] = lead_ii - lead_i
    out[:, 3] = -(lead_i + lead_ii) * half
    out[:, 4] = lead_i - lead_ii * half
    out[:, 5] = lead_ii - lead_i * half
    out[:, 6:] = independent[:, 2:]
    return out


def _beat_times(rng, rr, duration):
    """R-peak times (s) of a rhythm strip with 4 % beat-to-beat RR variability (NaN-padded)."""
    n = rr.shape[0]
    n_beats = int(np.ceil(duration / rr.min())) + 4
    intervals = rr[:, None] * np.clip(1.0 + 0.04 * rng.standard_normal((n, n_beats)), 0.8, 1.2)
    first = rng.uniform(0.0, 1.0, n) * rr - rr  # one beat before the strip so that it starts mid-cycle
    beats = first[:, None] + np.cumsum(intervals, axis=1) - intervals[:, :1]
    beats[beats > duration + 1.0] = np.nan
    return beats


def _signals(rng, f, *, kind, fs, n_timesteps, noise):
    n = f["age"].shape[0]
    rr = f["rr_interval"] / 1000.0
    if kind == "median":
        window = int(round(1.2 * fs))
        if n_timesteps < window:
            raise ValueError(
                f"n_timesteps={n_timesteps} is shorter than the {window}-sample median-beat window at fs={fs}; "
                f"pass n_timesteps >= {window}."
            )
        t = (np.arange(window) - window // 2) / fs
        beats = rr[:, None] * np.arange(-2, 3)[None, :]  # the neighbours reach into the window at high rates
        chunk = 1024
    else:
        window = n_timesteps
        t = np.arange(window) / fs
        beats = _beat_times(rng, rr, window / fs)
        chunk = 64
    independent = np.empty((n, 8, window), dtype=np.float32)
    for start in range(0, n, chunk):
        idx = np.arange(start, min(start + chunk, n))
        dipole = _dipole(f, idx, t, beats[idx])
        independent[idx] = np.einsum("lk,nkt->nlt", _DOWER.astype(np.float32), dipole)
    noise = (0.005 if kind == "median" else 0.02) if noise is None else noise
    if noise > 0:
        independent += np.float32(noise) * rng.standard_normal(independent.shape, dtype=np.float32)
    if kind == "rhythm":  # baseline wander (0.1-0.4 Hz) and 50 Hz mains on every electrode
        freq = rng.uniform(0.1, 0.4, (n, 8, 1))
        phase = rng.uniform(0.0, 2 * np.pi, (n, 8, 2))
        wander = rng.uniform(0.0, 0.1, (n, 8, 1)) * np.sin(2 * np.pi * freq * t + phase[..., :1])
        mains = rng.uniform(0.0, 0.01, (n, 8, 1)) * np.sin(2 * np.pi * 50.0 * t + phase[..., 1:])
        independent += (wander + mains).astype(np.float32)
    left = (n_timesteps - window) // 2
    X = np.zeros((n, 12, n_timesteps), dtype=np.float32)
    _leads(independent, X[:, :, left : left + window])
    peaks = None
    if kind == "rhythm":
        samples = np.round(beats * fs)
        peaks = [s[np.isfinite(s) & (s >= 0) & (s < window)].astype(np.int64) for s in samples]
    return X, peaks


def make_ecg_survival(
    n_samples=500,
    *,
    n_timesteps=None,
    fs=500,
    kind="median",
    event_rate=0.2,
    censoring="uniform",
    noise=None,
    competing_risks=False,
    random_state=None,
):
    r"""Generate synthetic 12-lead ECGs with survival times from a known hazard.

    Every person gets clinical (age, sex) and waveform parameters (heart rate, PR, QRS duration,
    QT with Bazett's rate dependence, ST deviation, T amplitude, QRS axis, R and P amplitudes).
    Each heartbeat is a cardiac dipole in Frank XYZ space: Gaussian P, Q, R, S components, an
    asymmetric Gaussian T and a smooth ST plateau from the J point to the T peak, each with its
    own direction (the R direction follows the QRS axis in the frontal plane). The dipole is
    projected on Dower's lead vectors for I, II and V1-V6, and III = II - I,
    aVR = -(I + II) / 2, aVL = I - II / 2, aVF = II - I / 2 are derived, so these relations hold
    exactly (to float32 rounding), noise included.

    Survival times follow a Cox model with a Weibull baseline,
    :math:`h(t \mid x) = h_0(t) \exp(\eta(x))` with :math:`H_0(t) = (t / 10)^{1.5}` (years), and

    .. math::

        \eta = 0.4 z_{age} - 0.3\,\mathrm{female} + 0.8 z_{hr} + 0.9 z_{qrs} - 0.9 z_{T}
               - 0.6 z_{ST} + 0.5 |z_{ST}| + 0.5 z_{QTc} + 0.8 \max(z_{QTc} - 1, 0)

    where :math:`z_{age} = (\mathrm{age} - 62)/13`, :math:`z_{hr} = (\mathrm{HR} - 70)/12`,
    :math:`z_{qrs} = (\mathrm{QRS} - 95)/15` (ms), :math:`z_T = (T_{amp} - 0.35)/0.15` (mV),
    :math:`z_{ST} = \mathrm{ST}/0.07` (mV) and :math:`z_{QTc} = (\mathrm{QTc} - 415)/25` (ms).
    Tachycardia, a wide QRS, a flat or inverted T, ST deviation (depression more than elevation)
    and a long QTc raise the risk. Censoring is independent of everything else; its scale is
    solved so that the expected event fraction equals ``event_rate``.

    With ``competing_risks=True`` a second, competing cause (think non-cardiac death) acts
    independently with the same Weibull baseline and a log-hazard of other waveform features,

    .. math::

        \eta_2 = 0.6 z_{age} + 0.8 z_{PR} + 0.7 z_{P} - 0.6 z_{axis}

    with :math:`z_{PR} = (\mathrm{PR} - 160)/20` (ms),
    :math:`z_P = \log(P_{amp} / 0.12)/0.25` and :math:`z_{axis} = (\mathrm{axis} - 45)/30`
    (degrees): a long PR, a large P wave and a leftward axis. Each person's event is the earlier
    of the two; ``event_rate`` is then the fraction with either event.

    Parameters
    ----------
    n_samples : int, default=500
        Number of people.
    n_timesteps : int or None, default=None
        Signal length. ``None`` gives ``round(1.2 * fs) + 8`` for ``kind="median"`` (608 at 500 Hz:
        the 600-sample beat centre zero-padded by 4 + 4, as the PTB-XL+ median beats of the
        original study) and ``10 * fs`` for ``kind="rhythm"`` (5000 at 500 Hz).
    fs : float, default=500
        Sampling frequency in Hz.
    kind : {"median", "rhythm"}, default="median"
        ``"median"``: one beat with its R peak at the centre of a 1.2-s window (sample 304 of 608
        at 500 Hz), neighbouring beats reaching in at high heart rates, little noise.
        ``"rhythm"``: a strip with beats at the heart rate (4 % RR variability), white noise,
        baseline wander and 50 Hz mains.
    event_rate : float, default=0.2
        Expected fraction of observed events, in (0, 1]; 1 means no censoring.
    censoring : {"uniform", "exponential"}, default="uniform"
        Distribution of the censoring times, ``U(0, tau)`` or exponential with mean ``tau``.
    noise : float or None, default=None
        Standard deviation (mV) of the white noise on each electrode signal; ``None`` gives
        0.005 for ``"median"`` and 0.02 for ``"rhythm"``.
    competing_risks : bool, default=False
        Add the competing cause above. ``y`` then holds cause codes (see Returns), the form
        :class:`sksurv_ecg.competing.CauseSpecificHazards` takes.
    random_state : int, numpy.random.Generator or None, default=None
        Seed of :func:`numpy.random.default_rng`; an int gives identical output on every call.

    Returns
    -------
    X : ndarray of shape (n_samples, 12, n_timesteps), dtype float32
        Signals in mV, leads I, II, III, aVR, aVL, aVF, V1-V6.
    y : structured array of shape (n_samples,)
        Fields ``"event"`` (bool) and ``"time"`` (years), from :meth:`sksurv.util.Surv.from_arrays`.
        With ``competing_risks=True``, ``"event"`` is an int64 cause code: 0 censored, 1 the
        waveform hazard above, 2 the competing cause
        (:func:`sksurv_ecg.competing.competing_risks_y`).
    frame : pandas.DataFrame of shape (n_samples, n_columns)
        The true parameters: ``age``, ``sex`` (0 = male, 1 = female), ``heart_rate`` (bpm),
        ``rr_interval``, ``pr_interval``, ``qrs_duration``, ``qt_interval``, ``qtc`` (ms),
        ``st_deviation``, ``t_amplitude``, ``r_amplitude``, ``p_amplitude`` (mV), ``qrs_axis``
        (degrees), the true ``log_hazard``, ``event_time`` and ``censoring_time``; for
        ``kind="rhythm"`` also ``r_peaks`` (sample indices of the R peaks in the strip); with
        ``competing_risks=True`` also ``log_hazard_2`` and ``event_time_2`` of the competing cause
        (``event_time`` stays the time of cause 1).

    Examples
    --------
    >>> from sksurv_ecg.datasets import make_ecg_survival
    >>> X, y, frame = make_ecg_survival(200, random_state=0)
    >>> X.shape, y.dtype.names
    ((200, 12, 608), ('event', 'time'))
    >>> bool(abs(X[:, 2] - (X[:, 1] - X[:, 0])).max() < 1e-6)  # III = II - I
    True
    >>> round(float(y["event"].mean()), 1)
    0.2
    >>> make_ecg_survival(2, kind="rhythm", random_state=0)[0].shape
    (2, 12, 5000)
    >>> _, y2, _ = make_ecg_survival(300, competing_risks=True, random_state=0)
    >>> sorted(set(y2["event"].tolist()))
    [0, 1, 2]
    """
    _check_params(n_samples, n_timesteps, fs, kind, event_rate, censoring, noise)
    if not isinstance(competing_risks, bool | np.bool_):
        raise ValueError(f"competing_risks={competing_risks!r} must be True or False.")
    if n_timesteps is None:
        n_timesteps = int(round(1.2 * fs)) + 8 if kind == "median" else int(round(10 * fs))
    rng = np.random.default_rng(random_state)
    f = _draw_features(rng, n_samples)
    log_hazard = _log_hazard(f)
    event_time = _WEIBULL_SCALE * (rng.standard_exponential(n_samples) * np.exp(-log_hazard)) ** (1.0 / _WEIBULL_SHAPE)
    first_time = event_time
    if competing_risks:
        log_hazard_2 = _log_hazard_competing(f)
        event_time_2 = _WEIBULL_SCALE * (rng.standard_exponential(n_samples) * np.exp(-log_hazard_2)) ** (
            1.0 / _WEIBULL_SHAPE
        )
        first_time = np.minimum(event_time, event_time_2)
    censoring_time = _censor(rng, first_time, event_rate, censoring)
    X, peaks = _signals(rng, f, kind=kind, fs=fs, n_timesteps=n_timesteps, noise=noise)
    event = first_time <= censoring_time
    time = np.minimum(first_time, censoring_time)
    if competing_risks:
        y = competing_risks_y(np.where(event, np.where(event_time <= event_time_2, 1, 2), 0), time)
    else:
        y = Surv.from_arrays(event=event, time=time)
    frame = pd.DataFrame(f)
    frame["log_hazard"] = log_hazard
    frame["event_time"] = event_time
    if competing_risks:
        frame["log_hazard_2"] = log_hazard_2
        frame["event_time_2"] = event_time_2
    frame["censoring_time"] = censoring_time
    if peaks is not None:
        frame["r_peaks"] = pd.Series(peaks, dtype=object)
    return X, y, frame
