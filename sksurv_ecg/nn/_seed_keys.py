"""Conversion of the seed's checkpoint keys to this package's state-dict layout (lossless).

Two modules are stored differently from the seed's research code (``SEED_SPEC.md`` sections 1 and 4.3):

- the 12 temporal attention blocks, which the seed keeps as ``time_mha.{i}``, ``time_norm_1.{i}``,
  ``mlp_norm_1.{i}`` and ``time_mlp.{i}`` and :class:`~sksurv_ecg.nn.DualAttention` stacks on a
  leading lead axis under ``time_blocks.*``;
- the risk head, the seed's ``BenchmarkClassifier`` (``model.0`` BatchNorm, ``model.1`` dropout,
  ``model.2`` Linear, ``model.3`` ReLU, ``model.4`` BatchNorm, ``model.5`` Identity, ``model.6``
  Linear), which :class:`~sksurv_ecg.nn.RiskHead` holds without the Identity (``net.0`` ... ``net.5``).

Both modules also convert these keys when they are loaded (a load-state-dict pre-hook), so a seed
state dict loads directly with ``load_state_dict``.
"""

from __future__ import annotations

import re

import torch
from torch import Tensor

__all__ = ["SEED_TIME_PATTERN", "convert_seed_risk_head_state_dict", "convert_seed_state_dict"]

_SEED_TIME_KEYS = {
    "time_mha.{i}.in_proj_weight": "in_proj_weight",
    "time_mha.{i}.in_proj_bias": "in_proj_bias",
    "time_mha.{i}.out_proj.weight": "out_proj_weight",
    "time_mha.{i}.out_proj.bias": "out_proj_bias",
    "time_norm_1.{i}.weight": "norm1_weight",
    "time_norm_1.{i}.bias": "norm1_bias",
    "mlp_norm_1.{i}.weight": "norm2_weight",
    "mlp_norm_1.{i}.bias": "norm2_bias",
    "time_mlp.{i}.fc1.weight": "fc1_weight",
    "time_mlp.{i}.fc1.bias": "fc1_bias",
    "time_mlp.{i}.fc2.weight": "fc2_weight",
    "time_mlp.{i}.fc2.bias": "fc2_bias",
}
#: A seed key of one lead's temporal block: (prefix, module, lead index, rest).
SEED_TIME_PATTERN = re.compile(r"^(.*?)(time_mha|time_norm_1|mlp_norm_1|time_mlp)\.(\d+)\.(.+)$")

# BenchmarkClassifier index -> RiskHead index (the seed's Identity at 5 holds nothing)
_SEED_HEAD_INDEX = {"0": "0", "2": "2", "4": "4", "6": "5"}
_SEED_HEAD_PATTERN = re.compile(r"^model\.(\d+)\.(.+)$")


def convert_seed_state_dict(state_dict: dict[str, Tensor]) -> dict[str, Tensor]:
    """Convert a seed checkpoint's state dict to this package's layout (lossless).

    The seed stores the 12 temporal blocks as ``time_mha.{i}``, ``time_norm_1.{i}``,
    ``mlp_norm_1.{i}`` and ``time_mlp.{i}``; here they are stacked on a leading lead axis under
    ``time_blocks.*``. The leading ``network.`` prefix of a Lightning checkpoint is dropped, and the
    pretraining projectors are kept as they are. Every other key is unchanged.

    Parameters
    ----------
    state_dict : dict of str to Tensor
        The seed's ``state_dict`` (e.g. ``torch.load(path, weights_only=True)["state_dict"]``).

    Returns
    -------
    dict of str to Tensor
        State dict loadable into :class:`DualAttentionAutoencoder` (keys ``encoder.*``, ``decoder.*``).

    See Also
    --------
    convert_seed_risk_head_state_dict : The same for the seed's risk head.

    Examples
    --------
    >>> import torch
    >>> from sksurv_ecg.nn import convert_seed_state_dict
    >>> seed = {f"encoder.attention.time_norm_1.{i}.weight": torch.ones(16) for i in range(12)}
    >>> convert_seed_state_dict(seed)["encoder.attention.time_blocks.norm1_weight"].shape
    torch.Size([12, 16])
    """
    out: dict[str, Tensor] = {}
    groups: dict[tuple[str, str], dict[int, Tensor]] = {}
    for key, value in state_dict.items():
        key = key.removeprefix("network.")
        match = SEED_TIME_PATTERN.match(key)
        if match is None:
            out[key] = value
            continue
        prefix, module, index, rest = match.groups()
        name = _SEED_TIME_KEYS.get(f"{module}.{{i}}.{rest}")
        if name is None:
            out[key] = value
            continue
        groups.setdefault((prefix, name), {})[int(index)] = value
    for (prefix, name), per_lead in groups.items():
        out[f"{prefix}time_blocks.{name}"] = torch.stack([per_lead[i] for i in sorted(per_lead)])
    return out


def convert_seed_risk_head_state_dict(state_dict: dict[str, Tensor], prefix: str = "") -> dict[str, Tensor]:
    """Convert the seed's risk-head keys (``BenchmarkClassifier``) to :class:`RiskHead`'s (lossless).

    The seed's head is ``model.0`` BatchNorm1d, ``model.1`` dropout, ``model.2`` Linear, ``model.3``
    ReLU, ``model.4`` BatchNorm1d, ``model.5`` Identity, ``model.6`` Linear; :class:`RiskHead` has the
    same layers without the Identity, so ``model.{0,2,4,6}.*`` becomes ``net.{0,2,4,5}.*`` (running
    statistics included). The seed's head returns ``(N, 1)``, :class:`RiskHead` the same values as
    ``(N,)``.

    Parameters
    ----------
    state_dict : dict of str to Tensor
        State dict holding the seed's head keys (other keys are returned unchanged).
    prefix : str, default=""
        Prefix of the head's keys in ``state_dict`` (e.g. the attribute that held the head), kept
        in the output.

    Returns
    -------
    dict of str to Tensor
        State dict with the head keys in :class:`RiskHead`'s layout.

    Raises
    ------
    ValueError
        If a key under ``prefix + "model."`` names a layer that holds no parameters in the seed.

    Examples
    --------
    >>> import torch
    >>> from sksurv_ecg.nn import convert_seed_risk_head_state_dict
    >>> seed = {"model.6.weight": torch.ones(1, 3), "model.6.bias": torch.zeros(1)}
    >>> sorted(convert_seed_risk_head_state_dict(seed))
    ['net.5.bias', 'net.5.weight']
    """
    out: dict[str, Tensor] = {}
    for key, value in state_dict.items():
        match = _SEED_HEAD_PATTERN.match(key[len(prefix) :]) if key.startswith(prefix) else None
        if match is None:
            out[key] = value
            continue
        index, rest = match.groups()
        if index not in _SEED_HEAD_INDEX:
            raise ValueError(
                f"{key!r} is not a key of the seed's risk head, whose parameters live in model.0, model.2, "
                "model.4 and model.6; pass the head's own state dict (and its prefix)."
            )
        out[f"{prefix}net.{_SEED_HEAD_INDEX[index]}.{rest}"] = value
    return out
