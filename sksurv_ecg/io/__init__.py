"""Reading 12-lead ECGs from files into ``(n_samples, n_leads, n_timesteps)`` arrays in mV.

One module per format (``_wfdb``, ``_dicom``, ``_cardiosoft``, ``_muse``, ``_sierra``);
:func:`read_ecg` recognises the format from each file's content and returns the signals, a frame of
what the files say and, on request, the device's median beats. :func:`read_wfdb` and
:class:`WFDBReader` read WFDB records with the strict checks of a research data set;
:func:`to_memmap` writes any of them, resumably, into a memory-mapped ``.npy``.
"""

import warnings

from ..conventions import LEAD_NAMES as _LEAD_NAMES
from ..exceptions import user_stacklevel
from ._memmap import to_memmap
from ._read import ECGReader, align_median_beat, read_ecg, sniff_format
from ._wfdb import WFDBReader, read_wfdb

__all__ = [
    "ECGReader",
    "WFDBReader",
    "align_median_beat",
    "read_ecg",
    "read_wfdb",
    "sniff_format",
    "to_memmap",
]


def __getattr__(name: str) -> tuple[str, ...]:
    """Deprecated names of this package (PEP 562): ``STANDARD_LEADS`` moved to :mod:`sksurv_ecg.conventions`."""
    if name == "STANDARD_LEADS":
        warnings.warn(
            "sksurv_ecg.io.STANDARD_LEADS is deprecated and will be removed in sksurv-ecg 0.3; "
            "use sksurv_ecg.conventions.LEAD_NAMES.",
            FutureWarning,
            stacklevel=user_stacklevel(),
        )
        return _LEAD_NAMES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
