r"""Training losses: Cox partial likelihood, reconstruction and ECG-text alignment.

All functions are differentiable torch functions of their first argument(s) and return a scalar.
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["alignment_loss", "cox_ph_loss", "reconstruction_loss"]


def _as_1d(name: str, value: Tensor, n: int | None) -> Tensor:
    if value.ndim == 2 and value.shape[1] == 1:
        value = value[:, 0]
    if value.ndim != 1:
        raise ValueError(f"{name!r} has shape {tuple(value.shape)}, but a 1-D tensor was expected; flatten it.")
    if n is not None and value.shape[0] != n:
        raise ValueError(
            f"Dimension mismatch: {name!r} has {value.shape[0]} samples but 'log_risk' has {n}; "
            "pass one value per sample."
        )
    return value


def cox_ph_loss(
    log_risk: Tensor,
    time: Tensor,
    event: Tensor,
    *,
    ties: Literal["efron", "breslow"] = "efron",
    on_no_events: Literal["raise", "zero"] = "raise",
) -> Tensor:
    r"""Negative Cox partial log-likelihood, averaged over the events of the batch.

    With log-risks :math:`\theta_i` (higher = riskier), distinct event times :math:`t`, the events
    :math:`D_t` at :math:`t` (:math:`d_t = |D_t|`) and the risk set
    :math:`R_t = \{j : t_j \ge t\}`, Breslow's handling of ties gives

    .. math::

        \ell = -\frac{1}{\sum_t d_t} \sum_t \Big[\sum_{i \in D_t} \theta_i
               - d_t \log \sum_{j \in R_t} e^{\theta_j}\Big]

    and Efron's

    .. math::

        \ell = -\frac{1}{\sum_t d_t} \sum_t \sum_{k=0}^{d_t - 1} \Big[\frac{1}{d_t}\sum_{i \in D_t}
               \theta_i - \log\Big(\sum_{j \in R_t} e^{\theta_j}
               - \frac{k}{d_t} \sum_{i \in D_t} e^{\theta_i}\Big)\Big].

    Both coincide without tied event times. This is scikit-survival's
    ``CoxPHOptimizer.nlog_likelihood`` multiplied by ``n_samples / n_events``. The seed's
    ``cox_loss`` is the Breslow form with a ``1e-8`` added inside the logarithm. The computation
    sorts by time once and takes a cumulative ``logsumexp`` (O(n log n)); it stays finite for any
    finite log-risk, however large.

    Parameters
    ----------
    log_risk : Tensor of shape (n_samples,) or (n_samples, 1)
        Predicted log-hazard ratios. Half precision is computed in float32.
    time : Tensor of shape (n_samples,)
        Time of event or censoring.
    event : Tensor of shape (n_samples,)
        Event indicator (bool or 0/1).
    ties : {"efron", "breslow"}, default="efron"
        Handling of tied event times.
    on_no_events : {"raise", "zero"}, default="raise"
        What a batch without any event gives: a ``ValueError``, or a zero that stays attached to the
        graph (``log_risk.sum() * 0``), so that such a batch contributes no gradient.

    Returns
    -------
    Tensor
        Scalar loss.

    Examples
    --------
    >>> import torch
    >>> from sksurv_ecg.losses import cox_ph_loss
    >>> log_risk = torch.tensor([1.0, 0.0, -1.0])
    >>> time, event = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([True, True, False])
    >>> round(cox_ph_loss(log_risk, time, event).item(), 4)
    0.3604
    >>> cox_ph_loss(log_risk, time, torch.zeros(3, dtype=torch.bool), on_no_events="zero")
    tensor(0.)
    """
    if ties not in ("efron", "breslow"):
        raise ValueError(f"'ties'={ties!r} must be 'efron' or 'breslow'.")
    if on_no_events not in ("raise", "zero"):
        raise ValueError(f"'on_no_events'={on_no_events!r} must be 'raise' or 'zero'.")
    log_risk = _as_1d("log_risk", log_risk, None)
    n = log_risk.shape[0]
    time = _as_1d("time", torch.as_tensor(time, device=log_risk.device), n)
    event = _as_1d("event", torch.as_tensor(event, device=log_risk.device), n).to(torch.bool)
    n_events = int(event.sum())
    if n_events == 0:
        if on_no_events == "raise":
            raise ValueError(
                f"The batch of {n} samples holds no event, so the Cox partial likelihood is undefined; "
                "use event-stratified batches (StratifiedBatchSampler) or on_no_events='zero'."
            )
        return log_risk.sum() * 0
    theta = log_risk if log_risk.dtype in (torch.float32, torch.float64) else log_risk.float()

    # Sort by time, descending: the risk set of position k is the prefix up to the end of its tie group.
    order = torch.argsort(time, descending=True, stable=True)
    theta, time, event = theta[order], time[order], event[order]
    _, group, counts = torch.unique_consecutive(time, return_inverse=True, return_counts=True)
    group_end = torch.cumsum(counts, 0) - 1
    log_risk_set = torch.logcumsumexp(theta, dim=0)[group_end]  # log sum_{R_t} exp(theta), per group

    ev_theta, ev_group = theta[event], group[event]
    ev_log_risk_set = log_risk_set[ev_group]
    if ties == "breslow":
        return (ev_log_risk_set - ev_theta).sum() / n_events

    n_groups = counts.shape[0]
    d = torch.zeros(n_groups, dtype=theta.dtype, device=theta.device).index_add_(0, ev_group, torch.ones_like(ev_theta))
    # log sum_{D_t} exp(theta), shifted by the (detached) group maximum for stability.
    shift = torch.full((n_groups,), -torch.inf, dtype=theta.dtype, device=theta.device)
    shift = shift.scatter_reduce(0, ev_group, ev_theta.detach(), reduce="amax")
    ev_shift = shift[ev_group]
    sum_d = torch.zeros_like(shift).index_add(0, ev_group, torch.exp(ev_theta - ev_shift))
    log_d = ev_shift + torch.log(sum_d[ev_group])
    # rank k of each event within its group: 0, 1, ..., d_t - 1
    cum = torch.cumsum(event.to(torch.int64), 0)[event] - 1
    first = torch.zeros(n_groups, dtype=torch.int64, device=theta.device).scatter_reduce(
        0, ev_group, cum, reduce="amin", include_self=False
    )
    k = (cum - first[ev_group]).to(theta.dtype)
    frac = k / d[ev_group]
    log_term = ev_log_risk_set + torch.log1p(-frac * torch.exp(log_d - ev_log_risk_set))
    ev_mean_theta = torch.zeros_like(shift).index_add(0, ev_group, ev_theta)[ev_group] / d[ev_group]
    return (log_term - ev_mean_theta).sum() / n_events


def reconstruction_loss(x_hat: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
    """Mean squared error, optionally over the samples where ``mask`` is True only.

    Without a mask this is the seed's training loss (the mean over every sample, padding included);
    with the padding mask it is the seed's validation loss ``sum(mask * (y - x_hat)**2) / sum(mask)``.

    Parameters
    ----------
    x_hat : Tensor
        Reconstruction, e.g. ``(N, L, T)``.
    target : Tensor
        Target of the same shape.
    mask : Tensor or None, default=None
        Boolean (or 0/1) tensor broadcastable to ``x_hat``; True marks the samples that count. A
        mask with no True entry gives a zero attached to the graph.

    Returns
    -------
    Tensor
        Scalar loss.

    Examples
    --------
    >>> import torch
    >>> from sksurv_ecg.losses import reconstruction_loss
    >>> x_hat, target = torch.tensor([[1.0, 2.0, 5.0]]), torch.tensor([[1.0, 0.0, 0.0]])
    >>> reconstruction_loss(x_hat, target)
    tensor(9.6667)
    >>> reconstruction_loss(x_hat, target, mask=torch.tensor([[True, True, False]]))
    tensor(2.)
    """
    if x_hat.shape != target.shape:
        raise ValueError(
            f"Dimension mismatch: 'x_hat' has shape {tuple(x_hat.shape)} but 'target' has "
            f"{tuple(target.shape)}; pass a target of the reconstruction's shape."
        )
    if mask is None:
        return F.mse_loss(x_hat, target)
    weight = torch.broadcast_to(mask.to(x_hat.dtype), x_hat.shape)
    return ((x_hat - target) ** 2 * weight).sum() / weight.sum().clamp_min(1.0)


def alignment_loss(
    ecg_embedding: Tensor,
    text_embedding: Tensor,
    *,
    method: Literal["cosine", "infonce"] = "cosine",
    temperature: float = 0.1,
) -> Tensor:
    r"""ECG-text alignment loss between paired projected embeddings.

    ``"cosine"`` is the seed's non-contrastive loss :math:`\frac{1}{N}\sum_i (1 - \cos(e_i, u_i))`
    (``CosineEmbeddingLoss`` with target +1). ``"infonce"`` is the symmetric CLIP loss: with
    :math:`s_{ij} = \cos(e_i, u_j) / \tau`, the mean of the cross-entropies of the rows and of the
    columns of :math:`s` against the diagonal; other samples of the batch act as negatives.

    Parameters
    ----------
    ecg_embedding : Tensor of shape (n_samples, d)
        Projected ECG embeddings.
    text_embedding : Tensor of shape (n_samples, d)
        Projected text embeddings of the same ECGs.
    method : {"cosine", "infonce"}, default="cosine"
        Loss flavour.
    temperature : float, default=0.1
        InfoNCE temperature :math:`\tau` (> 0).

    Returns
    -------
    Tensor
        Scalar loss.

    Examples
    --------
    >>> import torch
    >>> from sksurv_ecg.losses import alignment_loss
    >>> e = torch.eye(3)
    >>> alignment_loss(e, e)
    tensor(0.)
    >>> round(alignment_loss(e, e, method="infonce", temperature=1.0).item(), 4)
    0.5514
    """
    if ecg_embedding.ndim != 2 or ecg_embedding.shape != text_embedding.shape:
        raise ValueError(
            f"Dimension mismatch: 'ecg_embedding' has shape {tuple(ecg_embedding.shape)} and 'text_embedding' "
            f"{tuple(text_embedding.shape)}, but two 2-D tensors of one shape were expected; project both "
            "to the same width."
        )
    if method == "cosine":
        return (1.0 - F.cosine_similarity(ecg_embedding, text_embedding, dim=1)).mean()
    if method == "infonce":
        if not temperature > 0:
            raise ValueError(f"'temperature'={temperature!r} must be positive.")
        logits = F.normalize(ecg_embedding, dim=1) @ F.normalize(text_embedding, dim=1).T / temperature
        labels = torch.arange(logits.shape[0], device=logits.device)
        return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))
    raise ValueError(f"'method'={method!r} must be 'cosine' or 'infonce'.")
