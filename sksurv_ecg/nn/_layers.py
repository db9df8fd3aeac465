"""Building blocks shared by the encoder and the decoder."""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["ResBlock2D", "sinusoidal_table"]


def sinusoidal_table(length: int, d_model: int) -> Tensor:
    """Return the standard sinusoidal positional-encoding table of shape ``(length, d_model)``.

    Even features hold ``sin(pos / 10000**(2i/d))``, odd features ``cos(...)``, as in the seed's
    ``PositionalEncoding`` (its table is ``max_len=5000`` long, of which only the first rows are used).

    Parameters
    ----------
    length : int
        Number of positions.
    d_model : int
        Feature width.

    Returns
    -------
    Tensor
        Float32 table.

    Examples
    --------
    >>> from sksurv_ecg.nn._layers import sinusoidal_table
    >>> sinusoidal_table(3, 4)[1, :2]
    tensor([0.8415, 0.5403])
    """
    position = torch.arange(length, dtype=torch.float32).unsqueeze(1)
    div_term = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    pe = torch.zeros(length, d_model)
    pe[:, 0::2] = torch.sin(position * div_term)
    pe[:, 1::2] = torch.cos(position * div_term)[:, : d_model // 2]
    return pe


class ResBlock2D(nn.Module):
    """Residual block on ``(N, C, L, T)`` maps whose convolutions act on time only (kernel ``(1, K)``).

    The seed's ``MyResidualBlock2D``: ``h = LeakyReLU(BN(conv2(LeakyReLU(BN(conv1(x))))))`` and
    ``y = GELU(h + skip)``. ``"down"`` halves time (conv1 stride 2; skip = 1x1 conv of a (1, 2)
    max-pool), ``"up"`` doubles it (a transposed (1, 4) convolution and a 1x1 convolution feed both
    paths), ``"plain"`` keeps it (skip = 1x1 conv). Parameter names follow the seed.

    Parameters
    ----------
    in_ch, out_ch : int
        Feature maps in and out.
    mode : {"down", "up", "plain"}
        Time resampling.
    kernel_size : int, default=5
        Temporal kernel size ``K`` (odd).

    Examples
    --------
    >>> import torch
    >>> from sksurv_ecg.nn._layers import ResBlock2D
    >>> ResBlock2D(4, 8, "down")(torch.zeros(2, 4, 3, 16)).shape
    torch.Size([2, 8, 3, 8])
    """

    def __init__(self, in_ch: int, out_ch: int, mode: Literal["down", "up", "plain"], kernel_size: int = 5) -> None:
        super().__init__()
        self.mode = mode
        pad = (kernel_size - 1) // 2
        self.idfunc_0: nn.Module | None = None
        if mode == "up":
            self.idfunc_0 = nn.ConvTranspose2d(in_ch, out_ch, kernel_size=(1, 4), stride=(1, 2), padding=(0, 1))
            self.idfunc_1 = nn.Conv2d(out_ch, out_ch, kernel_size=1, bias=False)
            self.conv1 = nn.Conv2d(out_ch, out_ch, (1, kernel_size), padding=(0, pad), bias=False)
        else:
            stride = 2 if mode == "down" else 1
            self.conv1 = nn.Conv2d(in_ch, out_ch, (1, kernel_size), stride=(1, stride), padding=(0, pad), bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, (1, kernel_size), padding=(0, pad), bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        if mode == "down":
            self.idfunc_0 = nn.MaxPool2d(kernel_size=(1, 2), stride=(1, 2))
        if mode != "up":
            self.idfunc_1 = nn.Conv2d(in_ch, out_ch, kernel_size=1, bias=True)

    def forward(self, x: Tensor) -> Tensor:
        """Map ``(N, in_ch, L, T)`` to ``(N, out_ch, L, T_out)``.

        Parameters
        ----------
        x : Tensor
            Input maps.

        Returns
        -------
        Tensor
            Output maps.
        """
        if self.mode == "up":
            assert self.idfunc_0 is not None
            x = self.idfunc_1(self.idfunc_0(x))
            skip = x
        elif self.mode == "down":
            assert self.idfunc_0 is not None
            skip = self.idfunc_1(self.idfunc_0(x))
        else:
            skip = self.idfunc_1(x)
        h = F.leaky_relu(self.bn1(self.conv1(x)))
        h = F.leaky_relu(self.bn2(self.conv2(h)))
        return F.gelu(h + skip)
