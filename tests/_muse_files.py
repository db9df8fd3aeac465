"""GE MUSE XML files written from a real recording, for the reader tests (no real MUSE file is published on PyPI).

``write_muse`` writes the real 500 Hz strip and median beat of GE's ``ge_dicom1.dcm`` (bundled with the
package) in MUSE's layout: base64 little-endian int16 per lead, ``LeadAmplitudeUnitsPerBit``, 8 leads as
MUSE stores them.
"""

import base64

import numpy as np

from sksurv_ecg.conventions import LEAD_NAMES
from sksurv_ecg.datasets import load_ecg_examples
from sksurv_ecg.io import read_ecg

MUSE_LEADS = ["I", "II", "V1", "V2", "V3", "V4", "V5", "V6"]


def _muse_waveform(kind, signal_uv, leads, per_bit, *, corrupt_lead=None):
    parts = [
        f"<Waveform><WaveformType>{kind}</WaveformType><NumberofLeads>{len(leads)}</NumberofLeads>"
        "<SampleType>CONTINUOUS_SAMPLES</SampleType><SampleBase>500</SampleBase><SampleExponent>0</SampleExponent>"
    ]
    for lead, row in zip(leads, signal_uv, strict=True):
        data = base64.b64encode(np.round(row / per_bit).astype("<i2").tobytes()).decode()
        if lead == corrupt_lead:
            data = data[: len(data) // 2] + "@@@@" + data[len(data) // 2 + 7 :]
        parts.append(
            f"<LeadData><LeadByteCountTotal>{2 * len(row)}</LeadByteCountTotal><LeadSampleCountTotal>{len(row)}"
            f"</LeadSampleCountTotal><LeadAmplitudeUnitsPerBit>{per_bit}</LeadAmplitudeUnitsPerBit>"
            f"<LeadAmplitudeUnits>MICROVOLTS</LeadAmplitudeUnits><WaveFormData>{data}</WaveFormData>"
            f"<LeadID>{lead}</LeadID></LeadData>"
        )
    return "".join(parts) + "</Waveform>"


def write_muse(path, *, leads=MUSE_LEADS, corrupt_lead=None):
    """A MUSE XML of the real strip and median beat of ge_dicom1.dcm (see the module docstring)."""
    source = next(p for p in load_ecg_examples() if p.name == "ge_dicom1.dcm")
    X, _, beats = read_ecg(source, median_beats=True)
    idx = [LEAD_NAMES.index(lead) for lead in leads]
    strip, beat = X[0, idx] * 1e3, beats[0, idx] * 1e3
    path.write_text(
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n<RestingECG><MuseInfo><MuseVersion>8.0.2.10132</MuseVersion>'
        "</MuseInfo><PatientDemographics><PatientID>123</PatientID><PatientAge>61</PatientAge><Gender>FEMALE</Gender>"
        "<PatientLastName>DOE</PatientLastName><DateofBirth>01-01-1962</DateofBirth></PatientDemographics>"
        "<TestDemographics><AcquisitionDevice>MAC55</AcquisitionDevice><AcquisitionTime>08:58:44</AcquisitionTime>"
        "<AcquisitionDate>01-04-2023</AcquisitionDate></TestDemographics><RestingECGMeasurements><VentricularRate>"
        "72</VentricularRate><PRInterval>160</PRInterval><QRSDuration>88</QRSDuration><QTInterval>380</QTInterval>"
        "<QTCorrected>415</QTCorrected></RestingECGMeasurements><Diagnosis><DiagnosisStatement><StmtText>Normal "
        "sinus rhythm</StmtText></DiagnosisStatement><DiagnosisStatement><StmtText>Normal ECG</StmtText>"
        "</DiagnosisStatement></Diagnosis>"
        + _muse_waveform("Median", beat, leads, 4.88)
        + _muse_waveform("Rhythm", strip, leads, 4.88, corrupt_lead=corrupt_lead)
        + "</RestingECG>\n"
    )
    return path
