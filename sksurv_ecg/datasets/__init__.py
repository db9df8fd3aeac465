"""Data sets: PTB-XL loaders (full local download, bundled real sample, bundled metadata) and a
synthetic 12-lead ECG survival cohort with a known hazard."""

from ._ptbxl import load_ptbxl, load_ptbxl_metadata, load_ptbxl_sample, load_scp_statements
from ._synthetic import make_ecg_survival

__all__ = [
    "load_ptbxl",
    "load_ptbxl_metadata",
    "load_ptbxl_sample",
    "load_scp_statements",
    "make_ecg_survival",
]
