"""Exceptions and warnings raised by sksurv-ecg.

Every exception and warning class of the package lives here. Domain errors subclass the built-in
exception a caller would already catch (``ValueError``), in the way scikit-survival's
``NoComparablePairException`` does; warnings subclass ``UserWarning`` so that they can be filtered
as a family.
"""

from skorch.exceptions import DeviceWarning as _SkorchDeviceWarning

__all__ = [
    "AdditivityWarning",
    "BootstrapWarning",
    "CacheWarning",
    "CalibrationWarning",
    "DeviceWarning",
    "ECGFileError",
    "ECGReadWarning",
    "InsufficientEventsError",
    "LeadOrderWarning",
    "SignalQualityWarning",
    "SksurvECGWarning",
    "TrainingWarning",
    "UnknownCodeWarning",
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

    Raised by :func:`sksurv_ecg.utils.validation.check_lead_order` only when another order (or
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


class CalibrationWarning(SksurvECGWarning):
    """Issued when absolute risks cannot be estimated as asked: too few events to calibrate, a horizon too late.

    Examples
    --------
    >>> from sksurv_ecg.exceptions import CalibrationWarning, SksurvECGWarning
    >>> issubclass(CalibrationWarning, SksurvECGWarning)
    True
    """
