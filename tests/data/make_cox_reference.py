"""Generate ``cox_reference.json``: scikit-survival's Cox fit on WHAS500, to check ``cox_ph_loss``.

Call like this (from the repository root)::

    python tests/data/make_cox_reference.py

For both ways of handling ties it fits ``CoxPHSurvivalAnalysis(alpha=0, ties=..., tol=1e-12)`` on
the numeric columns of ``sksurv.datasets.load_whas500()`` (standardised), and stores the
coefficients and scikit-survival's average negative partial log-likelihood at the optimum
(normalised by the number of samples). At these coefficients the gradient of the
partial likelihood vanishes, so ``cox_ph_loss`` must have a (near) zero gradient there and its value
must equal the stored one times ``n_samples / n_events``.
"""

import json
from pathlib import Path

import numpy as np
import sklearn
import sksurv
from sksurv.datasets import load_whas500
from sksurv.linear_model import CoxPHSurvivalAnalysis
from sksurv.linear_model.coxph import CoxPHOptimizer

COLUMNS = ["age", "bmi", "diasbp", "hr", "los", "sysbp"]


def main() -> None:
    X_df, y = load_whas500()
    X = X_df[COLUMNS].to_numpy(dtype=np.float64)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    event, time = y["fstat"], y["lenfol"]
    out = {
        "source": "sksurv.datasets.load_whas500(), columns standardised (mean 0, std 1 with ddof=0)",
        "columns": COLUMNS,
        "n_samples": int(X.shape[0]),
        "n_events": int(event.sum()),
        "n_tied_event_times": int(len(time[event]) - len(np.unique(time[event]))),
        "versions": {"scikit-survival": sksurv.__version__, "scikit-learn": sklearn.__version__},
    }
    for ties in ("breslow", "efron"):
        model = CoxPHSurvivalAnalysis(alpha=0.0, ties=ties, n_iter=200, tol=1e-12).fit(X, y)
        optimizer = CoxPHOptimizer(X, event, time, np.zeros(X.shape[1]), ties)
        out[ties] = {
            "coef": model.coef_.tolist(),
            "sksurv_nlog_likelihood": float(optimizer.nlog_likelihood(model.coef_)),
        }
    path = Path(__file__).with_name("cox_reference.json")
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
