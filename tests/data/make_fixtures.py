"""Regenerate the committed persistence fixtures. Call like this (from the repository root):

    .venv/bin/python tests/data/make_fixtures.py

- ``model_v0.1.0/`` + ``model_v0.1.0_predictions.npy``: a tiny ECGSurvivalAnalysis saved by this
  version, with its predictions on ``survival_check_data()``; later versions must still load it.
- ``cuda_state_dict.pt``: a small state_dict whose tensors are tagged as saved on ``cuda:0``. It is
  made without a GPU by saving on the CPU and rewriting the storage location recorded in the
  pickle ("cpu" -> "cuda:0"), which is exactly what ``torch.save`` writes for CUDA tensors.
"""

import io
import zipfile
from pathlib import Path

import numpy as np
import torch

from sksurv_ecg import ECGSurvivalAnalysis
from sksurv_ecg.utils.estimator_checks import survival_check_data

HERE = Path(__file__).parent


def make_model_fixture():
    X, y = survival_check_data()
    model = ECGSurvivalAnalysis(max_epochs=1, batch_size=8, random_state=0, module__base_features=2).fit(X, y)
    model.save(HERE / "model_v0.1.0")
    np.save(HERE / "model_v0.1.0_predictions.npy", model.predict(X))


def make_cuda_state_dict():
    buffer = io.BytesIO()
    torch.save({"weight": torch.arange(6.0).reshape(2, 3), "bias": torch.ones(2)}, buffer)
    src = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith("data.pkl"):
                # the location is a protocol-2 BINUNICODE string: opcode "X", 4-byte length, text
                old, new = b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0"
                assert old in data
                data = data.replace(old, new)
            dst.writestr(info, data)
    (HERE / "cuda_state_dict.pt").write_bytes(out.getvalue())


if __name__ == "__main__":
    make_model_fixture()
    make_cuda_state_dict()
