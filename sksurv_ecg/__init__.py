"""sksurv-ecg: a deep dual-attention ECG survival model as native scikit-survival estimators.

The public API is re-exported here; see ``__all__``.
"""

from .exceptions import DeviceWarning, InsufficientEventsError, SksurvECGWarning, TrainingWarning

__version__ = "0.1.0"

__all__ = [
    "DeviceWarning",
    "InsufficientEventsError",
    "SksurvECGWarning",
    "TrainingWarning",
    "__version__",
]
