"""Held-out calibration of the deep model vs Cox on the true features.

Call like this::

    python benchmarks/calibration_check.py 500 15   # n per half, epochs
"""

import sys
import time

import numpy as np
from sklearn.model_selection import StratifiedKFold
from sksurv.linear_model import CoxPHSurvivalAnalysis
from sksurv.linear_model.coxph import BreslowEstimator

from sksurv_ecg import ECGSurvivalAnalysis
from sksurv_ecg.datasets import make_ecg_survival
from sksurv_ecg.metrics import calibration_at, fit_risk_scale

n = int(sys.argv[1])
epochs = int(sys.argv[2])
X, y, f = make_ecg_survival(2 * n, fs=100, event_rate=0.3, random_state=0)
tr, te = np.arange(n), np.arange(n, 2 * n)
t0 = float(np.quantile(y["time"][y["event"]], 0.5))
true = ["age", "sex", "heart_rate", "qrs_duration", "t_amplitude", "st_deviation", "qtc"]
F = f[true].to_numpy()
F = np.column_stack([F, np.abs(f.st_deviation), np.maximum((f.qtc - 415) / 25 - 1, 0)])
cox = CoxPHSurvivalAnalysis().fit(F[tr], y[tr])
risk_cox = 1 - np.array([fn(t0) for fn in cox.predict_survival_function(F[te])])
c = calibration_at(y[te], risk_cox, t0, log_risk=cox.predict(F[te]))
print(f"t0={t0:.2f} cox: slope {c.slope:.3f} ici {c.ici:.4f} C {cox.score(F[te], y[te]):.3f}")
kw = {
    "max_epochs": epochs,
    "lr": 1e-3,
    "batch_size": 64,
    "random_state": 0,
    "module__base_features": 4,
    "module__latent_dim": 32,
}
s = time.time()
m = ECGSurvivalAnalysis(**kw).fit(X[tr], y[tr])
print("fit s", time.time() - s)
r_tr, r_te = m.predict(X[tr]), m.predict(X[te])
print(
    "C test",
    m.score(X[te], y[te]),
    "scale on train",
    fit_risk_scale(r_tr, y[tr]),
    "slope on test",
    fit_risk_scale(r_te, y[te]),
)


def ev(scale, name):
    b = BreslowEstimator().fit(scale * r_tr, y["event"][tr], y["time"][tr])
    S = np.array([fn(t0) for fn in b.get_survival_function(scale * r_te)])
    c = calibration_at(y[te], 1 - S, t0, log_risk=scale * r_te)
    print(f"{name}: scale {scale:.3f} slope {c.slope:.3f} ici {c.ici:.4f} citl {c.calibration_in_the_large:.4f}")


ev(1.0, "raw")
ev(fit_risk_scale(r_tr, y[tr]), "train-scale")
s = time.time()
oof = np.zeros(n)
for a, b_ in StratifiedKFold(3, shuffle=True, random_state=0).split(X[tr], y["event"][tr]):
    oof[b_] = ECGSurvivalAnalysis(**kw).fit(X[tr][a], y[tr][a]).predict(X[tr][b_])
print("oof s", time.time() - s)
ev(fit_risk_scale(oof, y[tr]), "oof-scale")
