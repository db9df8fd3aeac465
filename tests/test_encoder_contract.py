"""Preprocessing travels with the weights: rate, length, lead names and order, standardisation (issue 16)."""

import json

import numpy as np
import pytest

from sksurv_ecg import ECGEmbedder, ECGSurvivalAnalysis, TextAlignedPretrainer, load_estimator
from sksurv_ecg.conventions import LEAD_NAMES
from sksurv_ecg.exceptions import LeadOrderWarning
from sksurv_ecg.preprocessing import MedianBeat, Resample
from sksurv_ecg.utils.estimator_checks import survival_check_data

# downsample stays at the paper's 5 (a step of 32 samples), so that 600 pads to 608 as in the seed
TINY = {"module__base_features": 1, "module__latent_dim": 8, "module__n_heads": 1, "random_state": 0}
SWAP_I_II = [1, 0, *range(2, 12)]


def _noise(n, n_timesteps, seed=0):
    return np.random.default_rng(seed).standard_normal((n, 12, n_timesteps)).astype(np.float32)


@pytest.fixture(scope="module")
def embedder608():
    return ECGEmbedder(max_epochs=1, batch_size=4, **TINY).fit(_noise(8, 608))


@pytest.fixture(scope="module")
def beats(ptbxl_sample):
    """500 Hz median beats (608 samples) and the 100 Hz ones MedianBeat(fs=100) makes (128 samples)."""
    X, _ = ptbxl_sample
    X = X[:4]
    at_100 = MedianBeat(fs=100).fit_transform(Resample(500, 100).fit_transform(X))
    return MedianBeat().fit_transform(X), at_100


def test_fit_records_the_preprocessing(embedder608):
    assert embedder608.fs_ == 500.0
    assert embedder608.lead_names_ == list(LEAD_NAMES)
    assert embedder608.lead_order_ is None
    assert embedder608.standardize is True
    unnamed = ECGEmbedder(max_epochs=1, batch_size=4, fs=250, **TINY).fit(_noise(4, 64)[:, :8])
    assert (unnamed.fs_, unnamed.lead_names_) == (250.0, None)


def test_lengths_that_pad_to_the_network_length_are_accepted():
    X608 = _noise(6, 608)
    X600 = X608[:, :, 4:604]
    emb = ECGEmbedder(max_epochs=1, batch_size=3, standardize=False, **TINY).fit(X608)
    # the model centre-pads 600 to 608 as the seed did: the same as padding by hand
    np.testing.assert_array_equal(emb.transform(X600), emb.transform(np.pad(X600, ((0, 0), (0, 0), (4, 4)))))
    assert emb.transform(X608[:, :, :577]).shape == (6, 8)  # 577 is the shortest that pads to 608
    with pytest.raises(ValueError, match=r"X has 576 time steps, .* accepts 577 to 608"):
        emb.transform(X608[:, :, :576])


def test_uk_biobank_600_sample_beats_fine_tune_a_608_sample_encoder(embedder608):
    X, y = survival_check_data(n_samples=8, n_leads=12, n_timesteps=600)
    model = ECGSurvivalAnalysis(encoder=embedder608, max_epochs=1, batch_size=4, **TINY).fit(X, y)
    assert model.n_timesteps_in_ == 600
    assert model.net_.module_.autoencoder.config.n_timesteps == 608
    assert model.predict(np.pad(X, ((0, 0), (0, 0), (4, 4)))).shape == (8,)


def test_100hz_median_beats_are_refused_by_a_500hz_model(beats, tmp_path):
    beats500, beats100 = beats
    assert beats100.shape[2] == 128
    emb = ECGEmbedder(max_epochs=1, batch_size=2, **TINY).fit(beats500)
    message = (
        r"X has 128 time steps, but ECGEmbedder was fitted with 608 samples at 500 Hz \(1\.22 s\) and accepts "
        r"577 to 608\. If X covers the same 1\.22 s, it was sampled at about 105 Hz: a beat at another rate must "
        r"be resampled to 500 Hz \(sksurv_ecg\.preprocessing\.Resample"
    )
    with pytest.raises(ValueError, match=message):
        emb.transform(beats100)
    refused_at_fit = r"X has 128 time steps, but the encoder \(ECGEmbedder\) was fitted with 608 samples at 500 Hz"
    y = survival_check_data(n_samples=4, n_leads=12, n_timesteps=8)[1]
    for encoder in (emb, emb.save(tmp_path / "emb")):
        with pytest.raises(ValueError, match=refused_at_fit):
            ECGSurvivalAnalysis(encoder=encoder, max_epochs=1, batch_size=2, **TINY).fit(beats100, y)
        with pytest.raises(ValueError, match=refused_at_fit):
            ECGEmbedder(encoder=encoder, **TINY).fit(beats100)
    # saying the rate does not make a 100 Hz beat fit a 500 Hz encoder
    with pytest.raises(ValueError, match=r"sampled at 500 Hz, but ECGSurvivalAnalysis has fs=100; resample X to 500"):
        ECGSurvivalAnalysis(encoder=emb, fs=100, max_epochs=1, batch_size=2, **TINY).fit(beats100, y)


def test_encoder_rate_and_standardisation_must_agree():
    X, y = survival_check_data(n_samples=8, n_leads=12, n_timesteps=64)
    emb250 = ECGEmbedder(max_epochs=1, batch_size=4, fs=250, **TINY).fit(X)
    with pytest.raises(
        ValueError, match=r"encoder \(ECGEmbedder\) was fitted on ECGs sampled at 250 Hz, but ECGSurvivalAnalysis"
    ):
        ECGSurvivalAnalysis(encoder=emb250, max_epochs=1, batch_size=4, **TINY).fit(X, y)
    assert ECGSurvivalAnalysis(encoder=emb250, fs=250, max_epochs=1, batch_size=4, **TINY).fit(X, y).fs_ == 250
    raw = ECGEmbedder(max_epochs=1, batch_size=4, standardize=False, **TINY).fit(X)
    with pytest.raises(ValueError, match=r"fitted with standardize=False, but .* set standardize=False"):
        ECGEmbedder(encoder=raw, **TINY).fit(X)


def test_named_leads_in_another_order_are_reordered_to_the_encoder(embedder608, tmp_path):
    X, y = survival_check_data(n_samples=8, n_leads=12, n_timesteps=608)
    order = [11, 10, *range(10)]
    names = [LEAD_NAMES[i] for i in order]
    copy = ECGEmbedder(encoder=embedder608, lead_names=names, **TINY).fit(X[:, order])
    assert copy.lead_names_ == names
    assert [names[i] for i in copy.lead_order_] == list(LEAD_NAMES)
    np.testing.assert_array_equal(copy.transform(X[:, order]), embedder608.transform(X))
    restored = load_estimator(copy.save(tmp_path / "copy"))
    assert restored.lead_order_ == copy.lead_order_
    np.testing.assert_array_equal(restored.transform(X[:, order]), embedder608.transform(X))

    params = {"max_epochs": 1, "batch_size": 4, **TINY}
    as_given = ECGSurvivalAnalysis(encoder=embedder608, **params).fit(X, y)
    reordered = ECGSurvivalAnalysis(encoder=embedder608, lead_names=names, **params).fit(X[:, order], y)
    np.testing.assert_allclose(reordered.predict(X[:, order]), as_given.predict(X), rtol=1e-6)


def test_another_lead_set_is_refused(embedder608):
    X = _noise(4, 608)
    names = [*LEAD_NAMES[:11], "V7"]
    with pytest.raises(ValueError, match=r"X lacks \['V6'\] and has \['V7'\] besides; select and name"):
        ECGEmbedder(encoder=embedder608, lead_names=names, **TINY).fit(X)
    with pytest.raises(ValueError, match="encoder was fitted on ECGs of 12 leads, but X has 8"):
        ECGEmbedder(encoder=embedder608, **TINY).fit(X[:, :8])


@pytest.mark.parametrize(
    ("lead_names", "error", "match"),
    [
        (["I", "II"], ValueError, "lead_names has 2 names, but X has 12 leads"),
        ([*LEAD_NAMES[:11], "I"], ValueError, r"lead_names repeats \['I'\]"),
        ([1] * 12, TypeError, "must be a sequence of lead names"),
    ],
)
def test_bad_lead_names(lead_names, error, match):
    with pytest.raises(error, match=match):
        ECGEmbedder(max_epochs=1, batch_size=2, lead_names=lead_names, **TINY).fit(_noise(2, 64))


def test_swapped_limb_leads_warn_at_fit_and_at_predict(ptbxl_sample):
    X, _ = ptbxl_sample
    X = X[:8, :, :1000]
    y = survival_check_data(n_samples=8, n_leads=12, n_timesteps=8)[1]
    model = ECGSurvivalAnalysis(max_epochs=1, batch_size=4, **TINY)
    with pytest.warns(LeadOrderWarning, match="I and II look exchanged") as fit_warning:
        model.fit(X[:, SWAP_I_II], y)
    with pytest.warns(LeadOrderWarning, match="I and II look exchanged") as predict_warning:
        model.predict(X[:, SWAP_I_II])
    for record in (*fit_warning, *predict_warning):
        assert record.filename == __file__  # stacklevel points at the caller, past scikit-learn's wrappers
    model.predict(X)  # the right order: no warning (warnings are errors in this suite)
    emb = ECGEmbedder(max_epochs=1, batch_size=4, **TINY).fit(X)
    with pytest.warns(LeadOrderWarning) as transform_warning:
        emb.transform(X[:, SWAP_I_II])
    assert transform_warning[0].filename == __file__


def test_persistence_keeps_the_preprocessing_and_reads_older_files(tmp_path):
    X = _noise(4, 64)
    emb = ECGEmbedder(max_epochs=1, batch_size=2, fs=250, **TINY).fit(X)
    path = emb.save(tmp_path / "emb")
    restored = load_estimator(path)
    assert (restored.fs, restored.fs_, restored.lead_order_) == (250, 250.0, None)
    assert restored.lead_names_ == emb.lead_names_
    config = json.loads((path / "config.json").read_text())
    for key in ("fs_", "lead_names_", "lead_order_"):
        del config[key]
    del config["params"]["fs"], config["params"]["lead_names"]
    (path / "config.json").write_text(json.dumps(config))
    older = load_estimator(path)  # no warning: a file of this version without the new entries
    assert (older.fs_, older.lead_names_, older.lead_order_) == (500.0, list(LEAD_NAMES), None)
    np.testing.assert_array_equal(older.transform(X), emb.transform(X))


def test_text_aligned_pretrainer_takes_the_same_parameters():
    X = _noise(4, 64)
    text = np.random.default_rng(1).standard_normal((4, 3)).astype(np.float32)
    pre = TextAlignedPretrainer(max_epochs=1, batch_size=2, fs=250, **TINY).fit(X, text)
    assert (pre.fs_, pre.lead_names_) == (250.0, list(LEAD_NAMES))
    with pytest.raises(ValueError, match="sampled at 250 Hz, but ECGEmbedder has fs=500"):
        ECGEmbedder(encoder=pre, **TINY).fit(X)


@pytest.mark.parametrize("name", ["ECGEmbedder", "TextAlignedPretrainer", "ECGSurvivalAnalysis"])
def test_parameters_are_documented(name):
    """The runtime docstrings document every parameter (TextAlignedPretrainer's are inserted from ECGEmbedder's)."""
    from numpydoc.validate import validate

    module = "survival" if name == "ECGSurvivalAnalysis" else "embedding"
    errors = [code for code, _ in validate(f"sksurv_ecg.{module}.{name}")["errors"] if code.startswith("PR")]
    assert errors == []
