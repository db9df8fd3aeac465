"""Saving and loading: safetensors + JSON, pickle, checkpoints and their failure modes."""

import io
import json
import pickle
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from sksurv_ecg import DeviceWarning, ECGEmbedder, ECGSurvivalAnalysis, TextAlignedPretrainer, load
from sksurv_ecg.utils.estimator_checks import survival_check_data

DATA = Path(__file__).parent / "data"
FAST = {"max_epochs": 1, "batch_size": 8, "random_state": 0}


@pytest.fixture(scope="module")
def survival_model():
    X, y = survival_check_data()
    return ECGSurvivalAnalysis(**FAST).fit(X, y), X, y


def test_save_load_roundtrip_survival(survival_model, tmp_path):
    model, X, _ = survival_model
    model.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "model.safetensors"]
    restored = ECGSurvivalAnalysis.load(tmp_path / "m")
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))
    np.testing.assert_allclose(
        restored.predict_survival_function(X, return_array=True), model.predict_survival_function(X, return_array=True)
    )
    assert restored.get_params()["random_state"] == 0


def test_generic_load_picks_the_class(tmp_path):
    X, _ = survival_check_data()
    text = np.random.default_rng(0).standard_normal((X.shape[0], 6)).astype(np.float32)
    pre = TextAlignedPretrainer(**FAST).fit(X, text)
    pre.save(tmp_path / "pre")
    restored = load(tmp_path / "pre")
    assert isinstance(restored, TextAlignedPretrainer)
    np.testing.assert_array_equal(restored.transform(X), pre.transform(X))
    with pytest.raises(TypeError, match="holds a TextAlignedPretrainer, not a ECGSurvivalAnalysis"):
        ECGSurvivalAnalysis.load(tmp_path / "pre")


def test_saved_encoder_directory_warm_starts(survival_model, tmp_path):
    X, y = survival_check_data()
    ECGEmbedder(**FAST).fit(X).save(tmp_path / "enc")
    model = ECGSurvivalAnalysis(encoder=str(tmp_path / "enc"), **FAST).fit(X, y)
    assert np.isfinite(model.predict(X)).all()


def test_row6_pickle_roundtrip(survival_model):
    model, X, _ = survival_model
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_row40_weights_into_mismatched_architecture(survival_model, tmp_path):
    model, _, _ = survival_model
    path = model.save(tmp_path / "m")
    config = json.loads((path / "config.json").read_text())
    config["autoencoder"]["base_features"] = 2
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="do not fit the architecture") as info:
        load(path)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_missing_directory():
    with pytest.raises(FileNotFoundError, match="config.json does not exist"):
        load("/nonexistent/model")


def test_row41_older_version_warns(survival_model, tmp_path):
    from sksurv_ecg import TrainingWarning

    model, X, _ = survival_model
    path = model.save(tmp_path / "m")
    config = json.loads((path / "config.json").read_text())
    config["versions"]["sksurv_ecg"] = "0.0.1"
    (path / "config.json").write_text(json.dumps(config))
    with pytest.warns(TrainingWarning, match="saved with sksurv-ecg 0.0.1"):
        restored = load(path)
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_row41_committed_fixture_still_loads():
    """A model saved by version 0.1.0 (tests/data/model_v0.1.0, made by make_fixtures.py) loads."""
    X, _ = survival_check_data()
    restored = load(DATA / "model_v0.1.0")
    expected = np.load(DATA / "model_v0.1.0_predictions.npy")
    np.testing.assert_allclose(restored.predict(X), expected, rtol=1e-5, atol=1e-6)


def test_row36_cuda_saved_state_dict_loads_on_cpu():
    """tests/data/cuda_state_dict.pt holds tensors tagged for cuda:0 (see make_fixtures.py)."""
    from sksurv_ecg.utils.torch_io import load_state_dict

    raw = (DATA / "cuda_state_dict.pt").read_bytes()
    assert b"cuda" in raw
    with (
        pytest.warns(DeviceWarning, match="CUDA is not available") if not torch.cuda.is_available() else _nullcontext()
    ):
        state = load_state_dict(DATA / "cuda_state_dict.pt")
    assert all(t.device.type == ("cuda" if torch.cuda.is_available() else "cpu") for t in state.values())


def test_row37_checkpoint_with_pickled_object_is_refused(tmp_path):
    from sksurv_ecg.utils.torch_io import load_state_dict

    buffer = io.BytesIO()
    torch.save({"weight": torch.zeros(2), "payload": shutil.rmtree}, buffer)
    (tmp_path / "evil.pt").write_bytes(buffer.getvalue())
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        load_state_dict(tmp_path / "evil.pt")


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
