"""Throughput of :class:`sksurv_ecg.preprocessing.MedianBeat`: ECGs per second, and the full PTB-XL time.

Call like this::

    python benchmarks/median_beat.py --n-jobs 1 2 --n-synthetic 400 --n-real 400 --out benchmark-output

Two inputs, both 10-s, 500 Hz, 12-lead strips:

- synthetic: ``make_ecg_survival(n, kind="rhythm")`` (beats at the heart rate, noise, baseline
  wander, mains);
- real: the PTB-XL records under ``--records`` (by default ``../shared/data/ptbxl/records500`` beside
  the repository), read with :func:`sksurv_ecg.io.read_wfdb` and tiled to ``--n-real`` rows.

For each ``n_jobs`` the extraction is run ``--repeat`` times after one warm-up run (which starts the
joblib worker processes) and the median wall time is kept. The JSON holds ECGs per second, the
projected time of the 21,837-record PTB-XL extraction (``21837 / rate``, reading the files not
included), the share of one-process time spent in wfdb's QRS detector, and the machine record of
``benchmarks/_common.machine_info``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, write_json  # noqa: E402

from sksurv_ecg.exceptions import SignalQualityWarning  # noqa: E402

PTBXL_RECORDS = 21837
DEFAULT_RECORDS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ptbxl" / "records500"


def _real_strips(records, n):
    from sksurv_ecg.io import read_wfdb

    headers = sorted(Path(records).glob("*/*.hea"))
    if not headers:
        return None, 0
    X = np.concatenate([read_wfdb(h.with_suffix(""), fs=500) for h in headers])
    return np.resize(X, (n, *X.shape[1:])).astype(np.float32), len(headers)


def _detector_share(X, repeat_rows=50):
    """Share of one-process MedianBeat time spent in the QRS detector (wfdb.processing.xqrs_detect)."""
    from wfdb import processing

    from sksurv_ecg.preprocessing import MedianBeat

    X = X[:repeat_rows]
    start = time.perf_counter()
    for x in X:
        processing.xqrs_detect(x[1].astype(np.float64), fs=500.0, verbose=False)
    detector = time.perf_counter() - start
    start = time.perf_counter()
    MedianBeat(errors="warn").fit_transform(X)
    total = time.perf_counter() - start
    return detector / total


def _time(X, n_jobs, repeat):
    from sksurv_ecg.preprocessing import MedianBeat

    median = MedianBeat(n_jobs=n_jobs, errors="warn")
    median.fit_transform(X[: min(len(X), 8 * max(1, n_jobs))])  # warm-up: starts the workers
    times, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        median.fit_transform(X)
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    wall = statistics.median(times)
    rate = len(X) / wall
    run = {
        "n_jobs": n_jobs,
        "n_ecgs": len(X),
        "wall_s": times,
        "ecgs_per_s": rate,
        "failed": int(median.failed_.sum()),
        "projected_ptbxl_minutes": PTBXL_RECORDS / rate / 60.0,
    }
    if n_jobs == 1:  # all work in this process: its CPU time is what one idle core needs
        per_core = len(X) / statistics.median(cpu)
        run["ecgs_per_cpu_s"] = per_core
        run["projected_ptbxl_minutes_2_idle_cores"] = PTBXL_RECORDS / (2 * per_core) / 60.0
    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-jobs", type=int, nargs="+", default=[1, 2], help="joblib processes to try")
    parser.add_argument("--n-synthetic", type=int, default=400, help="synthetic 10-s strips")
    parser.add_argument("--n-real", type=int, default=400, help="real strips (the records tiled to this many)")
    parser.add_argument("--records", default=str(DEFAULT_RECORDS), help="PTB-XL records500 folder")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per setting (median kept)")
    parser.add_argument("--out", default="benchmark-output", help="output folder (default: %(default)s)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", SignalQualityWarning)  # failures are counted in the JSON instead

    from sksurv_ecg.datasets import make_ecg_survival

    inputs = {"synthetic": make_ecg_survival(args.n_synthetic, kind="rhythm", random_state=0)[0]}
    real, n_records = _real_strips(args.records, args.n_real)
    if real is not None:
        inputs["ptbxl"] = real
    result = {
        "benchmark": "median_beat",
        "input": "10-s 500 Hz 12-lead strips; MedianBeat() defaults (xqrs, 608-sample output)",
        "ptbxl_records_read": n_records,
        "runs": {},
        "machine": None,
    }
    for name, X in inputs.items():
        result["runs"][name] = {
            "detector_share_one_process": _detector_share(X),
            "by_n_jobs": [_time(X, n_jobs, args.repeat) for n_jobs in args.n_jobs],
        }
        for run in result["runs"][name]["by_n_jobs"]:
            print(
                f"{name:9s} n_jobs={run['n_jobs']}: {run['ecgs_per_s']:6.1f} ECG/s -> full PTB-XL "
                f"{run['projected_ptbxl_minutes']:5.1f} min ({run['failed']} failed)"
                + (f"; {run['ecgs_per_cpu_s']:.1f} ECG per CPU-s" if "ecgs_per_cpu_s" in run else ""),
                flush=True,
            )
    result["machine"] = machine_info()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "median_beat.json", result)
    return result


if __name__ == "__main__":
    main()
