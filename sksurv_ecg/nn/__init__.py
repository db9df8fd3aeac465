"""Pure-torch building blocks of the ECG dual-attention network (no scikit-learn, no I/O).

The paper configuration of Chen et al. is the default of every class; see ``docs/model.md``.
"""

import warnings

from ..conventions import LEAD_NAMES as _LEAD_NAMES
from ._attention import DualAttention
from ._config import DualAttentionConfig, default_impl
from ._dropout import BatchwiseDropout, Dropout, make_dropout
from ._heads import ProjectionHead, RiskHead
from ._layers import ResBlock2D
from ._leads import LEAD_SUBSETS, LeadSubset, sample_lead_mask
from ._model import DualAttentionAutoencoder, DualAttentionDecoder, DualAttentionEncoder
from ._receptive import receptive_fields
from ._seed_keys import convert_seed_risk_head_state_dict, convert_seed_state_dict

__all__ = [
    "LEAD_SUBSETS",
    "BatchwiseDropout",
    "Dropout",
    "DualAttention",
    "DualAttentionAutoencoder",
    "DualAttentionConfig",
    "DualAttentionDecoder",
    "DualAttentionEncoder",
    "LeadSubset",
    "ProjectionHead",
    "ResBlock2D",
    "RiskHead",
    "convert_seed_risk_head_state_dict",
    "convert_seed_state_dict",
    "default_impl",
    "make_dropout",
    "receptive_fields",
    "sample_lead_mask",
]


def __getattr__(name: str) -> tuple[str, ...]:
    """Deprecated names of this module (PEP 562): ``LEAD_NAMES`` moved to :mod:`sksurv_ecg.conventions`."""
    if name == "LEAD_NAMES":
        warnings.warn(
            "sksurv_ecg.nn.LEAD_NAMES is deprecated and will be removed in sksurv-ecg 0.3; "
            "use sksurv_ecg.conventions.LEAD_NAMES.",
            FutureWarning,
            # The frame that reads the attribute (importlib's frames are skipped by warnings itself); nn/ does not
            # import the helper of sksurv_ecg.exceptions, which loads skorch.
            stacklevel=2,
        )
        return _LEAD_NAMES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
