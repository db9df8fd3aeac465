"""Verified, resumable downloads of a data release: the machinery behind every ``fetch_*``.

One set of rules for every fetcher, whatever the server:

- The release's listing (a PhysioNet ``SHA256SUMS.txt``, a Zenodo record's JSON) is the root of
  trust. It comes over HTTPS (or from a ``file://`` URL or a loopback host), is read whole, is
  checked to be a listing, and only then is written (``.part``, fsync, rename). A listing that is an
  HTML page, garbage or cut short is refused and nothing of it is kept.
- Every path a server names (a listing line, a file name read from a downloaded table, a zip
  member) goes through :func:`_safe_target` before any byte is written: a relative POSIX path below
  the release folder, and no symbolic link on the way that leads outside.
- A file is downloaded to ``<name>.part`` (resumed with an HTTP ``Range`` request), checked against
  the listing's digest and only then renamed; a file that fails is fetched once more, then reported.
  Every file is tried; the failures are raised together at the end.
"""

from __future__ import annotations

import hashlib
import http.client
import ipaddress
import json
import os
import re
import shutil
import stat
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tqdm.auto import tqdm

from ..exceptions import UnsafePathError

__all__ = ["ChecksumMismatchError"]

_CHUNK = 1 << 16
_TIMEOUT = 60
# A dropped connection is retried (resuming from the bytes already on disk) this many times per file.
_MAX_RESUMES = 5
_DRIVE = re.compile(r"[A-Za-z]:")
_SUM_LINE = re.compile(r"(?P<hex>[0-9a-fA-F]+) [ *]?(?P<path>\S.*)")
_MD5 = re.compile(r"md5:(?P<hex>[0-9a-fA-F]{32})")

# (algorithm, lower-case hex digest), e.g. ("sha256", "ab12...").
Digest = tuple[str, str]


class ChecksumMismatchError(OSError):
    """A downloaded file does not match the release's checksum, even after a fresh download.

    When several files fail, one error lists each of them; the files that passed are kept.

    Examples
    --------
    >>> from sksurv_ecg.datasets import ChecksumMismatchError
    >>> issubclass(ChecksumMismatchError, OSError)
    True
    """


# ---------------------------------------------------------------------------------------------------------------------
# The safe-path rule


def _entry_problem(entry) -> str | None:
    if not isinstance(entry, str):
        return f"is a {type(entry).__name__}, not a path"
    if not entry:
        return "is empty"
    if "\x00" in entry:
        return "holds a NUL byte"
    if "\\" in entry:
        return "holds a backslash (not a POSIX path)"
    if entry.startswith("/"):
        return "is absolute"
    if _DRIVE.match(entry):
        return "names a drive"
    parts = entry.split("/")
    if "" in parts:
        return "has an empty component ('//' or a trailing '/')"
    if ".." in parts or "." in parts:
        return "has a '..' or '.' component"
    return None


def _refuse(entry, problem: str, source: str) -> UnsafePathError:
    return UnsafePathError(
        f"{source} lists {entry!r}, which {problem}; it was refused before anything was written. Only relative "
        "POSIX paths below the release folder are accepted: check base_url, or use the official server."
    )


def _check_entry(entry, *, source: str) -> str:
    """Refuse ``entry`` unless it is a relative POSIX path without ``..``, empty parts, drive, ``\\`` or NUL.

    The lexical half of :func:`_safe_target`, cheap enough for every line of a large listing.
    """
    problem = _entry_problem(entry)
    if problem:
        raise _refuse(entry, problem, source)
    return entry


def _safe_target(root: Path, entry, *, source: str) -> Path:
    """The path of ``entry`` below ``root``, or :class:`UnsafePathError` if it would land elsewhere.

    ``entry`` must pass :func:`_check_entry`, and the target, resolved through the symbolic links
    that exist now, must stay inside ``root`` (resolved the same way). Call it before writing.
    """
    _check_entry(entry, source=source)
    target = root / entry
    inside = Path(os.path.realpath(root))
    resolved = Path(os.path.realpath(target))
    if resolved == inside or not resolved.is_relative_to(inside):
        raise _refuse(entry, f"resolves to {str(resolved)!r} through a symbolic link, outside {str(root)!r}", source)
    return target


def _check_trusted_url(url: str, *, what: str) -> None:
    """Refuse a root of trust that does not come over HTTPS, a ``file://`` URL or a loopback host."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme in ("https", "file"):
        return
    if parts.scheme == "http":
        host = parts.hostname or ""
        if host == "localhost":
            return
        try:
            if ipaddress.ip_address(host).is_loopback:
                return
        except ValueError:
            pass
    raise ValueError(
        f"{what} would come from {url!r}, which is not HTTPS: every other file is checked against it, so it "
        "must not travel over plain HTTP (or another scheme). Pass an https:// base_url (a file:// URL or a "
        "loopback host is accepted for local mirrors)."
    )


def _server_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, to name the server in messages."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


# ---------------------------------------------------------------------------------------------------------------------
# Listings (the root of trust)


def _parse_checksum_list(data: bytes, *, source: str, algorithm: str = "sha256") -> dict[str, Digest]:
    """``{path: (algorithm, hex)}`` of a ``sha256sum``-style list, or :class:`ValueError` if it is not one.

    Every non-blank line must be ``<hex> <path>`` with a hex digest of the algorithm's length, the
    text must end with a newline (a list cut mid-line does not) and hold at least one line. Every path
    passes :func:`_check_entry`; a path listed twice with two digests is refused.
    """
    length = hashlib.new(algorithm).digest_size * 2
    remedy = "nothing of it was kept; check base_url points at the release, or try again later."
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{source} is not a checksum list (not UTF-8 text); {remedy}") from None
    if not text.strip():
        raise ValueError(f"{source} is an empty checksum list; {remedy}")
    if not text.endswith("\n"):
        raise ValueError(f"{source}: the checksum list was cut mid-line (no final newline); {remedy}")
    sums: dict[str, Digest] = {}
    for number, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        match = _SUM_LINE.fullmatch(line)
        if match is None or len(match["hex"]) != length:
            raise ValueError(
                f"{source}: line {number} ({line[:80]!r}) is not '<{algorithm} hex> <path>', so this is not a checksum "
                f"list (an HTML error page?); {remedy}"
            )
        path = _check_entry(match["path"], source=source)
        digest = (algorithm, match["hex"].lower())
        if sums.setdefault(path, digest) != digest:
            raise ValueError(f"{source} lists {path!r} twice with two different digests; {remedy}")
    return sums


def _parse_zenodo_record(
    data: bytes, *, source: str, api_url: str, check_origin: bool = True
) -> tuple[dict, dict[str, Digest], dict[str, str]]:
    """``(record, {key: ("md5", hex)}, {key: download URL})`` of a Zenodo record's JSON.

    Zenodo's ``GET /api/records/<id>`` answers ``{"metadata": {..., "version": ...}, "files": [{"key":
    <name>, "size": <bytes>, "checksum": "md5:<hex>", "links": {"self": <download URL>}}]}``; the
    InvenioRDM form of the same record nests the files as ``{"entries": {<key>: {..., "links":
    {"content": <download URL>}}}}``. Both are read. Every key passes :func:`_check_entry`; every
    download URL must be on the listing's own server (the digest, not the link, is what is trusted,
    but a listing pointing elsewhere is not a Zenodo record). ``check_origin=False`` re-reads a
    listing kept on disk, whose links were checked when it was fetched.
    """
    remedy = "nothing of it was kept; check base_url points at Zenodo (or a mirror of its API), or try again later."
    try:
        record = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{source} is not a Zenodo record listing (not JSON: {err}); {remedy}") from None
    files = record.get("files") if isinstance(record, dict) else None
    if isinstance(files, dict):
        files = list((files.get("entries") or {}).values())
    if not isinstance(files, list) or not files:
        raise ValueError(f"{source} lists no files (no 'files' array); {remedy}")
    digests: dict[str, Digest] = {}
    urls: dict[str, str] = {}
    origin = _server_of(api_url)
    for item in files:
        key = item.get("key") if isinstance(item, dict) else None
        _check_entry(key, source=source)
        match = _MD5.fullmatch(str(item.get("checksum", "")))
        links = item.get("links") if isinstance(item.get("links"), dict) else {}
        link = links.get("content") or links.get("self")
        if match is None or not isinstance(link, str):
            raise ValueError(
                f"{source}: the entry of {key!r} has no 'checksum': 'md5:<32 hex>' or no download link; {remedy}"
            )
        url = urllib.parse.urljoin(api_url, link)
        if check_origin and _server_of(url) != origin:
            raise ValueError(
                f"{source}: {key!r} would be downloaded from {_server_of(url)}, not from the listing's server "
                f"{origin}; {remedy}"
            )
        digests[key] = ("md5", match["hex"].lower())
        urls[key] = url
    return record, digests, urls


def _fetch_listing(url: str, dest: Path, *, parse: Callable[[bytes], object], what: str):
    """Download the listing at ``url``, check it with ``parse`` and only then write it to ``dest``.

    Returns what ``parse`` returns. The body is read whole; a body shorter than its
    ``Content-Length`` is refused, and so is one ``parse`` rejects: nothing is written, so the
    next call fetches it again. A 404 says the listing was not found at ``url``.
    """
    _check_trusted_url(url, what=what)
    try:
        with urllib.request.urlopen(url, timeout=_TIMEOUT) as response:
            # urllib follows redirects, an https -> http one included: the final address obeys the same rule.
            _check_trusted_url(response.geturl(), what=f"{what} (redirected from {url})")
            expected = response.headers.get("Content-Length")
            data = response.read()
    except urllib.error.HTTPError as err:
        err.close()
        if err.code == 404:
            raise FileNotFoundError(
                f"{what} was not found at {url} (HTTP 404); check that base_url points at the release."
            ) from None
        raise
    except urllib.error.URLError as err:
        if isinstance(err.reason, FileNotFoundError):
            message = f"{what} was not found at {url}; check that base_url points at the release."
            raise FileNotFoundError(message) from None
        raise
    except http.client.IncompleteRead as err:
        raise ConnectionError(
            f"{what} from {url} was cut short ({len(err.partial)} bytes received, {err.expected} missing); nothing "
            "was kept, run again."
        ) from None
    if expected is not None and expected.isdigit() and len(data) != int(expected):
        raise ConnectionError(
            f"{what} from {url} was cut short ({len(data)} of {expected} bytes); nothing was kept, run again."
        )
    parsed = parse(data)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    with open(part, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(part, dest)
    return parsed


# ---------------------------------------------------------------------------------------------------------------------
# Files


def _file_digest(path: Path, algorithm: str) -> str:
    """Hex digest of the file at ``path``."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, lambda: hashlib.new(algorithm, usedforsecurity=False)).hexdigest()


def _combined(failures: list[tuple[str, OSError]], total: int, name: str) -> OSError:
    if len(failures) == 1:
        return failures[0][1]
    kinds = {type(err) for _, err in failures}
    if len(kinds) == 1 and kinds <= {ChecksumMismatchError, FileNotFoundError, ConnectionError}:
        cls = kinds.pop()
    elif any(isinstance(err, ChecksumMismatchError) for _, err in failures):
        cls = ChecksumMismatchError
    else:
        cls = OSError
    lines = "\n".join(f"  - {err}" for _, err in failures)
    return cls(
        f"{len(failures)} of {total} {name} files failed (the others were downloaded, verified and kept; a rerun "
        f"fetches only these):\n{lines}"
    )


class _Downloader:
    """Fetch files of one release into ``root``, each verified against ``digests`` before it gets its name.

    Parameters
    ----------
    base_url : str
        Where ``<base_url><path>`` is downloaded from, unless ``urls`` names another URL.
    root : Path
        The release folder.
    digests : dict of str to (str, str)
        ``{path: (algorithm, hex)}``, from the release's listing.
    name : str
        The data set's name, for messages.
    urls : dict of str to str, optional
        Download URL of each path, where it is not ``base_url + path`` (Zenodo).
    """

    def __init__(self, base_url: str, root: Path, digests: dict[str, Digest], *, name: str, urls=None):
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.root = root
        self.digests = digests
        self.name = name
        self.urls = dict(urls or {})
        self.source = f"{name}'s listing from {_server_of(self.base_url)}"
        self.what: dict[str, str] = {}  # path -> what a person would call it ("PTB-XL record 6001"), for errors
        self.bytes_downloaded = 0
        self.files_downloaded = 0

    def url_of(self, rel: str) -> str:
        return self.urls.get(rel) or self.base_url + urllib.parse.quote(rel)

    def _matches(self, path: Path, rel: str) -> bool:
        algorithm, expected = self.digests[rel]
        return _file_digest(path, algorithm) == expected

    def is_complete(self, rel: str) -> bool:
        path = self.root / rel
        return rel in self.digests and path.is_file() and self._matches(path, rel)

    def check(self, rels: Iterable[str]) -> None:
        """Apply the safe-path rule to every path of ``rels``, before anything is written."""
        for rel in rels:
            _safe_target(self.root, rel, source=self.source)

    def fetch(self, rel: str) -> Path:
        final = _safe_target(self.root, rel, source=self.source)
        if rel not in self.digests:
            raise ChecksumMismatchError(
                f"{self.what.get(rel, rel)}: {rel!r} is not listed in {self.name}'s checksums, so it cannot be "
                "verified; check base_url and the file name."
            )
        if final.is_file():
            if self._matches(final, rel):
                return final
            final.unlink()  # corrupt or from another release: never used, fetched again below
        final.parent.mkdir(parents=True, exist_ok=True)
        algorithm = self.digests[rel][0]
        for attempt in range(2):
            part = self._download(rel, final.with_name(final.name + ".part"))
            if self._matches(part, rel):
                os.replace(part, final)  # the .part was fsynced; the rename makes it visible in one step
                self.files_downloaded += 1
                return final
            part.unlink()
            if attempt == 1:
                raise ChecksumMismatchError(
                    f"{self.what.get(rel, rel)}: {rel!r} from {self.url_of(rel)} does not match the "
                    f"{algorithm.upper().replace('SHA', 'SHA-')} in {self.name}'s checksums after two downloads; the "
                    "server copy is damaged. Try again later or another mirror (base_url=)."
                )
        raise AssertionError("unreachable")  # pragma: no cover

    def _download(self, rel: str, part: Path) -> Path:
        url = self.url_of(rel)
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
                        f"{self.what.get(rel, rel)}: {url} does not exist on the server (HTTP 404) although "
                        f"{self.name}'s checksums list it; check base_url."
                    ) from None
                raise
            except (http.client.IncompleteRead, ConnectionError, TimeoutError, urllib.error.URLError) as err:
                if isinstance(err, urllib.error.URLError) and isinstance(err.reason, FileNotFoundError):  # file://
                    raise FileNotFoundError(
                        f"{self.what.get(rel, rel)}: {url} does not exist although {self.name}'s checksums list it; "
                        "check base_url."
                    ) from None
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

    def fetch_all(self, rels: Iterable[str], *, n_jobs: int, verbose: bool, desc: str) -> None:
        """Fetch every path of ``rels`` that is missing or damaged; raise one error listing every failure."""
        rels = list(dict.fromkeys(rels))
        self.check(rels)
        todo = [rel for rel in rels if not self.is_complete(rel)]
        if not todo:
            return
        failures: list[tuple[str, OSError]] = []
        with (
            tqdm(total=len(todo), desc=desc, unit="file", disable=not verbose) as bar,
            ThreadPoolExecutor(max_workers=n_jobs) as pool,
        ):
            futures = [pool.submit(self.fetch, rel) for rel in todo]
            try:
                for rel, future in zip(todo, futures, strict=True):
                    try:
                        future.result()
                    except OSError as err:  # one bad file does not stop the others
                        failures.append((rel, err))
                    bar.update(1)
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
        if failures:
            raise _combined(failures, len(todo), self.name)

    def missing(self, rels: Iterable[str]) -> list[str]:
        """The paths of ``rels`` that are absent or fail their checksum."""
        return [rel for rel in rels if not self.is_complete(rel)]


# ---------------------------------------------------------------------------------------------------------------------
# Archives


def _marker(root: Path, archive: str) -> Path:
    return root / f".{archive.replace('/', '_')}.extracted.json"


def _is_extracted(root: Path, archive: str, digest: Digest) -> bool:
    """Whether ``archive`` (with ``digest``) was extracted whole into ``root`` and its files are still there."""
    try:
        done = json.loads(_marker(root, archive).read_text(encoding="utf-8"))
        members = done["members"]
        return done["digest"] == list(digest) and all(
            _entry_problem(name) is None and (root / name).is_file() and (root / name).stat().st_size == size
            for name, size in members.items()
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _extract_zip(root: Path, archive: str, digest: Digest, *, source: str, reserved=()) -> list[str]:
    """Extract the verified zip ``root/archive`` into ``root`` through the safe-path rule; return its files.

    Every member is checked before anything is extracted: its name by :func:`_safe_target`, and a
    symbolic-link entry is refused, and so is a member that would replace a file of ``reserved``
    (the release's other verified files). Members are written under a temporary folder in ``root`` and
    renamed into place only when all are out (zip's CRC-32 is checked as they are read); then a small
    marker records the archive's digest and the members' sizes, so a rerun neither downloads nor
    extracts again, even once the zip is deleted.
    """
    where = f"{source}: the archive {archive!r}"
    with zipfile.ZipFile(root / archive) as zf:
        infos = zf.infolist()
        files = []
        for info in infos:
            name = info.filename[:-1] if info.is_dir() else info.filename
            if stat.S_ISLNK(info.external_attr >> 16):
                raise _refuse(info.filename, "is a symbolic link entry", where)
            _safe_target(root, name, source=where)
            if name in reserved:
                raise _refuse(info.filename, "would replace a verified file of the release", where)
            if not info.is_dir():
                files.append(info)
        if not files:
            raise ValueError(f"{where} holds no file; the server copy is damaged. Try again later or another mirror.")
        staging = root / f".{archive.replace('/', '_')}.extracting"
        shutil.rmtree(staging, ignore_errors=True)  # what a killed extraction left
        try:
            for info in files:
                out = staging / info.filename
                out.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst, _CHUNK * 16)
                    dst.flush()
                    os.fsync(dst.fileno())
            for info in files:
                final = root / info.filename
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging / info.filename, final)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    members = {info.filename: info.file_size for info in files}
    marker = _marker(root, archive)
    part = marker.with_name(marker.name + ".part")
    part.write_text(json.dumps({"digest": list(digest), "members": members}), encoding="utf-8")
    os.replace(part, marker)
    return list(members)
