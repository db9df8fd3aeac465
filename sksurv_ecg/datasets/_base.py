"""Where the bundled data live: one private lookup used by every loader."""

from __future__ import annotations

import os
from importlib.resources import files
from pathlib import Path

__all__ = ["get_data_home", "get_download_home"]

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
    # The wheel's copy is package data of sksurv_ecg; a source checkout keeps it in data/ beside the package.
    package = Path(str(files("sksurv_ecg")))
    candidates = [package / "_bundled_data", package.parent / "data"]
    for home in candidates:
        if (home / _MARKER).is_file():
            return home
    raise FileNotFoundError(
        "The bundled sksurv-ecg data were not found in "
        + " or ".join(repr(str(c)) for c in candidates)
        + f"; reinstall sksurv-ecg or set {_ENV_VAR} to the repository's data/ folder."
    )


# Downloads (fetch_ptbxl, fetch_ptbxl_plus) go to a separate, user-writable folder: the bundled data above ship
# read-only with the package, and a full PTB-XL download (about 3 GB) must not land in site-packages.
_DOWNLOAD_ENV_VAR = "SKSURV_ECG_DOWNLOADS"


def get_download_home(data_home=None) -> Path:
    """Return the folder that downloads go to, creating it if needed.

    As scikit-learn's ``get_data_home``: ``data_home`` if given, else the environment variable
    ``SKSURV_ECG_DOWNLOADS``, else ``~/sksurv_ecg_data``.

    Parameters
    ----------
    data_home : str, path-like or None, default=None
        The folder to use; ``None`` looks it up as above.

    Returns
    -------
    data_home : pathlib.Path
        The (existing) download folder.

    Examples
    --------
    >>> import tempfile
    >>> from sksurv_ecg.datasets import get_download_home
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     get_download_home(tmp).is_dir()
    True
    """
    if data_home is None:
        data_home = os.environ.get(_DOWNLOAD_ENV_VAR) or Path("~") / "sksurv_ecg_data"
    if not isinstance(data_home, str | os.PathLike):
        raise TypeError(f"data_home={data_home!r} must be a path or None.")
    home = Path(data_home).expanduser()
    home.mkdir(parents=True, exist_ok=True)
    return home
