"""Encoder, decoder and autoencoder of the ECG dual-attention network."""

from __future__ import annotations

import dataclasses
from typing import Any, Literal, overload

import torch
from torch import Tensor, nn

from ._attention import DualAttention
from ._config import DualAttentionConfig
from ._fast import inference_chunk, input_convs, nlt_blocks
from ._layers import ResBlock2D

__all__ = ["DualAttentionAutoencoder", "DualAttentionDecoder", "DualAttentionEncoder"]

#: Residual blocks at the end of the decoder that run in float32 under autocast (with the final
#: convolution and InstanceNorm); see :class:`DualAttentionDecoder`.
FLOAT32_TAIL_BLOCKS = 2


def _sequential(blocks: nn.Sequential, x: Tensor) -> Tensor:
    out: Tensor = blocks(x)
    return out


class DualAttentionEncoder(nn.Module):
    """ECG encoder of Chen et al.: input convolutions, 5 residual stages, dual attention, pooling.

    Layer by layer (paper configuration): grouped ``Conv1d(12 -> 48, k=5)`` (4 filters per lead),
    GroupNorm(12), GELU, ``Conv1d(48 -> 48, k=5)`` mixing all leads (grouped per lead when
    ``lead_mixing=False``), GroupNorm, GELU; a plain ``view`` to ``(N, 4, 12, T)`` (channel ``c``
    becomes feature ``c // 12`` of lead ``c % 12``); 5 down-sampling :class:`ResBlock2D` stages
    (4 -> 8 -> 16 -> 16 -> 16 -> 16 feature maps, ``T -> T / 32``); :class:`DualAttention`.
    Initialisation as the seed: Kaiming-normal convolutions, Xavier-uniform linear layers (attention
    output projections included) with zero bias, BatchNorm and LayerNorm 1/0, the attention input
    projections with ``nn.MultiheadAttention``'s default. 1,274,536 parameters.

    Parameters
    ----------
    config : DualAttentionConfig
        Model configuration.

    Attributes
    ----------
    config : DualAttentionConfig
        The configuration.

    Examples
    --------
    >>> import torch
    >>> from sksurv_ecg.nn import DualAttentionConfig, DualAttentionEncoder
    >>> encoder = DualAttentionEncoder(DualAttentionConfig()).eval()
    >>> sum(p.numel() for p in encoder.parameters())
    1274536
    >>> z, lead, time = encoder(torch.randn(2, 12, 608), return_attention=True)
    >>> z.shape, lead.shape, time.shape
    (torch.Size([2, 512]), torch.Size([2, 12, 12]), torch.Size([2, 12, 19, 19]))
    """

    def __init__(self, config: DualAttentionConfig) -> None:
        super().__init__()
        self.config = config
        L, base = config.n_leads, config.base_features
        width = L * base
        self.input_conv = nn.Sequential(
            nn.Conv1d(L, width, kernel_size=5, padding=2, groups=L),
            nn.GroupNorm(L, width),
            nn.GELU(),
            nn.Conv1d(width, width, kernel_size=5, padding=2, groups=1 if config.lead_mixing else L),
            nn.GroupNorm(L, width),
            nn.GELU(),
        )
        plan = config.channel_plan
        self.encoder = nn.Sequential(*(ResBlock2D(plan[i], plan[i + 1], "down") for i in range(config.downsample)))
        self.attention = DualAttention(config)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Initialise the encoder as the seed's ``ECGEncoder.init_weights``."""
        for m in self.modules():
            if isinstance(m, nn.Conv1d | nn.Conv2d | nn.ConvTranspose1d | nn.ConvTranspose2d):
                nn.init.kaiming_normal_(m.weight)
            elif isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d | nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        if self.config.time_attention:
            self.attention.time_blocks.reset_parameters()

    def cnn_features(self, x: Tensor) -> Tensor:
        """Return the CNN feature ``F`` of shape ``(N, C, L, T')`` that both attention branches read.

        Parameters
        ----------
        x : Tensor
            ECGs of shape ``(N, L, T)``.

        Returns
        -------
        Tensor
            Feature maps ``(N, C, L, T')``.
        """
        if self.config.impl != "fast":
            features: Tensor = self.encoder(self._input_features(x))
            return features
        # (N, L, T, C) from the first residual block to the last (see _fast.py), in cache-sized
        # chunks in CPU inference; returned as the (N, C, L, T') channels-last view, which is the
        # (N, L, T', C) layout the attention reads.
        size = inference_chunk(x, self.config.n_leads * self.config.base_features, self.encoder)
        chunks = [
            nlt_blocks(self.encoder, self._input_features(c).permute(0, 2, 3, 1).contiguous())
            for c in torch.split(x, size)
        ]
        return (chunks[0] if len(chunks) == 1 else torch.cat(chunks)).permute(0, 3, 1, 2)

    def _input_features(self, x: Tensor) -> Tensor:
        """The input convolutions, viewed as ``(N, base_features, L, T)`` maps."""
        N, L, T = x.shape
        base = self.config.base_features
        h = input_convs(self.input_conv, x, L) if self.config.impl == "fast" else self.input_conv(x)
        if self.config.lead_mixing:
            return h.view(N, base, L, T)  # the seed's plain view: channel c -> (c // L, c % L)
        return h.view(N, L, base, T).transpose(1, 2)  # grouped conv: channel c -> (c % base, c // base)

    @overload
    def forward(self, x: Tensor, return_attention: Literal[False] = ...) -> Tensor: ...

    @overload
    def forward(self, x: Tensor, return_attention: Literal[True]) -> tuple[Tensor, Tensor | None, Tensor | None]: ...

    def forward(
        self, x: Tensor, return_attention: bool = False
    ) -> Tensor | tuple[Tensor, Tensor | None, Tensor | None]:
        """Encode ECGs, optionally returning the head-averaged attention maps.

        Parameters
        ----------
        x : Tensor
            ECGs of shape ``(N, L, T)``.
        return_attention : bool, default=False
            Also return the attention maps. Nothing is stored on the module.

        Returns
        -------
        z : Tensor
            Latent codes ``(N, latent_dim)``.
        lead_attention : Tensor or None
            Only with ``return_attention``: ``(N, L, L)``, rows (queries) sum to 1; None when the
            lead branch is off.
        time_attention : Tensor or None
            Only with ``return_attention``: ``(N, L, T', T')``; None when the time branch is off.
        """
        _check_input(x, self.config)
        out: tuple[Tensor, Tensor | None, Tensor | None] = self.attention(
            self.cnn_features(x), need_weights=return_attention
        )
        z, lead_w, time_w = out
        if return_attention:
            return z, lead_w, time_w
        return z


def _check_input(x: Tensor, config: DualAttentionConfig) -> None:
    if x.ndim != 3 or x.shape[1] != config.n_leads or x.shape[2] != config.n_timesteps:
        raise ValueError(
            f"'x' has shape {tuple(x.shape)}, but the model expects (N, {config.n_leads}, {config.n_timesteps}); "
            "pass ECGs with the configured n_leads and n_timesteps, or build the model for your shape."
        )


class DualAttentionDecoder(nn.Module):
    """ECG decoder of Chen et al. (the seed's ``ECGDecoder`` with 2 linear layers).

    ``Linear(latent -> 4 T')``, ``Linear(4 T' -> 4 L T')`` (no activation between them), view to
    ``(N, 4, L, T')``, 5 up-sampling :class:`ResBlock2D` stages (4 -> 4 maps, time doubled each),
    one plain stage to a single map, a depthwise ``Conv1d(k=1)`` per lead and ``InstanceNorm1d``
    (so each reconstructed lead has zero mean and unit variance). PyTorch default initialisation,
    as in the seed. 110,570 parameters.

    Under autocast the last ``FLOAT32_TAIL_BLOCKS`` (2) residual blocks, the final convolution and
    the norm run in float32 and the reconstruction is float32: before the norm the signal is a small
    variation on a large offset (``|mean| / std`` in the hundreds at initialisation), which bfloat16
    would round away.

    Parameters
    ----------
    config : DualAttentionConfig
        Model configuration (``downsample`` sets the number of up-sampling stages).

    Examples
    --------
    >>> import torch
    >>> from sksurv_ecg.nn import DualAttentionConfig, DualAttentionDecoder
    >>> decoder = DualAttentionDecoder(DualAttentionConfig())
    >>> sum(p.numel() for p in decoder.parameters())
    110570
    >>> decoder(torch.randn(2, 512)).shape
    torch.Size([2, 12, 608])
    """

    def __init__(self, config: DualAttentionConfig) -> None:
        super().__init__()
        self.config = config
        L, base, T = config.n_leads, config.base_features, config.n_latent_timesteps
        self.linear = nn.Sequential(nn.Linear(config.latent_dim, base * T), nn.Linear(base * T, base * L * T))
        blocks: list[nn.Module] = [ResBlock2D(base, base, "up") for _ in range(config.downsample)]
        blocks.append(ResBlock2D(base, 1, "plain"))
        self.decoder = nn.Sequential(*blocks)
        self.final_conv = nn.Sequential(nn.Conv1d(L, L, kernel_size=1, groups=L), nn.InstanceNorm1d(L))

    def forward(self, z: Tensor) -> Tensor:
        """Reconstruct ECGs from latent codes.

        Parameters
        ----------
        z : Tensor
            Latent codes ``(N, latent_dim)``.

        Returns
        -------
        Tensor
            Reconstructions ``(N, L, T)``.
        """
        c = self.config
        h = self.linear(z).view(z.shape[0], c.base_features, c.n_leads, c.n_latent_timesteps)
        fast = c.impl == "fast"
        if fast:
            h = h.permute(0, 2, 3, 1).contiguous()  # (N, L, T', C): the fast path's layout
        n_low = len(self.decoder)
        if torch.is_autocast_enabled(z.device.type):
            n_low = max(0, n_low - FLOAT32_TAIL_BLOCKS)
        run = nlt_blocks if fast else _sequential
        # torch types Sequential[slice] as Sequential | Module; a slice is always a Sequential.
        h = run(self.decoder[:n_low], h)  # type: ignore[arg-type]
        # The tail runs in float32 under autocast: it turns an almost constant signal (mean/std up to
        # thousands at initialisation) into unit-variance leads, so bfloat16 rounding there would be
        # amplified by the final InstanceNorm into the whole reconstruction.
        with torch.autocast(z.device.type, enabled=False):
            h = run(self.decoder[n_low:], h.to(torch.promote_types(h.dtype, torch.float32)))  # type: ignore[arg-type]
            x_hat: Tensor = self.final_conv(h.squeeze(-1) if fast else h.squeeze(1))
            return x_hat


class DualAttentionAutoencoder(nn.Module):
    """The seed's ``ECGAttentionAE``: :class:`DualAttentionEncoder` + :class:`DualAttentionDecoder`.

    The defaults are the paper configuration (1,385,106 parameters). The state-dict keys follow the
    seed (``encoder.input_conv.0.weight``, ``encoder.attention.lead_mha.in_proj_weight``, ...), except
    that the 12 temporal blocks are stacked under ``encoder.attention.time_blocks.*``; a seed
    checkpoint loads directly (the keys are converted at load time, see
    :func:`convert_seed_state_dict`). Both ``impl`` values share one layout.

    Parameters
    ----------
    n_leads : int, default=12
        Number of input leads; see :class:`DualAttentionConfig` for this and every parameter below.
    n_timesteps : int, default=608
        Input length; divisible by ``2**downsample``.
    downsample : int, default=5
        Number of stride-2 residual stages.
    base_features : int, default=4
        Feature maps per lead after the input convolutions.
    latent_dim : int, default=512
        Size of the latent code; even.
    n_heads : int, default=8
        Attention heads of both attention branches.
    mlp_ratio : int, default=4
        Hidden width of the transformer MLPs relative to their token width.
    dropout : float, default=0.2
        Dropout probability at every attention dropout site.
    dropout_mode : {"batchwise", "standard"}, default="batchwise"
        One keep-mask shared across the batch, or one per element.
    lead_attention : bool, default=True
        Whether the cross-lead attention branch is used.
    time_attention : bool, default=True
        Whether the per-lead temporal attention branch is used.
    lead_mixing : bool, default=True
        Whether the second input convolution mixes all leads (the seed) or keeps them apart.
    impl : {"fast", "reference"}, default="fast"
        How the network is computed (same parameters, same function).
    attention_impl : {"fused", "reference"} or None, default=None
        Deprecated name of ``impl``; emits a ``FutureWarning``.

    Attributes
    ----------
    config : DualAttentionConfig
        The configuration.
    encoder : DualAttentionEncoder
        The encoder.
    decoder : DualAttentionDecoder
        The decoder.

    Examples
    --------
    >>> import torch
    >>> from sksurv_ecg.nn import DualAttentionAutoencoder
    >>> model = DualAttentionAutoencoder()
    >>> sum(p.numel() for p in model.parameters())
    1385106
    >>> z, x_hat = model(torch.randn(2, 12, 608))
    >>> z.shape, x_hat.shape
    (torch.Size([2, 512]), torch.Size([2, 12, 608]))
    """

    def __init__(
        self,
        n_leads: int = 12,
        n_timesteps: int = 608,
        downsample: int = 5,
        base_features: int = 4,
        latent_dim: int = 512,
        n_heads: int = 8,
        mlp_ratio: int = 4,
        dropout: float = 0.2,
        dropout_mode: Literal["batchwise", "standard"] = "batchwise",
        lead_attention: bool = True,
        time_attention: bool = True,
        lead_mixing: bool = True,
        impl: Literal["fast", "reference"] = "fast",
        attention_impl: str | None = None,
    ) -> None:
        super().__init__()
        self.config = DualAttentionConfig(
            n_leads=n_leads,
            n_timesteps=n_timesteps,
            downsample=downsample,
            base_features=base_features,
            latent_dim=latent_dim,
            n_heads=n_heads,
            mlp_ratio=mlp_ratio,
            dropout=dropout,
            dropout_mode=dropout_mode,
            lead_attention=lead_attention,
            time_attention=time_attention,
            lead_mixing=lead_mixing,
            impl=impl,
            attention_impl=attention_impl,
        )
        self.encoder = DualAttentionEncoder(self.config)
        self.decoder = DualAttentionDecoder(self.config)

    @classmethod
    def from_config(cls, config: DualAttentionConfig | dict[str, Any]) -> DualAttentionAutoencoder:
        """Build an autoencoder from a :class:`DualAttentionConfig` (or its ``asdict`` form).

        Parameters
        ----------
        config : DualAttentionConfig or dict
            The configuration.

        Returns
        -------
        DualAttentionAutoencoder
            A freshly initialised model.

        Examples
        --------
        >>> from sksurv_ecg.nn import DualAttentionAutoencoder, DualAttentionConfig
        >>> DualAttentionAutoencoder.from_config(DualAttentionConfig(n_leads=1)).config.n_leads
        1
        """
        if isinstance(config, DualAttentionConfig):
            config = dataclasses.asdict(config)
        return cls(**config)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Encode and reconstruct.

        Parameters
        ----------
        x : Tensor
            ECGs ``(N, L, T)``.

        Returns
        -------
        z : Tensor
            Latent codes ``(N, latent_dim)``.
        x_hat : Tensor
            Reconstructions ``(N, L, T)``.
        """
        z = self.encoder(x)
        return z, self.decoder(z)
