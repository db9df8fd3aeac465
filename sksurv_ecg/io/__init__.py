"""Reading 12-lead ECGs from files into ``(n_samples, n_leads, n_timesteps)`` arrays in mV.

One module per format (``_wfdb``, ``_dicom``, ``_cardiosoft``, ``_muse``, ``_sierra``);
:func:`read_ecg` recognises the format from each file's content and returns the signals, a frame of
what the files say and, on request, the device's median beats. :func:`read_wfdb` and
:class:`WFDBReader` read WFDB records with the strict checks of a research data set;
:func:`to_memmap` writes any of them, resumably, into a memory-mapped ``.npy``.
"""

from ._memmap import to_memmap
from ._read import ECGReader, align_median_beat, read_ecg, sniff_format
from ._wfdb import STANDARD_LEADS, WFDBReader, read_wfdb

__all__ = [
    "STANDARD_LEADS",
    "ECGReader",
    "WFDBReader",
    "align_median_beat",
    "read_ecg",
    "read_wfdb",
    "sniff_format",
    "to_memmap",
]
