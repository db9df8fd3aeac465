"""Utilities: input validation, atomic file writes and estimator checks."""

from ._files import atomic_write, atomic_write_text

__all__ = ["atomic_write", "atomic_write_text"]
