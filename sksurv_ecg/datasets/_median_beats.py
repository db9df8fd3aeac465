"""PTB-XL+ median beats (``median_beats/12sl`` and ``median_beats/unig``) as ``(n, 12, 608)`` arrays.

Two quirks of the PTB-XL+ 1.0.1 release, both reported by its users and handled here without
modifying the downloaded (checksummed) files:

- the 12SL headers name their record and signal file ``ge_median_beats_wfdb/NNNNN_medians``, a
  folder of the producer's machine that ``wfdb.rdrecord`` rejects; the header is read with that
  folder removed, in memory (through a private temporary copy);
- the Uni-G records hold microvolt values under an ``mV`` unit (peaks of hundreds of "mV"); a
  Uni-G beat whose peak exceeds any physiological millivolt value is divided by 1000, with a warning
  that gives the count.

The two algorithms also name records with 5 (12SL) and 6 (Uni-G) digits.
"""

from __future__ import annotations

import os
import re
import tempfile
import warnings
from pathlib import Path

import numpy as np
import wfdb
from tqdm.auto import tqdm

from ..conventions import LEAD_NAMES
from ..exceptions import SksurvECGWarning, user_stacklevel

__all__ = ["read_median_beats"]

MEDIAN_LENGTH = 608
_ALGORITHMS = ("12sl", "unig")
_UNITS = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "v": 1e3}
# No 12-lead ECG reaches 20 mV; a beat above it in "mV" is one stored in microvolts.
_MAX_PLAUSIBLE_MV = 20.0
_FOLDER_PREFIX = re.compile(r"^[^\s/]+/")


def _record_path(plus_root: Path, algorithm: str, ecg_id: int) -> Path | None:
    folder = plus_root / "median_beats" / algorithm / f"{ecg_id // 1000 * 1000:05d}"
    for width in (5, 6):
        path = folder / f"{ecg_id:0{width}d}_medians"
        if path.with_suffix(".hea").is_file():
            return path
    return None


def _read_record(path: Path):
    header = path.with_suffix(".hea").read_text()
    lines = header.splitlines()
    if not any("/" in line.split(maxsplit=1)[0] for line in lines if line and not line.startswith("#")):
        return wfdb.rdrecord(str(path))
    fixed = "\n".join(_FOLDER_PREFIX.sub("", line) if not line.startswith("#") else line for line in lines)
    with tempfile.TemporaryDirectory(prefix="sksurv-ecg-medians-") as tmp:
        (Path(tmp) / f"{path.name}.hea").write_text(fixed + "\n")
        dat = path.with_suffix(".dat")
        try:
            os.symlink(dat.resolve(), Path(tmp) / dat.name)
        except OSError:  # no symlinks (Windows without the privilege): copy instead
            (Path(tmp) / dat.name).write_bytes(dat.read_bytes())
        return wfdb.rdrecord(str(Path(tmp) / path.name))


def _standard_beat(path: Path, algorithm: str) -> tuple[np.ndarray, bool]:
    record = _read_record(path)
    names = [n.lower() for n in record.sig_name]
    missing = [lead for lead in LEAD_NAMES if lead.lower() not in names]
    if missing:
        raise ValueError(f"{str(path)!r} has leads {record.sig_name}, missing {missing}; a 12-lead beat is needed.")
    if record.fs != 500:
        raise ValueError(f"{str(path)!r} is sampled at {record.fs} Hz; PTB-XL+ median beats are 500 Hz.")
    idx = [names.index(lead.lower()) for lead in LEAD_NAMES]
    factors = []
    for i in idx:
        unit = record.units[i].strip().lower()
        if unit not in _UNITS:
            lead = record.sig_name[i]
            raise ValueError(f"{str(path)!r} lead {lead} has unit {record.units[i]!r}; expected mV or uV.")
        factors.append(_UNITS[unit])
    beat = record.p_signal[:, idx].T * np.asarray(factors)[:, None]
    rescaled = algorithm == "unig" and np.nanmax(np.abs(beat)) > _MAX_PLAUSIBLE_MV
    if rescaled:
        beat = beat / 1000.0
    T = beat.shape[1]
    if T > MEDIAN_LENGTH:
        raise ValueError(f"{str(path)!r} has {T} samples; a median beat of at most {MEDIAN_LENGTH} was expected.")
    left = (MEDIAN_LENGTH - T) // 2
    out = np.zeros((12, MEDIAN_LENGTH), dtype=np.float32)
    out[:, left : left + T] = np.nan_to_num(beat, nan=0.0)
    return out, rescaled


def read_median_beats(
    plus_root: Path, ecg_ids: list[int], algorithm: str, *, verbose: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Read PTB-XL+ median beats; return ``(X, available)`` with NaN rows where none exists.

    Parameters
    ----------
    plus_root : pathlib.Path
        The PTB-XL+ folder (the one that holds ``median_beats/``).
    ecg_ids : list of int
        PTB-XL ``ecg_id`` of each row of ``X``.
    algorithm : {"12sl", "unig"}
        Which device algorithm's median beats to read.
    verbose : bool or None, default=None
        Show a progress bar; ``None`` shows one for 50 records or more.
    """
    if algorithm not in _ALGORITHMS:
        raise ValueError(f"median_beats={algorithm!r} is not available; PTB-XL+ has '12sl' and 'unig' median beats.")
    if not (plus_root / "median_beats" / algorithm).is_dir():
        raise FileNotFoundError(
            f"{str(plus_root / 'median_beats' / algorithm)!r} does not exist; pass plus_root= the PTB-XL+ folder "
            "(sksurv_ecg.datasets.fetch_ptbxl_plus downloads it)."
        )
    X = np.full((len(ecg_ids), 12, MEDIAN_LENGTH), np.nan, dtype=np.float32)
    available = np.zeros(len(ecg_ids), dtype=bool)
    rescaled = 0
    show = len(ecg_ids) >= 50 if verbose is None else bool(verbose)
    for row, ecg_id in enumerate(tqdm(ecg_ids, desc=f"PTB-XL+ {algorithm} beats", unit="record", disable=not show)):
        path = _record_path(plus_root, algorithm, int(ecg_id))
        if path is None:
            continue
        X[row], was_rescaled = _standard_beat(path, algorithm)
        available[row] = True
        rescaled += was_rescaled
    if rescaled:
        warnings.warn(
            f"{rescaled} of {available.sum()} Uni-G median beats peak above {_MAX_PLAUSIBLE_MV:g} mV as declared; "
            "PTB-XL+ stores Uni-G beats in microvolts under an 'mV' unit, so they were divided by 1000.",
            SksurvECGWarning,
            stacklevel=user_stacklevel(),
        )
    if not available.all():
        absent = [int(i) for i, ok in zip(ecg_ids, available, strict=True) if not ok]
        warnings.warn(
            f"{len(absent)} of {len(ecg_ids)} records have no PTB-XL+ {algorithm} median beat (e.g. ecg_id "
            f"{absent[:5]}); their rows of X are NaN and frame['median_beat'] is False: select "
            "X[frame['median_beat']] to keep the others.",
            SksurvECGWarning,
            stacklevel=user_stacklevel(),
        )
    return X, available
