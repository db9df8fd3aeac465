"""Exceptions and warnings raised by sksurv-ecg.

Domain errors subclass the built-in exception a caller would already catch (``ValueError``), in the
way scikit-survival's ``NoComparablePairException`` does; warnings subclass ``UserWarning`` so that
they can be filtered as a family.
"""

__all__ = [
    "DeviceWarning",
    "InsufficientEventsError",
    "LeadOrderWarning",
    "SignalQualityWarning",
    "SksurvECGWarning",
    "TrainingWarning",
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


class DeviceWarning(SksurvECGWarning):
    """Issued when the requested device is unavailable and another one is used instead.

    Examples
    --------
    >>> from sksurv_ecg.exceptions import DeviceWarning, SksurvECGWarning
    >>> issubclass(DeviceWarning, SksurvECGWarning)
    True
    """


class TrainingWarning(SksurvECGWarning):
    """Issued when training had to adapt (a batch size clipped, a batch skipped).

    Examples
    --------
    >>> from sksurv_ecg.exceptions import TrainingWarning, SksurvECGWarning
    >>> issubclass(TrainingWarning, SksurvECGWarning)
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
