"""Files per second of :func:`sksurv_ecg.io.read_ecg` on a folder of mixed formats, beside wfdb.rdrecord.

Call like this::

    python benchmarks/read_speed.py --n-files 1000 --n-jobs 1 --out benchmarks/read_speed.json

The folder is built in a temporary directory from the real files bundled with the package (pydicom's
and GE's DICOMs, GE CardioSoft XML, Philips Sierra XML), a GE MUSE XML and a WFDB record written from
GE's DICOM strip (the writer of ``tests/test_io_read.py``), copied round-robin to ``--n-files``
files. It is read once by :func:`read_ecg` (``fs=500, length=5000``, progress bar on stderr), then
per format, and the WFDB records alone also by ``wfdb.rdrecord`` (the floor: no checks, no lead
matching, no resampling). It prints one JSON object (files/s overall, per format and for
``wfdb.rdrecord`` on the same records) and asserts that every file was read.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import wfdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from _common import machine_info, write_json  # noqa: E402
from test_io_read import _write_muse  # noqa: E402

from sksurv_ecg.datasets import load_ecg_examples  # noqa: E402
from sksurv_ecg.io import read_ecg  # noqa: E402
from sksurv_ecg.nn._leads import LEAD_NAMES  # noqa: E402


def build_folder(folder: Path, n_files: int) -> dict[str, list[Path]]:
    """``n_files`` ECG files of six formats in ``folder``, grouped by format."""
    muse = _write_muse(folder / "muse_src.xml")
    strip = read_ecg(load_ecg_examples()[1])[0][0]
    wfdb.wrsamp("wfdb_src", fs=500, units=["mV"] * 12, sig_name=list(LEAD_NAMES), p_signal=strip.T.astype(float),
                fmt=["16"] * 12, adc_gain=[1000.0] * 12, baseline=[0] * 12, write_dir=str(folder))  # fmt: skip
    sources = [*load_ecg_examples(), muse, folder / "wfdb_src"]
    kinds = ["dicom", "dicom", "dicom", "cardiosoft", "sierra", "muse", "wfdb"]
    files: dict[str, list[Path]] = {}
    for i in range(n_files):
        source, kind = sources[i % len(sources)], kinds[i % len(sources)]
        if kind == "wfdb":
            for ext in (".hea", ".dat"):
                data = (folder / f"wfdb_src{ext}").read_bytes().replace(b"wfdb_src", f"rec{i:05d}".encode())
                (folder / f"rec{i:05d}{ext}").write_bytes(data)
            path = folder / f"rec{i:05d}"
        else:
            path = folder / f"file{i:05d}{source.suffix}"
            shutil.copy(source, path)
        files.setdefault(kind, []).append(path)
    return files


def rate(n, seconds):
    return {"n_files": n, "seconds": round(seconds, 3), "files_per_s": round(n / seconds, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-files", type=int, default=1000)
    parser.add_argument("--n-jobs", type=int, default=None, help="read_ecg's n_jobs (default: one process)")
    parser.add_argument("--out", default=None, help="write the JSON record here too")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        files = build_folder(Path(tmp), args.n_files)
        everything = sorted(p for paths in files.values() for p in paths)
        start = time.perf_counter()
        X, frame = read_ecg(everything, fs=500, length=5000, n_jobs=args.n_jobs, verbose=True)
        overall = rate(len(everything), time.perf_counter() - start)
        assert X.shape == (len(everything), 12, 5000)
        assert not frame["skipped"].any()
        per_format = {}
        for kind, paths in sorted(files.items()):
            start = time.perf_counter()
            read_ecg(paths, fs=500, length=5000, verbose=False)
            per_format[kind] = rate(len(paths), time.perf_counter() - start)
        start = time.perf_counter()
        for path in files["wfdb"]:
            wfdb.rdrecord(str(path), physical=True)
        rdrecord = rate(len(files["wfdb"]), time.perf_counter() - start)
    result = {
        "benchmark": "read_speed",
        "settings": {"n_files": args.n_files, "n_jobs": args.n_jobs, "fs": 500, "length": 5000},
        "read_ecg_mixed": overall,
        "read_ecg_per_format": per_format,
        "wfdb_rdrecord_same_wfdb_records": rdrecord,
        "read_ecg_wfdb_vs_rdrecord": round(per_format["wfdb"]["files_per_s"] / rdrecord["files_per_s"], 3),
        "machine": machine_info(),
    }
    if args.out:
        write_json(args.out, result)
    print(json.dumps(result, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
