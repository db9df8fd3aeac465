"""Regenerate the committed persistence fixtures. Call like this (from the repository root):

    .venv/bin/python tests/data/make_fixtures.py

- ``model_v0.1.0/`` + ``model_v0.1.0_predictions.npy``: a tiny ECGSurvivalAnalysis saved by this
  version, with its predictions on ``survival_check_data()``; later versions must still load it.
"""

from pathlib import Path

import numpy as np

from sksurv_ecg import ECGSurvivalAnalysis
from sksurv_ecg.utils.estimator_checks import survival_check_data

HERE = Path(__file__).parent


def make_model_fixture():
    X, y = survival_check_data()
    model = ECGSurvivalAnalysis(max_epochs=1, batch_size=8, random_state=0, module__base_features=2).fit(X, y)
    model.save(HERE / "model_v0.1.0")
    np.save(HERE / "model_v0.1.0_predictions.npy", model.predict(X))


if __name__ == "__main__":
    make_model_fixture()
