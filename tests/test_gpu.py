"""CUDA: fit and predict on the GPU, CPU-vs-GPU agreement (RELIABILITY row 42), bf16, pinned
batches, and a CUDA-fitted estimator unpickled on a CPU-only host. Skipped without CUDA."""

import os
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from sksurv.metrics import concordance_index_censored

from sksurv_ecg import (
    ECGSurvivalAnalysis,
)
from sksurv_ecg.utils.estimator_checks import survival_check_data

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA (torch.cuda.is_available() is False)"),
]

# No dropout and no lead masks: their random draws come from the CUDA generator on the GPU and
# from the CPU generator on the CPU, so only the arithmetic differs between the two fits.
DETERMINISTIC = {
    "max_epochs": 2,
    "batch_size": 8,
    "random_state": 0,
    "lead_mask_prob": 0.0,
    "dropout": 0.0,
    "head_dropout": 0.0,
}


@pytest.fixture(scope="module")
def data():
    return survival_check_data(n_samples=32, n_leads=12, n_timesteps=64)


@pytest.fixture(scope="module")
def gpu_model(data):
    X, y = data
    return ECGSurvivalAnalysis(**DETERMINISTIC, device="cuda").fit(X, y)


def test_fit_and_predict_on_cuda(gpu_model, data):
    X, y = data
    assert gpu_model.device_.startswith("cuda")
    assert all(p.is_cuda for p in gpu_model.net_.module_.parameters())
    risk = gpu_model.predict(X)
    assert risk.dtype == np.float64
    assert risk.shape == (X.shape[0],)
    assert np.isfinite(risk).all()
    surv = gpu_model.predict_survival_function(X, return_array=True)
    assert surv.shape == (X.shape[0], gpu_model.unique_times_.shape[0])


def test_batches_are_pinned_on_cuda(gpu_model, data):
    X, y = data
    net = gpu_model.net_
    assert net._loader_params("iterator_valid")["pin_memory"] is True
    target = np.column_stack([y["time"], y["event"]]).astype(np.float32)
    train_batch = next(iter(net.get_iterator(net.get_dataset(X, target), training=True)))
    assert train_batch[0].is_pinned()


def test_cpu_and_gpu_fits_agree(gpu_model, data):
    """RELIABILITY row 42: within tolerance, not bitwise (cuDNN kernels, TF32 convolutions)."""
    X, y = data
    cpu = ECGSurvivalAnalysis(**DETERMINISTIC, device="cpu").fit(X, y)
    risk_cpu, risk_gpu = cpu.predict(X), gpu_model.predict(X)
    np.testing.assert_allclose(risk_gpu, risk_cpu, rtol=5e-2, atol=5e-2)
    # The two fits rank the ECGs alike.
    order = concordance_index_censored(np.ones(X.shape[0], bool), -risk_cpu, risk_gpu)[0]
    assert order > 0.95


def test_same_weights_predict_alike_on_cpu_and_gpu(gpu_model, data, tmp_path):
    X, _ = data
    gpu_model.save(tmp_path / "model")
    on_cpu = ECGSurvivalAnalysis.load(tmp_path / "model", device="cpu")
    np.testing.assert_allclose(on_cpu.predict(X), gpu_model.predict(X), rtol=1e-3, atol=1e-3)


def test_bf16_on_cuda(data, gpu_model):
    X, y = data
    model = ECGSurvivalAnalysis(**DETERMINISTIC, device="cuda", precision="bf16").fit(X, y)
    risk = model.predict(X)
    assert np.isfinite(risk).all()
    assert model.net_._autocast().device == "cuda"
    # bfloat16 keeps 8 bits of mantissa: the ranking, not the values, must stay close to float32.
    assert concordance_index_censored(np.ones(X.shape[0], bool), -gpu_model.predict(X), risk)[0] > 0.8


def test_pickled_cuda_model_loads_on_a_cpu_only_host(gpu_model, data, tmp_path):
    X, _ = data
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(gpu_model))
    np.save(tmp_path / "X.npy", X)
    script = (
        "import pickle, sys, warnings, numpy as np, torch\n"
        "assert not torch.cuda.is_available()\n"
        "with warnings.catch_warnings():\n"
        "    warnings.simplefilter('ignore')  # skorch's DeviceWarning: CUDA params mapped to the CPU\n"
        f"    model = pickle.loads(open({str(path)!r}, 'rb').read())\n"
        "assert all(p.device.type == 'cpu' for p in model.net_.module_.parameters())\n"
        f"np.save({str(tmp_path / 'risk.npy')!r}, model.predict(np.load({str(tmp_path / 'X.npy')!r})))\n"
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    np.testing.assert_allclose(np.load(tmp_path / "risk.npy"), gpu_model.predict(X), rtol=1e-3, atol=1e-3)


# --- from the reliability matrix (RELIABILITY.md) ---------------------------------------------------


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cpu_and_gpu_fits_of_one_seed_agree(check_data, tiny_net):
    """RELIABILITY row 42. Same seed on CUDA and CPU: close predictions, not bitwise (different kernels)."""
    X, y = survival_check_data(n_samples=48, n_leads=12, n_timesteps=64)
    params = {**tiny_net, **DETERMINISTIC}
    cpu = ECGSurvivalAnalysis(**params, device="cpu").fit(X, y)
    gpu = ECGSurvivalAnalysis(**params, device="cuda").fit(X, y)
    assert gpu.device_.startswith("cuda")
    np.testing.assert_allclose(gpu.predict(X), cpu.predict(X), rtol=1e-3, atol=1e-3)
    restored = pickle.loads(pickle.dumps(gpu))
    np.testing.assert_allclose(restored.predict(X), gpu.predict(X), rtol=1e-6, atol=1e-6)
