"""A deep dual-attention ECG survival model as native scikit-survival estimators.

sksurv-ecg implements the model of Chen et al. (IEEE Trans. Big Data 2024). The estimators follow
scikit-learn's API and take ECGs as arrays of shape ``(n_samples, n_leads, n_timesteps)`` (leads I,
II, III, aVR, aVL, aVF, V1-V6) and survival outcomes as scikit-survival structured arrays. The
warning and error classes of :mod:`sksurv_ecg.exceptions` are importable from here too.

The names below are imported on first use (PEP 562), so that ``import sksurv_ecg`` and the
``sksurv-ecg --help`` command do not load torch, scikit-learn and skorch.
"""

import importlib
import warnings
from typing import TYPE_CHECKING

from ._version import __version__

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time __getattr__ imports these on first use
    from ._persistence import load_estimator
    from .biomarkers import ECGBiomarkers
    from .calibration import CalibratedSurvivalEstimator
    from .embedding import ECGEmbedder, TextAlignedPretrainer
    from .exceptions import (
        AdditivityWarning,
        BootstrapWarning,
        CacheWarning,
        CalibrationWarning,
        DamagedFileError,
        DeviceWarning,
        ECGFileError,
        ECGPlausibilityWarning,
        ECGReadWarning,
        HorizonWarning,
        InsufficientEventsError,
        LeadOrderWarning,
        SignalQualityWarning,
        SksurvECGWarning,
        TrainingWarning,
        UnknownCodeWarning,
        UnsafeCheckpointError,
        UnsafePathError,
    )
    from .survival import ECGSurvivalAnalysis
    from .text import ReportEmbedder

__all__ = [
    "AdditivityWarning",
    "BootstrapWarning",
    "CacheWarning",
    "CalibratedSurvivalEstimator",
    "CalibrationWarning",
    "DamagedFileError",
    "DeviceWarning",
    "ECGBiomarkers",
    "ECGEmbedder",
    "ECGFileError",
    "ECGPlausibilityWarning",
    "ECGReadWarning",
    "ECGSurvivalAnalysis",
    "HorizonWarning",
    "InsufficientEventsError",
    "LeadOrderWarning",
    "ReportEmbedder",
    "SignalQualityWarning",
    "SksurvECGWarning",
    "TextAlignedPretrainer",
    "TrainingWarning",
    "UnknownCodeWarning",
    "UnsafeCheckpointError",
    "UnsafePathError",
    "load_estimator",
    "__version__",
]

# Public name -> the module that defines it.
_EXPORTS = {
    "load_estimator": "_persistence",
    "ECGBiomarkers": "biomarkers",
    "CalibratedSurvivalEstimator": "calibration",
    "ECGEmbedder": "embedding",
    "TextAlignedPretrainer": "embedding",
    "ECGSurvivalAnalysis": "survival",
    "ReportEmbedder": "text",
    **dict.fromkeys(
        (
            "AdditivityWarning",
            "BootstrapWarning",
            "CacheWarning",
            "CalibrationWarning",
            "DamagedFileError",
            "DeviceWarning",
            "ECGFileError",
            "ECGPlausibilityWarning",
            "ECGReadWarning",
            "HorizonWarning",
            "InsufficientEventsError",
            "LeadOrderWarning",
            "SignalQualityWarning",
            "SksurvECGWarning",
            "TrainingWarning",
            "UnknownCodeWarning",
            "UnsafeCheckpointError",
            "UnsafePathError",
        ),
        "exceptions",
    ),
}

# Subpackages and public modules reachable as attributes (``sksurv_ecg.datasets``) after a plain
# ``import sksurv_ecg``, as they were when the package imported everything up front.
_SUBMODULES = {
    "biomarkers",
    "calibration",
    "competing",
    "conventions",
    "datasets",
    "distributed",
    "embedding",
    "exceptions",
    "explain",
    "io",
    "losses",
    "metrics",
    "nn",
    "plotting",
    "preprocessing",
    "sampling",
    "survival",
    "text",
    "utils",
}


def __getattr__(name):
    """Import a public name or submodule on first access (PEP 562)."""
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__():
    """The module's names, those not imported yet included."""
    return sorted(set(globals()) | set(__all__) | _SUBMODULES)


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
        # Called by the user directly; the helper lives in sksurv_ecg.exceptions, which loads skorch.
        stacklevel=2,
    )
    from ._persistence import load_estimator

    return load_estimator(path, device=device)
