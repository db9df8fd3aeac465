"""Shared pieces of the accuracy benchmarks: cohorts, architectures, machine info, output files."""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import platform
from pathlib import Path

import numpy as np

__all__ = [
    "ARCHITECTURES",
    "add_cohort_arguments",
    "load_cohort",
    "machine_info",
    "report",
    "set_threads",
    "write_json",
]

#: Routed ``module__*`` parameters of the architectures the benchmarks can train. ``paper`` is the
#: seed's configuration (5 stages, 512-d code, 8 heads); ``tiny`` is a 4-stage, 64-d, 2-head variant
#: that trains about 3-5x faster on a 2-core CPU.
ARCHITECTURES = {
    "paper": {},
    "tiny": {"module__downsample": 4, "module__latent_dim": 64, "module__n_heads": 2, "module__mlp_ratio": 2},
}


def add_cohort_arguments(parser, *, n_samples, event_rate):
    """Add the cohort, device and output flags shared by both benchmarks."""
    parser.add_argument("--n-samples", type=int, default=n_samples, help="synthetic cohort size (default: %(default)s)")
    parser.add_argument("--event-rate", type=float, default=event_rate, help="expected event fraction")
    parser.add_argument("--fs", type=float, default=250, help="sampling rate of the median beats (Hz)")
    parser.add_argument("--X", default=None, help="user cohort: (n, 12, T) float32 median beats (.npy)")
    parser.add_argument("--time", default=None, help="user cohort: follow-up times (.npy)")
    parser.add_argument("--event", default=None, help="user cohort: event indicators (.npy)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a busy 2-core box)")
    parser.add_argument("--out", default="benchmark-output", help="output folder (default: %(default)s)")


def load_cohort(args, *, random_state=0):
    """Return ``(X, y, frame, description)``; ``frame`` is None for a user cohort."""
    from sksurv.util import Surv

    from sksurv_ecg.datasets import make_ecg_survival

    given = [args.X is not None, args.time is not None, args.event is not None]
    if any(given) and not all(given):
        raise SystemExit("--X, --time and --event go together; pass all three or none.")
    if all(given):
        X = np.load(args.X, mmap_mode="r")
        time = np.load(args.time).astype(float)
        event = np.load(args.event).astype(bool)
        y = Surv.from_arrays(event=event, time=time)
        return X, y, None, f"user cohort {args.X} ({X.shape[0]} ECGs, {int(event.sum())} events)"
    fs = float(args.fs)
    n_timesteps = int(round(608 * fs / 500))  # the PTB-XL+/MedianBeat layout (608 at 500 Hz), R at the centre
    X, y, frame = make_ecg_survival(
        args.n_samples, fs=fs, n_timesteps=n_timesteps, event_rate=args.event_rate, random_state=random_state
    )
    description = (
        f"make_ecg_survival(n_samples={args.n_samples}, fs={fs:g}, n_timesteps={n_timesteps}, "
        f"event_rate={args.event_rate}, random_state={random_state}): {int(y['event'].sum())} events"
    )
    return X, y, frame, description


@contextlib.contextmanager
def set_threads(n):
    """Use ``n`` torch threads inside the block (one avoids OpenMP spinning on a shared 2-core box)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def machine_info():
    """Machine, load and library versions, for the JSON record."""
    import sklearn
    import sksurv
    import torch

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average_at_end": load,
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.is_available(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "scikit-learn": sklearn.__version__,
        "scikit-survival": sksurv.__version__,
    }


def write_json(path, payload):
    """Write ``payload`` as indented JSON (NumPy scalars and arrays converted)."""

    def default(obj):
        if isinstance(obj, np.generic):
            return obj.item()
        if isinstance(obj, np.ndarray):
            return obj.tolist()
        raise TypeError(f"{type(obj).__name__} is not JSON serialisable")

    Path(path).write_text(json.dumps(payload, indent=2, default=default) + "\n")


def report(result, out, filename):
    """Print ``result`` as JSON and, when ``out`` (a folder) is given, also write it there as ``filename``."""
    print(json.dumps(result, indent=2))
    if out is not None:
        Path(out).mkdir(parents=True, exist_ok=True)
        write_json(Path(out) / filename, result)


def ptbxl_root():
    """The real PTB-XL records for benchmarks: ``$SKSURV_ECG_PTBXL`` or ``../shared/data/ptbxl`` beside the repo.

    They are never part of the repository; a PhysioNet download works as well.
    """
    root = Path(os.environ.get("SKSURV_ECG_PTBXL") or Path(__file__).resolve().parents[2] / "shared/data/ptbxl")
    if not (root / "ptbxl_database.csv").is_file():
        raise SystemExit(f"PTB-XL records not found at {str(root)!r}; set SKSURV_ECG_PTBXL to a PTB-XL folder.")
    return root
