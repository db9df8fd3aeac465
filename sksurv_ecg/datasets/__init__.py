"""Data sets: PTB-XL loaders (full local download, bundled real sample, bundled metadata) and a
synthetic 12-lead ECG survival cohort with a known hazard."""

# Downloads from PhysioNet (fetch_*), checksummed and resumable.
from ._base import get_download_home
from ._fetch import ChecksumMismatchError, fetch_ptbxl, fetch_ptbxl_plus
from ._ptbxl import load_ptbxl, load_ptbxl_metadata, load_ptbxl_sample, load_scp_statements
from ._synthetic import make_ecg_survival

__all__ = [
    "ChecksumMismatchError",
    "fetch_ptbxl",
    "fetch_ptbxl_plus",
    "get_download_home",
    "load_ptbxl",
    "load_ptbxl_metadata",
    "load_ptbxl_sample",
    "load_scp_statements",
    "make_ecg_survival",
]
