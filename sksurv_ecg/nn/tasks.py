"""Task models: the dual-attention autoencoder with what each estimator trains on top of it.

One module serves the three estimators so that weights move between them by name:
``autoencoder.*`` (encoder + decoder), ``head.*`` (risk head) and ``ecg_projection.*`` /
``text_projection.*`` (alignment projectors). Pure torch: inputs are raw signals of any length;
the module standardises each lead, zero-pads the time axis to a multiple of ``2**downsample``
(centred, as the seed padded 600-sample median beats to 608) and crops reconstructions back.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from ._model import DualAttentionAutoencoder

__all__ = ["ECGTaskModel", "TaskOutput", "padded_length", "standardize_leads"]


def standardize_leads(x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Z-score every lead of every sample over time; a flat lead becomes zeros, never NaN.

    Parameters
    ----------
    x : Tensor of shape (N, L, T)
        Signals.
    eps : float, default=1e-6
        Standard deviations below this count as a flat lead.

    Returns
    -------
    Tensor of shape (N, L, T)
        Standardised signals.

    Examples
    --------
    >>> import torch
    >>> from sksurv_ecg.nn.tasks import standardize_leads
    >>> standardize_leads(torch.ones(1, 2, 5)).abs().sum().item()
    0.0
    """
    mean = x.mean(dim=-1, keepdim=True)
    std = x.std(dim=-1, keepdim=True, unbiased=False)
    flat = std < eps
    return torch.where(flat, torch.zeros_like(x), (x - mean) / torch.where(flat, torch.ones_like(std), std))


def padded_length(n_timesteps: int, downsample: int) -> int:
    """Smallest multiple of ``2**downsample`` that holds ``n_timesteps`` samples.

    Parameters
    ----------
    n_timesteps : int
        Input length.
    downsample : int
        Number of stride-2 stages of the encoder.

    Returns
    -------
    int
        Length the network runs on.

    Examples
    --------
    >>> from sksurv_ecg.nn.tasks import padded_length
    >>> padded_length(600, 5)
    608
    """
    step: int = 2**downsample  # int ** int is typed as Any (a negative power is a float)
    return -(-n_timesteps // step) * step


class TaskOutput(NamedTuple):
    """What one forward pass of :class:`ECGTaskModel` returns."""

    z: torch.Tensor
    """Latent code ``(N, latent_dim)``."""
    x_hat: torch.Tensor | None
    """Reconstruction ``(N, L, T)`` cropped to the input length, or None when not asked for."""
    target: torch.Tensor
    """The clean standardised input ``(N, L, T)``: the reconstruction target."""
    log_risk: torch.Tensor | None
    """Log-hazard ``(N,)`` when the model has a risk head."""
    ecg_projection: torch.Tensor | None
    """Projected ECG embedding when the model has projection heads."""


class ECGTaskModel(nn.Module):
    """Autoencoder plus optional risk head and alignment projectors.

    Parameters
    ----------
    autoencoder : DualAttentionAutoencoder
        Encoder and decoder; its ``config.n_timesteps`` is the padded length.
    n_timesteps_in : int
        Length of the raw input; shorter than or equal to ``config.n_timesteps``.
    head : nn.Module or None, default=None
        Maps the latent code to a log-risk of shape ``(N,)``.
    ecg_projection, text_projection : nn.Module or None, default=None
        Projectors for ECG-text alignment.
    standardize : bool, default=True
        Z-score each lead of each sample before the network (as the seed).

    Examples
    --------
    >>> import torch
    >>> from sksurv_ecg.nn import DualAttentionAutoencoder, RiskHead
    >>> from sksurv_ecg.nn.tasks import ECGTaskModel
    >>> ae = DualAttentionAutoencoder(n_leads=1, n_timesteps=64, downsample=2)
    >>> model = ECGTaskModel(ae, 60, head=RiskHead(512)).eval()
    >>> out = model(torch.randn(3, 1, 60))
    >>> out.log_risk.shape, out.x_hat.shape
    (torch.Size([3]), torch.Size([3, 1, 60]))
    """

    def __init__(
        self,
        autoencoder: DualAttentionAutoencoder,
        n_timesteps_in: int,
        *,
        head: nn.Module | None = None,
        ecg_projection: nn.Module | None = None,
        text_projection: nn.Module | None = None,
        standardize: bool = True,
    ) -> None:
        super().__init__()
        n_padded = autoencoder.config.n_timesteps
        if n_timesteps_in > n_padded:
            raise ValueError(f"n_timesteps_in={n_timesteps_in} exceeds the network length {n_padded}.")
        self.autoencoder = autoencoder
        self.head = head
        self.ecg_projection = ecg_projection
        self.text_projection = text_projection
        self.standardize = standardize
        self.n_timesteps_in = n_timesteps_in

    def prepare(self, x: torch.Tensor) -> torch.Tensor:
        """Return the clean target: the raw signals, standardised per lead when enabled.

        Parameters
        ----------
        x : Tensor of shape (N, L, T)
            Raw signals.

        Returns
        -------
        Tensor of shape (N, L, T)
            The reconstruction target.
        """
        return standardize_leads(x) if self.standardize else x

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        # From the length of x, not n_timesteps_in: any input that pads to the network length runs
        # (600-sample beats on a model fitted on 608), centred as at fit.
        extra = self.autoencoder.config.n_timesteps - x.shape[-1]
        if extra:
            x = F.pad(x, (extra // 2, extra - extra // 2))
        return x

    def _crop(self, x: torch.Tensor, n_timesteps: int) -> torch.Tensor:
        left = (x.shape[-1] - n_timesteps) // 2
        return x[..., left : left + n_timesteps]

    def encode(
        self, x: torch.Tensor, *, return_attention: bool = False
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """Return the latent code (and attention maps) of raw signals, without the decoder.

        Parameters
        ----------
        x : Tensor of shape (N, L, T)
            Raw signals.
        return_attention : bool, default=False
            Also return the head-averaged lead and time attention maps.

        Returns
        -------
        Tensor or tuple
            ``z`` of shape (N, latent_dim), or ``(z, lead_attention, time_attention)``.
        """
        encoded: torch.Tensor | tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None] = (
            self.autoencoder.encoder(self._pad(self.prepare(x)), return_attention=return_attention)
        )
        return encoded

    def forward(
        self,
        x: torch.Tensor,
        lead_mask: torch.Tensor | None = None,
        *,
        reconstruct: bool = True,
    ) -> TaskOutput:
        """Run the model.

        Parameters
        ----------
        x : Tensor of shape (N, L, T)
            Raw signals.
        lead_mask : BoolTensor of shape (N, L) or (1, L), optional
            Leads to keep; the others are zeroed in the network input (not in the target).
        reconstruct : bool, default=True
            Whether to run the decoder.

        Returns
        -------
        TaskOutput
            Latent code, reconstruction, target, log-risk and projection.
        """
        target = self.prepare(x)
        inputs = target if lead_mask is None else target * lead_mask.unsqueeze(-1).to(target.dtype)
        z = self.autoencoder.encoder(self._pad(inputs))
        x_hat = self._crop(self.autoencoder.decoder(z), x.shape[-1]) if reconstruct else None
        log_risk = self.head(z) if self.head is not None else None
        projection = self.ecg_projection(z) if self.ecg_projection is not None else None
        return TaskOutput(z, x_hat, target, log_risk, projection)
