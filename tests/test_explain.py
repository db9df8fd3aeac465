"""Tests of sksurv_ecg.explain: projected attention maps and SHAP attributions."""

import copy
import pickle

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from sksurv_ecg import ECGSurvivalAnalysis
from sksurv_ecg.conventions import LEAD_NAMES as STANDARD_LEADS
from sksurv_ecg.datasets import make_ecg_survival
from sksurv_ecg.explain import attention_maps, lead_names, projection_kernel, shap_values
from sksurv_ecg.nn import receptive_fields
from sksurv_ecg.nn.tasks import standardize_leads


@pytest.fixture(scope="module")
def cohort():
    # 158 samples: the model centre-pads to 160 (offset 1), so the crop is exercised.
    X, y, _ = make_ecg_survival(16, fs=125, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def fitted(cohort, tiny_net):
    # What is checked (shapes, sums, the projection of the model's own attention, SHAP's properties)
    # holds at any network size; heads are averaged inside the attention layer, before explain sees them.
    X, y = cohort
    return ECGSurvivalAnalysis(**tiny_net).fit(X, y)


def _state_bytes(module):
    return {k: v.detach().cpu().numpy().tobytes() for k, v in module.state_dict().items()}


def _flags(module):
    return [(name, m.training) for name, m in module.named_modules()]


@pytest.mark.parametrize(("n_timesteps", "downsample"), [(608, 5), (160, 2), (64, 3)])
@pytest.mark.parametrize("weighting", ["triangular", "uniform"])
def test_projection_kernel_covers_exact_receptive_fields(n_timesteps, downsample, weighting):
    kernel = projection_kernel(n_timesteps, downsample, weighting=weighting)
    rf = receptive_fields(n_timesteps, downsample)
    assert kernel.shape == (rf.shape[0], n_timesteps)
    np.testing.assert_allclose(kernel.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    for j, (start, stop) in enumerate(rf):
        support = np.flatnonzero(kernel[j] > 0)
        assert (support.min(), support.max() + 1) == (start, stop)
        if weighting == "uniform":
            np.testing.assert_allclose(kernel[j, start:stop], 1.0 / (stop - start))
        else:
            assert kernel[j].argmax() == j * 2**downsample


def test_triangle_centre_is_the_midpoint_of_unclipped_receptive_fields():
    rf = receptive_fields(608, 5)
    unclipped = (rf[:, 0] > 0) & (rf[:, 1] < 608)
    assert unclipped.any()
    np.testing.assert_array_equal((rf[unclipped, 0] + rf[unclipped, 1] - 1) / 2, np.flatnonzero(unclipped) * 32)


def test_projection_kernel_rejects_unknown_weighting():
    with pytest.raises(ValueError, match="'weighting'='gauss' is not one of"):
        projection_kernel(608, 5, weighting="gauss")


def test_lead_names():
    assert lead_names(12) == list(STANDARD_LEADS)
    assert lead_names(3) == ["lead 0", "lead 1", "lead 2"]


@pytest.mark.parametrize("weighting", ["triangular", "uniform"])
def test_attention_maps_shapes_and_sums(fitted, cohort, weighting):
    X, _ = cohort
    maps = attention_maps(fitted, X[:5], weighting=weighting)
    n_latent = fitted.net_.module_.autoencoder.config.n_latent_timesteps
    assert maps.lead.shape == (5, 12, 12)
    assert maps.time.shape == (5, 12, X.shape[-1])
    assert maps.time_latent.shape == (5, 12, n_latent)
    assert maps.receptive_fields.shape == (n_latent, 2)
    assert maps.receptive_fields.min() >= 0
    assert maps.receptive_fields.max() <= X.shape[-1]
    assert maps.lead_names == list(STANDARD_LEADS)
    for m in (maps.lead, maps.time, maps.time_latent):
        assert np.isfinite(m).all()
        assert (m >= 0).all()
    # Documented normalisation: lead rows, latent attention and projected maps each sum to 1.
    np.testing.assert_allclose(maps.lead.sum(axis=-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(maps.time_latent.sum(axis=-1), 1.0, atol=1e-9)
    np.testing.assert_allclose(maps.time.sum(axis=-1), 1.0, atol=1e-9)


def test_attention_maps_follow_the_documented_projection(fitted, cohort):
    X, _ = cohort
    lead, time = fitted.attention(X[:3])
    maps = attention_maps(fitted, X[:3])
    np.testing.assert_allclose(maps.lead, lead)
    config = fitted.net_.module_.autoencoder.config
    padded, n_in = config.n_timesteps, X.shape[-1]
    offset = (padded - n_in) // 2
    kernel = projection_kernel(padded, config.downsample)
    received = time.mean(axis=2)  # attention received by each key position
    expected = np.einsum("nlj,jt->nlt", received, kernel)[..., offset : offset + n_in]
    expected /= expected.sum(axis=-1, keepdims=True)
    np.testing.assert_allclose(maps.time, expected, rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("training", [True, False])
def test_attention_maps_have_no_side_effects(fitted, cohort, training):
    X, _ = cohort
    module = fitted.net_.module_
    module.train(training)
    module.head.train(not training)  # mixed flags must come back as they were
    before, flags = _state_bytes(module), _flags(module)
    first = attention_maps(fitted, X[:4])
    assert _state_bytes(module) == before
    assert _flags(module) == flags
    second = attention_maps(fitted, X[:4])
    np.testing.assert_array_equal(first.time, second.time)
    module.eval()


def test_attention_maps_errors(fitted, cohort):
    X, _ = cohort
    with pytest.raises(NotFittedError):
        attention_maps(ECGSurvivalAnalysis(), X)
    with pytest.raises(ValueError, match="'weighting'"):
        attention_maps(fitted, X, weighting="gauss")
    with pytest.raises(ValueError, match="158"):
        attention_maps(fitted, X[..., :100])


def test_shap_values_shapes_determinism_and_no_side_effects(fitted, cohort):
    X, _ = cohort
    module = fitted.net_.module_
    module.train()
    before, flags = _state_bytes(module), _flags(module)
    np_state, torch_state = np.random.get_state(), torch.get_rng_state()
    result = shap_values(fitted, X[:2], X[8:12], nsamples=8, additivity_tolerance=np.inf, random_state=0)
    assert result.attributions.shape == (2, 12, X.shape[-1])
    assert result.lead_importance.shape == result.lead_contributions.shape == (2, 12)
    np.testing.assert_allclose(result.lead_importance, np.abs(result.attributions).mean(axis=-1))
    np.testing.assert_allclose(result.log_risk, fitted.predict(X[:2]), rtol=1e-4, atol=1e-5)
    assert np.isfinite(result.base_value)
    assert result.lead_names == list(STANDARD_LEADS)
    # Nothing changed: weights, mode flags, global RNGs (shap reseeds NumPy's global state).
    module.train()  # predict above switched to eval; restore what we recorded
    assert _state_bytes(module) == before
    assert _flags(module) == flags
    np.testing.assert_array_equal(np.random.get_state()[1], np_state[1])
    assert torch.equal(torch.get_rng_state(), torch_state)
    again = shap_values(fitted, X[:2], X[8:12], nsamples=8, additivity_tolerance=np.inf, random_state=0)
    np.testing.assert_array_equal(result.attributions, again.attributions)
    module.eval()


def test_shap_values_concentrate_on_the_only_lead_the_risk_depends_on(fitted, cohort):
    # The fitted dual-attention network, fed only lead V2 (index 7): its log-risk is a function of
    # V2 alone, so every other lead must get (exactly) zero attribution.
    X, _ = cohort
    model = pickle.loads(pickle.dumps(fitted))
    mask = torch.zeros(1, 12, 1)
    mask[0, 7] = 1.0
    model.net_.module_.prepare = lambda x: standardize_leads(x) * mask
    result = shap_values(model, X[:3], X[8:12], nsamples=16, additivity_tolerance=np.inf, random_state=0)
    assert (result.lead_importance.argmax(axis=1) == 7).all()
    others = np.delete(result.lead_importance, 7, axis=1)
    assert (result.lead_importance[:, 7] > 0).all()
    assert others.max() <= 1e-6 * result.lead_importance[:, 7].min()


def test_shap_values_errors(fitted, cohort):
    X, _ = cohort
    with pytest.raises(NotFittedError):
        shap_values(ECGSurvivalAnalysis(), X, X)
    with pytest.raises(ValueError, match="'nsamples'=0 must be a positive integer"):
        shap_values(fitted, X[:1], X[1:3], nsamples=0)
    with pytest.raises(ValueError, match="'batch_size'"):
        shap_values(fitted, X[:1], X[1:3], batch_size=0)
    with pytest.raises(ValueError, match="158"):
        shap_values(fitted, X[:1], X[1:3, :, :100])
    no_head = copy.copy(fitted)
    no_head.net_ = copy.copy(fitted.net_)
    no_head.net_.module_ = copy.deepcopy(fitted.net_.module_)
    no_head.net_.module_.head = None
    with pytest.raises(TypeError, match="without a risk head"):
        shap_values(no_head, X[:1], X[1:3])


def test_shap_additivity_residual_and_warning(fitted, cohort):
    from sksurv_ecg.exceptions import AdditivityWarning

    X = cohort[0]
    result = shap_values(fitted, X[:2], X[8:12], nsamples=8, additivity_tolerance=np.inf, random_state=0)
    expected = result.attributions.sum(axis=(1, 2)) - (result.log_risk - result.base_value)
    np.testing.assert_allclose(result.additivity_residual, expected)
    np.testing.assert_allclose(result.log_risk, fitted.predict(X[:2]), rtol=1e-5, atol=1e-6)
    with pytest.warns(AdditivityWarning, match="raise nsamples"):
        shap_values(fitted, X[:2], X[8:12], nsamples=8, additivity_tolerance=0.0, random_state=0)
    with pytest.raises(ValueError, match="additivity_tolerance"):
        shap_values(fitted, X[:1], X[1:3], additivity_tolerance=-1.0)
