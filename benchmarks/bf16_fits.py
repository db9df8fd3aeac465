"""Does bf16 autocast learn the same model? Paired float32 and bf16 fits, seed by seed.

Call like this::

    python benchmarks/bf16_fits.py --seeds 10 --out bench-bf16

On ``make_ecg_survival(300, fs=250, event_rate=0.3, random_state=1)`` split 70/30 (stratified on the
event), ``ECGSurvivalAnalysis(max_epochs=6, batch_size=32, lr=1e-3, random_state=s)`` is fitted for
each seed ``s`` three times: in float32 and in bf16 (the fast path, the CPU's default), and, as a
control, in float32 on the reference path (``module__impl="reference"``), which computes the same
model with other float32 rounding. The held-out Harrell's C and the held-out reconstruction MSE of
the autoencoder are recorded. The summary gives the mean and standard deviation over seeds of each
arm (the run-to-run spread) and the paired differences, with a paired t-test and a Wilcoxon
signed-rank test (``scipy.stats``) and the 95 % t interval of the mean paired difference: the
control says how far rounding alone moves a short fit.
On a CPU that only emulates bfloat16 the bf16 fits are several times slower (and warn); the
arithmetic, and so what they learn, is the same.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, report, set_threads  # noqa: E402

#: arm -> (precision, implementation); the reference path in float32 is the rounding control
ARMS = {"float32": ("float32", "fast"), "bf16": ("bf16", "fast"), "float32_reference": ("float32", "reference")}


def heldout_reconstruction_mse(model, X):
    """Mean squared reconstruction error of the fitted autoencoder on ``X`` (eval mode)."""

    def mse(module, x):
        out = module(x)
        return (out.x_hat.float() - out.target.float()).square().mean(dim=(1, 2))

    return float(model.net_._map_batches(X, mse).mean())


def paired(a, b):
    """Mean, spread and tests of the paired differences ``b - a``."""
    from scipy import stats

    a, b = np.asarray(a), np.asarray(b)
    diff = b - a
    n = len(diff)
    # 95 % t interval of the mean paired difference (the criterion: it includes 0 and its
    # half-width is at most 0.02 in held-out C)
    half = float(stats.t.ppf(0.975, n - 1) * diff.std(ddof=1) / np.sqrt(n)) if n > 1 else None
    return {
        "mean": round(float(diff.mean()), 4),
        "ci95": [round(float(diff.mean()) - half, 4), round(float(diff.mean()) + half, 4)] if half else None,
        "ci95_half_width": round(half, 4) if half else None,
        "sd": round(float(diff.std(ddof=1)), 4) if n > 1 else None,
        "min": round(float(diff.min()), 4),
        "max": round(float(diff.max()), 4),
        "t_test_p": round(float(stats.ttest_rel(b, a).pvalue), 4) if len(diff) > 1 else None,
        "wilcoxon_p": round(float(stats.wilcoxon(b, a).pvalue), 4) if len(diff) > 1 and diff.any() else None,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=10, help="random_state 0 .. seeds-1")
    parser.add_argument("--n-samples", type=int, default=300)
    parser.add_argument("--max-epochs", type=int, default=6)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=None, help="output folder for bf16_fits.json (default: print only)")
    args = parser.parse_args()

    from sklearn.model_selection import train_test_split

    from sksurv_ecg import ECGSurvivalAnalysis
    from sksurv_ecg.datasets import make_ecg_survival

    X, y, _ = make_ecg_survival(args.n_samples, fs=250, event_rate=0.3, random_state=1)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y["event"], random_state=0)
    rows = []
    with set_threads(args.threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. bf16 emulated on this CPU: slow, not wrong
        for seed in range(args.seeds):
            row = {"random_state": seed}
            for arm, (precision, impl) in ARMS.items():
                start = time.perf_counter()
                model = ECGSurvivalAnalysis(
                    max_epochs=args.max_epochs,
                    batch_size=32,
                    lr=1e-3,
                    random_state=seed,
                    precision=precision,
                    module__impl=impl,
                ).fit(X_tr, y_tr)
                row[arm] = {
                    "c_index": round(model.score(X_te, y_te), 4),
                    "reconstruction_mse": round(heldout_reconstruction_mse(model, X_te), 4),
                    "fit_s": round(time.perf_counter() - start, 1),
                }
            print(json.dumps(row), file=sys.stderr, flush=True)
            rows.append(row)

    def column(precision, key):
        return [r[precision][key] for r in rows]

    summary = {}
    for key in ("c_index", "reconstruction_mse"):
        summary[key] = {
            arm: {
                "mean": round(float(np.mean(column(arm, key))), 4),
                "sd": round(float(np.std(column(arm, key), ddof=1)), 4) if len(rows) > 1 else None,
            }
            for arm in ARMS
        }
        summary[key]["bf16_minus_float32"] = paired(column("float32", key), column("bf16", key))
        summary[key]["float32_reference_minus_float32"] = paired(
            column("float32", key), column("float32_reference", key)
        )
        summary[key]["bf16_minus_float32_reference"] = paired(column("float32_reference", key), column("bf16", key))
    result = {
        "machine": machine_info(),
        "cohort": f"make_ecg_survival({args.n_samples}, fs=250, event_rate=0.3, random_state=1), 70/30",
        "max_epochs": args.max_epochs,
        "fits": rows,
        "summary": summary,
    }
    report(result, args.out, "bf16_fits.json")


if __name__ == "__main__":
    main()
