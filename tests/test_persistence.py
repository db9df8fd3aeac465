"""Saving and loading: safetensors + JSON, pickle, checkpoints and their failure modes."""

import io
import json
import pickle
import re
import shutil
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from sksurv_ecg import (
    DeviceWarning,
    ECGEmbedder,
    ECGSurvivalAnalysis,
    TextAlignedPretrainer,
    TrainingWarning,
    load_estimator,
)
from sksurv_ecg.exceptions import DamagedFileError
from sksurv_ecg.utils.estimator_checks import survival_check_data

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def survival_model(tiny_net):
    X, y = survival_check_data()
    return ECGSurvivalAnalysis(**tiny_net).fit(X, y), X, y


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


def test_generic_load_picks_the_class(tiny_net, tmp_path):
    X, _ = survival_check_data()
    text = np.random.default_rng(0).standard_normal((X.shape[0], 6)).astype(np.float32)
    pre = TextAlignedPretrainer(**tiny_net).fit(X, text)
    pre.save(tmp_path / "pre")
    restored = load_estimator(tmp_path / "pre")
    assert isinstance(restored, TextAlignedPretrainer)
    np.testing.assert_array_equal(restored.transform(X), pre.transform(X))
    with pytest.raises(TypeError, match="holds a TextAlignedPretrainer, not a ECGSurvivalAnalysis"):
        ECGSurvivalAnalysis.load(tmp_path / "pre")


def test_saved_encoder_directory_warm_starts(tiny_net, survival_model, tmp_path):
    X, y = survival_check_data()
    ECGEmbedder(**tiny_net).fit(X).save(tmp_path / "enc")
    model = ECGSurvivalAnalysis(encoder=str(tmp_path / "enc"), **tiny_net).fit(X, y)
    assert np.isfinite(model.predict(X)).all()


def test_pickle_roundtrip_predicts_the_same(survival_model):
    model, X, _ = survival_model
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_missing_directory():
    with pytest.raises(FileNotFoundError, match="config.json does not exist"):
        load_estimator("/nonexistent/model")


def test_older_version_warns_and_predicts_the_same(survival_model, tmp_path):
    from sksurv_ecg import TrainingWarning

    model, X, _ = survival_model
    path = model.save(tmp_path / "m")
    config = json.loads((path / "config.json").read_text())
    config["versions"]["sksurv_ecg"] = "0.0.1"
    (path / "config.json").write_text(json.dumps(config))
    with pytest.warns(TrainingWarning, match="saved with sksurv-ecg 0.0.1"):
        restored = load_estimator(path)
    np.testing.assert_array_equal(restored.predict(X), model.predict(X))


def test_committed_v0_1_0_model_still_loads():
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


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a CPU-only host")
def test_checkpoint_saved_on_cuda_resumes_on_a_cpu_only_host(tiny_net, tmp_path):
    X, y = survival_check_data()
    done = ECGSurvivalAnalysis(**tiny_net, checkpoint_dir=tmp_path).fit(X, y)
    _tag_as_saved_on_cuda(tmp_path / "params.pt")
    assert b"cuda:0" in (tmp_path / "params.pt").read_bytes()
    again = ECGSurvivalAnalysis(**tiny_net, checkpoint_dir=tmp_path).fit(X, y)  # finished: loads, trains nothing
    assert all(p.device.type == "cpu" for p in again.net_.module_.parameters())
    np.testing.assert_array_equal(again.predict(X), done.predict(X))


def test_checkpoint_with_pickled_object_is_refused(tiny_net, tmp_path):
    """Resuming reads the checkpoint with ``weights_only=True``: a pickled function is refused, never run."""
    X, y = survival_check_data()
    ECGSurvivalAnalysis(**tiny_net, checkpoint_dir=tmp_path).fit(X, y)
    buffer = io.BytesIO()
    torch.save({"weight": torch.zeros(2), "payload": shutil.rmtree}, buffer)
    (tmp_path / "params.pt").write_bytes(buffer.getvalue())
    with pytest.raises(pickle.UnpicklingError, match="Weights only load failed"):
        ECGSurvivalAnalysis(**{**tiny_net, "max_epochs": 2}, checkpoint_dir=tmp_path).fit(X, y)


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


# --- from the reliability matrix (RELIABILITY.md) ---------------------------------------------------


def test_save_before_fit_raises_not_fitted(tiny_net, tmp_path):
    """RELIABILITY row 1."""
    with pytest.raises(NotFittedError):
        ECGSurvivalAnalysis(**tiny_net).save(tmp_path / "m")


def test_pickle_and_joblib_roundtrip_predict_the_same(check_data, check_model, tmp_path):
    """RELIABILITY row 6."""
    X, _ = check_data
    restored = pickle.loads(pickle.dumps(check_model))
    np.testing.assert_array_equal(restored.predict(X), check_model.predict(X))
    joblib.dump(check_model, tmp_path / "model.joblib")
    np.testing.assert_array_equal(joblib.load(tmp_path / "model.joblib").predict(X), check_model.predict(X))


@pytest.mark.skipif(torch.cuda.is_available(), reason="simulates a CPU-only host")
def test_pickle_of_a_cuda_model_loads_on_a_cpu_only_host(check_data, check_model):
    """RELIABILITY row 6. A pickle made where the net lived on CUDA is unpickled onto the CPU (skorch maps it)."""
    X, _ = check_data
    model = pickle.loads(pickle.dumps(check_model))
    model.net_.device = "cuda"  # what a net trained on a GPU pickles as its device
    with pytest.warns(Warning, match=r"requested device \(cuda\) is not available|no CUDA devices"):
        restored = pickle.loads(pickle.dumps(model))
    assert torch.device(restored.net_.device).type == "cpu"
    np.testing.assert_array_equal(restored.predict(X), check_model.predict(X))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a CPU-only host")
def test_load_on_cuda_without_cuda_warns_and_uses_cpu(check_data, check_model, tmp_path):
    """RELIABILITY row 36."""
    X, _ = check_data
    check_model.save(tmp_path / "m")
    with pytest.warns(DeviceWarning, match="CUDA is not available; using 'cpu'"):
        restored = load_estimator(tmp_path / "m", device="cuda")
    np.testing.assert_array_equal(restored.predict(X), check_model.predict(X))


def test_loading_a_bf16_model_where_bf16_is_emulated_warns(check_data, check_model, tmp_path, monkeypatch):
    """A model fitted in bf16 on a machine with bfloat16 predicts in bf16 wherever it is loaded."""
    from sklearn.base import clone

    X, y = check_data
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: True)  # the fitting machine
    clone(check_model).set_params(precision="bf16").fit(X, y).save(tmp_path / "m")
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)  # this one
    with pytest.warns(DeviceWarning, match="precision='bf16' on this CPU") as caught:
        restored = load_estimator(tmp_path / "m")
    assert caught[0].filename == __file__
    assert np.isfinite(restored.predict(X)).all()


def test_safetensors_cannot_store_the_optimizer(check_model, tmp_path):
    """RELIABILITY row 38."""
    with pytest.raises(ValueError, match="Safetensors can only store tensors.*don't use safetensors"):
        check_model.net_.save_params(
            f_params=tmp_path / "params.safetensors", f_optimizer=tmp_path / "opt.safetensors", use_safetensors=True
        )
    # weights alone are fine with safetensors
    check_model.net_.save_params(f_params=tmp_path / "params.safetensors", use_safetensors=True)


def test_checkpoint_dir_with_safetensors_refuses_the_optimizer(tiny_net, check_data, tmp_path):
    """RELIABILITY row 38."""
    X, y = check_data
    model = ECGSurvivalAnalysis(**tiny_net, checkpoint_dir=tmp_path, callbacks__checkpoint__use_safetensors=True)
    with pytest.raises(ValueError, match="safetensors.*optimizer|optimizer.*safetensors"):
        model.fit(X, y)


def test_resumed_fit_equals_the_uninterrupted_fit(tiny_net, check_data, tmp_path):
    """RELIABILITY row 39. 2 epochs, "interrupted", then a refit to 4 with the same checkpoint_dir
    equals 4 epochs at once."""
    X, y = check_data
    params = {**tiny_net, "lead_mask_prob": 0.5}
    uninterrupted = ECGSurvivalAnalysis(**{**params, "max_epochs": 4}).fit(X, y)
    first = ECGSurvivalAnalysis(**{**params, "max_epochs": 2}, checkpoint_dir=tmp_path).fit(X, y)
    assert len(first.history_) == 2
    assert {"params.pt", "optimizer.pt", "history.json", "rng_state.json"} <= {p.name for p in tmp_path.iterdir()}
    resumed = ECGSurvivalAnalysis(**{**params, "max_epochs": 4}, checkpoint_dir=tmp_path).fit(X, y)
    assert len(resumed.history_) == 4
    np.testing.assert_allclose(
        resumed.history_[:, "train_loss"], uninterrupted.history_[:, "train_loss"], rtol=1e-5, atol=1e-7
    )
    expected = uninterrupted.net_.module_.state_dict()
    for key, value in resumed.net_.module_.state_dict().items():
        torch.testing.assert_close(value, expected[key], rtol=1e-5, atol=1e-7, msg=key)
    np.testing.assert_allclose(resumed.predict(X), uninterrupted.predict(X), rtol=1e-5, atol=1e-7)


def test_resuming_a_finished_fit_trains_nothing(tiny_net, check_data, check_model, tmp_path):
    """RELIABILITY row 39."""
    X, y = check_data
    done = ECGSurvivalAnalysis(**tiny_net, checkpoint_dir=tmp_path).fit(X, y)
    again = ECGSurvivalAnalysis(**tiny_net, checkpoint_dir=tmp_path).fit(X, y)
    assert len(again.history_) == 1
    np.testing.assert_array_equal(again.predict(X), done.predict(X))


def test_weights_that_do_not_fit_the_config_are_named(check_model, tmp_path):
    """RELIABILITY row 40."""
    path = check_model.save(tmp_path / "m")
    config = json.loads((path / "config.json").read_text())
    config["autoencoder"]["base_features"] = 4
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="do not fit the architecture in its config.json") as info:
        load_estimator(path)
    assert re.search(r"input_conv\.\d\.weight: file \(2, 2, 5\) vs model \(8, 8, 5\)", str(info.value))
    assert isinstance(info.value.__cause__, RuntimeError)
    assert "size mismatch" in str(info.value.__cause__)


def test_older_checkpoint_loads_and_a_version_mismatch_warns(check_model, check_data, tmp_path):
    """RELIABILITY row 41."""
    X, _ = check_data
    restored = load_estimator(DATA / "model_v0.1.0")  # committed fixture (tests/data/make_fixtures.py)
    expected = np.load(DATA / "model_v0.1.0_predictions.npy")
    np.testing.assert_allclose(restored.predict(X), expected, rtol=1e-5, atol=1e-6)
    path = check_model.save(tmp_path / "m")
    config = json.loads((path / "config.json").read_text())
    config["versions"]["sksurv_ecg"] = "0.0.1"
    (path / "config.json").write_text(json.dumps(config))
    with pytest.warns(TrainingWarning, match="saved with sksurv-ecg 0.0.1"):
        load_estimator(path)


# --- RELIABILITY row 66: damaged, hostile or incomplete saves -----------------------------------


def _torch_archive(model):
    buffer = io.BytesIO()
    torch.save(model.net_.module_.state_dict(), buffer)
    return buffer.getvalue()


def _config_without(*keys):
    return lambda config: {k: v for k, v in config.items() if k not in keys}


def _config_with(**changes):
    return lambda config: {**config, **changes}


_NOT_SAFETENSORS = {
    "weights-pickle": lambda model, weights: pickle.dumps({"weights": [1.0, 2.0]}),
    "weights-torch-zip": lambda model, weights: _torch_archive(model),
    "weights-cut-in-half": lambda model, weights: weights[: len(weights) // 2],
    "weights-cut-after-header": lambda model, weights: weights[: 8 + int.from_bytes(weights[:8], "little") + 3],
    "weights-empty": lambda model, weights: b"",
    "weights-header-garbage": lambda model, weights: (64).to_bytes(8, "little") + b"{not json" + b" " * 80,
    "weights-header-length-absurd": lambda model, weights: (2**62).to_bytes(8, "little") + weights[8:],
    "weights-no-tensors": lambda model, weights: b"\x02\x00\x00\x00\x00\x00\x00\x00{}",
}
_BAD_CONFIG_TEXT = {
    "config-cut-in-half": lambda text: text[: len(text) // 2],
    "config-empty": lambda text: "",
    "config-not-utf8": lambda text: "\udcff",
    "config-deeply-nested": lambda text: "[" * 100_000 + "]" * 100_000,
}
_BAD_CONFIG_JSON = {
    "config-a-list": lambda config: [config],
    "config-a-number": lambda config: 3,
    "config-no-versions": _config_without("versions"),
    "config-no-params": _config_without("params"),
    "config-no-class": _config_without("class"),
    "config-no-fitted": _config_without("fitted"),
    "config-no-autoencoder": _config_without("autoencoder"),
    "config-no-n_leads_": _config_without("n_leads_"),
    "config-class-a-list": _config_with(**{"class": ["ECGSurvivalAnalysis"]}),
    "config-params-a-list": _config_with(params=[1, 2]),
    "config-versions-a-string": _config_with(versions="0.1"),
    "config-n_leads_-a-string": _config_with(n_leads_="twelve"),
    "config-n_leads_-negative": _config_with(n_leads_=-2),
    "config-n_timesteps_in_-a-float": _config_with(n_timesteps_in_=40.5),
    "config-fs_-a-string": _config_with(fs_="500 Hz"),
    "config-fs_-zero": _config_with(fs_=0),
    "config-lead_names_-wrong-length": _config_with(lead_names_=["I"]),
    "config-lead_order_-not-a-permutation": _config_with(lead_order_=[0, 0]),
    "config-param-out-of-range": lambda config: {**config, "params": {**config["params"], "lr": -1.0}},
    "config-param-unknown": lambda config: {**config, "params": {**config["params"], "no_such_param": 1}},
    "config-autoencoder-unknown-key": lambda config: {**config, "autoencoder": {**config["autoencoder"], "zz": 1}},
    "config-fitted-empty": _config_with(fitted={}),
    "config-fitted-times-strings": lambda config: {
        **config,
        "fitted": {**config["fitted"], "unique_times_": ["a"] * len(config["fitted"]["unique_times_"])},
    },
}


def _damage(model, path, case):
    """Damage the save of ``model`` at ``path`` as ``case`` says; return the file damaged."""
    weights_file, config_file = path / "model.safetensors", path / "config.json"
    if case in _NOT_SAFETENSORS:
        weights_file.write_bytes(_NOT_SAFETENSORS[case](model, weights_file.read_bytes()))
        return weights_file
    if case in _BAD_CONFIG_TEXT:
        config_file.write_text(_BAD_CONFIG_TEXT[case](config_file.read_text()), errors="surrogateescape")
        return config_file
    if case in _BAD_CONFIG_JSON:
        config_file.write_text(json.dumps(_BAD_CONFIG_JSON[case](json.loads(config_file.read_text()))))
        return config_file
    target = weights_file if case == "weights-a-directory" else config_file
    target.unlink()
    target.mkdir()
    return target


@pytest.mark.parametrize(
    "case",
    [*_NOT_SAFETENSORS, *_BAD_CONFIG_TEXT, *_BAD_CONFIG_JSON, "weights-a-directory", "config-a-directory"],
)
def test_a_damaged_save_is_refused_naming_the_file(check_model, tmp_path, case):
    """RELIABILITY row 66: whatever the damage, a ValueError naming the file; errors found are chained."""
    path = check_model.save(tmp_path / "m")
    damaged = _damage(check_model, path, case)
    with pytest.raises(DamagedFileError, match="damaged or not a saved estimator") as info:
        load_estimator(path)
    assert str(damaged) in str(info.value)
    assert isinstance(info.value, ValueError)
    if case in _BAD_CONFIG_TEXT or (case in _NOT_SAFETENSORS and case != "weights-no-tensors"):  # a reader's error
        assert info.value.__cause__ is not None


def test_a_damaged_save_is_refused_as_a_warm_start_encoder(tiny_net, check_model, check_data, tmp_path):
    """The encoder=<directory> path goes through the same checks."""
    path = check_model.save(tmp_path / "m")
    (path / "model.safetensors").write_bytes(pickle.dumps({"weights": 1}))
    with pytest.raises(DamagedFileError, match=r"model.safetensors is damaged or not a saved estimator"):
        ECGSurvivalAnalysis(encoder=str(path), **tiny_net).fit(*check_data)


def test_missing_files_of_a_save_are_file_not_found(check_model, tmp_path):
    path = check_model.save(tmp_path / "m")
    (path / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match=r"model.safetensors does not exist"):
        load_estimator(path)


def test_a_file_in_place_of_the_save_directory_is_named(check_model, tmp_path):
    path = check_model.save(tmp_path / "m")
    with pytest.raises(DamagedFileError, match=r"config.json is a file, not the directory"):
        load_estimator(path / "config.json")
