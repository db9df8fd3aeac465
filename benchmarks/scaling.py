"""Fit time and peak memory of ECGSurvivalAnalysis against cohort size, streamed from a memmap.

Call like this::

    python benchmarks/scaling.py --sizes 1000 10000 100000 --max-steps 16 --out scaling.json

Synthetic median-beat cohorts (12 x 608 at 500 Hz, :func:`sksurv_ecg.datasets.make_ecg_survival`)
are written into memory-mapped ``.npy`` files chunk by chunk (``--chunk`` ECGs at a time, so
generating 100k ECGs, 2.9 GB, stays within a few hundred MB), in ``--data-dir`` (reused on a
rerun). Each size is then fitted in a fresh child process, one epoch, on the read-only memmap.
A full epoch at 100k takes hours on a CPU, so training stops after ``--max-steps`` batches (0:
the whole epoch); everything else of ``fit`` runs on all ``n`` samples: the input check
(``validate_data``'s finiteness pass over the whole array), the event-stratified sampler, and
the Breslow baseline, which needs a full inference pass. The JSON reports per size:

- ``fit_s``: wall time of ``fit``; ``train_s`` and ``train_ecg_per_s``: the training steps;
  ``other_s = fit_s - train_s`` (all-``n`` work); ``full_epoch_fit_s``, the projection of one
  whole epoch: ``other_s + n / train_ecg_per_s``;
- ``peak_rss_anon_mb``: peak private memory of the child (what the process allocates),
  ``peak_rss_mb``: peak resident set including the file-backed pages of the memmap, which the
  kernel drops under memory pressure (they are page cache, not allocations), sampled every 20 ms.

It also times the Cox partial likelihood (forward + backward, Breslow and Efron) at
``--loss-n`` samples and scikit-survival's ``concordance_index_censored`` at the sizes in
``--cindex-sizes`` (its time grows quadratically, so 1M is extrapolated from the largest size).
Timings on a shared machine are noisy. Asserts: peak private memory under ``--max-rss-mb`` at
every size.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import numpy as np
import torch


def _status_mb():
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("RssAnon", "RssFile", "VmRSS"):
                out[key] = int(value.split()[0]) / 1024
    return out


class PeakMemory:
    """Sample RssAnon and VmRSS of this process every ``interval`` seconds in a thread."""

    def __init__(self, interval=0.02):
        self.interval = interval
        self.peak = {"RssAnon": 0.0, "RssFile": 0.0, "VmRSS": 0.0}
        self._stop = threading.Event()

    def _run(self):
        while not self._stop.is_set():
            for key, value in _status_mb().items():
                self.peak[key] = max(self.peak[key], value)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def make_cohort(n, data_dir, chunk, seed):
    """Memmap ``X_<n>.npy`` and ``y_<n>.npy`` (event, time) generated ``chunk`` ECGs at a time."""
    from sksurv_ecg.datasets import make_ecg_survival

    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    x_path, y_path = data_dir / f"X_{n}.npy", data_dir / f"y_{n}.npy"
    if x_path.exists() and y_path.exists():
        return x_path, y_path, 0.0
    start = time.perf_counter()
    X = np.lib.format.open_memmap(data_dir / f"X_{n}.tmp.npy", mode="w+", dtype=np.float32, shape=(n, 12, 608))
    y = np.empty((n, 2))
    for k, lo in enumerate(range(0, n, chunk)):
        hi = min(n, lo + chunk)
        Xc, yc, _ = make_ecg_survival(hi - lo, random_state=seed + k)
        X[lo:hi] = Xc
        y[lo:hi, 0], y[lo:hi, 1] = yc["event"], yc["time"]
    X.flush()
    del X
    os.replace(data_dir / f"X_{n}.tmp.npy", x_path)
    np.save(y_path, y)
    return x_path, y_path, time.perf_counter() - start


def child(args):
    """Fit on one memmap and print one JSON line (run in a fresh process for a clean peak)."""
    from skorch.callbacks import Callback
    from sksurv.util import Surv

    from sksurv_ecg import ECGSurvivalAnalysis

    class Steps(Callback):
        def __init__(self, max_steps):
            self.max_steps = max_steps

        def on_train_begin(self, net, **kwargs):
            self.steps, self.samples, self.start = 0, 0, time.perf_counter()

        def on_batch_end(self, net, batch=None, training=False, **kwargs):
            if training:
                self.steps += 1
                self.samples += len(batch[0])
                if self.max_steps and self.steps >= self.max_steps:
                    raise KeyboardInterrupt  # skorch ends training cleanly on it

        def on_train_end(self, net, **kwargs):
            self.seconds = time.perf_counter() - self.start

    class Capped(ECGSurvivalAnalysis):
        def _callbacks(self, n_train):
            return [*super()._callbacks(n_train), ("steps", Steps(args.max_steps))]

    torch.set_num_threads(args.threads)
    X = np.load(args.x, mmap_mode="r")
    yy = np.load(args.y)
    y = Surv.from_arrays(yy[:, 0].astype(bool), yy[:, 1])
    model = Capped(
        max_epochs=1,
        batch_size=args.batch_size,
        lr=1e-3,
        precision=args.precision,
        random_state=args.seed,
        module__base_features=args.base_features,
        iterator_train__num_workers=args.workers,
        iterator_valid__batch_size=512,
    )
    with PeakMemory() as mem:
        start = time.perf_counter()
        model.fit(X, y)
        fit_s = time.perf_counter() - start
    steps = dict(model.net_.callbacks_)["steps"] if hasattr(model.net_, "callbacks_") else None
    if steps is None or not hasattr(steps, "seconds"):
        raise RuntimeError("the step counter did not run; check the benchmark's Capped estimator.")
    ecg_per_s = steps.samples / steps.seconds
    other = fit_s - steps.seconds
    print(
        json.dumps(
            {
                "n": int(X.shape[0]),
                "fit_s": round(fit_s, 2),
                "train_steps": steps.steps,
                "train_samples": steps.samples,
                "train_s": round(steps.seconds, 2),
                "train_ecg_per_s": round(ecg_per_s, 1),
                "other_s": round(other, 2),
                "full_epoch_fit_s": round(other + X.shape[0] / ecg_per_s, 1),
                "peak_rss_anon_mb": round(mem.peak["RssAnon"], 1),
                "peak_rss_mb": round(mem.peak["VmRSS"], 1),
                "memmap_mb": round(X.nbytes / 2**20, 1),
            }
        )
    )


def loss_timings(n_loss, cindex_sizes, seed):
    from sksurv.metrics import concordance_index_censored

    from sksurv_ecg.losses import cox_ph_loss

    gen = torch.Generator().manual_seed(seed)
    out = {"cox_loss_n": n_loss}
    time_ = torch.rand(n_loss, generator=gen)
    event = (torch.rand(n_loss, generator=gen) < 0.2).float()
    for ties in ("breslow", "efron"):
        risk = torch.randn(n_loss, generator=gen, requires_grad=True)
        start = time.perf_counter()
        cox_ph_loss(risk, time_, event, ties=ties).backward()
        out[f"cox_loss_{ties}_s"] = round(time.perf_counter() - start, 3)
    rng = np.random.default_rng(seed)
    cindex = {}
    for n in cindex_sizes:
        e, t, r = rng.random(n) < 0.2, rng.exponential(size=n), rng.standard_normal(n)
        start = time.perf_counter()
        concordance_index_censored(e, t, r)
        cindex[str(n)] = round(time.perf_counter() - start, 3)
    largest = max(cindex_sizes)
    out["cindex_sksurv_s"] = cindex
    out["cindex_sksurv_1M_s_extrapolated"] = round(cindex[str(largest)] * (1_000_000 / largest) ** 2, 0)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    parser.add_argument("--data-dir", default="/tmp/sksurv_ecg_scaling")
    parser.add_argument("--chunk", type=int, default=5000)
    parser.add_argument("--max-steps", type=int, default=16, help="training batches per fit (0: whole epoch)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--base-features", type=int, default=2, help="module__base_features (paper: 16)")
    parser.add_argument("--precision", default="float32", choices=["float32", "bf16"])
    parser.add_argument("--workers", type=int, default=0, help="iterator_train__num_workers")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--device", default="cpu", choices=["cpu"], help="the scale benchmark runs on the CPU")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--loss-n", type=int, default=1_000_000)
    parser.add_argument("--cindex-sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--max-rss-mb", type=float, default=1536.0)
    parser.add_argument("--out", default=None, help="write the JSON here too")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--x", help=argparse.SUPPRESS)
    parser.add_argument("--y", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    result = {
        "machine": f"{platform.node()} {platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "date": date.today().isoformat(),
        "torch": torch.__version__,
        "settings": {k: v for k, v in vars(args).items() if k not in ("child", "x", "y")},
        "fits": [],
    }
    for n in args.sizes:
        x_path, y_path, gen_s = make_cohort(n, args.data_dir, args.chunk, args.seed)
        cmd = [sys.executable, __file__, "--child", "--x", str(x_path), "--y", str(y_path)]
        for key in ("max_steps", "batch_size", "base_features", "precision", "workers", "threads", "seed"):
            cmd += [f"--{key.replace('_', '-')}", str(getattr(args, key))]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode:
            raise RuntimeError(f"the fit at n={n} failed:\n{proc.stderr[-3000:]}")
        fit = json.loads(proc.stdout.strip().splitlines()[-1])
        fit["generate_s"] = round(gen_s, 1)
        result["fits"].append(fit)
        print(json.dumps(fit), file=sys.stderr, flush=True)
    result["losses"] = loss_timings(args.loss_n, args.cindex_sizes, args.seed)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        Path(args.out).write_text(text)
    for fit in result["fits"]:
        assert fit["peak_rss_anon_mb"] < args.max_rss_mb, (
            f"peak private memory {fit['peak_rss_anon_mb']} MB at n={fit['n']} exceeds {args.max_rss_mb} MB"
        )


if __name__ == "__main__":
    main()
