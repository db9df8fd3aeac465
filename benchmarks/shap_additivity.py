"""SHAP additivity residual against the sample count, on the paper network.

Call like this::

    python benchmarks/shap_additivity.py --nsamples 50 200 1000 --out shap-additivity.json

The paper network (default ``module__*`` settings, 12 x 608 median beats at 500 Hz) is trained for
one epoch on a synthetic cohort; the residual ``|sum(attributions) - (log_risk - base_value)|``
of :func:`sksurv_ecg.explain.shap_values` is reported per sample count (max and mean over the
explained ECGs).
"""

import argparse
import json
import time

import numpy as np

from sksurv_ecg import ECGSurvivalAnalysis
from sksurv_ecg.datasets import make_ecg_survival
from sksurv_ecg.explain import shap_values


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nsamples", type=int, nargs="+", default=[50, 200, 1000])
    parser.add_argument("--n-explain", type=int, default=4)
    parser.add_argument("--n-background", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="shap-additivity.json")
    args = parser.parse_args(argv)
    X, y, _ = make_ecg_survival(128, event_rate=0.5, random_state=args.seed)
    model = ECGSurvivalAnalysis(max_epochs=1, batch_size=64, lr=1e-3, random_state=args.seed).fit(X, y)
    rows = []
    for nsamples in args.nsamples:
        start = time.perf_counter()
        res = shap_values(
            model,
            X[: args.n_explain],
            X[-args.n_background :],
            nsamples=nsamples,
            additivity_tolerance=float("inf"),
            random_state=args.seed,
        )
        residual = np.abs(res.additivity_residual)
        rows.append(
            {
                "nsamples": nsamples,
                "max_residual": float(residual.max()),
                "mean_residual": float(residual.mean()),
                "spread_of_log_risk": float(np.std(model.predict(X))),
                "seconds": time.perf_counter() - start,
            }
        )
        print(rows[-1], flush=True)
    with open(args.out, "w") as fh:
        json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
