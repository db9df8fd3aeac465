"""Reduced lead sets of the PhysioNet/CinC 2021 challenge, used for lead masking."""

from __future__ import annotations

from types import MappingProxyType
from typing import NamedTuple

import torch
from torch import Tensor

# Re-exported for embedding.py, which imports it from here until it takes it from sksurv_ecg.conventions.
from ..conventions import LEAD_NAMES  # noqa: F401

__all__ = ["LEAD_SUBSETS", "LeadSubset", "sample_lead_mask"]


class LeadSubset(NamedTuple):
    """A reduced lead set: indices into :data:`~sksurv_ecg.conventions.LEAD_NAMES` and its drawing probability."""

    leads: tuple[int, ...]
    probability: float


LEAD_SUBSETS: MappingProxyType[str, LeadSubset] = MappingProxyType(
    {
        "L2": LeadSubset((0, 1), 0.1),  # I, II
        "L3": LeadSubset((0, 1, 7), 0.1),  # I, II, V2
        "L4": LeadSubset((0, 1, 2, 7), 0.1),  # I, II, III, V2
        "L6": LeadSubset((0, 1, 2, 3, 4, 5), 0.1),  # limb leads
        "L8": LeadSubset((0, 1, 6, 7, 8, 9, 10, 11), 0.1),  # I, II, V1-V6
        "L12": LeadSubset(tuple(range(12)), 0.5),
    }
)


def sample_lead_mask(
    n_samples: int,
    n_leads: int = 12,
    *,
    p_mask: float = 0.5,
    per_batch: bool = False,
    generator: torch.Generator | None = None,
) -> Tensor:
    """Draw keep-masks of whole leads from the CinC reduced lead sets (:data:`LEAD_SUBSETS`).

    With probability ``p_mask`` a subset is drawn with the probabilities of :data:`LEAD_SUBSETS`
    (L2, L3, L4, L6, L8: 0.1 each, L12: 0.5) and the leads outside it are dropped; otherwise all
    leads are kept. The seed's pretraining draws per sample with ``p_mask=0.5`` (a sample loses
    leads with probability 0.25); its fine-tuning draws one subset for the whole batch every step
    (``per_batch=True, p_mask=1.0``). The lead sets are defined for the standard 12-lead order
    (I, II, III, aVR, aVL, aVF, V1-V6): for any other ``n_leads`` every lead is kept.

    Parameters
    ----------
    n_samples : int
        Batch size.
    n_leads : int, default=12
        Number of leads.
    p_mask : float, default=0.5
        Probability of drawing a subset (per sample, or per batch with ``per_batch``).
    per_batch : bool, default=False
        One draw shared by the whole batch instead of one per sample.
    generator : torch.Generator or None, default=None
        Source of randomness; the global torch RNG when None.

    Returns
    -------
    torch.BoolTensor of shape (n_samples, n_leads)
        True for the leads to keep.

    Examples
    --------
    >>> import torch
    >>> from sksurv_ecg.nn import sample_lead_mask
    >>> mask = sample_lead_mask(4, per_batch=True, p_mask=1.0, generator=torch.Generator().manual_seed(0))
    >>> mask.shape, bool((mask == mask[0]).all())
    (torch.Size([4, 12]), True)
    >>> bool(sample_lead_mask(3, n_leads=1).all())
    True
    """
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 0:
        raise ValueError(f"'n_samples'={n_samples!r} must be a non-negative integer.")
    if not 0 <= p_mask <= 1:
        raise ValueError(f"'p_mask'={p_mask!r} must be a probability in [0, 1].")
    keep = torch.ones(n_samples, n_leads, dtype=torch.bool)
    if n_leads != 12 or n_samples == 0:
        return keep
    subsets = list(LEAD_SUBSETS.values())
    table = torch.zeros(len(subsets), 12, dtype=torch.bool)
    for row, subset in enumerate(subsets):
        table[row, list(subset.leads)] = True
    probs = torch.tensor([s.probability for s in subsets], dtype=torch.float64)
    n_draws = 1 if per_batch else n_samples
    masked = torch.rand(n_draws, generator=generator, dtype=torch.float64) < p_mask
    choice = torch.multinomial(probs, n_draws, replacement=True, generator=generator)
    rows = torch.where(masked.unsqueeze(1), table[choice], torch.ones(1, 12, dtype=torch.bool))
    return rows.expand(n_samples, 12).clone() if per_batch else rows
