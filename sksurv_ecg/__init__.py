"""A deep dual-attention ECG survival model as native scikit-survival estimators.

sksurv-ecg implements the model of Chen et al. (IEEE Trans. Big Data 2024). The estimators follow
scikit-learn's API and take ECGs as arrays of shape ``(n_samples, n_leads, n_timesteps)`` (leads I,
II, III, aVR, aVL, aVF, V1-V6) and survival outcomes as scikit-survival structured arrays. The
warning and error classes of :mod:`sksurv_ecg.exceptions` are importable from here too.
"""

import warnings

from ._persistence import load_estimator
from ._version import __version__
from .biomarkers import ECGBiomarkers
from .calibration import CalibratedSurvivalEstimator
from .embedding import ECGEmbedder, TextAlignedPretrainer
from .exceptions import (
    AdditivityWarning,
    BootstrapWarning,
    CacheWarning,
    CalibrationWarning,
    DeviceWarning,
    ECGFileError,
    ECGReadWarning,
    InsufficientEventsError,
    LeadOrderWarning,
    SignalQualityWarning,
    SksurvECGWarning,
    TrainingWarning,
    UnknownCodeWarning,
)
from .survival import ECGSurvivalAnalysis
from .text import ReportEmbedder

__all__ = [
    "AdditivityWarning",
    "BootstrapWarning",
    "CacheWarning",
    "CalibratedSurvivalEstimator",
    "CalibrationWarning",
    "DeviceWarning",
    "ECGBiomarkers",
    "ECGEmbedder",
    "ECGFileError",
    "ECGReadWarning",
    "ECGSurvivalAnalysis",
    "InsufficientEventsError",
    "LeadOrderWarning",
    "ReportEmbedder",
    "SignalQualityWarning",
    "SksurvECGWarning",
    "TextAlignedPretrainer",
    "TrainingWarning",
    "UnknownCodeWarning",
    "__version__",
    "load_estimator",
]


def load(path, *, device="cpu"):
    """Deprecated name of :func:`load_estimator`; emits a ``FutureWarning``.

    Parameters
    ----------
    path : str or path-like
        Directory written by ``save``.
    device : str, default="cpu"
        Device to place the model on.

    Returns
    -------
    estimator : ECGEmbedder, TextAlignedPretrainer or ECGSurvivalAnalysis
        The fitted estimator.
    """
    warnings.warn(
        "sksurv_ecg.load is deprecated and will be removed in sksurv-ecg 0.3; use sksurv_ecg.load_estimator.",
        FutureWarning,
        stacklevel=2,
    )
    return load_estimator(path, device=device)
