"""Philips Sierra XML (``restingecgdata``, SierraECG/PhilipsECG 1.03-1.04), plain or XLI-compressed.

The waveforms are decoded by the MIT-licensed ``sierraecg`` package (XLI: LZW + second-order delta
coding, and Philips' storage of III, aVR, aVL and aVF as residuals), which parses with defusedxml;
the metadata are read here from the same, safely parsed, tree.
"""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET

import numpy as np

from ._common import Recording, StrPath, fail, standard_lead_name, to_float
from ._xml import find_text, local


def read_sierra(path: StrPath, root: ET.Element) -> Recording:
    """Read a Sierra ``restingecgdata`` file (``root`` is its safely parsed tree).

    Parameters
    ----------
    path : str or os.PathLike
        The file, which ``sierraecg`` decodes.
    root : xml.etree.ElementTree.Element
        Its root element, parsed by :func:`~sksurv_ecg.io._xml.parse_xml`.
    """
    import sierraecg

    try:
        with warnings.catch_warnings():
            # sierraecg rebuilds the residual limb leads in int16 arithmetic; wrap-around is its documented format
            warnings.simplefilter("ignore", RuntimeWarning)
            parsed = sierraecg.read_file(str(path))
    except sierraecg.lib.UnsupportedXmlFileError as err:
        raise fail(path, f"unsupported Sierra XML ({err})", "export as SierraECG/PhilipsECG 1.03-1.04") from err
    except Exception as err:  # missing elements, bad base64, cut XLI chunks
        raise fail(path, f"the Sierra XML cannot be decoded ({type(err).__name__}: {err})", "re-export it") from err
    lengths = {len(lead.samples) for lead in parsed.leads}
    if not parsed.leads or len(lengths) != 1:
        raise fail(path, f"the Sierra XML leads have lengths {sorted(lengths)}", "the file is truncated")
    resolution = to_float(find_text(root, "dataacquisition/signalcharacteristics/signalresolution"))
    if resolution is None:
        raise fail(path, "the Sierra XML has no signalresolution (uV per LSB)", "re-export the file")
    signal = np.stack([lead.samples.astype(np.float64) for lead in parsed.leads]) * resolution * 1e-3
    acquisition = next((c for c in root if local(c.tag) == "dataacquisition"), None)
    statements = [find_text(s, "leftstatement") for s in root.iter() if local(s.tag) == "statement"]
    sex = (find_text(root, "patient/generalpatientdata/sex") or "").lower()
    measures = next((c for c in root.iter() if local(c.tag) == "interpretationmeasurements"), None)
    info = {
        "device": find_text(root, "dataacquisition/machine"),
        "acquisition_time": " ".join(filter(None, [acquisition.get("date"), acquisition.get("time")]))
        if acquisition is not None
        else None,
        "interpretation": "; ".join(s for s in statements if s),
        "age": to_float(find_text(root, "patient/generalpatientdata/age/years")),
        "sex": sex if sex in {"male", "female"} else None,
    }
    if measures is not None:
        for tag, column in {"meanprint": "pr_ms", "meanqrsdur": "qrs_ms", "meanqtint": "qt_ms",
                            "meanqtc": "qtc_ms", "heartrate": "heart_rate"}.items():  # fmt: skip
            info[column] = to_float(find_text(measures, tag))
    identifiers = {
        "patient_id": find_text(root, "patient/generalpatientdata/patientid"),
        "patient_name": " ".join(
            filter(
                None,
                [
                    find_text(root, "patient/generalpatientdata/name/firstname"),
                    find_text(root, "patient/generalpatientdata/name/lastname"),
                ],
            )
        )
        or None,
        "birth_date": find_text(root, "patient/generalpatientdata/age/dateofbirth"),
    }
    fs = float(parsed.leads[0].sampling_freq)
    return Recording(signal, [standard_lead_name(lead.label) for lead in parsed.leads], fs, "sierra", info,
                     identifiers=identifiers)  # fmt: skip
