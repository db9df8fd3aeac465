"""Exceptions and warnings raised by sksurv-ecg.

Domain errors subclass the built-in exception a caller would already catch (``ValueError``), in the
way scikit-survival's ``NoComparablePairException`` does; warnings subclass ``UserWarning`` so that
they can be filtered as a family.
"""

__all__ = [
    "AdditivityWarning",
    "BootstrapWarning",
    "DeviceWarning",
    "InsufficientEventsError",
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
