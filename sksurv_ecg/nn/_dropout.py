"""Dropout layers: batch-shared masks (the seed's batch-wise dropout) and element-wise dropout."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["BatchwiseDropout", "Dropout", "make_dropout"]


def _check_p(p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p < 1:
        raise ValueError(f"'p'={p!r} must be a float in [0, 1); use p=0 to disable dropout.")
    return float(p)


class BatchwiseDropout(nn.Module):
    """Dropout whose keep-mask is shared by every sample of the batch.

    In training mode one Bernoulli keep-mask is drawn (from the global torch RNG) with size 1 on
    ``batch_dim`` and full size on every other axis, and the input is multiplied by
    ``mask / (1 - p)``. Every sample of the batch therefore loses the same units, as in the seed's
    fine-tuning ("batch-wise dropout"). In eval mode, or with ``p=0``, the layer is the identity.

    Parameters
    ----------
    p : float, default=0.5
        Probability of zeroing a unit, in ``[0, 1)``.
    batch_dim : int, default=0
        Axis of the batch: 0 for batch-first tensors, 1 for sequence-first ``(S, N, F)`` tensors.

    Examples
    --------
    >>> import torch
    >>> from sksurv_ecg.nn import BatchwiseDropout
    >>> _ = torch.manual_seed(0)
    >>> y = BatchwiseDropout(0.5)(torch.ones(4, 6))
    >>> bool((y == y[0]).all())  # every sample lost the same units
    True
    >>> sorted(set(y.flatten().tolist())) in ([0.0, 2.0], [2.0], [0.0])
    True
    """

    def __init__(self, p: float = 0.5, batch_dim: int = 0) -> None:
        super().__init__()
        self.p = _check_p(p)
        self.batch_dim = int(batch_dim)

    def forward(self, x: Tensor) -> Tensor:
        """Apply the batch-shared mask (training) or return ``x`` (eval).

        Parameters
        ----------
        x : Tensor
            Input of any shape with at least ``batch_dim + 1`` dimensions.

        Returns
        -------
        Tensor
            Tensor of the same shape.
        """
        if not self.training or self.p == 0:
            return x
        shape = list(x.shape)
        shape[self.batch_dim] = 1
        mask = torch.empty(shape, dtype=x.dtype, device=x.device).bernoulli_(1.0 - self.p)
        return x * mask * (1.0 / (1.0 - self.p))

    def extra_repr(self) -> str:
        """Return the layer's settings for ``repr``."""
        return f"p={self.p}, batch_dim={self.batch_dim}"


class Dropout(nn.Dropout):
    """Element-wise dropout: ``torch.nn.Dropout`` that refuses ``p`` outside ``[0, 1)`` with a clear error.

    Parameters
    ----------
    p : float, default=0.5
        Probability of zeroing an element, in ``[0, 1)``.

    Examples
    --------
    >>> import torch
    >>> from sksurv_ecg.nn import Dropout
    >>> Dropout(0.5).eval()(torch.ones(2, 3)).tolist()
    [[1.0, 1.0, 1.0], [1.0, 1.0, 1.0]]
    """

    def __init__(self, p: float = 0.5) -> None:
        super().__init__(_check_p(p))


def make_dropout(p: float, mode: str, batch_dim: int = 0) -> nn.Module:
    """Return the dropout layer of a ``dropout_mode`` (``"batchwise"`` or ``"standard"``).

    Parameters
    ----------
    p : float
        Dropout probability.
    mode : {"batchwise", "standard"}
        Shared-over-batch or element-wise masks.
    batch_dim : int, default=0
        Batch axis of the tensors the layer will see (used by ``"batchwise"``).

    Returns
    -------
    torch.nn.Module
        A :class:`BatchwiseDropout` or a :class:`Dropout`.

    Examples
    --------
    >>> from sksurv_ecg.nn import make_dropout
    >>> make_dropout(0.2, "batchwise", batch_dim=1)
    BatchwiseDropout(p=0.2, batch_dim=1)
    """
    if mode == "batchwise":
        return BatchwiseDropout(p, batch_dim=batch_dim)
    if mode == "standard":
        return Dropout(p)
    raise ValueError(f"'dropout_mode'={mode!r} must be 'batchwise' or 'standard'.")
