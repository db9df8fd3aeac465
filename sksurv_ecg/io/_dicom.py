"""DICOM waveforms (12-lead ECG and General ECG IODs) through pydicom.

pydicom's ``waveform_array`` applies each channel's sensitivity, correction factor and baseline and
returns values in the channel's sensitivity units (microvolts in most files, e.g. pydicom's own
``waveform_ecg.dcm``); they are converted here to mV from the units code. Lead names come from the
channel source code meanings ("Lead I (Einthoven)" -> "I").
"""

from __future__ import annotations

import numpy as np
import pydicom
from pydicom import Dataset
from pydicom.errors import InvalidDicomError

from ._common import FloatArray, Recording, StrPath, fail, standard_lead_name, to_float, unit_factor

# SOP classes read here; PS3.4 B.5: 12-lead ECG Waveform Storage, General ECG Waveform Storage.
SUPPORTED_SOP_CLASSES = {
    "1.2.840.10008.5.1.4.1.1.9.1.1": "12-lead ECG",
    "1.2.840.10008.5.1.4.1.1.9.1.2": "General ECG",
}
# Concept names of the device measurements (WaveformAnnotationSequence) -> frame columns.
_MEASUREMENTS = {
    "PR Interval": "pr_ms",
    "QRS Duration": "qrs_ms",
    "QT Interval": "qt_ms",
    "QTc Interval": "qtc_ms",
    "Ventricular Heart Rate": "heart_rate",
}


def _group(path: StrPath, ds: Dataset, index: int) -> tuple[FloatArray, list[str], float]:
    """Signals (mV), lead names and rate of multiplex group ``index``."""
    group = ds.WaveformSequence[index]
    leads: list[str] = []
    factors: list[float] = []
    # .get throughout: a damaged file lacks any of these, and read_ecg refuses what is missing by name
    for channel in group.get("ChannelDefinitionSequence") or []:
        source = channel.get("ChannelSourceSequence")
        name = source[0].get("CodeMeaning", "") if source else channel.get("ChannelLabel", "")
        leads.append(standard_lead_name(str(name)))
        units = channel.get("ChannelSensitivityUnitsSequence")
        code = str(units[0].get("CodeValue", "")) if units else "uV"
        factor = unit_factor(code)
        if factor is None:
            raise fail(path, f"channel {leads[-1]!r} is in units {code!r}, not a voltage", "convert the file first")
        factors.append(factor)
    try:
        values = ds.waveform_array(index)
    except Exception as err:  # pydicom raises ValueError/struct errors on short or odd WaveformData
        raise fail(path, f"waveform data of group {index} cannot be decoded ({err})", "the file is truncated") from err
    signal: FloatArray = np.asarray(values, dtype=np.float64).T * np.asarray(factors)[:, None]
    fs = to_float(group.get("SamplingFrequency"))
    if fs is None:
        raise fail(path, f"waveform group {index} declares no valid SamplingFrequency", "re-export the file")
    return signal, leads, fs


def _median_group(ds: Dataset) -> int | None:
    """Index of the median-beat multiplex group: labelled so, else a DERIVED group after the rhythm."""
    groups = ds.WaveformSequence
    for i, group in enumerate(groups):
        if "MEDIAN" in str(group.get("MultiplexGroupLabel", "")).upper():
            return i
    for i, group in enumerate(groups[1:], start=1):
        if str(group.get("WaveformOriginality", "")).upper() == "DERIVED":
            return i
    return None


def _annotations(ds: Dataset) -> tuple[list[str], dict[str, float]]:
    """The device's statements and its measurements (frame column -> value)."""
    text: list[str] = []
    measures: dict[str, float] = {}
    for item in ds.get("WaveformAnnotationSequence", []):
        if item.get("UnformattedTextValue"):
            text.append(str(item.UnformattedTextValue).strip())
        elif item.get("ConceptNameCodeSequence") and "NumericValue" in item:
            column = _MEASUREMENTS.get(str(item.ConceptNameCodeSequence[0].get("CodeMeaning", "")))
            value = to_float(item.NumericValue)
            if column and value is not None and value > 0:  # GE writes 0 ms for a PR it did not measure
                measures[column] = value
    return text, measures


def read_dicom(path: StrPath) -> Recording:
    """Read a DICOM ECG waveform file (rhythm strip and, where present, the median beat).

    Parameters
    ----------
    path : str or os.PathLike
        The DICOM file.
    """
    try:
        ds = pydicom.dcmread(path)
        # pydicom decodes an element when it is first used; decode all now, so that a damaged element is an
        # error of this block naming the file, not a NotImplementedError or KeyError from wherever it is used
        for _ in ds.iterall():
            pass
    except InvalidDicomError as err:
        raise fail(path, f"not a DICOM file ({err})", "pass DICOM ECG waveform files") from err
    except Exception as err:  # EOFError, struct.error ... on a cut file
        raise fail(
            path, f"the DICOM file is truncated or corrupt ({type(err).__name__}: {err})", "re-export it"
        ) from err
    sop = str(ds.get("SOPClassUID", ""))
    if sop not in SUPPORTED_SOP_CLASSES:
        raise fail(
            path,
            f"unsupported IOD {sop!r} ({getattr(ds.get('SOPClassUID'), 'name', 'unknown')})",
            f"only {sorted(SUPPORTED_SOP_CLASSES.values())} ECG waveform files are read",
        )
    if not ds.get("WaveformSequence"):
        raise fail(path, "the DICOM file holds no waveform (no WaveformSequence)", "export the ECG with its waveform")
    signal, leads, fs = _group(path, ds, 0)
    text, measures = _annotations(ds)
    age = str(ds.get("PatientAge", "")).strip()
    info: dict[str, str | float | None] = {
        "device": " ".join(str(ds.get(k, "")).strip() for k in ("Manufacturer", "ManufacturerModelName")).strip(),
        "acquisition_time": str(ds.get("AcquisitionDateTime", "")).strip() or None,
        "interpretation": "; ".join(text),
        "age": to_float(age[:-1]) if age.endswith("Y") else None,
        "sex": {"M": "male", "F": "female"}.get(str(ds.get("PatientSex", "")).strip().upper()),
        **measures,
    }
    identifiers = {
        "patient_id": str(ds.get("PatientID", "")) or None,
        "patient_name": str(ds.get("PatientName", "")) or None,
        "birth_date": str(ds.get("PatientBirthDate", "")) or None,
    }
    recording = Recording(signal, leads, fs, "dicom", info, identifiers=identifiers)
    median = _median_group(ds)
    if median is not None:
        recording.median, recording.median_leads, recording.median_fs = _group(path, ds, median)
    return recording
