"""Write tiny CODE-15%, SaMi-Trop and MIMIC-IV-ECG releases in each dataset's own layout, for tests.

Every exam carries a signature: lead ``k`` of exam ``e`` is ``amplitude(e) * (1 + k / 12) *
sin(2 pi 1.5 t + 0.7)`` mV from the first recorded sample on, so a test can tell which exam's
signal landed in which row, and whether the zero padding was removed before resampling (the sine's
phase at the first output sample is then 0.7 rad).

The layouts are those documented in ``docs/real_cohorts.md``: CODE-15%'s ``exams.csv`` columns and
``exams_part<k>.hdf5`` (``tracings`` float32 ``(N, 4096, 12)``, ``exam_id`` int64 ``(N,)``),
400 Hz tracings of 7 s or 10 s zero-padded on both sides; SaMi-Trop's ``exams.csv`` and an
``exams.hdf5`` with ``tracings`` only; MIMIC-IV-ECG's ``record_list.csv``,
``machine_measurements.csv`` and WFDB records (500 Hz, 10 s, leads I, II, III, aVR, aVF, aVL,
V1-V6) under ``files/p<xxxx>/p<subject>/s<study>/``, plus MIMIC-IV's ``patients.csv`` and
``admissions.csv``.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import wfdb

CODE_FS = 400
FREQ_HZ = 1.5
PHASE = 0.7
CODE15_COLUMNS = [
    "exam_id",
    "age",
    "is_male",
    "nn_predicted_age",
    "1dAVb",
    "RBBB",
    "LBBB",
    "SB",
    "ST",
    "AF",
    "patient_id",
    "death",
    "timey",
    "normal_ecg",
    "trace_file",
]
SAMITROP_COLUMNS = ["exam_id", "age", "is_male", "normal_ecg", "death", "timey", "nn_predicted_age"]
MIMIC_LEADS = ["I", "II", "III", "aVR", "aVF", "aVL", "V1", "V2", "V3", "V4", "V5", "V6"]


def amplitude(exam_id: int) -> float:
    """Amplitude (mV) of exam ``exam_id``'s signature: distinct per exam, 0.5-1.5 mV."""
    return 0.5 + (int(exam_id) * 0.137) % 1.0


def signature(exam_id: int, n: int, fs: float, lead_order=None) -> np.ndarray:
    """``(n_leads, n)`` signature of ``exam_id`` at ``fs`` (package lead order unless ``lead_order``)."""
    t = np.arange(n) / fs
    gains = 1 + np.arange(12) / 12
    if lead_order is not None:
        standard = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
        gains = np.array([gains[standard.index(name)] for name in lead_order])
    return amplitude(exam_id) * gains[:, None] * np.sin(2 * np.pi * FREQ_HZ * t + PHASE)[None, :]


def code_tracing(exam_id: int, seconds: int, *, scale: float = 1.0) -> np.ndarray:
    """A ``(4096, 12)`` float32 tracing of ``seconds`` s at 400 Hz, centre zero-padded as the release does."""
    n = seconds * CODE_FS
    tracing = np.zeros((4096, 12), dtype=np.float32)
    start = (4096 - n) // 2
    tracing[start : start + n] = scale * signature(exam_id, n, CODE_FS).T
    return tracing


def _write_parts(root: Path, parts: dict[str, list[tuple[int, int]]], flat: set[int], scale: float) -> None:
    for name, exams in parts.items():
        tracings = np.stack(
            [np.zeros((4096, 12), np.float32) if e in flat else code_tracing(e, s, scale=scale) for e, s in exams]
        )
        with h5py.File(root / name, "w") as fh:
            fh.create_dataset("tracings", data=tracings, dtype="float32", chunks=(1, 4096, 12))
            fh.create_dataset("exam_id", data=np.array([e for e, _ in exams], dtype=np.int64))


# exam_id: (patient_id, death, timey, part, seconds); None = blank outcome (no follow-up on this exam)
CODE15_EXAMS = {
    101: (1, "True", 2.5, 0, 10),  # patient 1: followed from exam 101 (a death) ...
    102: (1, None, None, 1, 10),  # ... and a later exam with a blank outcome
    201: (2, "False", 5.0, 1, 10),
    301: (3, None, None, 0, 10),  # patient 3: no follow-up at all
    302: (3, None, None, 1, 7),
    401: (4, "False", 4.0, 0, 10),  # an all-zero tracing
    501: (5, "True", 1.2, 0, 7),  # a 7-s record: 2800 samples padded by 648 on both sides
    601: (6, "False", 3.0, 1, 10),
    602: (6, None, None, 0, 10),
}
CODE15_FLAT = {401}


def write_code15(root, *, scale: float = 1.0) -> Path:
    """A CODE-15% release with two parts; ``exams.csv`` rows in another order than the HDF5 rows."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for exam_id, (patient, death, timey, part, _) in CODE15_EXAMS.items():
        rows.append(
            {
                "exam_id": exam_id,
                "age": 40 + exam_id % 50,
                "is_male": exam_id % 2 == 0,
                "nn_predicted_age": 41.5 + exam_id % 50,
                "1dAVb": False,
                "RBBB": exam_id == 201,
                "LBBB": False,
                "SB": False,
                "ST": exam_id == 501,
                "AF": exam_id == 101,
                "patient_id": patient,
                "death": death,
                "timey": timey,
                "normal_ecg": exam_id in (201, 601),
                # the release documents trace_file as filled on a patient's first exam only
                "trace_file": f"exams_part{part}.hdf5" if death is not None or exam_id == 301 else None,
            }
        )
    frame = pd.DataFrame(rows, columns=CODE15_COLUMNS).iloc[::-1]  # CSV order differs from HDF5 order
    frame.to_csv(root / "exams.csv", index=False)
    parts: dict[str, list[tuple[int, int]]] = {}
    for exam_id, (_, _, _, part, seconds) in sorted(CODE15_EXAMS.items(), key=lambda kv: -kv[0]):
        parts.setdefault(f"exams_part{part}.hdf5", []).append((exam_id, seconds))
    for exams in parts.values():
        exams.append((0, 10))  # a row no exam of exams.csv points at: must be ignored
    _write_parts(root, parts, CODE15_FLAT | {0}, scale)
    return root


# row order of exams.csv = row order of exams.hdf5; (exam_id, death, timey, seconds)
SAMITROP_EXAMS = [
    (7001, "1", 1.9, 10),
    (7002, "0", 2.2, 10),
    (7003, None, None, 10),  # no follow-up
    (7004, "0", 2.0, 7),
    (7005, "1", 0.4, 10),  # all-zero tracing
    (7006, "0", 1.5, 10),
]
SAMITROP_FLAT = {7005}


def write_samitrop(root, *, with_exam_id: bool = False) -> Path:
    """A SaMi-Trop release: ``exams.hdf5`` with ``tracings`` only, rows in ``exams.csv``'s order.

    ``with_exam_id=True`` writes an ``exam_id`` dataset and the HDF5 rows in reverse order instead.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(
        [
            {
                "exam_id": e,
                "age": 50 + i,
                "is_male": i % 2,
                "normal_ecg": i % 3 == 0,
                "death": death,
                "timey": timey,
                "nn_predicted_age": 52.0 + i,
            }
            for i, (e, death, timey, _) in enumerate(SAMITROP_EXAMS)
        ],
        columns=SAMITROP_COLUMNS,
    )
    frame.to_csv(root / "exams.csv", index=False)
    exams = [(e, s) for e, _, _, s in SAMITROP_EXAMS]
    if with_exam_id:
        exams = exams[::-1]
    tracings = np.stack(
        [np.zeros((4096, 12), np.float32) if e in SAMITROP_FLAT else code_tracing(e, s) for e, s in exams]
    )
    with h5py.File(root / "exams.hdf5", "w") as fh:
        fh.create_dataset("tracings", data=tracings, dtype="float32")
        if with_exam_id:
            fh.create_dataset("exam_id", data=np.array([e for e, _ in exams], dtype=np.int64))
    return root


# study_id: (subject_id, ecg_time)
MIMIC_STUDIES = {
    40000011: (10000001, "2150-01-01 10:00:00"),  # subject 1: death 2151-01-01, 365 days after its first ECG
    40000012: (10000001, "2150-06-01 09:00:00"),
    40000021: (10000002, "2160-03-05 14:30:00"),  # subject 2: dies on the ECG's date
    40000031: (10000003, "2170-01-10 08:00:00"),  # subject 3: survivor, last discharge 2170-02-01
    40000041: (10000004, "2180-05-05 12:00:00"),  # subject 4: survivor without any admission
    40000051: (10000005, "2190-09-01 12:00:00"),  # subject 5: ECG after its death-recording window closed
}
MIMIC_PATIENTS = [
    {"subject_id": 10000001, "gender": "M", "anchor_age": 70, "anchor_year": 2150, "dod": "2151-01-01"},
    {"subject_id": 10000002, "gender": "F", "anchor_age": 80, "anchor_year": 2160, "dod": "2160-03-05"},
    {"subject_id": 10000003, "gender": "F", "anchor_age": 60, "anchor_year": 2170, "dod": None},
    {"subject_id": 10000004, "gender": "M", "anchor_age": 55, "anchor_year": 2180, "dod": None},
    {"subject_id": 10000005, "gender": "M", "anchor_age": 65, "anchor_year": 2189, "dod": None},
]
MIMIC_ADMISSIONS = [
    {"subject_id": 10000001, "hadm_id": 1, "admittime": "2149-12-30 08:00:00", "dischtime": "2150-01-04 12:00:00"},
    {"subject_id": 10000002, "hadm_id": 2, "admittime": "2160-03-04 08:00:00", "dischtime": "2160-03-05 20:00:00"},
    {"subject_id": 10000003, "hadm_id": 3, "admittime": "2169-05-01 08:00:00", "dischtime": "2169-05-03 10:00:00"},
    {"subject_id": 10000003, "hadm_id": 4, "admittime": "2170-01-28 08:00:00", "dischtime": "2170-02-01 12:00:00"},
    {"subject_id": 10000005, "hadm_id": 5, "admittime": "2189-01-01 08:00:00", "dischtime": "2189-01-03 12:00:00"},
]


def mimic_path(subject_id: int, study_id: int) -> str:
    """``files/p<first 4 digits>/p<subject>/s<study>/<study>`` as in ``record_list.csv``."""
    return f"files/p{str(subject_id)[:4]}/p{subject_id}/s{study_id}/{study_id}"


def write_mimic(root) -> tuple[Path, Path, Path]:
    """A MIMIC-IV-ECG folder and MIMIC-IV ``patients.csv`` / ``admissions.csv``; returns the three paths."""
    root = Path(root)
    ecg = root / "mimic-iv-ecg"
    ecg.mkdir(parents=True, exist_ok=True)
    listing, measures = [], []
    for study, (subject, when) in MIMIC_STUDIES.items():
        path = mimic_path(subject, study)
        folder = ecg / Path(path).parent
        folder.mkdir(parents=True, exist_ok=True)
        wfdb.wrsamp(
            str(study),
            fs=500,
            units=["mV"] * 12,
            sig_name=MIMIC_LEADS,
            p_signal=signature(study, 5000, 500, lead_order=MIMIC_LEADS).T,
            fmt=["16"] * 12,
            adc_gain=[200.0] * 12,
            baseline=[0] * 12,
            write_dir=str(folder),
        )
        listing.append({"subject_id": subject, "study_id": study, "file_name": study, "ecg_time": when, "path": path})
        measures.append(
            {
                "subject_id": subject,
                "study_id": study,
                "cart_id": 6848296,
                "ecg_time": when,
                "report_0": "Sinus rhythm",
                "bandwidth": "0.005-150 Hz",
                "filtering": "60 Hz notch Baseline filter",
                "rr_interval": 800 + study % 100,
                "qrs_onset": 200,
                "qrs_end": 290,
                "qrs_axis": 30,
            }
        )
    pd.DataFrame(listing).iloc[::-1].to_csv(ecg / "record_list.csv", index=False)
    pd.DataFrame(measures).to_csv(ecg / "machine_measurements.csv", index=False)
    patients = root / "patients.csv"
    frame = pd.DataFrame(MIMIC_PATIENTS)
    frame.insert(4, "anchor_year_group", "2008 - 2010")
    frame.to_csv(patients, index=False)
    admissions = root / "admissions.csv"
    pd.DataFrame(MIMIC_ADMISSIONS).to_csv(admissions, index=False)
    return ecg, patients, admissions


def write_code15_cohort(root, n_patients: int = 120, *, event_rate: float = 0.3, random_state: int = 0) -> Path:
    """A CODE-15% release of synthetic 10-s ECGs with a known hazard (for the benchmark's end-to-end test).

    :func:`sksurv_ecg.datasets.make_ecg_survival` (``kind="rhythm"``, 400 Hz, 4000 samples) gives the
    signals, age, sex and outcomes; each person is a patient whose first exam carries ``death`` and
    ``timey``; every fifth patient has a second exam with a blank outcome, every tenth patient none.
    """
    from sksurv_ecg.datasets import make_ecg_survival

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    X, y, frame = make_ecg_survival(
        n_patients, fs=CODE_FS, kind="rhythm", event_rate=event_rate, random_state=random_state
    )
    rows, tracings = [], []
    for i in range(n_patients):
        followed = i % 10 != 9
        exams = [(1000 * (i + 1), followed)] + ([(1000 * (i + 1) + 1, False)] if i % 5 == 0 else [])
        for exam_id, has_outcome in exams:
            tracing = np.zeros((4096, 12), dtype=np.float32)
            tracing[48:4048] = X[i].T
            tracings.append((exam_id, tracing))
            rows.append(
                {
                    "exam_id": exam_id,
                    "age": int(frame["age"].iloc[i]),
                    "is_male": bool(frame["sex"].iloc[i] == 0),
                    "nn_predicted_age": float(frame["age"].iloc[i]) + 1.0,
                    **dict.fromkeys(CODE15_COLUMNS[4:10], False),
                    "patient_id": i + 1,
                    "death": str(bool(y["event"][i])) if has_outcome else None,
                    "timey": float(y["time"][i]) if has_outcome else None,
                    "normal_ecg": False,
                    "trace_file": "exams_part0.hdf5",
                }
            )
    pd.DataFrame(rows, columns=CODE15_COLUMNS).sample(frac=1.0, random_state=0).to_csv(root / "exams.csv", index=False)
    with h5py.File(root / "exams_part0.hdf5", "w") as fh:
        fh.create_dataset("tracings", data=np.stack([t for _, t in tracings]), dtype="float32")
        fh.create_dataset("exam_id", data=np.array([e for e, _ in tracings], dtype=np.int64))
    return root
