"""File writing shared by every room that persists something: one atomic, durable write."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = ["atomic_write", "atomic_write_text"]


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], object]) -> Path:
    """Write ``path`` through a temporary file in the same folder, fsync it, then rename it over.

    A reader never sees a half-written file, and an interruption (a crash, a full disk, Ctrl-C)
    leaves the previous version in place: ``os.replace`` is atomic within one file system, and the
    fsync before it makes the new content durable before the name points at it.

    Parameters
    ----------
    path : str or path-like
        The file to (over)write; its folder must exist.
    write : callable
        Called once with the open binary file object.

    Returns
    -------
    path : pathlib.Path
        The file written.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """:func:`atomic_write` for UTF-8 text.

    Parameters
    ----------
    path : str or path-like
        The file to (over)write.
    text : str
        Its new content.

    Returns
    -------
    path : pathlib.Path
        The file written.
    """
    return atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))
