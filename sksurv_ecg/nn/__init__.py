"""Pure-torch building blocks of the ECG dual-attention network (no scikit-learn, no I/O).

The paper configuration of Chen et al. is the default of every class; see ``docs/model.md``.
"""

from ._attention import DualAttention
from ._config import DualAttentionConfig
from ._dropout import BatchwiseDropout, Dropout, make_dropout
from ._heads import ProjectionHead, RiskHead
from ._layers import ResBlock2D
from ._leads import LEAD_NAMES, LEAD_SUBSETS, LeadSubset, sample_lead_mask
from ._model import DualAttentionAutoencoder, DualAttentionDecoder, DualAttentionEncoder
from ._receptive import receptive_fields
from ._seed_keys import convert_seed_risk_head_state_dict, convert_seed_state_dict

__all__ = [
    "LEAD_NAMES",
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
    "make_dropout",
    "receptive_fields",
    "sample_lead_mask",
]
