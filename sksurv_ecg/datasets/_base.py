"""Where the bundled data live: one private lookup used by every loader."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["get_data_home"]

_ENV_VAR = "SKSURV_ECG_DATA"
# A file that only the bundled data folder holds, so that an unrelated ``data/`` folder next to the
# package (e.g. ``site-packages/data``) is never mistaken for it.
_MARKER = Path("ptbxl-metadata") / "PROVENANCE.md"


def get_data_home() -> Path:
    """Return the folder that holds the bundled data (``ptbxl-metadata/``: PTB-XL metadata, no signals).

    Looked up in this order: the environment variable ``SKSURV_ECG_DATA``; the copy inside an
    installed wheel (``sksurv_ecg/_bundled_data``, force-included by ``pyproject.toml``); the
    ``data/`` folder of a source checkout.

    Returns
    -------
    data_home : pathlib.Path
        The data folder.

    Raises
    ------
    FileNotFoundError
        When none of the candidates holds the bundled data.

    Examples
    --------
    >>> from sksurv_ecg.datasets._base import get_data_home
    >>> (get_data_home() / "ptbxl-metadata" / "scp_statements.csv").is_file()
    True
    """
    env = os.environ.get(_ENV_VAR)
    if env:
        home = Path(env).expanduser()
        if not (home / _MARKER).is_file():
            raise FileNotFoundError(
                f"{_ENV_VAR}={env!r} does not hold the bundled data (no {_MARKER.as_posix()} found); "
                f"point {_ENV_VAR} at the repository's data/ folder or unset it."
            )
        return home
    package = Path(__file__).resolve().parents[1]
    candidates = [package / "_bundled_data", package.parent / "data"]
    for home in candidates:
        if (home / _MARKER).is_file():
            return home
    raise FileNotFoundError(
        "The bundled sksurv-ecg data were not found in "
        + " or ".join(repr(str(c)) for c in candidates)
        + f"; reinstall sksurv-ecg or set {_ENV_VAR} to the repository's data/ folder."
    )
