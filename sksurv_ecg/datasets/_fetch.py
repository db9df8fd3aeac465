"""Checksummed, resumable downloads of PTB-XL and PTB-XL+ from PhysioNet.

Follows scikit-learn's ``fetch_*`` conventions: a ``data_home`` folder (see
:func:`sksurv_ecg.datasets.get_download_home`), ``download_if_missing``, files kept between calls.
Every file is checked against the release's ``SHA256SUMS.txt`` before it is given its final name;
a partial download lives in ``<name>.part`` and is resumed with an HTTP ``Range`` request.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import urllib.error
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral
from pathlib import Path

from tqdm.auto import tqdm

from ._base import get_download_home

# PTB-XL's file layout is known in one place, the loader of a local download.
from ._ptbxl import _DATABASE, _FILENAME_COLUMN, _STATEMENTS, _check_sampling_rate, _rows_of

__all__ = ["ChecksumMismatchError", "fetch_ptbxl", "fetch_ptbxl_plus"]

PTBXL_URL = "https://physionet.org/files/ptb-xl/1.0.3/"
PTBXL_PLUS_URL = "https://physionet.org/files/ptb-xl-plus/1.0.1/"
_SUMS = "SHA256SUMS.txt"
_CHUNK = 1 << 16
_TIMEOUT = 60
# A dropped connection is retried (resuming from the bytes already on disk) this many times per file.
_MAX_RESUMES = 5
_MEDIAN_ALGORITHMS = ("12sl", "unig")


class ChecksumMismatchError(OSError):
    """A downloaded file does not match the release's ``SHA256SUMS.txt``, even after a fresh download.

    Examples
    --------
    >>> from sksurv_ecg.datasets import ChecksumMismatchError
    >>> issubclass(ChecksumMismatchError, OSError)
    True
    """


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _parse_sums(text: str) -> dict[str, str]:
    sums = {}
    for line in text.splitlines():
        parts = line.strip().split(maxsplit=1)
        if len(parts) == 2 and re.fullmatch(r"[0-9a-fA-F]{64}", parts[0]):
            sums[parts[1].strip().lstrip("*")] = parts[0].lower()
    if not sums:
        raise ValueError(f"{_SUMS} holds no '<sha256> <path>' line; check base_url points at a PhysioNet release.")
    return sums


class _Downloader:
    """Fetch files of one release into ``root``, each verified against ``sums``."""

    def __init__(self, base_url: str, root: Path, sums: dict[str, str], what: dict[str, str]):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.root = root
        self.sums = sums
        self.what = what  # relative path -> what a person would call it ("record 6001"), for errors
        self.bytes_downloaded = 0
        self.files_downloaded = 0

    def is_complete(self, rel: str) -> bool:
        path = self.root / rel
        return path.is_file() and _sha256(path) == self.sums[rel]

    def fetch(self, rel: str) -> Path:
        if rel not in self.sums:
            raise ChecksumMismatchError(
                f"{rel!r} is not listed in the release's {_SUMS}, so it cannot be verified; "
                "check base_url and the file name."
            )
        final = self.root / rel
        if final.is_file():
            if _sha256(final) == self.sums[rel]:
                return final
            final.unlink()  # corrupt or from another release: never used, fetched again below
        final.parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(2):
            part = self._download(rel, final.with_name(final.name + ".part"))
            if _sha256(part) == self.sums[rel]:
                os.replace(part, final)  # the .part was fsynced; the rename makes it visible in one step
                self.files_downloaded += 1
                return final
            part.unlink()
            if attempt == 1:
                raise ChecksumMismatchError(
                    f"{self.what.get(rel, rel)}: {rel!r} from {self.base_url + rel} does not match the SHA-256 "
                    f"in {_SUMS} after two downloads; the server copy is damaged. Try again later or another mirror "
                    "(base_url=)."
                )
        raise AssertionError("unreachable")  # pragma: no cover

    def _download(self, rel: str, part: Path) -> Path:
        url = self.base_url + rel
        resumes = 0
        while True:
            offset = part.stat().st_size if part.is_file() else 0
            request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
            try:
                with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:
                    if offset and response.status != 206:  # the server ignored the range: start over
                        offset = 0
                    self._stream(response, part, append=offset > 0)
                return part
            except urllib.error.HTTPError as err:
                err.close()  # its body holds the socket open
                if err.code == 416 and offset:  # the .part is already whole (or longer): let the checksum decide
                    return part
                if err.code == 404:
                    raise FileNotFoundError(
                        f"{self.what.get(rel, rel)}: {url} does not exist on the server (HTTP 404); check "
                        "ecg_ids against the release and base_url."
                    ) from None
                raise
            except (http.client.IncompleteRead, ConnectionError, TimeoutError, urllib.error.URLError) as err:
                transient = ConnectionError | TimeoutError
                if isinstance(err, urllib.error.URLError) and not isinstance(err.reason, transient):
                    raise
                resumes += 1
                if resumes > _MAX_RESUMES:
                    raise ConnectionError(
                        f"{self.what.get(rel, rel)}: the connection to {url} dropped {resumes} times; "
                        f"the {part.stat().st_size if part.is_file() else 0} bytes received are kept in {str(part)!r} "
                        "and a rerun resumes from there."
                    ) from err

    def _stream(self, response, part: Path, *, append: bool) -> None:
        expected = response.headers.get("Content-Length")
        received = 0
        with open(part, "ab" if append else "wb") as fh:
            try:
                while block := response.read(_CHUNK):
                    fh.write(block)
                    received += len(block)
            finally:
                fh.flush()
                os.fsync(fh.fileno())
                self.bytes_downloaded += received
        if expected is not None and received < int(expected):
            raise http.client.IncompleteRead(b"", int(expected) - received)

    def fetch_all(self, rels: list[str], *, n_jobs: int, verbose: bool, desc: str) -> None:
        todo = [rel for rel in rels if not self.is_complete(rel)]
        if not todo:
            return
        with (
            tqdm(total=len(todo), desc=desc, unit="file", disable=not verbose) as bar,
            ThreadPoolExecutor(max_workers=n_jobs) as pool,
        ):
            futures = [pool.submit(self.fetch, rel) for rel in todo]
            try:
                for future in futures:
                    future.result()
                    bar.update(1)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise


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


def _release(name, base_url, data_home, download_if_missing) -> tuple[Path, dict[str, str], _Downloader]:
    version = base_url.rstrip("/").rsplit("/", 1)[-1] or "release"
    root = get_download_home(data_home) / name / version
    sums_path = root / _SUMS
    if not sums_path.is_file():
        if not download_if_missing:
            raise OSError(
                f"{name} is not in {str(root)!r} and download_if_missing=False; pass download_if_missing=True or "
                "data_home= pointing at a previous download."
            )
        root.mkdir(parents=True, exist_ok=True)
        # The sums file is the root of trust: it has nothing to be checked against, so it comes over HTTPS and
        # is only kept once complete (atomic rename of a fully read body).
        part = _Downloader(base_url, root, {_SUMS: ""}, {_SUMS: f"{name}'s checksum list"})._download(
            _SUMS, root / f"{_SUMS}.part"
        )
        os.replace(part, sums_path)
    sums = _parse_sums(sums_path.read_text(encoding="utf-8"))
    return root, sums, _Downloader(base_url, root, sums, {})


def _download_or_refuse(loader: _Downloader, rels, *, download_if_missing, n_jobs, verbose, desc, name):
    if not download_if_missing:
        missing = [rel for rel in rels if not loader.is_complete(rel)]
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
        The release's URL (a mirror, or a local server in tests).
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
        When the server has no file for a requested record (HTTP 404); the message names it.
    ChecksumMismatchError
        When a file fails its SHA-256 check twice in a row.
    ValueError
        When an ``ecg_id`` is not in the release's database.

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
    root, _, loader = _release("ptb-xl", base_url, data_home, download_if_missing)
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
        The release's URL.
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
        When a file fails its SHA-256 check twice in a row.

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
    root, sums, loader = _release("ptb-xl-plus", base_url, data_home, download_if_missing)
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
