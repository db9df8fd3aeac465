"""Saving and loading: safetensors + JSON, pickle, checkpoints and their failure modes."""

import io
import json
import pickle
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from sksurv_ecg import ECGEmbedder, ECGSurvivalAnalysis, TextAlignedPretrainer, load_estimator
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
    restored = load_estimator(tmp_path / "pre")
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
        load_estimator(path)
    assert isinstance(info.value.__cause__, RuntimeError)


def test_missing_directory():
    with pytest.raises(FileNotFoundError, match="config.json does not exist"):
        load_estimator("/nonexistent/model")


def test_row41_older_version_warns(survival_model, tmp_path):
    from sksurv_ecg import TrainingWarning

    model, X, _ = survival_model
    path = model.save(tmp_path / "m")
    config = json.loads((path / "config.json").read_text())
    config["versions"]["sksurv_ecg"] = "0.0.1"
    (path / "config.json").write_text(json.dumps(config))
    with pytest.warns(TrainingWarning, match="saved with sksurv-ecg 0.0.1"):
        restored = load_estimator(path)
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_row41_committed_fixture_still_loads():
    """A model saved by version 0.1.0 (tests/data/model_v0.1.0, made by make_fixtures.py) loads."""
    X, _ = survival_check_data()
    restored = load_estimator(DATA / "model_v0.1.0")
    expected = np.load(DATA / "model_v0.1.0_predictions.npy")
    np.testing.assert_allclose(restored.predict(X), expected, rtol=1e-5, atol=1e-6)


def _tag_as_saved_on_cuda(path):
    """Rewrite a ``torch.save`` file so that its tensors say they were saved on ``cuda:0``.

    This is exactly what ``torch.save`` writes for CUDA tensors: the storage location recorded in
    the pickle (a protocol-2 BINUNICODE string: opcode "X", 4-byte length, text).
    """
    src = zipfile.ZipFile(io.BytesIO(Path(path).read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith("data.pkl"):
                old, new = b"X\x03\x00\x00\x00cpu", b"X\x06\x00\x00\x00cuda:0"
                assert old in data
                data = data.replace(old, new)
            dst.writestr(info, data)
    Path(path).write_bytes(out.getvalue())


TINY = {**FAST, "module__downsample": 2, "module__base_features": 2, "module__n_heads": 2, "module__latent_dim": 8}


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a CPU-only host")
def test_row36_checkpoint_saved_on_cuda_resumes_on_a_cpu_only_host(tmp_path):
    X, y = survival_check_data()
    done = ECGSurvivalAnalysis(**TINY, checkpoint_dir=tmp_path).fit(X, y)
    _tag_as_saved_on_cuda(tmp_path / "params.pt")
    assert b"cuda:0" in (tmp_path / "params.pt").read_bytes()
    again = ECGSurvivalAnalysis(**TINY, checkpoint_dir=tmp_path).fit(X, y)  # finished: loads, trains nothing
    assert all(p.device.type == "cpu" for p in again.net_.module_.parameters())
    np.testing.assert_array_equal(again.predict(X), done.predict(X))


def test_row37_checkpoint_with_pickled_object_is_refused(tmp_path):
    """Resuming reads the checkpoint with ``weights_only=True``: a pickled function is refused, never run."""
    X, y = survival_check_data()
    ECGSurvivalAnalysis(**TINY, checkpoint_dir=tmp_path).fit(X, y)
    buffer = io.BytesIO()
    torch.save({"weight": torch.zeros(2), "payload": shutil.rmtree}, buffer)
    (tmp_path / "params.pt").write_bytes(buffer.getvalue())
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        ECGSurvivalAnalysis(**{**TINY, "max_epochs": 2}, checkpoint_dir=tmp_path).fit(X, y)


def test_load_is_a_deprecated_alias_of_load_estimator(survival_model, tmp_path):
    import sksurv_ecg

    model, X, _ = survival_model
    model.save(tmp_path / "m")
    with pytest.warns(FutureWarning, match="use sksurv_ecg.load_estimator"):
        restored = sksurv_ecg.load(tmp_path / "m")
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_load_refuses_an_unknown_class(survival_model, tmp_path):
    model, _, _ = survival_model
    path = model.save(tmp_path / "m")
    config = json.loads((path / "config.json").read_text())
    config["class"] = "NotAnEstimator"
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="holds a 'NotAnEstimator'; this sksurv-ecg loads"):
        load_estimator(path)


def test_loaded_model_keeps_one_breslow_baseline(survival_model, tmp_path):
    model, X, _ = survival_model
    restored = load_estimator(model.save(tmp_path / "m"))
    for fitted in (model, restored):
        assert not {"unique_times_", "cum_baseline_hazard_", "baseline_survival_"} & set(vars(fitted))
        assert fitted.unique_times_ is fitted.baseline_model_.unique_times_
        assert fitted.baseline_survival_ is fitted.baseline_model_.baseline_survival_
    np.testing.assert_array_equal(restored.unique_times_, model.unique_times_)
    np.testing.assert_allclose(restored.cum_baseline_hazard_.y, model.cum_baseline_hazard_.y)
    np.testing.assert_allclose(restored.baseline_survival_.y, model.baseline_survival_.y)
    np.testing.assert_allclose(
        restored.predict_survival_function(X[:4], return_array=True),
        model.predict_survival_function(X[:4], return_array=True),
    )
