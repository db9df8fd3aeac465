"""Dual (temporal + cross-lead) attention of the ECG encoder, with a fused and a reference path."""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._config import DualAttentionConfig
from ._dropout import make_dropout
from ._layers import sinusoidal_table
from ._seed_keys import SEED_TIME_PATTERN, convert_seed_state_dict

__all__ = ["DualAttention", "Mlp", "PerLeadTemporalBlocks"]


class Mlp(nn.Module):
    """Transformer MLP ``fc2(drop(GELU(fc1(x))))`` followed by dropout (the seed's ``Mlp``).

    Parameters
    ----------
    d_model : int
        Token width.
    hidden : int
        Hidden width.
    drop : torch.nn.Module
        Dropout layer, applied after the activation and after ``fc2``.

    Examples
    --------
    >>> import torch
    >>> from sksurv_ecg.nn._attention import Mlp
    >>> Mlp(8, 32, torch.nn.Identity())(torch.zeros(2, 8)).shape
    torch.Size([2, 8])
    """

    def __init__(self, d_model: int, hidden: int, drop: nn.Module) -> None:
        super().__init__()
        self.fc1 = nn.Linear(d_model, hidden)
        self.fc2 = nn.Linear(hidden, d_model)
        self.drop = drop

    def forward(self, x: Tensor) -> Tensor:
        """Apply the MLP on the last axis.

        Parameters
        ----------
        x : Tensor
            Tokens ``(..., d_model)``.

        Returns
        -------
        Tensor
            Tokens ``(..., d_model)``.
        """
        out: Tensor = self.drop(self.fc2(self.drop(F.gelu(self.fc1(x)))))
        return out


class PerLeadTemporalBlocks(nn.Module):
    """Parameters of ``L`` independent pre-LN transformer blocks, stacked on a leading lead axis.

    Lead ``i`` owns ``in_proj_weight[i]`` ``(3C, C)``, ``in_proj_bias[i]``, ``out_proj_weight[i]``
    ``(C, C)``, ``out_proj_bias[i]``, the two LayerNorms ``norm1_*[i]``, ``norm2_*[i]`` ``(C,)``
    and the MLP ``fc1_*[i]`` ``(rC, C)``, ``fc2_*[i]`` ``(C, rC)``: exactly the parameters of the
    seed's ``nn.MultiheadAttention``, two ``nn.LayerNorm`` and ``Mlp`` of that lead (3,280 per
    lead at ``C = 16``). Initialisation follows the seed per lead: Xavier-uniform ``in_proj``
    (``nn.MultiheadAttention``'s default), Xavier-uniform output projection and MLP, zero biases,
    LayerNorm 1/0. The module only holds parameters; :class:`DualAttention` computes with them.

    Parameters
    ----------
    n_leads : int
        Number of blocks ``L``.
    d_model : int
        Token width ``C``.
    hidden : int
        MLP hidden width.

    Examples
    --------
    >>> from sksurv_ecg.nn._attention import PerLeadTemporalBlocks
    >>> sum(p.numel() for p in PerLeadTemporalBlocks(12, 16, 64).parameters())
    39360
    """

    def __init__(self, n_leads: int, d_model: int, hidden: int) -> None:
        super().__init__()
        L, C = n_leads, d_model

        def param(*shape: int) -> nn.Parameter:
            return nn.Parameter(torch.empty(*shape))

        self.in_proj_weight = param(L, 3 * C, C)
        self.in_proj_bias = param(L, 3 * C)
        self.out_proj_weight = param(L, C, C)
        self.out_proj_bias = param(L, C)
        self.norm1_weight = param(L, C)
        self.norm1_bias = param(L, C)
        self.norm2_weight = param(L, C)
        self.norm2_bias = param(L, C)
        self.fc1_weight = param(L, hidden, C)
        self.fc1_bias = param(L, hidden)
        self.fc2_weight = param(L, C, hidden)
        self.fc2_bias = param(L, C)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self) -> None:
        """Initialise every lead's block as the seed does."""
        for i in range(self.in_proj_weight.shape[0]):
            for weight in (self.in_proj_weight, self.out_proj_weight, self.fc1_weight, self.fc2_weight):
                nn.init.xavier_uniform_(weight[i])
        for bias in (self.in_proj_bias, self.out_proj_bias, self.fc1_bias, self.fc2_bias):
            nn.init.zeros_(bias)
        for name in ("norm1", "norm2"):
            nn.init.ones_(getattr(self, f"{name}_weight"))
            nn.init.zeros_(getattr(self, f"{name}_bias"))


def _attend(q: Tensor, k: Tensor, v: Tensor, need_weights: bool) -> tuple[Tensor, Tensor | None]:
    """Softmax attention over ``(..., H, S, d)``; weights averaged over heads when asked for.

    On the CPU, ``scaled_dot_product_attention`` is used for float32 inference only: with autograd
    its flash kernel's backward is slower than two matmuls and a softmax (about 13x in bfloat16,
    1.1x in float32, for the 12 lead tokens), and so is its bfloat16 forward.
    """
    if not need_weights and (q.device.type != "cpu" or (q.dtype == torch.float32 and not torch.is_grad_enabled())):
        return F.scaled_dot_product_attention(q, k, v), None
    scores = torch.matmul(q * (1.0 / math.sqrt(q.shape[-1])), k.transpose(-2, -1))
    weights = torch.softmax(scores, dim=-1)
    return torch.matmul(weights, v), weights.mean(dim=-3) if need_weights else None


def _lead_norm(x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
    """LayerNorm of ``(L, M, C)`` with per-lead affine parameters ``(L, C)``."""
    return torch.addcmul(bias.unsqueeze(1), F.layer_norm(x, x.shape[-1:]), weight.unsqueeze(1))


class DualAttention(nn.Module):
    """The seed's ``STAttentionModel``: parallel temporal and cross-lead attention, then pooling.

    Input is the CNN feature ``F`` of shape ``(N, C, L, T')``. The temporal branch runs ``L``
    independent pre-LN transformer blocks (one per lead, tokens = the ``T'`` time steps of width
    ``C``) and gives ``P_time``; the cross-lead branch runs one pre-LN block whose ``L`` tokens are
    the leads of width ``C * T'`` and gives ``P_lead``. Both read ``F``, their outputs are summed to
    ``S`` of shape ``(N, C * L, T')`` (channel ``c * L + l``), and two separate 1x1 convolutions
    with average and max pooling over time give the two halves of ``z``.

    A disabled branch contributes nothing (``S = P_time`` or ``S = P_lead``; ``S = F`` when both
    are off, with dropout before pooling as in the seed). The seed instead doubled the remaining
    term (``2 P_time``, ``2 F``) or added ``F``.

    Parameters
    ----------
    config : DualAttentionConfig
        Model configuration.

    Examples
    --------
    >>> import torch
    >>> from sksurv_ecg.nn import DualAttentionConfig
    >>> from sksurv_ecg.nn._attention import DualAttention
    >>> module = DualAttention(DualAttentionConfig()).eval()
    >>> z, lead, time = module(torch.randn(2, 16, 12, 19), need_weights=True)
    >>> z.shape, lead.shape, time.shape
    (torch.Size([2, 512]), torch.Size([2, 12, 12]), torch.Size([2, 12, 19, 19]))
    """

    # Buffers registered in __init__ (when their branch is on); declared so they type as tensors.
    time_pe: Tensor
    lead_pe: Tensor

    def __init__(self, config: DualAttentionConfig) -> None:
        super().__init__()
        self.config = config
        C, L, T = config.n_features, config.n_leads, config.n_latent_timesteps
        D = C * T
        mode, p = config.dropout_mode, config.dropout
        seq_first = config.impl == "reference"
        self.n_heads = config.n_heads
        if config.time_attention:
            self.time_blocks = PerLeadTemporalBlocks(L, C, config.mlp_ratio * C)
            # fused layout (L, N, T', C) and reference layout (T', N, C): the batch is axis 1 in both.
            self.time_pe_dropout = make_dropout(p, mode, batch_dim=1)
            self.time_mlp_dropout = make_dropout(p, mode, batch_dim=1)
            self.register_buffer("time_pe", sinusoidal_table(T, C), persistent=False)
        if config.lead_attention:
            self.lead_mha = nn.MultiheadAttention(embed_dim=D, num_heads=config.n_heads)
            # fused layout (N, L, D): batch axis 0; reference layout (L, N, D) as the seed: axis 1.
            self.lead_pe_dropout = make_dropout(p, mode, batch_dim=1 if seq_first else 0)
            self.lead_mlp = Mlp(D, config.mlp_ratio * D, make_dropout(p, mode, batch_dim=1 if seq_first else 0))
            self.lead_norm_1 = nn.LayerNorm(D)
            self.norm2 = nn.LayerNorm(D)
            self.register_buffer("lead_pe", sinusoidal_table(L, D), persistent=False)
        both_off = not (config.time_attention or config.lead_attention)
        half = config.latent_dim // 2
        self.attention_pool_1 = nn.Sequential(
            make_dropout(p, mode) if both_off else nn.Identity(),
            nn.Conv1d(C * L, half, kernel_size=1),
            nn.AdaptiveAvgPool1d(1),
            nn.Flatten(),
        )
        self.attention_pool_2 = nn.Sequential(
            make_dropout(p, mode) if both_off else nn.Identity(),
            nn.Conv1d(C * L, half, kernel_size=1),
            nn.AdaptiveMaxPool1d(1),
            nn.Flatten(),
        )
        # torch's Module.register_load_state_dict_pre_hook is unannotated.
        self.register_load_state_dict_pre_hook(self._accept_seed_keys)  # type: ignore[no-untyped-call]

    @staticmethod
    def _accept_seed_keys(module: nn.Module, state_dict: dict[str, Any], prefix: str, *args: Any) -> None:
        """Load-time converter: stack the seed's per-lead ``time_mha.{i}``... keys in place."""
        seed_keys = [k for k in state_dict if k.startswith(prefix) and SEED_TIME_PATTERN.match(k[len(prefix) :])]
        if not seed_keys:
            return
        converted = convert_seed_state_dict({k[len(prefix) :]: state_dict.pop(k) for k in seed_keys})
        state_dict.update({prefix + k: v for k, v in converted.items()})

    # ------------------------------------------------------------------ temporal branch
    def _time_fused(self, f: Tensor, need_weights: bool) -> tuple[Tensor, Tensor | None]:
        N, C, L, T = f.shape
        H = self.n_heads
        b = self.time_blocks
        x = f.permute(2, 0, 3, 1) + self.time_pe.to(f.dtype)  # (L, N, T, C)
        x = self.time_pe_dropout(x).reshape(L, N * T, C)
        h = _lead_norm(x, b.norm1_weight, b.norm1_bias)
        qkv = torch.baddbmm(b.in_proj_bias.unsqueeze(1), h, b.in_proj_weight.transpose(1, 2))
        d = C // H
        # explicit bmm attention on (L N H, T', d) copies: on the CPU, 2x faster than SDPA (math kernel
        # for these 5-D, head-dim-2 inputs) and than matmul on the 5-D views without autograd
        q, k, v = qkv.view(L, N, T, 3, H, d).permute(3, 0, 1, 4, 2, 5).reshape(3, L * N * H, T, d).unbind(0)
        w = torch.softmax(torch.bmm(q * (1.0 / math.sqrt(d)), k.transpose(1, 2)), dim=-1)
        o = torch.bmm(w, v).view(L, N, H, T, d).permute(0, 1, 3, 2, 4).reshape(L, N * T, C)
        weights = w.view(L, N, H, T, T).mean(dim=2) if need_weights else None
        a = torch.baddbmm(b.out_proj_bias.unsqueeze(1), o, b.out_proj_weight.transpose(1, 2)) + x
        h = _lead_norm(a, b.norm2_weight, b.norm2_bias)
        h = F.gelu(torch.baddbmm(b.fc1_bias.unsqueeze(1), h, b.fc1_weight.transpose(1, 2)))
        h = self.time_mlp_dropout(h.view(L, N, T, -1)).view(L, N * T, -1)
        h = torch.baddbmm(b.fc2_bias.unsqueeze(1), h, b.fc2_weight.transpose(1, 2))
        out = a + self.time_mlp_dropout(h.view(L, N, T, C)).view(L, N * T, C)
        p_time = out.view(L, N, T, C).permute(1, 3, 0, 2).reshape(N, C * L, T)
        return p_time, None if weights is None else weights.transpose(0, 1)

    def _time_reference(self, f: Tensor, need_weights: bool) -> tuple[Tensor, Tensor | None]:
        N, C, L, T = f.shape
        b = self.time_blocks
        outputs: list[Tensor] = []
        maps: list[Tensor] = []
        for i in range(L):
            x = self.time_pe_dropout(f[:, :, i, :].permute(2, 0, 1) + self.time_pe.to(f.dtype).unsqueeze(1))
            h = F.layer_norm(x, (C,), b.norm1_weight[i], b.norm1_bias[i])
            # the computation of the seed's nn.MultiheadAttention(C, n_heads) forward (need_weights=True)
            o, w = F.multi_head_attention_forward(
                h, h, h, C, self.n_heads, b.in_proj_weight[i], b.in_proj_bias[i], None, None, False, 0.0,
                b.out_proj_weight[i], b.out_proj_bias[i], training=self.training, need_weights=True,
            )  # fmt: skip
            a = o + x
            h = F.gelu(
                F.linear(F.layer_norm(a, (C,), b.norm2_weight[i], b.norm2_bias[i]), b.fc1_weight[i], b.fc1_bias[i])
            )
            h = self.time_mlp_dropout(F.linear(self.time_mlp_dropout(h), b.fc2_weight[i], b.fc2_bias[i]))
            outputs.append(a + h)
            assert w is not None  # need_weights=True above
            maps.append(w)
        p_time = torch.stack(outputs, dim=2).permute(1, 3, 2, 0).reshape(N, C * L, T)
        return p_time, torch.stack(maps, dim=1) if need_weights else None

    # ------------------------------------------------------------------ cross-lead branch
    def _lead_fused(self, f: Tensor, need_weights: bool) -> tuple[Tensor, Tensor | None]:
        N, C, L, T = f.shape
        H = self.n_heads
        mha = self.lead_mha
        x = f.permute(0, 2, 1, 3).reshape(N, L, C * T) + self.lead_pe.to(f.dtype)
        x = self.lead_pe_dropout(x)
        h = self.norm2(x)
        q, k, v = F.linear(h, mha.in_proj_weight, mha.in_proj_bias).view(N, L, 3, H, -1).permute(2, 0, 3, 1, 4)
        o, weights = _attend(q, k, v, need_weights)
        a = mha.out_proj(o.transpose(1, 2).reshape(N, L, C * T)) + x
        out = a + self.lead_mlp(self.lead_norm_1(a))
        return out.view(N, L, C, T).transpose(1, 2).reshape(N, C * L, T), weights

    def _lead_reference(self, f: Tensor, need_weights: bool) -> tuple[Tensor, Tensor | None]:
        N, C, L, T = f.shape
        x = f.permute(2, 0, 1, 3).reshape(L, N, C * T) + self.lead_pe.to(f.dtype).unsqueeze(1)
        x = self.lead_pe_dropout(x)
        h = self.norm2(x)
        o, weights = self.lead_mha(h, h, h)
        a = o + x
        out = a + self.lead_mlp(self.lead_norm_1(a))
        p_lead = out.permute(1, 2, 0).reshape(N, C, T, L).permute(0, 1, 3, 2).reshape(N, C * L, T)
        return p_lead, weights if need_weights else None

    def forward(self, f: Tensor, need_weights: bool = False) -> tuple[Tensor, Tensor | None, Tensor | None]:
        """Return ``z`` and, when asked for, the head-averaged attention maps.

        Parameters
        ----------
        f : Tensor
            CNN feature of shape ``(N, C, L, T')``.
        need_weights : bool, default=False
            Whether to compute the attention maps.

        Returns
        -------
        z : Tensor
            Latent code ``(N, latent_dim)``.
        lead_attention : Tensor or None
            ``(N, L, L)`` (query rows), None when not asked for or the branch is off.
        time_attention : Tensor or None
            ``(N, L, T', T')``, None when not asked for or the branch is off.
        """
        N, C, L, T = f.shape
        fused = self.config.impl == "fast"
        s: Tensor | None = None
        lead_w = time_w = None
        if self.config.time_attention:
            if fused and f.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
                # the temporal blocks are tiny matmuls (width 16, head dim 2) that gain nothing from
                # bfloat16 on the CPU; float32 keeps their 19 x 19 softmaxes exact
                with torch.autocast("cpu", enabled=False):
                    s, time_w = self._time_fused(f.float(), need_weights)
            else:
                s, time_w = (self._time_fused if fused else self._time_reference)(f, need_weights)
        if self.config.lead_attention:
            p_lead, lead_w = (self._lead_fused if fused else self._lead_reference)(f, need_weights)
            s = p_lead if s is None else s + p_lead
        if s is None:
            s = f.reshape(N, C * L, T)
        z = torch.cat([self.attention_pool_1(s), self.attention_pool_2(s)], dim=1)
        return z, lead_w, time_w
