"""Configuration of the dual-attention autoencoder."""

from __future__ import annotations

import math
import warnings
from dataclasses import InitVar, dataclass
from typing import Literal

__all__ = ["DualAttentionConfig", "default_impl"]

_RENAMED_IMPL = {"fused": "fast"}

DropoutMode = Literal["batchwise", "standard"]
Impl = Literal["fast", "reference"]


def default_impl(device: object) -> Impl:
    """The implementation the estimators choose for ``device`` unless ``module__impl`` is given.

    ``"fast"`` on the CPU, where it is tuned and measured; ``"reference"`` (standard ATen/cuDNN
    kernels) on CUDA, until a GPU benchmark says otherwise. Both compute the same function from the
    same parameters.

    Parameters
    ----------
    device : str or torch.device
        The device the network runs on.

    Returns
    -------
    {"fast", "reference"}
        The implementation.

    Examples
    --------
    >>> from sksurv_ecg.nn._config import default_impl
    >>> default_impl("cpu"), default_impl("cuda:0")
    ('fast', 'reference')
    """
    return "reference" if str(device).startswith("cuda") else "fast"


def _check_int(name: str, value: object, low: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"{name!r}={value!r} must be an integer >= {low}; pass e.g. {name}={max(low, 1)}.")


def _check_bool(name: str, value: object) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{name!r}={value!r} must be True or False.")


@dataclass(frozen=True)
class DualAttentionConfig:
    """Hyper-parameters of the ECG dual-attention autoencoder.

    The defaults are the paper configuration of Chen et al. (the seed's ``ECG_attention_512``):
    12 leads of 608 samples, 5 stride-2 stages (19 latent time steps), 512-d latent code.

    Parameters
    ----------
    n_leads : int, default=12
        Number of input leads ``L``.
    n_timesteps : int, default=608
        Input length ``T``; must be divisible by ``2**downsample``.
    downsample : int, default=5
        Number of stride-2 residual stages; the latent length is ``T' = n_timesteps // 2**downsample``.
    base_features : int, default=4
        Feature maps per lead after the input convolutions; the attention width is ``4 * base_features``.
    latent_dim : int, default=512
        Size of the latent code ``z`` (half from average pooling, half from max pooling); even.
    n_heads : int, default=8
        Attention heads of both attention branches.
    mlp_ratio : int, default=4
        Hidden width of the transformer MLPs relative to their token width.
    dropout : float, default=0.2
        Dropout probability at every attention dropout site, in ``[0, 1)``.
    dropout_mode : {"batchwise", "standard"}, default="batchwise"
        ``"batchwise"`` shares one keep-mask across the batch (:class:`BatchwiseDropout`) at every
        site; ``"standard"`` draws an independent mask per element.
    lead_attention : bool, default=True
        Whether the cross-lead attention branch is used.
    time_attention : bool, default=True
        Whether the per-lead temporal attention branch is used.
    lead_mixing : bool, default=True
        True reproduces the seed: the second input convolution mixes all leads. False uses a
        lead-preserving grouped convolution, so latent lead ``l`` only sees input lead ``l``.
    impl : {"fast", "reference"}, default="fast"
        How the network is computed; both read the same parameters and compute the same function.
        ``"fast"`` runs the per-lead temporal blocks as one batched computation and the residual
        convolution blocks on CPU-tuned kernels (:mod:`sksurv_ecg.nn._fast`); ``"reference"`` uses
        standard ATen/cuDNN modules and loops over the leads with the seed's per-lead multi-head
        attention. The estimators choose by device at ``fit`` unless ``module__impl`` is given.
    attention_impl : {"fused", "reference"} or None, default=None
        Deprecated name of ``impl`` (``"fused"`` is ``"fast"``); emits a ``FutureWarning``.

    Attributes
    ----------
    n_latent_timesteps : int
        ``T'``, the number of latent time steps.
    n_features : int
        Feature maps per lead entering the attention, ``C``.

    Examples
    --------
    >>> from dataclasses import asdict
    >>> from sksurv_ecg.nn import DualAttentionConfig
    >>> config = DualAttentionConfig()
    >>> config.n_latent_timesteps, config.n_features
    (19, 16)
    >>> asdict(config)["impl"]
    'fast'
    """

    n_leads: int = 12
    n_timesteps: int = 608
    downsample: int = 5
    base_features: int = 4
    latent_dim: int = 512
    n_heads: int = 8
    mlp_ratio: int = 4
    dropout: float = 0.2
    dropout_mode: DropoutMode = "batchwise"
    lead_attention: bool = True
    time_attention: bool = True
    lead_mixing: bool = True
    impl: Impl = "fast"
    attention_impl: InitVar[str | None] = None

    def __post_init__(self, attention_impl: str | None) -> None:
        if attention_impl is not None:
            warnings.warn(
                f"'attention_impl' is deprecated and will be removed in sksurv-ecg 0.3; it chooses the "
                f"convolution blocks too. Use impl={_RENAMED_IMPL.get(attention_impl, attention_impl)!r}.",
                FutureWarning,
                # The caller of the dataclass __init__: that __init__ is generated ("<string>"), so the helper
                # (sksurv_ecg.exceptions, which loads skorch, kept out of nn/) would stop there.
                stacklevel=3,
            )
            object.__setattr__(self, "impl", _RENAMED_IMPL.get(attention_impl, attention_impl))
        _check_int("n_leads", self.n_leads, 1)
        _check_int("downsample", self.downsample, 1)
        _check_int("base_features", self.base_features, 1)
        _check_int("latent_dim", self.latent_dim, 2)
        _check_int("n_heads", self.n_heads, 1)
        _check_int("mlp_ratio", self.mlp_ratio, 1)
        _check_int("n_timesteps", self.n_timesteps, 2**self.downsample)
        if self.n_timesteps % 2**self.downsample:
            raise ValueError(
                f"'n_timesteps'={self.n_timesteps} is not divisible by 2**downsample={2**self.downsample}; "
                f"pad or crop the signals to a multiple of {2**self.downsample} "
                f"(e.g. {2**self.downsample * max(1, round(self.n_timesteps / 2**self.downsample))})."
            )
        if self.latent_dim % 2:
            raise ValueError(f"'latent_dim'={self.latent_dim} must be even (average and max pooling halves).")
        c = self.n_features
        if c % self.n_heads or (c * self.n_latent_timesteps) % self.n_heads:
            divisor = math.gcd(c, c * self.n_latent_timesteps)
            raise ValueError(
                f"'n_heads'={self.n_heads} must divide the temporal token width {c} and the lead token width "
                f"{c * self.n_latent_timesteps}; use a divisor such as n_heads={divisor}."
            )
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, int | float) or not 0 <= self.dropout < 1:
            raise ValueError(f"'dropout'={self.dropout!r} must be a float in [0, 1).")
        if self.dropout_mode not in ("batchwise", "standard"):
            raise ValueError(f"'dropout_mode'={self.dropout_mode!r} must be 'batchwise' or 'standard'.")
        if self.impl not in ("fast", "reference"):
            raise ValueError(f"'impl'={self.impl!r} must be 'fast' or 'reference'.")
        for name in ("lead_attention", "time_attention", "lead_mixing"):
            _check_bool(name, getattr(self, name))

    @property
    def n_latent_timesteps(self) -> int:
        """Latent length ``T' = n_timesteps // 2**downsample``."""
        factor: int = 2**self.downsample  # int ** int is typed as Any (a negative power is a float)
        return self.n_timesteps // factor

    @property
    def channel_plan(self) -> tuple[int, ...]:
        """Feature maps per lead entering each residual stage and leaving the last one."""
        return tuple(self.base_features * min(2**i, 4) for i in range(self.downsample + 1))

    @property
    def n_features(self) -> int:
        """Feature maps per lead entering the attention, ``C``."""
        return self.channel_plan[-1]
