"""The authors' Lightning checkpoint as a fitted encoder: from_seed_checkpoint and encoder=<.ckpt> (issue 16)."""

import os
import pickle

import numpy as np
import pytest
import torch
from test_seed_checkpoint import write_seed_checkpoint  # the seed's layout, written from a package model

from sksurv_ecg import ECGEmbedder, ECGSurvivalAnalysis, TextAlignedPretrainer
from sksurv_ecg.conventions import LEAD_NAMES
from sksurv_ecg.nn import DualAttentionAutoencoder, ProjectionHead
from sksurv_ecg.nn.tasks import standardize_leads
from sksurv_ecg.utils.estimator_checks import survival_check_data

# A small architecture at the seed's length (608 samples, 5 stride-2 stages): fast, and the same layout.
ARCH = {"base_features": 1, "latent_dim": 8, "n_heads": 1}
MODULE = {f"module__{k}": v for k, v in ARCH.items()}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    torch.manual_seed(0)
    autoencoder = DualAttentionAutoencoder(**ARCH).eval()
    ecg_head, text_head = ProjectionHead(8, 8, 4), ProjectionHead(6, 8, 4)
    path = tmp_path_factory.mktemp("seed") / "checkpoint_best_loss-v2.ckpt"
    with pytest.MonkeyPatch.context() as monkeypatch:
        write_seed_checkpoint(path, autoencoder, ecg_head, text_head, monkeypatch)
    return path, autoencoder, ecg_head, text_head


def _reference_codes(autoencoder, X):
    """Latent codes of the written model on per-lead z-scored 608-sample beats, as the seed computed them."""
    with torch.no_grad():
        return autoencoder.encoder(standardize_leads(torch.from_numpy(X))).numpy()


def _beats(n=6, n_timesteps=608, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 12, n_timesteps)).astype(np.float32)


def test_from_seed_checkpoint_needs_no_fit_and_equals_the_written_model(written):
    path, autoencoder, _, _ = written
    X = _beats()
    emb = ECGEmbedder.from_seed_checkpoint(path, **MODULE)
    assert (emb.fs_, emb.n_timesteps_in_, emb.lead_names_, emb.standardize) == (500.0, 608, list(LEAD_NAMES), True)
    np.testing.assert_allclose(emb.transform(X), _reference_codes(autoencoder, X), rtol=1e-5, atol=1e-6)
    assert emb.transform(X[:, :, 4:604]).shape == (6, 8)  # UK Biobank's 600-sample medians pad to 608
    with pytest.raises(ValueError, match="X has 128 time steps, but ECGEmbedder was fitted with 608 samples at 500"):
        emb.transform(X[:, :, :128])


def test_pretrainer_keeps_the_projection_heads(written):
    path, autoencoder, ecg_head, text_head = written
    pre = TextAlignedPretrainer.from_seed_checkpoint(path, projection_dim=4, **MODULE)
    assert pre.n_text_features_ == 6
    module = pre.net_.module_
    u, v = torch.randn(3, 8), torch.randn(3, 6)
    with torch.no_grad():
        torch.testing.assert_close(module.ecg_projection(u), ecg_head(u), rtol=0, atol=0)
        torch.testing.assert_close(module.text_projection(v), text_head(v), rtol=0, atol=0)
    X = _beats()
    np.testing.assert_allclose(pre.transform(X), _reference_codes(autoencoder, X), rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="projects to 4 dimensions, but projection_dim=128; pass projection_dim=4"):
        TextAlignedPretrainer.from_seed_checkpoint(path, **MODULE)


def test_checkpoint_path_as_encoder(written):
    path, autoencoder, _, _ = written
    X = _beats()
    copied = ECGEmbedder(encoder=path, **MODULE).fit(X)  # copies the weights, trains nothing
    np.testing.assert_allclose(copied.transform(X), _reference_codes(autoencoder, X), rtol=1e-5, atol=1e-6)

    X, y = survival_check_data(n_samples=8, n_leads=12, n_timesteps=600)
    params = {"max_epochs": 1, "batch_size": 4, "random_state": 0, **MODULE}
    from_path = ECGSurvivalAnalysis(encoder=os.fspath(path), **params).fit(X, y)
    from_estimator = ECGSurvivalAnalysis(encoder=ECGEmbedder.from_seed_checkpoint(path, **MODULE), **params).fit(X, y)
    np.testing.assert_array_equal(from_path.predict(X), from_estimator.predict(X))
    assert from_path.net_.module_.autoencoder.config.n_timesteps == 608


def test_seed_values_cannot_be_overridden(written):
    path = written[0]
    with pytest.raises(ValueError, match=r"got \['fs'\], which the checkpoint fixes: 500 Hz"):
        ECGEmbedder.from_seed_checkpoint(path, fs=100, **MODULE)
    with pytest.raises(ValueError, match="does not fit the autoencoder"):
        ECGEmbedder.from_seed_checkpoint(path)  # the paper architecture is not the one written


class _CallsSystem:
    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickled_object_as_encoder_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "executed"
    payload = _CallsSystem()
    payload.marker = marker
    path = tmp_path / "model.ckpt"
    torch.save({"state_dict": {"network.encoder.x": torch.zeros(1)}, "hyper_parameters": {"x": payload}}, path)
    X, y = survival_check_data(n_samples=8, n_leads=12, n_timesteps=64)
    with pytest.raises(pickle.UnpicklingError, match="nothing in it was executed"):
        ECGSurvivalAnalysis(encoder=path, max_epochs=1, batch_size=4, **MODULE).fit(X, y)
    with pytest.raises(pickle.UnpicklingError, match="nothing in it was executed"):
        ECGEmbedder.from_seed_checkpoint(path)
    assert not marker.exists()
    with pytest.raises(FileNotFoundError, match="the directory written by its save\\(\\), or the seed's .ckpt"):
        ECGEmbedder(encoder=tmp_path / "absent.ckpt").fit(X)


def test_bf16_from_the_checkpoint_where_bf16_is_emulated_warns(written, monkeypatch):
    from sksurv_ecg import DeviceWarning

    path, autoencoder, _, _ = written
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: False)
    with pytest.warns(DeviceWarning, match="precision='bf16' on this CPU") as caught:
        emb = ECGEmbedder.from_seed_checkpoint(path, precision="bf16", **MODULE)
    assert caught[0].filename == __file__
    assert np.isfinite(emb.transform(_beats())).all()
