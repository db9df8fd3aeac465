"""Data-parallel fit of ECGSurvivalAnalysis, run by tests/test_distributed.py under torchrun.

Call like this (2 CPU processes, gloo backend)::

    torchrun --standalone --nproc_per_node 2 tests/_ddp_script.py --out result.json

or with ``accelerate launch --cpu --num_processes 2 tests/_ddp_script.py --out result.json``.
Every process fits the same estimator on the same synthetic cohort inside
:func:`sksurv_ecg.distributed.data_parallel` and writes ``<out>.rank<k>.json`` with its held-out
Harrell's C, its number of training steps and a fingerprint of its weights.
"""

import argparse
import hashlib
import json
import time

import numpy as np
import torch

from sksurv_ecg import ECGSurvivalAnalysis
from sksurv_ecg.datasets import make_ecg_survival
from sksurv_ecg.distributed import data_parallel

PARAMS = {
    "max_epochs": 6,
    "batch_size": 32,
    "lr": 1e-3,
    "random_state": 0,
    "module__downsample": 3,
    "module__base_features": 4,
    "module__n_heads": 2,
    "module__latent_dim": 16,
    # the quality bounds of test_distributed were measured on all 200 training ECGs (no calibration split)
    "calibration": None,
}


def cohort():
    X, y, _ = make_ecg_survival(300, fs=100, event_rate=0.3, random_state=1)
    return X[:200], y[:200], X[200:], y[200:]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--random-state", type=int, default=PARAMS["random_state"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    X_tr, y_tr, X_te, y_te = cohort()
    start = time.perf_counter()
    with data_parallel(cpu=True) as accelerator:
        # Linear scaling rule: N processes take N times fewer steps of N times larger batches.
        params = {**PARAMS, "lr": PARAMS["lr"] * accelerator.num_processes, "random_state": args.random_state}
        model = ECGSurvivalAnalysis(**params).fit(X_tr, y_tr)
    weights = b"".join(p.detach().numpy().tobytes() for p in model.net_.module_.parameters())
    result = {
        "num_processes": accelerator.num_processes,
        "rank": accelerator.process_index,
        "backend": str(getattr(accelerator.state, "backend", None)),
        "c_index": float(model.score(X_te, y_te)),
        "train_steps": int(sum(row["train_batch_count"] for row in model.history_)),
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
        "fit_seconds": time.perf_counter() - start,
        "risk": np.asarray(model.predict(X_te[:5])).tolist(),
    }
    with open(f"{args.out}.rank{accelerator.process_index}.json", "w") as fh:
        json.dump(result, fh)


if __name__ == "__main__":
    main()
