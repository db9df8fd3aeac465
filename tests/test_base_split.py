"""The estimator base split by job (issue 26 item 3): routed parameters, warm start, the fit driver."""

import ast
import functools
from pathlib import Path

import pytest
import torch
from test_seed_checkpoint import write_seed_checkpoint  # the seed's layout, written from a package model

import sksurv_ecg
from sksurv_ecg import ECGEmbedder, ECGSurvivalAnalysis, TextAlignedPretrainer
from sksurv_ecg._base import _BaseECGEstimator
from sksurv_ecg._params import RoutedParamsMixin
from sksurv_ecg._training import PretrainCriterion, SurvivalCriterion
from sksurv_ecg._warm_start import EncoderSource, read_encoder
from sksurv_ecg.nn import DualAttentionAutoencoder, ProjectionHead

PACKAGE = Path(sksurv_ecg.__file__).parent
ARCH = {"base_features": 1, "latent_dim": 8, "n_heads": 1}


def _imported_modules(path):
    """Package modules a file imports, at any depth (function-level imports included), as dotted names."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            base = "sksurv_ecg" if node.level else ""
            module = ".".join(filter(None, [base, node.module]))
            names.update({module, *(f"{module}.{alias.name}" for alias in node.names)})
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("module", ["_base", "_params", "_warm_start"])
def test_the_base_modules_import_no_estimator(module):
    imported = _imported_modules(PACKAGE / f"{module}.py")
    estimators = {"sksurv_ecg.embedding", "sksurv_ecg.survival", "sksurv_ecg.competing"}
    assert not imported & estimators, f"{module}.py imports {sorted(imported & estimators)}"


def test_routed_parameters_are_a_mixin_left_of_base_estimator():
    mro = _BaseECGEstimator.__mro__
    assert mro.index(RoutedParamsMixin) < [c.__name__ for c in mro].index("BaseEstimator")
    model = ECGSurvivalAnalysis(module__n_heads=2, optimizer__betas=(0.9, 0.9))
    assert model._params_for("module") == {"n_heads": 2}
    assert model.set_params(module__n_heads=4).get_params()["module__n_heads"] == 4


@pytest.mark.parametrize(
    ("estimator", "criterion", "keywords"),
    [
        pytest.param(ECGEmbedder(), PretrainCriterion, {}, id="embedder"),
        pytest.param(
            TextAlignedPretrainer(alignment="infonce", temperature=0.3),
            PretrainCriterion,
            {"reconstruction_weight": 1.0, "alignment_weight": 1.0, "alignment": "infonce", "temperature": 0.3},
            id="text-aligned",
        ),
        pytest.param(
            ECGSurvivalAnalysis(alpha=0.3, ties="efron"), SurvivalCriterion, {"alpha": 0.3, "ties": "efron"}, id="cox"
        ),
    ],
)
def test_the_criterion_comes_from_class_attributes(estimator, criterion, keywords):
    factory = estimator._criterion()
    assert isinstance(factory, functools.partial)
    assert (factory.func, factory.keywords) == (criterion, keywords)


def test_net_parameters_and_optimizer_defaults_are_class_attributes():
    assert ECGSurvivalAnalysis._net_params == ("min_events_per_batch",)
    assert ECGEmbedder._optimizer_defaults == {"betas": (0.9, 0.95)}
    assert ECGSurvivalAnalysis._optimizer_defaults == {}
    pre = TextAlignedPretrainer()
    pre.n_text_features_ = 6
    assert pre._fitted_state() == {"n_text_features_": 6}
    restored = TextAlignedPretrainer()
    restored._restore_fitted_state({"n_text_features_": 6})
    assert restored.n_text_features_ == 6
    assert ECGEmbedder()._fitted_state() == {}


def test_a_seed_checkpoint_is_read_without_the_estimators_and_leaves_the_global_rng(tmp_path, monkeypatch):
    torch.manual_seed(0)
    autoencoder = DualAttentionAutoencoder(**ARCH).eval()
    path = tmp_path / "seed.ckpt"
    write_seed_checkpoint(path, autoencoder, ProjectionHead(8, 8, 4), ProjectionHead(6, 8, 4), monkeypatch)
    before = torch.random.get_rng_state()
    source = read_encoder(str(path), {**ARCH, "impl": "reference"})  # impl is free with an encoder
    assert torch.equal(before, torch.random.get_rng_state())
    assert isinstance(source, EncoderSource)
    assert (source.fs, source.standardize, source.n_leads, source.n_timesteps_in) == (500.0, True, 12, 608)
    assert source.config.n_timesteps == 608
    written = autoencoder.state_dict()
    for key, value in source.autoencoder.state_dict().items():
        torch.testing.assert_close(value, written[key], rtol=0, atol=0)
    with pytest.raises(ValueError, match="does not fit the autoencoder"):
        read_encoder(path, {})  # the paper architecture is not the one written
