"""Exceptions and warnings raised by sksurv-ecg.

Every exception and warning class of the package lives here. Domain errors subclass the built-in
exception a caller would already catch (``ValueError``), in the way scikit-survival's
``NoComparablePairException`` does; warnings subclass ``UserWarning`` so that they can be filtered
as a family. :func:`user_stacklevel` gives every warning of the package the ``stacklevel`` that points
it at the user's line.
"""

import os
import pickle
import sys

from skorch.exceptions import DeviceWarning as _SkorchDeviceWarning

__all__ = [
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
    "user_stacklevel",
]


class InsufficientEventsError(ValueError):
    """Raised when the events cannot be spread so that every batch holds enough of them.

    The Cox partial likelihood of a batch without events is undefined, so event-stratified batching
    refuses data that would leave a batch short of ``min_events_per_batch`` events.

    Examples
    --------
    >>> from sksurv_ecg.exceptions import InsufficientEventsError
    >>> issubclass(InsufficientEventsError, ValueError)
    True
    """


class SksurvECGWarning(UserWarning):
    """Base class of all warnings issued by sksurv-ecg.

    Examples
    --------
    >>> import warnings
    >>> from sksurv_ecg.exceptions import SksurvECGWarning
    >>> warnings.simplefilter("ignore", SksurvECGWarning)
    """


class DeviceWarning(SksurvECGWarning, _SkorchDeviceWarning):
    """Issued when the requested device is unavailable and another one is used instead.

    It also subclasses :class:`skorch.exceptions.DeviceWarning`, so one filter on skorch's class
    catches the device warnings of both packages.

    Examples
    --------
    >>> from skorch.exceptions import DeviceWarning as SkorchDeviceWarning
    >>> from sksurv_ecg.exceptions import DeviceWarning, SksurvECGWarning
    >>> issubclass(DeviceWarning, SksurvECGWarning), issubclass(DeviceWarning, SkorchDeviceWarning)
    (True, True)
    """


class TrainingWarning(SksurvECGWarning):
    """Issued when training had to adapt (a batch size clipped, a batch skipped).

    Examples
    --------
    >>> from sksurv_ecg.exceptions import TrainingWarning, SksurvECGWarning
    >>> issubclass(TrainingWarning, SksurvECGWarning)
    True
    """


class UnknownCodeWarning(SksurvECGWarning):
    """Issued when ``unknown="ignore"`` drops SCP codes missing from the statements table.

    Examples
    --------
    >>> from sksurv_ecg.exceptions import SksurvECGWarning, UnknownCodeWarning
    >>> issubclass(UnknownCodeWarning, SksurvECGWarning)
    True
    """


class LeadOrderWarning(SksurvECGWarning):
    """Issued when the limb leads break Einthoven's and Goldberger's relations in the given order.

    Raised by :func:`sksurv_ecg.conventions.check_lead_order` only when another order (or
    sign) of the six limb leads satisfies the relations, so the message can name the likely fix.

    Examples
    --------
    >>> from sksurv_ecg.exceptions import LeadOrderWarning, SksurvECGWarning
    >>> issubclass(LeadOrderWarning, SksurvECGWarning)
    True
    """


class ECGFileError(ValueError):
    """Raised when an ECG file cannot be read: truncated, not an ECG, leads missing, unsupported.

    The message names the file, what is wrong with it and what to do.

    Examples
    --------
    >>> from sksurv_ecg.exceptions import ECGFileError
    >>> issubclass(ECGFileError, ValueError)
    True
    """


class CacheWarning(SksurvECGWarning):
    """Issued when a file of the on-disk embedding cache cannot be read and is skipped.

    Examples
    --------
    >>> from sksurv_ecg.exceptions import CacheWarning, SksurvECGWarning
    >>> issubclass(CacheWarning, SksurvECGWarning)
    True
    """


class ECGReadWarning(SksurvECGWarning):
    """Issued once per call when ``errors="warn"`` skipped unreadable ECG files.

    Examples
    --------
    >>> from sksurv_ecg.exceptions import ECGReadWarning, SksurvECGWarning
    >>> issubclass(ECGReadWarning, SksurvECGWarning)
    True
    """


class SignalQualityWarning(SksurvECGWarning):
    """Issued when some signals could not be processed as asked, and the caller chose to go on.

    For example :class:`~sksurv_ecg.preprocessing.MedianBeat` with ``errors="warn"`` on records
    without detectable beats, or :class:`~sksurv_ecg.biomarkers.ECGBiomarkers` on median beats whose
    QRS is not at the expected sample.

    Examples
    --------
    >>> from sksurv_ecg.exceptions import SignalQualityWarning, SksurvECGWarning
    >>> issubclass(SignalQualityWarning, SksurvECGWarning)
    True
    """


class BootstrapWarning(SksurvECGWarning):
    """Issued when some bootstrap resamples had an undefined metric (no event, no comparable pair).

    They are counted in the result's ``n_invalid`` and the interval uses the other resamples.

    Examples
    --------
    >>> from sksurv_ecg.exceptions import BootstrapWarning, SksurvECGWarning
    >>> issubclass(BootstrapWarning, SksurvECGWarning)
    True
    """


class AdditivityWarning(SksurvECGWarning):
    """Issued when SHAP attributions do not add up to the model output within the tolerance.

    The additivity residual is returned with the attributions; more samples reduce it.

    Examples
    --------
    >>> from sksurv_ecg.exceptions import AdditivityWarning, SksurvECGWarning
    >>> issubclass(AdditivityWarning, SksurvECGWarning)
    True
    """


class UnsafePathError(ValueError):
    """Raised when a served listing names a path that would land outside the download folder.

    A checksum list line, a file name read from a downloaded table or a zip member must be a
    relative POSIX path below the release folder: no ``..`` or empty component, not absolute, no
    drive letter, backslash or NUL byte, and no symbolic link on the way that leads outside. The
    entry is refused before any byte is written; the message names it and the server.

    Examples
    --------
    >>> from sksurv_ecg.exceptions import UnsafePathError
    >>> issubclass(UnsafePathError, ValueError)
    True
    """


class HorizonWarning(SksurvECGWarning):
    """Issued when a prediction horizon lies past the last event time seen in training.

    The model has no information there, so the prediction at that horizon is NaN rather than an
    extrapolation; choose an earlier horizon.

    Examples
    --------
    >>> from sksurv_ecg.exceptions import HorizonWarning, SksurvECGWarning
    >>> issubclass(HorizonWarning, SksurvECGWarning)
    True
    """


class DamagedFileError(ValueError):
    """Raised when a saved estimator or a checkpoint is damaged, incomplete or not one at all.

    A cut or edited ``config.json``, weights that are not safetensors (a pickle, a torch archive,
    a file cut short), a directory where a file should be: the message names the file and says it
    is "damaged or not a saved estimator" (or "... not a checkpoint"); the error that revealed the
    damage is chained as ``__cause__``. A path that does not exist still raises
    ``FileNotFoundError``.

    Examples
    --------
    >>> from sksurv_ecg.exceptions import DamagedFileError
    >>> issubclass(DamagedFileError, ValueError)
    True
    """


class UnsafeCheckpointError(DamagedFileError, pickle.UnpicklingError):
    """Raised when a checkpoint's pickle references code outside the allow-list; nothing is executed.

    It is a :class:`DamagedFileError` (so a ``ValueError``) and a ``pickle.UnpicklingError``, the
    error ``torch.load(weights_only=True)`` raises for the same file.

    Examples
    --------
    >>> import pickle
    >>> from sksurv_ecg.exceptions import UnsafeCheckpointError
    >>> issubclass(UnsafeCheckpointError, ValueError), issubclass(UnsafeCheckpointError, pickle.UnpicklingError)
    (True, True)
    """


class ECGPlausibilityWarning(SksurvECGWarning):
    """Issued when ECGs look implausible for what they were declared to be.

    For example :class:`~sksurv_ecg.preprocessing.MedianBeat` finding QRS complexes far too wide or
    too narrow for the sampling rate it was given (the likely rate is named), or a cohort whose
    precordial leads V1 and V6 look exchanged. Checks that cannot be wrong for a real ECG raise
    instead.

    Examples
    --------
    >>> from sksurv_ecg.exceptions import ECGPlausibilityWarning, SksurvECGWarning
    >>> issubclass(ECGPlausibilityWarning, SksurvECGWarning)
    True
    """


def _package_dirs() -> tuple[str, ...]:
    import sklearn
    import skorch

    # sksurv_ecg/ is this file's folder; importing the package to ask would be a cycle.
    return tuple(os.path.dirname(path) + os.sep for path in (__file__, sklearn.__file__, skorch.__file__))


def user_stacklevel() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside sksurv-ecg, scikit-learn and skorch.

    Counted from the caller of this function, as :func:`warnings.warn` counts from its caller: call
    it in the function that issues (or passes on) the warning. ``fit`` is reached through
    scikit-learn's decorators and from ``Pipeline`` or ``cross_validate``, and the training callbacks
    from skorch's loop, so a fixed number would point at library code in one of these paths. Every
    warning of the package takes its ``stacklevel`` from here, except where the helper cannot see
    the user's frame (a dataclass's generated ``__init__``) or cannot be imported (the lazy
    package ``__init__`` and ``nn/``, which must not load skorch).

    Returns
    -------
    stacklevel : int
        1 for the caller itself, 2 for its caller, and so on.

    Examples
    --------
    >>> from sksurv_ecg.exceptions import user_stacklevel
    >>> user_stacklevel()  # called from user code: the caller itself
    1
    """
    prefixes = _package_dirs()
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_code.co_filename.startswith(prefixes):
        frame, level = frame.f_back, level + 1
    return level


class CalibrationWarning(SksurvECGWarning):
    """Issued when absolute risks cannot be estimated as asked: too few events to calibrate, a horizon too late.

    Examples
    --------
    >>> from sksurv_ecg.exceptions import CalibrationWarning, SksurvECGWarning
    >>> issubclass(CalibrationWarning, SksurvECGWarning)
    True
    """
