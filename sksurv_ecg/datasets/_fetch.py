"""Checksummed, resumable downloads of PTB-XL and PTB-XL+ from PhysioNet.

Follows scikit-learn's ``fetch_*`` conventions: a ``data_home`` folder (see
:func:`sksurv_ecg.datasets.get_download_home`), ``download_if_missing``, files kept between calls.
The machinery (the safe-path rule, verified listings, ``.part`` files resumed with HTTP ``Range``,
one error for every failed file) is in :mod:`._download`, shared by every fetcher.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import partial
from numbers import Integral

from ._base import get_download_home
from ._download import (
    ChecksumMismatchError,
    _check_trusted_url,
    _Downloader,
    _fetch_listing,
    _parse_checksum_list,
    _server_of,
)

# PTB-XL's file layout is known in one place, the loader of a local download.
from ._ptbxl import _DATABASE, _FILENAME_COLUMN, _STATEMENTS, _check_sampling_rate, _rows_of

__all__ = ["ChecksumMismatchError", "fetch_ptbxl", "fetch_ptbxl_plus"]

PTBXL_URL = "https://physionet.org/files/ptb-xl/1.0.3/"
PTBXL_PLUS_URL = "https://physionet.org/files/ptb-xl-plus/1.0.1/"
_SUMS = "SHA256SUMS.txt"
_MEDIAN_ALGORITHMS = ("12sl", "unig")


def _check_common(sampling_rate, n_jobs, download_if_missing):
    _check_sampling_rate(sampling_rate)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, Integral) or n_jobs < 1:
        raise ValueError(f"n_jobs={n_jobs!r} must be a positive int (parallel downloads).")
    if not isinstance(download_if_missing, bool):
        raise TypeError(f"download_if_missing={download_if_missing!r} must be a bool.")


def _as_ids(ecg_ids) -> list[int] | None:
    if ecg_ids is None:
        return None
    if isinstance(ecg_ids, Integral):
        ecg_ids = [ecg_ids]
    if isinstance(ecg_ids, str) or not isinstance(ecg_ids, Iterable):
        raise TypeError(f"ecg_ids={ecg_ids!r} must be an int, a list of ints or None.")
    ids = list(ecg_ids)
    if not ids or not all(isinstance(i, Integral) and not isinstance(i, bool) and i > 0 for i in ids):
        raise ValueError(f"ecg_ids={ids!r} must be a non-empty list of positive ints (PTB-XL's ecg_id).")
    return [int(i) for i in ids]


def _physionet_release(name, version, display, base_url, data_home, download_if_missing) -> _Downloader:
    """The release's verified ``SHA256SUMS.txt`` (fetched if needed) and a downloader for its files.

    The local folder is ``<data_home>/<name>/<version>`` whatever ``base_url`` is, so a mirror or a
    server root fills the same folder as PhysioNet.
    """
    base_url = base_url if base_url.endswith("/") else base_url + "/"
    sums_url = base_url + _SUMS
    what = f"{display}'s checksum list"
    _check_trusted_url(sums_url, what=what)
    root = get_download_home(data_home) / name / version
    sums_path = root / _SUMS
    parse = partial(_parse_checksum_list, source=f"{what} from {_server_of(base_url)}")
    sums = None
    if sums_path.is_file():
        try:
            sums = parse(sums_path.read_bytes())
        except ValueError:
            # Kept by an earlier version that did not check it: never trusted, fetched again.
            sums_path.unlink()
    if sums is None:
        if not download_if_missing:
            raise OSError(
                f"{display} is not in {str(root)!r} and download_if_missing=False; pass download_if_missing=True or "
                "data_home= pointing at a previous download."
            )
        root.mkdir(parents=True, exist_ok=True)
        sums = _fetch_listing(sums_url, sums_path, parse=parse, what=what)
    return _Downloader(base_url, root, sums, name=display)


def _download_or_refuse(loader: _Downloader, rels, *, download_if_missing, n_jobs, verbose, desc, name):
    if not download_if_missing:
        loader.check(rels)
        missing = loader.missing(rels)
        if missing:
            raise OSError(
                f"{len(missing)} {name} files are missing or fail their checksum under {str(loader.root)!r}, "
                f"e.g. {missing[:3]}, and download_if_missing=False; pass download_if_missing=True."
            )
        return
    loader.fetch_all(list(rels), n_jobs=n_jobs, verbose=verbose, desc=desc)


def fetch_ptbxl(
    data_home=None,
    *,
    sampling_rate=500,
    ecg_ids=None,
    download_if_missing=True,
    n_jobs=8,
    base_url=PTBXL_URL,
    verbose=True,
):
    """Download PTB-XL (or some of its records) from PhysioNet, checksummed and resumable.

    The database table, the SCP statements and the WFDB files of the records asked for are
    downloaded over HTTPS into ``<data_home>/ptb-xl/<version>/`` in PhysioNet's layout, in
    parallel, each checked against the release's ``SHA256SUMS.txt``. A file already there and
    intact is not downloaded again; an interrupted download is resumed (HTTP ``Range``); a
    partial or corrupt file is fetched again and never used. Load the result with
    :func:`sksurv_ecg.datasets.load_ptbxl` (or cache it with :func:`sksurv_ecg.io.to_memmap`).

    Parameters
    ----------
    data_home : str, path-like or None, default=None
        Download folder; ``None`` uses :func:`get_download_home`.
    sampling_rate : {500, 100}, default=500
        Which records to download: 500 Hz (``records500``) or 100 Hz (``records100``).
    ecg_ids : int, list of int or None, default=None
        Download only these records; ``None`` downloads all 21,799 (about 1.7 GB at 500 Hz).
    download_if_missing : bool, default=True
        If False, raise :class:`OSError` instead of downloading what is missing.
    n_jobs : int, default=8
        Parallel downloads.
    base_url : str, default="https://physionet.org/files/ptb-xl/1.0.3/"
        The release's URL (a mirror, or a local server in tests). Its ``SHA256SUMS.txt``, which
        every file is checked against, must come over HTTPS (or a ``file://`` URL or a loopback
        host). The local folder is ``ptb-xl/1.0.3`` whatever the URL.
    verbose : bool, default=True
        Show a progress bar.

    Returns
    -------
    root : pathlib.Path
        The local release folder (``ptbxl_database.csv``, ``scp_statements.csv``,
        ``records500/`` ...), ready for :func:`load_ptbxl`.

    Raises
    ------
    FileNotFoundError
        When the server has no file for a requested record (HTTP 404), or no checksum list; the
        message names the URL.
    ChecksumMismatchError
        When a file fails its SHA-256 check twice in a row. Every requested file is tried first;
        one error then lists each failure, and the files that passed are kept.
    ValueError
        When an ``ecg_id`` is not in the release's database, when the checksum list is not one
        (an HTML page, cut short) or would come over plain HTTP.
    sksurv_ecg.exceptions.UnsafePathError
        When the checksum list or the database names a path outside the release folder (``..``,
        absolute, a symbolic link leading out); refused before anything is written.

    See Also
    --------
    fetch_ptbxl_plus : PTB-XL+'s median beats, the paper's pretraining input.
    load_ptbxl : Read the downloaded records.

    Examples
    --------
    >>> from sksurv_ecg.datasets import fetch_ptbxl
    >>> fetch_ptbxl(ecg_ids=[1, 2], download_if_missing=False)  # doctest: +SKIP
    """
    _check_common(sampling_rate, n_jobs, download_if_missing)
    ids = _as_ids(ecg_ids)
    loader = _physionet_release("ptb-xl", "1.0.3", "PTB-XL", base_url, data_home, download_if_missing)
    root = loader.root
    meta = [_DATABASE, _STATEMENTS]
    _download_or_refuse(
        loader, meta, download_if_missing=download_if_missing, n_jobs=n_jobs, verbose=False, desc="", name="PTB-XL"
    )
    import pandas as pd

    column = _FILENAME_COLUMN[sampling_rate]
    frame = pd.read_csv(root / _DATABASE, index_col="ecg_id", usecols=["ecg_id", column])
    if ids is not None:
        frame = _rows_of(frame, ids, where=f"this release's {_DATABASE} ({len(frame)} records)", remedy="its index")
    rels = []
    for ecg_id, stem in frame[column].items():
        for ext in (".hea", ".dat"):
            rel = f"{stem}{ext}"
            loader.what[rel] = f"PTB-XL record {ecg_id}"
            rels.append(rel)
    _download_or_refuse(
        loader,
        rels,
        download_if_missing=download_if_missing,
        n_jobs=n_jobs,
        verbose=verbose,
        desc=f"PTB-XL {sampling_rate} Hz",
        name="PTB-XL",
    )
    return root


_MEDIAN_FILE = re.compile(r"median_beats/(?P<alg>12sl|unig)/\d+/(?P<id>\d+)_medians\.(?:hea|dat)")


def fetch_ptbxl_plus(
    data_home=None,
    *,
    median_beats=("12sl",),
    ecg_ids=None,
    download_if_missing=True,
    n_jobs=8,
    base_url=PTBXL_PLUS_URL,
    verbose=True,
):
    """Download PTB-XL+'s median beats from PhysioNet, checksummed and resumable.

    PTB-XL+ ships, for most PTB-XL records, a 1.2-s median beat at 500 Hz computed by GE's 12SL
    and by the University of Glasgow (Uni-G) programs, as WFDB records
    ``median_beats/<algorithm>/NNNNN/<id>_medians.hea|.dat``. The paper pretrained on the 12SL
    beats. Files go to ``<data_home>/ptb-xl-plus/<version>/`` in that layout, with the same
    checks as :func:`fetch_ptbxl`. Not every record has a median beat: the release's
    ``SHA256SUMS.txt`` lists which exist, records without one are skipped and reported in the
    returned dict, never an error. Read them with ``load_ptbxl(root, median_beats=...)``.

    Parameters
    ----------
    data_home : str, path-like or None, default=None
        Download folder; ``None`` uses :func:`get_download_home`.
    median_beats : tuple of {"12sl", "unig"}, default=("12sl",)
        Which algorithms' beats to download.
    ecg_ids : int, list of int or None, default=None
        Download only these records' beats; ``None`` downloads every one listed.
    download_if_missing : bool, default=True
        If False, raise :class:`OSError` instead of downloading what is missing.
    n_jobs : int, default=8
        Parallel downloads.
    base_url : str, default="https://physionet.org/files/ptb-xl-plus/1.0.1/"
        The release's URL, under the same rules as in :func:`fetch_ptbxl`; the local folder is
        ``ptb-xl-plus/1.0.1``.
    verbose : bool, default=True
        Show a progress bar.

    Returns
    -------
    root : pathlib.Path
        The local PTB-XL+ folder.
    missing : dict of str to list of int
        For each algorithm, the requested ``ecg_ids`` the release has no median beat for (empty
        when ``ecg_ids=None``).

    Raises
    ------
    FileNotFoundError
        When a listed file is absent on the server (HTTP 404).
    ChecksumMismatchError
        When a file fails its SHA-256 check twice in a row (after every file was tried).
    sksurv_ecg.exceptions.UnsafePathError
        When the checksum list names a path outside the release folder.

    See Also
    --------
    fetch_ptbxl : The 10-s records and the metadata.

    Examples
    --------
    >>> from sksurv_ecg.datasets import fetch_ptbxl_plus
    >>> root, missing = fetch_ptbxl_plus(ecg_ids=[1, 2], download_if_missing=False)  # doctest: +SKIP
    """
    _check_common(500, n_jobs, download_if_missing)
    if isinstance(median_beats, str):
        median_beats = (median_beats,)
    algorithms = tuple(median_beats)
    bad = [a for a in algorithms if a not in _MEDIAN_ALGORITHMS]
    if bad or not algorithms:
        raise ValueError(f"median_beats={median_beats!r}: expected a non-empty tuple of {_MEDIAN_ALGORITHMS}.")
    ids = _as_ids(ecg_ids)
    loader = _physionet_release("ptb-xl-plus", "1.0.1", "PTB-XL+", base_url, data_home, download_if_missing)
    root, sums = loader.root, loader.digests
    wanted = None if ids is None else set(ids)
    rels, found = [], {a: set() for a in algorithms}
    for rel in sums:
        match = _MEDIAN_FILE.fullmatch(rel)
        if not match or match["alg"] not in algorithms:
            continue
        ecg_id = int(match["id"])
        if wanted is not None and ecg_id not in wanted:
            continue
        found[match["alg"]].add(ecg_id)
        loader.what[rel] = f"PTB-XL+ {match['alg']} median beat of record {ecg_id}"
        rels.append(rel)
    missing = {a: [] if ids is None else [i for i in ids if i not in found[a]] for a in algorithms}
    _download_or_refuse(
        loader,
        sorted(rels),
        download_if_missing=download_if_missing,
        n_jobs=n_jobs,
        verbose=verbose,
        desc="PTB-XL+ median beats",
        name="PTB-XL+",
    )
    return root, missing
