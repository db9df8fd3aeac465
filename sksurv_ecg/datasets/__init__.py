"""Data sets: real example ECG files of each vendor format, PTB-XL (PhysioNet downloads, a local
download, the bundled metadata) and a synthetic 12-lead ECG survival cohort with a known hazard."""

# Downloads from PhysioNet and Zenodo (fetch_*), checksummed and resumable.
from ._base import get_download_home
from ._cohorts import load_code15, load_mimic_iv_ecg, load_samitrop
from ._examples import load_ecg_examples
from ._fetch import (
    ChecksumMismatchError,
    fetch_code15,
    fetch_mimic_iv_ecg,
    fetch_ptbxl,
    fetch_ptbxl_plus,
    fetch_samitrop,
)
from ._ptbxl import load_ptbxl, load_ptbxl_metadata, load_scp_statements, ptbxl_records, read_ptbxl_database
from ._synthetic import make_ecg_survival

__all__ = [
    "ChecksumMismatchError",
    "fetch_code15",
    "fetch_mimic_iv_ecg",
    "fetch_ptbxl",
    "fetch_ptbxl_plus",
    "fetch_samitrop",
    "get_download_home",
    "load_code15",
    "load_ecg_examples",
    "load_mimic_iv_ecg",
    "load_ptbxl",
    "load_ptbxl_metadata",
    "load_samitrop",
    "load_scp_statements",
    "make_ecg_survival",
    "ptbxl_records",
    "read_ptbxl_database",
]
