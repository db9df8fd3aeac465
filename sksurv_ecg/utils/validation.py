"""Every input check of sksurv-ecg, importable from one place.

Messages follow one pattern: the quoted name, what was observed against what was expected, then one
remedy. Where scikit-learn or scikit-survival already has the check, it is called so that the
exception type and wording are theirs.

This module is the public facade; the checks live by what they validate: arrays
(``utils/_arrays.py``), targets (``_targets.py``), machine-dependent parameters (``_params.py``),
report inputs (``_reports.py``), file paths (``_paths.py``); the warnings' ``stacklevel``
(:func:`sksurv_ecg.exceptions.user_stacklevel`) and the ECG conventions (lead names and order, median beats, units) in
:mod:`sksurv_ecg.conventions`, re-exported here under their old names.
"""

from ..conventions import (
    MAX_ECG_RANGE_MV,
    MAX_MEDIAN_BEAT_SECONDS,
    LeadOrderCheck,
    check_ecg_amplitude,
    check_lead_names,
    check_lead_order,
    check_median_beats,
)
from ..exceptions import user_stacklevel
from ._arrays import (
    check_ecg_array,
    check_ecg_length,
    check_ecg_transformer_input,
    check_lead_index,
    check_n_timesteps,
    check_standard_12_leads,
    validate_ecg,
)
from ._params import bf16_is_native, check_device, check_precision
from ._paths import check_path_list
from ._reports import check_reports, check_sample_sequence
from ._targets import (
    check_competing_event_time,
    check_competing_y,
    check_event_batching,
    check_survival_y,
    check_text_embeddings,
)

__all__ = [
    "MAX_ECG_RANGE_MV",
    "MAX_MEDIAN_BEAT_SECONDS",
    "LeadOrderCheck",
    "bf16_is_native",
    "check_device",
    "check_ecg_amplitude",
    "check_ecg_array",
    "check_ecg_length",
    "check_ecg_transformer_input",
    "check_competing_event_time",
    "check_competing_y",
    "check_event_batching",
    "check_lead_index",
    "check_lead_names",
    "check_lead_order",
    "check_median_beats",
    "check_n_timesteps",
    "check_path_list",
    "check_precision",
    "check_reports",
    "check_sample_sequence",
    "check_standard_12_leads",
    "check_survival_y",
    "check_text_embeddings",
    "user_stacklevel",
    "validate_ecg",
]
