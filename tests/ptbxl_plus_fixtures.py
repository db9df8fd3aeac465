"""Write PTB-XL+ median-beat fixtures in the release's layout, with wfdb.wrsamp.

Layout of PTB-XL+ 1.0.1 (PhysioNet, ``ptb-xl-plus/1.0.1``), as documented there and by users of
the release: ``median_beats/12sl/NNNNN/NNNNN_medians.hea|.dat`` (5-digit stems, 12 leads, 500 Hz,
600 samples, format 32) whose header lines carry a stale ``ge_median_beats_wfdb/`` folder in the
record and file names (wfdb.rdrecord rejects them), and ``median_beats/unig/NNNNN/NNNNNN_medians``
(6-digit stems, format 212) whose values are microvolts under an ``mV`` unit. The beats written
here are synthetic (a smooth QRS-like bump per lead, lead k scaled by k + 1) so that a reader's
reordering and scaling can be checked exactly; the Uni-G fixture stores its leads in a different
order from PTB-XL's to check that leads are matched by name.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import wfdb

from sksurv_ecg.conventions import LEAD_NAMES

UNIG_ORDER = ["V1", "V2", "V3", "V4", "V5", "V6", "I", "II", "III", "aVR", "aVL", "aVF"]


def beat(ecg_id: int) -> np.ndarray:
    """The (12, 600) beat in mV, standard lead order, that the fixture of ``ecg_id`` holds."""
    t = np.arange(600) / 500.0
    bump = np.exp(-(((t - 0.6) / 0.02) ** 2)) - 0.2 * np.exp(-(((t - 0.9) / 0.06) ** 2))
    return np.stack([(k + 1) * 0.1 * bump * (1 + 0.01 * ecg_id) for k in range(12)])


def _group(ecg_id: int) -> str:
    return f"{ecg_id // 1000 * 1000:05d}"


def write_ptbxl_plus(root: Path, *, twelve_sl=(), unig=()) -> Path:
    """Write 12SL and Uni-G median beats for the given ecg_ids under ``root``; return ``root``."""
    for ecg_id in twelve_sl:
        folder = root / "median_beats" / "12sl" / _group(ecg_id)
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{ecg_id:05d}_medians"
        wfdb.wrsamp(
            name,
            fs=500,
            units=["mV"] * 12,
            sig_name=list(LEAD_NAMES),
            p_signal=beat(ecg_id).T,
            fmt=["32"] * 12,
            adc_gain=[1000.0] * 12,
            baseline=[0] * 12,
            write_dir=str(folder),
        )
        header = folder / f"{name}.hea"
        lines = header.read_text().splitlines()
        lines = ["ge_median_beats_wfdb/" + line if line.startswith(name) else line for line in lines]
        header.write_text("\n".join(lines) + "\n")
    for ecg_id in unig:
        folder = root / "median_beats" / "unig" / _group(ecg_id)
        folder.mkdir(parents=True, exist_ok=True)
        order = [LEAD_NAMES.index(n) for n in UNIG_ORDER]
        microvolts = 1000.0 * beat(ecg_id)[order]
        wfdb.wrsamp(
            f"{ecg_id:06d}_medians",
            fs=500,
            units=["mV"] * 12,
            sig_name=UNIG_ORDER,
            p_signal=microvolts.T,
            fmt=["212"] * 12,
            adc_gain=[1.0] * 12,
            baseline=[0] * 12,
            write_dir=str(folder),
        )
    return root
