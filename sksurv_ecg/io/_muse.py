"""GE MUSE XML (``RestingECG``): base64 little-endian int16 per lead.

MUSE stores 8 leads (I, II, V1-V6) in most exports; III, aVR, aVL and aVF are then derived by
:func:`read_ecg` from I and II (Einthoven, Goldberger) and the frame's ``derived_leads`` says so.
A ``Waveform`` of type ``Rhythm`` is the recording, one of type ``Median`` the device's median beat.
"""

from __future__ import annotations

import base64
import binascii
import xml.etree.ElementTree as ET

import numpy as np

from ._common import FloatArray, Recording, StrPath, fail, standard_lead_name, to_float, unit_factor
from ._xml import find_text, local

_MEASUREMENTS = {
    "PRInterval": "pr_ms",
    "QRSDuration": "qrs_ms",
    "QTInterval": "qt_ms",
    "QTCorrected": "qtc_ms",
    "VentricularRate": "heart_rate",
}


def _waveform(path: StrPath, element: ET.Element) -> tuple[FloatArray, list[str], float]:
    """Signals (mV), lead names and rate of a ``Waveform`` element."""
    fs = to_float(find_text(element, "SampleBase"))
    exponent = to_float(find_text(element, "SampleExponent")) or 0.0
    if fs is None:
        raise fail(path, "a MUSE Waveform has no SampleBase (sampling rate)", "re-export the file")
    leads: list[str] = []
    rows: list[FloatArray] = []
    for lead in (c for c in element if local(c.tag) == "LeadData"):
        name = standard_lead_name(find_text(lead, "LeadID") or "")
        scale = to_float(find_text(lead, "LeadAmplitudeUnitsPerBit"))
        factor = unit_factor(find_text(lead, "LeadAmplitudeUnits") or "MICROVOLTS")
        if scale is None or factor is None:
            raise fail(path, f"lead {name!r} has no valid LeadAmplitudeUnitsPerBit/Units", "re-export the file")
        try:
            raw = base64.b64decode(find_text(lead, "WaveFormData") or "", validate=False)
        except (binascii.Error, ValueError) as err:
            raise fail(path, f"lead {name!r} holds unreadable base64 ({err})", "re-export the file") from err
        expected = to_float(find_text(lead, "LeadSampleCountTotal"))
        if len(raw) % 2 or (expected is not None and len(raw) // 2 != int(expected)):
            raise fail(
                path,
                f"lead {name!r} decodes to {len(raw)} bytes, not {expected} int16 samples (unreadable base64 or cut)",
                "re-export the file",
            )
        rows.append(np.frombuffer(raw, dtype="<i2").astype(np.float64) * scale * factor)
        leads.append(name)
    if not rows:  # read_ecg refuses a waveform without leads, naming the file, as for every format
        return np.empty((0, 0)), leads, fs
    if len({len(r) for r in rows}) != 1:
        raise fail(path, f"a MUSE Waveform holds leads of different lengths {sorted({len(r) for r in rows})}",
                   "re-export the file")  # fmt: skip
    try:
        rate = fs * 10.0**exponent
    except OverflowError:  # an absurd SampleExponent: the rate rule of read_ecg refuses it naming the value
        rate = float("inf")
    return np.stack(rows), leads, rate


def read_muse(path: StrPath, root: ET.Element) -> Recording:
    """Read a MUSE ``RestingECG`` element tree (already parsed safely).

    Parameters
    ----------
    path : str or os.PathLike
        The file, named in errors.
    root : xml.etree.ElementTree.Element
        Its root element, parsed by :func:`~sksurv_ecg.io._xml.parse_xml`.
    """
    waveforms = {find_text(w, "WaveformType"): w for w in root if local(w.tag) == "Waveform"}
    if "Rhythm" not in waveforms:
        raise fail(path, "the MUSE XML holds no Rhythm waveform", "export the ECG with its full-length waveform")
    signal, leads, fs = _waveform(path, waveforms["Rhythm"])
    date, time = (
        find_text(root, "TestDemographics/AcquisitionDate"),
        find_text(root, "TestDemographics/AcquisitionTime"),
    )
    statements = [find_text(s, "StmtText") for s in root.iter() if local(s.tag) == "DiagnosisStatement"]
    sex = (find_text(root, "PatientDemographics/Gender") or "").lower()
    info: dict[str, str | float | None] = {
        "device": find_text(root, "TestDemographics/AcquisitionDevice"),
        "acquisition_time": " ".join(filter(None, [date, time])) or None,
        "interpretation": "; ".join(s for s in statements if s),
        "age": to_float(find_text(root, "PatientDemographics/PatientAge")),
        "sex": sex if sex in {"male", "female"} else None,
    }
    for tag, column in _MEASUREMENTS.items():
        info[column] = to_float(find_text(root, f"RestingECGMeasurements/{tag}"))
    identifiers = {
        "patient_id": find_text(root, "PatientDemographics/PatientID"),
        "patient_name": " ".join(
            filter(
                None,
                [
                    find_text(root, "PatientDemographics/PatientFirstName"),
                    find_text(root, "PatientDemographics/PatientLastName"),
                ],
            )
        )
        or None,
        "birth_date": find_text(root, "PatientDemographics/DateofBirth"),
    }
    recording = Recording(signal, leads, fs, "muse", info, identifiers=identifiers)
    if "Median" in waveforms:
        recording.median, recording.median_leads, recording.median_fs = _waveform(path, waveforms["Median"])
    return recording
