"""sksurv-ecg: a deep dual-attention ECG survival model as native scikit-survival estimators.

The estimators follow scikit-learn's API and take ECGs as arrays of shape
``(n_samples, n_leads, n_timesteps)`` (leads I, II, III, aVR, aVL, aVF, V1-V6) and survival
outcomes as scikit-survival structured arrays.
"""

__version__ = "0.1.0"

from ._base import load
from .biomarkers import ECGBiomarkers
from .embedding import ECGEmbedder, TextAlignedPretrainer
from .exceptions import DeviceWarning, InsufficientEventsError, SksurvECGWarning, TrainingWarning
from .survival import ECGSurvivalAnalysis
from .text import ReportEmbedder

__all__ = [
    "DeviceWarning",
    "ECGBiomarkers",
    "ECGEmbedder",
    "ECGSurvivalAnalysis",
    "InsufficientEventsError",
    "ReportEmbedder",
    "SksurvECGWarning",
    "TextAlignedPretrainer",
    "TrainingWarning",
    "__version__",
    "load",
]
