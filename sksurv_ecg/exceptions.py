"""Exceptions and warnings raised by sksurv-ecg.

Every exception and warning class of the package lives here. Domain errors subclass the built-in
exception a caller would already catch (``ValueError``), in the way scikit-survival's
``NoComparablePairException`` does; warnings subclass ``UserWarning`` so that they can be filtered
as a family.
"""

from skorch.exceptions import DeviceWarning as _SkorchDeviceWarning

__all__ = [
    "CacheWarning",
    "DeviceWarning",
    "InsufficientEventsError",
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


class CacheWarning(SksurvECGWarning):
    """Issued when a file of the on-disk embedding cache cannot be read and is skipped.

    Examples
    --------
    >>> from sksurv_ecg.exceptions import CacheWarning, SksurvECGWarning
    >>> issubclass(CacheWarning, SksurvECGWarning)
    True
    """
