"""Data sets: real example ECG files of each vendor format, PTB-XL (a local download and the bundled
metadata) and a synthetic 12-lead ECG survival cohort with a known hazard."""

from ._examples import load_ecg_examples
from ._ptbxl import load_ptbxl, load_ptbxl_metadata, load_scp_statements, ptbxl_records
from ._synthetic import make_ecg_survival

__all__ = [
    "load_ecg_examples",
    "load_ptbxl",
    "load_ptbxl_metadata",
    "load_scp_statements",
    "make_ecg_survival",
    "ptbxl_records",
]
