"""GE CardioSoft XML as UK Biobank distributes it (field 20205).

The 10-s ``StripData`` (500 Hz, comma-separated integers per lead, ``Resolution`` in uV per LSB) is
the recording; ``RestingECGMeasurements/MedianSamples`` is the device's median beat (600 samples);
``Interpretation`` holds the 12SL statements and ``RestingECGMeasurements`` its global measurements.
The ``FullDisclosure`` block (16 s with the leads interleaved in 1-s chunks) is not read: the strip
holds the same leads at the same rate.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np

from ._common import FloatArray, Recording, StrPath, fail, standard_lead_name, to_float, unit_factor
from ._xml import find_text, local

_MEASUREMENTS = {
    "PQInterval": "pr_ms",
    "QRSDuration": "qrs_ms",
    "QTInterval": "qt_ms",
    "QTCInterval": "qtc_ms",
    "VentricularRate": "heart_rate",
}


def _block(path: StrPath, element: ET.Element, name: str) -> tuple[FloatArray, list[str], float]:
    """Signals (mV), lead names and rate of a StripData/MedianSamples element."""
    fs = to_float(find_text(element, "SampleRate"))
    resolution = to_float(find_text(element, "Resolution"))
    units = next((c.get("units", "uVperLsb") for c in element if local(c.tag) == "Resolution"), "uVperLsb")
    factor = unit_factor(units.lower().replace("perlsb", ""))
    if fs is None or resolution is None or factor is None:
        raise fail(path, f"{name} lacks a valid SampleRate or Resolution", "re-export the file")
    leads: list[str] = []
    rows: list[FloatArray] = []
    for child in element:
        if local(child.tag) != "WaveformData":
            continue
        try:
            rows.append(np.array((child.text or "").replace("\n", "").replace("\t", "").split(","), dtype=np.float64))
        except ValueError as err:
            raise fail(path, f"{name} lead {child.get('lead')!r} holds a non-number ({err})", "re-export") from err
        leads.append(standard_lead_name(child.get("lead", "")))
    if not rows:  # read_ecg refuses a block without leads, naming the file, as for every format
        return np.empty((0, 0)), leads, fs
    expected = to_float(find_text(element, "ChannelSampleCountTotal"))
    lengths = {len(r) for r in rows}
    if len(lengths) != 1 or (expected is not None and lengths != {int(expected)}):
        raise fail(path, f"{name} leads have {sorted(lengths)} samples, expected {expected}", "the file is truncated")
    return np.stack(rows) * resolution * factor, leads, fs


def read_cardiosoft(path: StrPath, root: ET.Element) -> Recording:
    """Read a CardioSoft ``CardiologyXML`` element tree (already parsed safely).

    Parameters
    ----------
    path : str or os.PathLike
        The file, named in errors.
    root : xml.etree.ElementTree.Element
        Its root element, parsed by :func:`~sksurv_ecg.io._xml.parse_xml`.
    """
    strip = next((c for c in root if local(c.tag) == "StripData"), None)
    if strip is None:
        raise fail(path, "the CardioSoft XML holds no StripData", "export the resting ECG with its waveform")
    signal, leads, fs = _block(path, strip, "StripData")
    measurements = next((c for c in root if local(c.tag) == "RestingECGMeasurements"), None)
    info: dict[str, str | float | None] = {
        "device": " ".join(
            filter(
                None,
                [
                    find_text(root, "ClinicalInfo/DeviceInfo/Desc"),
                    find_text(root, "ClinicalInfo/DeviceInfo/SoftwareVer"),
                ],
            )
        )
    }
    keys = ("Year", "Month", "Day", "Hour", "Minute", "Second")
    when = [text for k in keys if (text := find_text(root, f"ObservationDateTime/{k}"))]
    # a date that is not digits is left out of the frame: a metadata field never costs a readable recording
    if len(when) == len(keys) and all(v.isascii() and v.isdigit() for v in when):
        y, mo, d, h, mi, s = (int(v) for v in when)
        info["acquisition_time"] = f"{y:04d}-{mo:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}"
    diagnosis = next((c for c in root.iter() if local(c.tag) == "Diagnosis"), None)
    statements = [t.text.strip() for t in (diagnosis if diagnosis is not None else []) if t.text and t.text.strip()]
    info["interpretation"] = "; ".join(statements)
    info["age"] = to_float(find_text(root, "PatientInfo/Age"))
    sex = (find_text(root, "PatientInfo/Gender") or "").lower()
    info["sex"] = sex if sex in {"male", "female"} else None
    median: FloatArray | None = None
    median_leads: list[str] | None = None
    median_fs: float | None = None
    if measurements is not None:
        for tag, column in _MEASUREMENTS.items():
            info[column] = to_float(find_text(measurements, tag))
        block = next((c for c in measurements if local(c.tag) == "MedianSamples"), None)
        if block is not None:
            median, median_leads, median_fs = _block(path, block, "MedianSamples")
    birth = [text for k in ("Year", "Month", "Day") if (text := find_text(root, f"PatientInfo/BirthDateTime/{k}"))]
    identifiers = {
        "patient_id": find_text(root, "PatientInfo/PID"),
        "patient_name": " ".join(
            filter(
                None, [find_text(root, "PatientInfo/Name/GivenName"), find_text(root, "PatientInfo/Name/FamilyName")]
            )
        )
        or None,
        "birth_date": "-".join(birth) if len(birth) == 3 else None,
    }
    return Recording(signal, leads, fs, "cardiosoft", info, median, median_leads, median_fs, identifiers)
