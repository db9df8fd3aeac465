"""The on-disk embedding cache: one folder per model id, ``.npz`` chunk files written atomically.

Why not :class:`joblib.Memory`: it caches one function call per key, so it either caches whole
batches (a rerun with one new text misses every text) or one call per text (no batched forward
pass, two files per text, and about 0.5 ms of overhead per cached text); it stores results as
pickles, which execute code when loaded from a folder someone else can write to; and it neither
fsyncs nor removes its temporary file when a write is interrupted. See docs/text.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
import warnings
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..exceptions import CacheWarning, user_stacklevel
from ..utils import atomic_write, atomic_write_text

__all__ = ["EmbeddingCache", "resolve_cache_dir", "text_key"]

_CACHE_FORMAT = "sksurv-ecg-text-cache-v1"
_COMPACT_AFTER = 64  # merge the chunk files of a cache folder once it holds more than this many
_KEY_BYTES = 32  # SHA-256


def text_key(text: str) -> bytes:
    """The cache key of one text: its SHA-256.

    Parameters
    ----------
    text : str
        The text.

    Returns
    -------
    key : bytes
        The 32-byte digest of its UTF-8 encoding.
    """
    return hashlib.sha256(text.encode("utf-8")).digest()


def resolve_cache_dir(cache_dir) -> Path | None:
    """Return the folder of ``ReportEmbedder(cache_dir=...)``, or ``None`` for no disk cache.

    Parameters
    ----------
    cache_dir : str, path-like, None or False
        A folder; ``None`` reads ``$SKSURV_ECG_CACHE/text`` (no cache when the variable is unset);
        ``False`` turns the cache off.

    Returns
    -------
    folder : pathlib.Path or None
        The cache folder.
    """
    if cache_dir is False:
        return None
    if cache_dir is None:
        env = os.environ.get("SKSURV_ECG_CACHE")
        return Path(env).expanduser() / "text" if env else None
    return Path(cache_dir).expanduser()


class EmbeddingCache:
    """Embeddings of texts for one model id, in ``<root>/<hash of model id>/chunk-*.npz`` (no pickle).

    Parameters
    ----------
    root : pathlib.Path
        The cache folder (see :func:`resolve_cache_dir`).
    model_id : str
        The encoder's model id; each id gets a sub-folder of its own.
    """

    def __init__(self, root: Path, model_id: str):
        digest = hashlib.sha256(json.dumps([_CACHE_FORMAT, model_id]).encode()).hexdigest()[:24]
        self.dir = Path(root) / digest
        self.model_id = model_id

    def _ensure_dir(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        meta = self.dir / "meta.json"
        if not meta.exists():
            atomic_write_text(meta, json.dumps({"format": _CACHE_FORMAT, "model_id": self.model_id}, indent=1))

    def _chunks(self) -> list[Path]:
        return sorted(self.dir.glob("chunk-*.npz")) if self.dir.is_dir() else []

    def load(self) -> tuple[dict[bytes, np.ndarray], list[Path]]:
        """Return ``{text key: embedding}`` and the chunk files read; unreadable files are skipped with a warning."""
        found: dict[bytes, np.ndarray] = {}
        read: list[Path] = []
        for path in self._chunks():
            try:
                with np.load(path, allow_pickle=False) as data:
                    keys, emb = data["keys"], data["embeddings"]
                if keys.ndim != 2 or keys.shape[1] != _KEY_BYTES or emb.ndim != 2 or len(keys) != len(emb):
                    raise ValueError(f"inconsistent shapes {keys.shape} and {emb.shape}")
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
                warnings.warn(
                    f"The embedding cache file {str(path)!r} could not be read ({exc}) and is skipped; "
                    "delete it to silence this warning.",
                    CacheWarning,
                    stacklevel=user_stacklevel(),
                )
                continue
            read.append(path)
            found.update(zip((k.tobytes() for k in keys), emb, strict=True))
        return found, read

    def write(self, keys: Sequence[bytes], embeddings: np.ndarray) -> None:
        """Add one chunk file: a new name, written to a temporary file and renamed, so it is whole or absent.

        Parameters
        ----------
        keys : sequence of bytes
            The :func:`text_key` of each text.
        embeddings : ndarray of shape (len(keys), d)
            Their embeddings, stored as float32.
        """
        self._ensure_dir()
        key_array = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), _KEY_BYTES)
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
