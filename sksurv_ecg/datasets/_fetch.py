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

from ..exceptions import UnsafePathError
from ._base import get_download_home
from ._download import (
    ChecksumMismatchError,
    _check_trusted_url,
    _Downloader,
    _extract_zip,
    _fetch_listing,
    _is_extracted,
    _parse_checksum_list,
    _parse_zenodo_record,
    _server_of,
)

# PTB-XL's file layout is known in one place, the loader of a local download.
from ._ptbxl import _DATABASE, _FILENAME_COLUMN, _STATEMENTS, _check_sampling_rate, _rows_of

__all__ = [
    "ChecksumMismatchError",
    "fetch_code15",
    "fetch_mimic_iv_ecg",
    "fetch_ptbxl",
    "fetch_ptbxl_plus",
    "fetch_samitrop",
]

PTBXL_URL = "https://physionet.org/files/ptb-xl/1.0.3/"
PTBXL_PLUS_URL = "https://physionet.org/files/ptb-xl-plus/1.0.1/"
MIMIC_IV_ECG_URL = "https://physionet.org/files/mimic-iv-ecg/1.0/"
ZENODO_URL = "https://zenodo.org/"
# (folder name, display name, Zenodo record id). A Zenodo record id names one version of a deposit.
_CODE15 = ("code-15", "CODE-15%", 4916206)
_SAMITROP = ("sami-trop", "SaMi-Trop", 4905618)
_CODE15_PARTS = 18
_VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z._+-]{0,63}")
_SUMS = "SHA256SUMS.txt"
_MEDIAN_ALGORITHMS = ("12sl", "unig")


def _check_common(sampling_rate, n_jobs, download_if_missing):
    _check_sampling_rate(sampling_rate)
    _check_jobs(n_jobs, download_if_missing)


def _check_jobs(n_jobs, download_if_missing, **flags):
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, Integral) or n_jobs < 1:
        raise ValueError(f"n_jobs={n_jobs!r} must be a positive int (parallel downloads).")
    for name, value in {"download_if_missing": download_if_missing, **flags}.items():
        if not isinstance(value, bool):
            raise TypeError(f"{name}={value!r} must be a bool.")


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


# ---------------------------------------------------------------------------------------------------------------------
# Outcome cohorts: CODE-15% and SaMi-Trop (Zenodo), MIMIC-IV-ECG (PhysioNet)


def _zenodo_release(dataset, base_url, data_home, download_if_missing) -> _Downloader:
    """The record's verified file listing (fetched if needed) and a downloader for its files.

    The listing is ``GET <base_url>api/records/<id>`` (see ``_download._parse_zenodo_record`` for
    its shape), kept as ``<data_home>/<name>/zenodo-<id>.json``; the files go to
    ``<data_home>/<name>/<version>/``, the version being the record's ``metadata.version`` (or
    ``zenodo-<id>`` when it gives none that is a plain folder name).
    """
    name, display, record_id = dataset
    base_url = base_url if base_url.endswith("/") else base_url + "/"
    api_url = f"{base_url}api/records/{record_id}"
    what = f"{display}'s Zenodo record listing (its checksums)"
    _check_trusted_url(api_url, what=what)
    folder = get_download_home(data_home) / name
    listing = folder / f"zenodo-{record_id}.json"
    parse = partial(_parse_zenodo_record, source=f"{what} from {_server_of(base_url)}", api_url=api_url)
    parsed = None
    if listing.is_file():
        try:
            parsed = parse(listing.read_bytes(), check_origin=False)
        except ValueError:
            listing.unlink()  # damaged on disk: never trusted, fetched again
    if parsed is None:
        if not download_if_missing:
            raise OSError(
                f"{display} is not in {str(folder)!r} and download_if_missing=False; pass download_if_missing=True "
                "or data_home= pointing at a previous download."
            )
        parsed = _fetch_listing(api_url, listing, parse=parse, what=what)
    record, digests, urls = parsed
    version = (record.get("metadata") or {}).get("version")
    if not (isinstance(version, str) and _VERSION.fullmatch(version)):
        version = f"zenodo-{record_id}"
    loader = _Downloader(base_url, folder / version, digests, name=display, urls=urls)
    loader.listing = listing
    return loader


def _fetch_zenodo(loader: _Downloader, keys, *, keep_archives, download_if_missing, n_jobs, verbose, desc):
    """Fetch ``keys`` of a Zenodo record, then extract its zips (each once) and delete them unless kept."""
    absent = [key for key in keys if key not in loader.digests]
    if absent:
        raise FileNotFoundError(
            f"{loader.name}'s Zenodo record does not list {absent} (it lists {sorted(loader.digests)}); check "
            "base_url points at Zenodo or a copy of the record."
        )
    archives = [key for key in keys if key.endswith(".zip")]
    done = {key for key in archives if _is_extracted(loader.root, key, loader.digests[key])}
    pending = [key for key in keys if key not in done]
    _download_or_refuse(
        loader,
        pending,
        download_if_missing=download_if_missing,
        n_jobs=n_jobs,
        verbose=verbose,
        desc=desc,
        name=loader.name,
    )
    for key in archives:
        if key not in done:
            try:
                _extract_zip(loader.root, key, loader.digests[key], source=loader.source, reserved=set(loader.digests))
            except UnsafePathError:
                # The listing vouched for a hostile archive: neither is kept, so a fixed server is asked again.
                (loader.root / key).unlink(missing_ok=True)
                loader.listing.unlink(missing_ok=True)
                raise
        if not keep_archives:
            (loader.root / key).unlink(missing_ok=True)


def _as_parts(parts) -> list[int]:
    if parts is None:
        return list(range(_CODE15_PARTS))
    if isinstance(parts, Integral) and not isinstance(parts, bool):
        parts = [parts]
    if isinstance(parts, str) or not isinstance(parts, Iterable):
        raise TypeError(f"parts={parts!r} must be an int, a list of ints or None.")
    parts = list(parts)
    if not parts or not all(
        isinstance(p, Integral) and not isinstance(p, bool) and 0 <= p < _CODE15_PARTS for p in parts
    ):
        raise ValueError(
            f"parts={parts!r} must be a non-empty list of ints in 0..{_CODE15_PARTS - 1} (CODE-15% ships "
            f"exams_part0.zip ... exams_part{_CODE15_PARTS - 1}.zip)."
        )
    return sorted({int(p) for p in parts})


def fetch_code15(
    data_home=None,
    *,
    parts=None,
    keep_archives=False,
    download_if_missing=True,
    n_jobs=4,
    base_url=ZENODO_URL,
    verbose=True,
):
    """Download CODE-15% from Zenodo, checksummed, resumable and unzipped.

    CODE-15% (Zenodo record 4916206, CC BY 4.0; cite Lima et al., Nat Commun 2021) holds 345,779 12-lead ECGs
    of 233,770 patients at 400 Hz with mortality follow-up: ``exams.csv`` (one row per exam,
    ``death`` and ``timey`` on each patient's first exam) and 18 archives ``exams_part{i}.zip``,
    each holding one HDF5 file ``exams_part{i}.hdf5`` with ``tracings`` of shape
    ``(n, 4096, 12)`` and ``exam_id`` of shape ``(n,)``. Each file is checked against the MD5
    that Zenodo's record listing gives (fetched over HTTPS), then each zip is extracted into
    ``<data_home>/code-15/<version>/`` through the safe-path rule and, unless
    ``keep_archives=True``, deleted. A rerun downloads and extracts nothing.

    Parameters
    ----------
    data_home : str, path-like or None, default=None
        Download folder; ``None`` uses :func:`get_download_home`.
    parts : int, list of int or None, default=None
        Which ``exams_part{i}.zip`` to fetch (0 to 17); ``None`` fetches all (345,779 float32
        tracings of 4096 x 12, about 68 GB unzipped). ``exams.csv`` is always fetched.
    keep_archives : bool, default=False
        Keep the zips after extraction (by default each is deleted once its HDF5 file is in
        place; the extraction is recorded, so a rerun does not download it again).
    download_if_missing : bool, default=True
        If False, raise :class:`OSError` instead of downloading what is missing.
    n_jobs : int, default=4
        Parallel downloads.
    base_url : str, default="https://zenodo.org/"
        Zenodo's address (or a copy of its API for tests): the listing is
        ``<base_url>api/records/4916206`` and must come over HTTPS (or a ``file://`` URL or a
        loopback host); the files come from the links it gives, on the same server.
    verbose : bool, default=True
        Show a progress bar.

    Returns
    -------
    root : pathlib.Path
        The local release folder (``exams.csv``, ``exams_part{i}.hdf5``), ready for
        :func:`sksurv_ecg.datasets.load_code15`.

    Raises
    ------
    ChecksumMismatchError
        When a file fails its MD5 check twice in a row (after every file was tried).
    sksurv_ecg.exceptions.UnsafePathError
        When the listing or a zip names a path outside the release folder, or a zip holds a
        symbolic link; refused before anything is written or extracted.
    ValueError
        When ``parts`` is out of range, or the listing is not a Zenodo record or would come over
        plain HTTP.

    See Also
    --------
    fetch_samitrop : The SaMi-Trop cohort, the same layout.

    Examples
    --------
    >>> from sksurv_ecg.datasets import fetch_code15
    >>> root = fetch_code15(parts=[0])  # doctest: +SKIP
    """
    _check_jobs(n_jobs, download_if_missing, keep_archives=keep_archives, verbose=verbose)
    chosen = _as_parts(parts)
    loader = _zenodo_release(_CODE15, base_url, data_home, download_if_missing)
    keys = ["exams.csv", *(f"exams_part{i}.zip" for i in chosen)]
    _fetch_zenodo(
        loader,
        keys,
        keep_archives=keep_archives,
        download_if_missing=download_if_missing,
        n_jobs=n_jobs,
        verbose=verbose,
        desc="CODE-15%",
    )
    return loader.root


def fetch_samitrop(
    data_home=None,
    *,
    keep_archives=False,
    download_if_missing=True,
    n_jobs=2,
    base_url=ZENODO_URL,
    verbose=True,
):
    """Download the SaMi-Trop cohort from Zenodo, checksummed, resumable and unzipped.

    SaMi-Trop (Zenodo record 4905618, "Sami-Trop: 12-lead ECG traces with age and mortality
    annotations"; cite Lima et al., Nat Commun 2021) holds 1,631 12-lead ECGs at 400 Hz of patients with chronic
    Chagas cardiomyopathy, with mortality follow-up: ``exams.csv`` and ``exams.zip`` holding
    ``exams.hdf5`` (``tracings`` of shape ``(n, 4096, 12)``). Each file is checked against the
    MD5 of Zenodo's record listing (fetched over HTTPS), then the zip is extracted into
    ``<data_home>/sami-trop/<version>/`` through the safe-path rule and, unless
    ``keep_archives=True``, deleted.

    Parameters
    ----------
    data_home : str, path-like or None, default=None
        Download folder; ``None`` uses :func:`get_download_home`.
    keep_archives : bool, default=False
        Keep ``exams.zip`` after extraction.
    download_if_missing : bool, default=True
        If False, raise :class:`OSError` instead of downloading what is missing.
    n_jobs : int, default=2
        Parallel downloads.
    base_url : str, default="https://zenodo.org/"
        Zenodo's address, as in :func:`fetch_code15` (listing ``<base_url>api/records/4905618``).
    verbose : bool, default=True
        Show a progress bar.

    Returns
    -------
    root : pathlib.Path
        The local release folder (``exams.csv``, ``exams.hdf5``), ready for
        :func:`sksurv_ecg.datasets.load_samitrop`.

    Raises
    ------
    ChecksumMismatchError
        When a file fails its MD5 check twice in a row.
    sksurv_ecg.exceptions.UnsafePathError
        When the listing or the zip names a path outside the release folder, or the zip holds a
        symbolic link.

    See Also
    --------
    fetch_code15 : The CODE-15% cohort, the same layout.

    Examples
    --------
    >>> from sksurv_ecg.datasets import fetch_samitrop
    >>> root = fetch_samitrop()  # doctest: +SKIP
    """
    _check_jobs(n_jobs, download_if_missing, keep_archives=keep_archives, verbose=verbose)
    loader = _zenodo_release(_SAMITROP, base_url, data_home, download_if_missing)
    _fetch_zenodo(
        loader,
        ["exams.csv", "exams.zip"],
        keep_archives=keep_archives,
        download_if_missing=download_if_missing,
        n_jobs=n_jobs,
        verbose=verbose,
        desc="SaMi-Trop",
    )
    return loader.root


_MIMIC_TABLES = ("record_list.csv", "machine_measurements.csv")


def _mimic_subjects(frame, subject_ids) -> list[str]:
    if isinstance(subject_ids, Integral) and not isinstance(subject_ids, bool):
        subject_ids = [subject_ids]
    if isinstance(subject_ids, str) or not isinstance(subject_ids, Iterable):
        raise TypeError(f"subject_ids={subject_ids!r} must be an int or a list of ints.")
    ids = list(subject_ids)
    if not ids or not all(isinstance(i, Integral) and not isinstance(i, bool) for i in ids):
        raise ValueError(f"subject_ids={ids!r} must be a non-empty list of ints (MIMIC-IV's subject_id).")
    unknown = sorted(set(ids) - set(frame["subject_id"]))
    if unknown:
        raise ValueError(
            f"subject_ids {unknown[:10]} are not in this release's record_list.csv "
            f"({frame['subject_id'].nunique()} subjects); pass subject_ids from its subject_id column."
        )
    return frame["path"][frame["subject_id"].isin(ids)].tolist()


def _mimic_records(frame, records) -> list[str]:
    if isinstance(records, str) or not isinstance(records, Iterable):
        raise TypeError(f"records={records!r} must be a list of paths from record_list.csv's path column.")
    wanted = [str(r).removesuffix(".hea").removesuffix(".dat") for r in records]
    known = set(frame["path"])
    unknown = [r for r in wanted if r not in known]
    if not wanted or unknown:
        raise ValueError(
            f"records {unknown[:5] or wanted} are not paths of this release's record_list.csv (e.g. "
            f"{frame['path'].iloc[0]!r}); pass values of its path column."
        )
    return list(dict.fromkeys(wanted))


def _mimic_paths(frame, subject_ids, records, max_records) -> list[str]:
    """The record paths (``files/p1000/p10000032/s40689238/40689238``) chosen from ``record_list.csv``."""
    chosen = {"subject_ids": subject_ids, "records": records, "max_records": max_records}
    given = [name for name, value in chosen.items() if value is not None]
    if len(given) > 1:
        raise ValueError(f"pass at most one of subject_ids=, records= and max_records= (got {' and '.join(given)}).")
    if subject_ids is not None:
        return _mimic_subjects(frame, subject_ids)
    if records is not None:
        return _mimic_records(frame, records)
    if max_records is not None:
        if isinstance(max_records, bool) or not isinstance(max_records, Integral) or max_records < 1:
            raise ValueError(f"max_records={max_records!r} must be a positive int.")
        return frame["path"].iloc[: int(max_records)].tolist()
    return frame["path"].tolist()


def fetch_mimic_iv_ecg(
    data_home=None,
    *,
    subject_ids=None,
    records=None,
    max_records=None,
    download_if_missing=True,
    n_jobs=8,
    base_url=MIMIC_IV_ECG_URL,
    verbose=True,
):
    """Download MIMIC-IV-ECG (or some of its records) from PhysioNet, checksummed and resumable.

    MIMIC-IV-ECG 1.0 (Gow et al., PhysioNet, open access under the ODC Open Database License
    1.0) holds about 800,000 10-s 12-lead ECGs at 500 Hz of about 160,000 patients of the
    MIMIC-IV database, as WFDB records ``files/pNNNN/p<subject>/s<study>/<study>.hea|.dat``
    listed in ``record_list.csv``, with the machine measurements in
    ``machine_measurements.csv``. Both tables and the records asked for are downloaded into
    ``<data_home>/mimic-iv-ecg/1.0/`` in PhysioNet's layout, each checked against the release's
    ``SHA256SUMS.txt`` exactly as :func:`fetch_ptbxl` does (the same safe-path rule for every
    path of ``record_list.csv``). Outcomes come from MIMIC-IV itself (credentialed access), not
    from this release.

    Parameters
    ----------
    data_home : str, path-like or None, default=None
        Download folder; ``None`` uses :func:`get_download_home`.
    subject_ids : int, list of int or None, default=None
        Download every record of these subjects.
    records : list of str or None, default=None
        Download these records, given as values of ``record_list.csv``'s ``path`` column.
    max_records : int or None, default=None
        Download the first ``max_records`` records of ``record_list.csv``. At most one of
        ``subject_ids``, ``records`` and ``max_records`` may be given; with none, every record
        is downloaded (about 800,000).
    download_if_missing : bool, default=True
        If False, raise :class:`OSError` instead of downloading what is missing.
    n_jobs : int, default=8
        Parallel downloads.
    base_url : str, default="https://physionet.org/files/mimic-iv-ecg/1.0/"
        The release's URL, under the same rules as in :func:`fetch_ptbxl`; the local folder is
        ``mimic-iv-ecg/1.0``.
    verbose : bool, default=True
        Show a progress bar.

    Returns
    -------
    root : pathlib.Path
        The local release folder, ready for :func:`sksurv_ecg.datasets.load_mimic_iv_ecg`.

    Raises
    ------
    ValueError
        When a subject or record is not in ``record_list.csv``, or more than one selection is given.
    ChecksumMismatchError
        When a file fails its SHA-256 check twice in a row (after every file was tried).
    sksurv_ecg.exceptions.UnsafePathError
        When the checksum list or ``record_list.csv`` names a path outside the release folder.

    See Also
    --------
    fetch_ptbxl : The same machinery for PTB-XL.

    Examples
    --------
    >>> from sksurv_ecg.datasets import fetch_mimic_iv_ecg
    >>> root = fetch_mimic_iv_ecg(max_records=100)  # doctest: +SKIP
    """
    _check_jobs(n_jobs, download_if_missing, verbose=verbose)
    loader = _physionet_release("mimic-iv-ecg", "1.0", "MIMIC-IV-ECG", base_url, data_home, download_if_missing)
    _download_or_refuse(
        loader,
        _MIMIC_TABLES,
        download_if_missing=download_if_missing,
        n_jobs=n_jobs,
        verbose=False,
        desc="",
        name="MIMIC-IV-ECG",
    )
    import pandas as pd

    frame = pd.read_csv(
        loader.root / "record_list.csv", usecols=["subject_id", "path"], dtype={"subject_id": "int64", "path": str}
    )
    rels = []
    for path in _mimic_paths(frame, subject_ids, records, max_records):
        for ext in (".hea", ".dat"):
            loader.what[path + ext] = f"MIMIC-IV-ECG record {path}"
            rels.append(path + ext)
    _download_or_refuse(
        loader,
        rels,
        download_if_missing=download_if_missing,
        n_jobs=n_jobs,
        verbose=verbose,
        desc="MIMIC-IV-ECG",
        name="MIMIC-IV-ECG",
    )
    return loader.root
