"""Dropout layers that can draw their masks from an explicit ``torch.Generator``."""

from __future__ import annotations

import torch
from torch import Tensor, nn

__all__ = ["BatchwiseDropout", "Dropout", "make_dropout", "set_dropout_generator"]


def _check_p(p: float) -> float:
    if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p < 1:
        raise ValueError(f"'p'={p!r} must be a float in [0, 1); use p=0 to disable dropout.")
    return float(p)


def _keep_mask(shape: tuple[int, ...], keep: float, like: Tensor, generator: torch.Generator | None) -> Tensor:
    if generator is None:
        return torch.empty(shape, dtype=like.dtype, device=like.device).bernoulli_(keep)
    mask = torch.empty(shape, dtype=torch.float32, device=generator.device).bernoulli_(keep, generator=generator)
    return mask.to(device=like.device, dtype=like.dtype)


class BatchwiseDropout(nn.Module):
    """Dropout whose keep-mask is shared by every sample of the batch.

    In training mode one Bernoulli keep-mask is drawn with size 1 on ``batch_dim`` and full size on
    every other axis, and the input is multiplied by ``mask / (1 - p)``. Every sample of the batch
    therefore loses the same units, as in the seed's fine-tuning ("batch-wise dropout"). In eval
    mode, or with ``p=0``, the layer is the identity.

    Parameters
    ----------
    p : float, default=0.5
        Probability of zeroing a unit, in ``[0, 1)``.
    batch_dim : int, default=0
        Axis of the batch: 0 for batch-first tensors, 1 for sequence-first ``(S, N, F)`` tensors.
    generator : torch.Generator or None, default=None
        Source of the masks; the global torch RNG when None. It is a plain attribute and may be
        replaced at any time (e.g. by :func:`set_dropout_generator`).

    Examples
    --------
    >>> import torch
    >>> from sksurv_ecg.nn import BatchwiseDropout
    >>> layer = BatchwiseDropout(0.5, generator=torch.Generator().manual_seed(0))
    >>> y = layer(torch.ones(4, 6))
    >>> bool((y == y[0]).all())  # every sample lost the same units
    True
    >>> sorted(set(y.flatten().tolist())) in ([0.0, 2.0], [2.0], [0.0])
    True
    """

    def __init__(self, p: float = 0.5, batch_dim: int = 0, generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.p = _check_p(p)
        self.batch_dim = int(batch_dim)
        self.generator = generator

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
        mask = _keep_mask(tuple(shape), 1.0 - self.p, x, self.generator)
        return x * mask * (1.0 / (1.0 - self.p))

    def extra_repr(self) -> str:
        """Return the layer's settings for ``repr``."""
        return f"p={self.p}, batch_dim={self.batch_dim}"


class Dropout(nn.Dropout):
    """Element-wise dropout (``torch.nn.Dropout``) that can use an explicit generator.

    Parameters
    ----------
    p : float, default=0.5
        Probability of zeroing an element, in ``[0, 1)``.
    generator : torch.Generator or None, default=None
        Source of the masks; when None the layer is exactly ``torch.nn.Dropout``.

    Examples
    --------
    >>> import torch
    >>> from sksurv_ecg.nn import Dropout
    >>> a = Dropout(0.5, generator=torch.Generator().manual_seed(1))(torch.ones(3, 4))
    >>> b = Dropout(0.5, generator=torch.Generator().manual_seed(1))(torch.ones(3, 4))
    >>> bool(torch.equal(a, b))
    True
    """

    def __init__(self, p: float = 0.5, generator: torch.Generator | None = None) -> None:
        super().__init__(_check_p(p))
        self.generator = generator

    def forward(self, x: Tensor) -> Tensor:
        """Apply element-wise dropout (training) or return ``x`` (eval).

        Parameters
        ----------
        x : Tensor
            Input of any shape.

        Returns
        -------
        Tensor
            Tensor of the same shape.
        """
        if self.generator is None or not self.training or self.p == 0:
            return super().forward(x)
        mask = _keep_mask(tuple(x.shape), 1.0 - self.p, x, self.generator)
        return x * mask * (1.0 / (1.0 - self.p))


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


def set_dropout_generator(module: nn.Module, generator: torch.Generator | None) -> int:
    """Make every dropout layer of ``module`` draw its masks from ``generator``.

    Parameters
    ----------
    module : torch.nn.Module
        Model whose :class:`BatchwiseDropout` and :class:`Dropout` layers are updated.
    generator : torch.Generator or None
        The generator (None restores the global RNG).

    Returns
    -------
    int
        Number of layers updated.

    Examples
    --------
    >>> import torch
    >>> from sksurv_ecg.nn import DualAttentionAutoencoder, set_dropout_generator
    >>> set_dropout_generator(DualAttentionAutoencoder(), torch.Generator().manual_seed(0))
    4
    """
    count = 0
    for layer in module.modules():
        if isinstance(layer, BatchwiseDropout | Dropout):
            layer.generator = generator
            count += 1
    return count
