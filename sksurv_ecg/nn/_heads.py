"""Heads on top of the latent code: the Cox risk head and the pretraining projection heads."""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import Tensor, nn

from ._dropout import make_dropout
from ._seed_keys import convert_seed_risk_head_state_dict

__all__ = ["ProjectionHead", "RiskHead"]


class RiskHead(nn.Module):
    """The seed's risk head: ``BN1d -> dropout -> Linear -> ReLU -> BN1d -> Linear`` to one log-risk.

    In the paper configuration (``in_features=512, hidden_features=3``) it has 2,573 parameters. As in
    the seed, both linear layers have Xavier-uniform weights and keep ``nn.Linear``'s default biases
    (uniform in ``+-1/sqrt(fan_in)``). The dropout is batch-wise (:class:`BatchwiseDropout`) by
    default, as in the seed's fine-tuning. A state dict in the seed's layout (``model.{0,2,4,6}.*``,
    see :func:`convert_seed_risk_head_state_dict`) loads directly; the seed's ``(N, 1)`` output is
    this head's ``(N,)`` output.

    Parameters
    ----------
    in_features : int, default=512
        Size of the latent code.
    hidden_features : int, default=3
        Hidden width.
    dropout : float, default=0.25
        Dropout probability after the first BatchNorm.
    dropout_mode : {"batchwise", "standard"}, default="batchwise"
        Dropout flavour.

    Examples
    --------
    >>> import torch
    >>> from sksurv_ecg.nn import RiskHead
    >>> head = RiskHead()
    >>> sum(p.numel() for p in head.parameters())
    2573
    >>> head(torch.randn(4, 512)).shape
    torch.Size([4])
    """

    def __init__(
        self,
        in_features: int = 512,
        hidden_features: int = 3,
        dropout: float = 0.25,
        dropout_mode: Literal["batchwise", "standard"] = "batchwise",
    ) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.BatchNorm1d(in_features),
            make_dropout(dropout, dropout_mode),
            nn.Linear(in_features, hidden_features),
            nn.ReLU(),
            nn.BatchNorm1d(hidden_features),
            nn.Linear(hidden_features, 1),
        )
        with torch.no_grad():
            for m in self.net:
                if isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight)
        # torch's Module.register_load_state_dict_pre_hook is unannotated.
        self.register_load_state_dict_pre_hook(self._accept_seed_keys)  # type: ignore[no-untyped-call]

    @staticmethod
    def _accept_seed_keys(module: nn.Module, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        """Load-time converter: rename the seed's ``model.{0,2,4,6}.*`` keys in place."""
        seed_keys = [k for k in state_dict if k.startswith(prefix + "model.")]
        if not seed_keys:
            return
        converted = convert_seed_risk_head_state_dict({k: state_dict.pop(k) for k in seed_keys}, prefix)
        state_dict.update(converted)

    def forward(self, z: Tensor) -> Tensor:
        """Return the log-risk (higher means riskier).

        Parameters
        ----------
        z : Tensor
            Latent codes ``(N, in_features)``.

        Returns
        -------
        Tensor
            Log-risk ``(N,)``, float32 under autocast.
        """
        # float32 under autocast: a bfloat16 log-risk has 8 significant bits, so nearby risks tie and
        # the ranking that the Cox loss and the C-index read is coarsened; the head is tiny.
        with torch.autocast(z.device.type, enabled=False):
            log_risk: Tensor = self.net(z.to(torch.promote_types(z.dtype, torch.float32))).squeeze(-1)
            return log_risk


class ProjectionHead(nn.Module):
    """``Linear -> ReLU -> Linear`` projector of the ECG-text alignment (the seed's projectors).

    ``ProjectionHead(512)`` (ECG side) has 164,224 parameters and ``ProjectionHead(768)`` (text side,
    Bio_ClinicalBERT width) 229,760. PyTorch default initialisation.

    Parameters
    ----------
    in_features : int
        Input width.
    hidden_features : int, default=256
        Hidden width.
    out_features : int, default=128
        Output width.

    Examples
    --------
    >>> import torch
    >>> from sksurv_ecg.nn import ProjectionHead
    >>> sum(p.numel() for p in ProjectionHead(512).parameters())
    164224
    >>> ProjectionHead(768)(torch.randn(2, 768)).shape
    torch.Size([2, 128])
    """

    def __init__(self, in_features: int, hidden_features: int = 256, out_features: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(in_features, hidden_features), nn.ReLU(), nn.Linear(hidden_features, out_features)
        )

    def forward(self, x: Tensor) -> Tensor:
        """Project embeddings.

        Parameters
        ----------
        x : Tensor
            Embeddings ``(N, in_features)``.

        Returns
        -------
        Tensor
            Projections ``(N, out_features)``.
        """
        projection: Tensor = self.net(x)
        return projection
