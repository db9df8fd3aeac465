"""Explanations of a fitted deep ECG survival model: attention maps and SHAP attributions.

:func:`attention_maps` reads the two attention branches of the dual-attention encoder (cross-lead
and per-lead temporal) in eval mode and projects the temporal maps from the latent time axis back
onto the input samples through the analytic receptive fields of the encoder.
:func:`shap_values` attributes the predicted log-risk to every sample of every lead with expected
gradients (:class:`shap.GradientExplainer`). Neither changes the fitted model; the figures are in
:mod:`sksurv_ecg.plotting`.
"""

from __future__ import annotations

import contextlib
import copy
import warnings

import numpy as np
import torch
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.validation import check_is_fitted
from torch import nn

from .conventions import LEAD_NAMES
from .exceptions import AdditivityWarning, user_stacklevel
from .nn import receptive_fields

__all__ = ["attention_maps", "lead_names", "projection_kernel", "shap_values"]

_WEIGHTINGS = ("triangular", "uniform")


def lead_names(n_leads):
    """Names of ``n_leads`` leads: the standard 12-lead names, or ``"lead 0"``, ``"lead 1"``, ...

    Parameters
    ----------
    n_leads : int
        Number of leads.

    Returns
    -------
    names : list of str
        ``I, II, III, aVR, aVL, aVF, V1-V6`` when ``n_leads == 12``, generic names otherwise.

    Examples
    --------
    >>> from sksurv_ecg.explain import lead_names
    >>> lead_names(12)[6], lead_names(2)
    ('V1', ['lead 0', 'lead 1'])
    """
    if n_leads == len(LEAD_NAMES):
        return list(LEAD_NAMES)
    return [f"lead {i}" for i in range(n_leads)]


def projection_kernel(n_timesteps, downsample, *, weighting="triangular"):
    """Spread of each latent time position over the input samples it sees.

    Row ``j`` is non-zero exactly on the receptive field ``[start_j, stop_j)`` of latent position
    ``j`` (:func:`sksurv_ecg.nn.receptive_fields`, computed analytically on the padded length) and
    sums to 1. With ``weighting="uniform"`` every sample of the interval gets the same weight; with
    ``"triangular"`` the weight peaks at the position's centre ``c_j = j * 2**downsample`` (the
    midpoint of every unclipped interval) and falls linearly, ``1 - |t - c_j| / h_j``, to just above
    zero at the far end of the interval (``h_j`` is one more than the larger distance from the
    centre to an end of the interval, so intervals clipped at the signal edges keep the slope of
    the unclipped ones). The triangle approximates the centre-heavy effective receptive field of
    stacked convolutions; the uniform kernel makes no such assumption.

    Parameters
    ----------
    n_timesteps : int
        Padded input length the network runs on (``DualAttentionConfig.n_timesteps``).
    downsample : int
        Number of stride-2 stages of the encoder.
    weighting : {"triangular", "uniform"}, default="triangular"
        Shape of the kernel over the receptive field.

    Returns
    -------
    kernel : ndarray of shape (n_latent_timesteps, n_timesteps), dtype float64
        Non-negative rows that sum to 1.

    Examples
    --------
    >>> from sksurv_ecg.explain import projection_kernel
    >>> K = projection_kernel(608, 5)
    >>> K.shape, bool(abs(K.sum(axis=1) - 1).max() < 1e-12), int(K[9].argmax())
    ((19, 608), True, 288)
    """
    if weighting not in _WEIGHTINGS:
        raise ValueError(f"'weighting'={weighting!r} is not one of {_WEIGHTINGS}; pass weighting='triangular'.")
    rf = receptive_fields(n_timesteps, downsample)
    stride = 2**downsample
    kernel = np.zeros((rf.shape[0], n_timesteps))
    for j, (start, stop) in enumerate(rf):
        t = np.arange(start, stop)
        if weighting == "uniform":
            w = np.ones(t.shape[0])
        else:
            centre = j * stride
            half = max(centre - start, stop - 1 - centre) + 1
            w = np.clip(1.0 - np.abs(t - centre) / half, 0.0, None)
        kernel[j, start:stop] = w / w.sum()
    return kernel


def _torch_modules(estimator):
    """Every torch module the estimator's skorch net holds (module, criterion, ...)."""
    net = estimator.net_
    names = list(getattr(net, "_modules", ["module"])) + list(getattr(net, "_criteria", []))
    modules = [getattr(net, name + "_", None) for name in names]
    return [m for m in modules if isinstance(m, nn.Module)]


@contextlib.contextmanager
def _preserve_modes(estimator):
    """Restore the ``training`` flag of every submodule on exit (eval-mode inference flips them)."""
    flags = [(m, m.training) for root in _torch_modules(estimator) for m in root.modules()]
    try:
        yield
    finally:
        for module, training in flags:
            module.training = training


def _check_estimator(estimator, method):
    check_is_fitted(estimator, "net_")
    module = getattr(estimator.net_, "module_", None)
    autoencoder = getattr(module, "autoencoder", None)
    if autoencoder is None or not hasattr(estimator, method):
        raise TypeError(
            f"'estimator' is a {type(estimator).__name__} without a dual-attention network and "
            f"'{method}'; pass a fitted sksurv_ecg estimator such as ECGSurvivalAnalysis."
        )
    return module


def attention_maps(estimator, X, *, weighting="triangular"):
    """Lead and temporal attention maps of a fitted model, the temporal ones on the input time axis.

    The maps are the head-averaged attention weights of the encoder's two branches, computed in
    eval mode (:meth:`ECGSurvivalAnalysis.attention`): nothing on the model changes, the
    ``training`` flag of every submodule is restored and the weights are not touched.

    The temporal map of lead ``l`` is projected to the input in three steps (a deterministic
    replacement for the seed's train-mode gradient trick, see ``SEED_SPEC.md`` §6 and §9 item 25):

    1. ``a_j``: the attention that latent position ``j`` receives, the mean over the query rows
       of the ``T' x T'`` map; it sums to 1 over ``j`` because every row does.
    2. ``m(t) = sum_j a_j K_j(t)`` where ``K_j`` is the kernel of :func:`projection_kernel`
       (triangular or uniform over the exact receptive field of position ``j`` on the padded
       length, each ``K_j`` summing to 1), so ``m`` sums to 1 over the padded signal.
    3. ``m`` is cropped to the unpadded input (the model centre-pads the raw input by
       ``(padded - n_timesteps) // 2`` samples on the left) and divided by its sum, so that each
       lead's map is a distribution over the input samples: non-negative, summing to 1.

    Parameters
    ----------
    estimator : ECGSurvivalAnalysis
        A fitted estimator with a dual-attention encoder (also :class:`ECGEmbedder` and
        :class:`TextAlignedPretrainer`).
    X : array-like of shape (n_samples, n_leads, n_timesteps)
        ECGs, as passed to ``predict``.
    weighting : {"triangular", "uniform"}, default="triangular"
        Kernel that spreads each latent position over its receptive field.

    Returns
    -------
    maps : sklearn.utils.Bunch
        With keys

        lead : ndarray of shape (n_samples, n_leads, n_leads) or None
            Cross-lead attention; row ``i`` (the query lead) sums to 1. None when the model has no
            lead attention.
        time : ndarray of shape (n_samples, n_leads, n_timesteps) or None
            Temporal attention projected to the input; each lead sums to 1. None when the model
            has no time attention.
        time_latent : ndarray of shape (n_samples, n_leads, n_latent_timesteps) or None
            Attention received by each latent position (step 1); each lead sums to 1.
        receptive_fields : ndarray of shape (n_latent_timesteps, 2)
            ``[start, stop)`` of each latent position in input (unpadded) samples, clipped.
        lead_names : list of str
            Lead names for plots.

    See Also
    --------
    sksurv_ecg.plotting.plot_ecg_attention : ECG traces coloured by ``maps.time``.
    sksurv_ecg.plotting.plot_lead_attention : Heatmaps of ``maps.lead``.

    Examples
    --------
    >>> from sksurv_ecg import ECGSurvivalAnalysis
    >>> from sksurv_ecg.datasets import make_ecg_survival
    >>> from sksurv_ecg.explain import attention_maps
    >>> X, y, _ = make_ecg_survival(16, fs=125, random_state=0)
    >>> model = ECGSurvivalAnalysis(max_epochs=1, batch_size=8, module__downsample=2, random_state=0)
    >>> maps = attention_maps(model.fit(X, y), X[:2])
    >>> maps.lead.shape, maps.time.shape
    ((2, 12, 12), (2, 12, 158))
    >>> bool(abs(maps.time.sum(axis=-1) - 1).max() < 1e-6)
    True
    """
    module = _check_estimator(estimator, "attention")
    if weighting not in _WEIGHTINGS:
        raise ValueError(f"'weighting'={weighting!r} is not one of {_WEIGHTINGS}; pass weighting='triangular'.")
    with _preserve_modes(estimator):
        lead, time = estimator.attention(X)
    config = module.autoencoder.config
    n_padded, n_in = config.n_timesteps, estimator.n_timesteps_in_
    offset = (n_padded - n_in) // 2
    rf = np.clip(receptive_fields(n_padded, config.downsample) - offset, 0, n_in)
    time_latent = projected = None
    if time is not None:
        time = np.asarray(time, dtype=np.float64)
        time_latent = time.mean(axis=2)
        time_latent /= time_latent.sum(axis=-1, keepdims=True)
        kernel = projection_kernel(n_padded, config.downsample, weighting=weighting)
        projected = (time_latent @ kernel)[..., offset : offset + n_in]
        total = projected.sum(axis=-1, keepdims=True)
        projected = np.divide(projected, total, out=np.full_like(projected, 1.0 / n_in), where=total > 0)
    n_leads = config.n_leads
    return Bunch(
        lead=None if lead is None else np.asarray(lead, dtype=np.float64),
        time=projected,
        time_latent=time_latent,
        receptive_fields=rf,
        lead_names=lead_names(n_leads),
    )


class _LogRisk(nn.Module):
    """Raw ECGs ``(N, L, T)`` -> log-risk ``(N, 1)`` of a task model with a risk head."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.head(self.model.encode(x)).reshape(-1, 1)


def _import_gradient_explainer():
    with warnings.catch_warnings():
        # shap 0.51 builds its colormaps at import with Colormap.set_bad/set_over/set_under, which
        # matplotlib >= 3.11 flags as pending deprecation; not our call, and it would fail
        # warnings-as-errors runs. Scoped to this import and to shap's plotting modules.
        warnings.filterwarnings("ignore", category=PendingDeprecationWarning, module=r"shap\.plots")
        from shap import GradientExplainer
    return GradientExplainer


def shap_values(estimator, X, background, *, nsamples=1000, batch_size=50, additivity_tolerance=0.3, random_state=None):
    """SHAP attributions of the predicted log-risk to every sample of every lead.

    Expected gradients (:class:`shap.GradientExplainer`) on a wrapper module that maps raw ECGs
    to the log-risk (the per-lead standardisation and padding of the model included), run on a
    frozen eval-mode copy of the fitted network, so the estimator is left untouched. For every
    ECG ``x``, ``nsamples`` points ``b + u (x - b)`` are drawn (``b`` a random background ECG,
    ``u ~ U(0, 1)``) and the attribution is the mean of ``grad f * (x - b)`` over them; the
    attributions of an ECG sum, in expectation, to ``f(x)`` minus the mean log-risk of the
    background (``base_value``).

    :class:`shap.DeepExplainer` is not offered: its DeepLIFT rules do not cover the
    softmax-weighted products inside attention (nor GroupNorm), and on this network it fails its
    own additivity check (shap 0.51 raises "The SHAP explanations do not sum up to the model's
    output").

    Parameters
    ----------
    estimator : ECGSurvivalAnalysis
        A fitted estimator.
    X : array-like of shape (n_samples, n_leads, n_timesteps)
        ECGs to explain.
    background : array-like of shape (n_background, n_leads, n_timesteps)
        Reference ECGs (e.g. a few dozen training ECGs) that the attributions are relative to.
    nsamples : int, default=1000
        Gradient evaluations per explained ECG; more gives less Monte-Carlo noise. Measured on
        the paper network (``benchmarks/shap_additivity.py``, docs/evaluation.md): the largest
        additivity residual over 4 ECGs was 1.27 at 50 samples, 0.37 at 200 and 0.27 at 1000
        (log-risk spread 1.2).
    batch_size : int, default=50
        Gradient evaluations per forward-backward pass.
    additivity_tolerance : float, default=0.3
        Largest accepted additivity residual ``|sum(attributions) - (log_risk - base_value)|``
        per ECG, in log-hazard units (0.3, about a quarter of the paper network's log-risk
        spread, is what 1000 samples reach there). Above it an
        :class:`~sksurv_ecg.exceptions.AdditivityWarning` is issued: the Monte-Carlo estimate is
        too noisy to trust, raise ``nsamples``.
    random_state : int, RandomState instance or None, default=None
        Seeds the draws of background ECGs and interpolation points. NumPy's global random state,
        which shap reseeds, is restored afterwards.

    Returns
    -------
    result : sklearn.utils.Bunch
        With keys

        attributions : ndarray of shape (n_samples, n_leads, n_timesteps)
            Attribution of each input sample to the log-risk.
        lead_importance : ndarray of shape (n_samples, n_leads)
            Mean absolute attribution over time of each lead.
        lead_contributions : ndarray of shape (n_samples, n_leads)
            Signed sum over time of each lead's attributions; summed over leads it estimates
            ``log_risk - base_value``.
        log_risk : ndarray of shape (n_samples,)
            Predicted log-risk of ``X`` (``estimator.predict(X)``, calibrated scale included).
        additivity_residual : ndarray of shape (n_samples,)
            ``sum(attributions) - (log_risk - base_value)`` per ECG.
        base_value : float
            Mean predicted log-risk of ``background``.
        lead_names : list of str
            Lead names for plots.

    See Also
    --------
    sksurv_ecg.plotting.plot_shap_leads : Bar chart of ``lead_importance``.

    Examples
    --------
    >>> from sksurv_ecg import ECGSurvivalAnalysis
    >>> from sksurv_ecg.datasets import make_ecg_survival
    >>> from sksurv_ecg.explain import shap_values
    >>> X, y, _ = make_ecg_survival(16, fs=125, random_state=0)
    >>> model = ECGSurvivalAnalysis(max_epochs=1, batch_size=8, module__downsample=2, random_state=0)
    >>> result = shap_values(model.fit(X, y), X[:2], X[8:], nsamples=20, additivity_tolerance=float("inf"),
    ...                      random_state=0)  # a short run for the example: accept any residual
    >>> result.attributions.shape, result.lead_importance.shape, result.additivity_residual.shape
    ((2, 12, 158), (2, 12), (2,))
    """
    module = _check_estimator(estimator, "predict")
    if getattr(module, "head", None) is None:
        raise TypeError(
            f"'estimator' is a {type(estimator).__name__} without a risk head; "
            "pass a fitted ECGSurvivalAnalysis (SHAP explains its log-risk)."
        )
    if isinstance(nsamples, bool) or not isinstance(nsamples, int | np.integer) or nsamples < 1:
        raise ValueError(f"'nsamples'={nsamples!r} must be a positive integer; pass e.g. nsamples=200.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer) or batch_size < 1:
        raise ValueError(f"'batch_size'={batch_size!r} must be a positive integer; pass e.g. batch_size=50.")
    if (
        isinstance(additivity_tolerance, bool)
        or not isinstance(additivity_tolerance, int | float | np.floating)
        or not (additivity_tolerance >= 0)
    ):
        raise ValueError(f"'additivity_tolerance'={additivity_tolerance!r} must be a number >= 0, e.g. 0.05.")
    X = estimator._validate_X(X, reset=False)
    background = estimator._validate_X(background, reset=False)
    seed = int(check_random_state(random_state).randint(np.iinfo(np.int32).max))

    device = next(module.parameters()).device
    wrapper = _LogRisk(copy.deepcopy(module)).float().eval().requires_grad_(False)
    x = torch.as_tensor(X, device=device)
    bg = torch.as_tensor(background, device=device)
    GradientExplainer = _import_gradient_explainer()
    rng_state = np.random.get_state()
    try:
        explainer = GradientExplainer(wrapper, bg, batch_size=int(batch_size))
        values = explainer.shap_values(x, nsamples=int(nsamples), rseed=seed)
        with torch.no_grad():
            log_risk = wrapper(x).reshape(-1).cpu().numpy().astype(np.float64)
            base_value = float(wrapper(bg).mean())
    finally:
        np.random.set_state(rng_state)
    # attributions of the network output, put on the estimator's calibrated log-risk scale
    scale = float(getattr(estimator, "risk_scale_", 1.0))
    values = scale * np.asarray(values, dtype=np.float64).reshape(X.shape)
    log_risk, base_value = scale * log_risk, scale * base_value
    residual = values.sum(axis=(1, 2)) - (log_risk - base_value)
    worst = float(np.abs(residual).max()) if residual.size else 0.0
    if worst > additivity_tolerance:
        warnings.warn(
            f"SHAP attributions miss the model output by up to {worst:.3g} (log-hazard), above "
            f"additivity_tolerance={additivity_tolerance}; raise nsamples (now {nsamples}) for a less noisy estimate.",
            AdditivityWarning,
            stacklevel=user_stacklevel(),
        )
    return Bunch(
        attributions=values,
        lead_importance=np.abs(values).mean(axis=-1),
        lead_contributions=values.sum(axis=-1),
        log_risk=log_risk,
        base_value=base_value,
        additivity_residual=residual,
        lead_names=lead_names(X.shape[1]),
    )
