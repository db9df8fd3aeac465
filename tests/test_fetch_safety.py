"""A hostile or broken server meets fetch_ptbxl (RELIABILITY rows 61-62).

Every test serves a release from 127.0.0.1 and then lists the whole temporary tree: nothing may be
written outside ``data_home``, whatever the server lists, and a refused checksum list is never kept,
so the next call against a fixed server succeeds without clean-up.
"""

import hashlib
import os

import pytest
from _physionet_server import PhysioNetServer, release_files, shared_ptbxl

from sksurv_ecg.datasets import ChecksumMismatchError, fetch_ptbxl
from sksurv_ecg.exceptions import UnsafePathError

SUMS = "SHA256SUMS.txt"
DB = "ptbxl_database.csv"


def _release():
    return release_files(shared_ptbxl())


def _sums(files):
    body = "".join(f"{hashlib.sha256(data).hexdigest()} {rel}\n" for rel, data in files.items() if rel != SUMS)
    return body.encode()


def _with_record(files, stem):
    """``files`` where ecg_id 1's 500 Hz filename is ``stem`` and the sums list ``stem.hea|.dat``."""
    files = dict(files)
    assert files[DB].count(b",records500/00000/00001_hr") == 1
    files[DB] = files[DB].replace(b",records500/00000/00001_hr", b"," + stem.encode())
    files[f"{stem}.hea"] = b"evil 12 500 5000\n"
    files[f"{stem}.dat"] = b"\0" * 64
    files[SUMS] = _sums(files)
    return files


def _tree(path):
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file() or p.is_symlink())


def _outside(tmp_path, home):
    """Files under tmp_path that are not under home (the server's bytes live in memory)."""
    return [rel for rel in _tree(tmp_path) if not (tmp_path / rel).is_relative_to(home)]


def _fetch(server, home, **kwargs):
    kwargs.setdefault("ecg_ids", [1, 2])
    return fetch_ptbxl(home, base_url=server.url, n_jobs=2, verbose=False, **kwargs)


@pytest.mark.parametrize(
    "stem",
    [
        pytest.param("../../../evil", id="dotdot"),
        pytest.param("records500/../../../../evil", id="dotdot-inside"),
        pytest.param("/tmp/sksurv_ecg_evil_absolute", id="absolute"),
        pytest.param("C:/evil", id="drive"),
        pytest.param("records500\\..\\..\\evil", id="backslash"),
        pytest.param("records500//evil", id="empty-part"),
    ],
)
def test_traversal_entries_are_refused_and_nothing_is_written_outside(tmp_path, stem):
    home = tmp_path / "home"
    files = _with_record(_release(), stem)
    with PhysioNetServer(files) as server:
        with pytest.raises(UnsafePathError, match=r"'?" + "evil"):
            _fetch(server, home)
        assert _outside(tmp_path, home) == []
        assert not os.path.exists("/tmp/sksurv_ecg_evil_absolute.hea")
        # Every requested path stayed below the release: the server saw no request for an 'evil' file.
        assert not [path for path, _ in server.requests if "evil" in path]
        # The refused list was not kept: the fixed server is used on the next call, no clean-up needed.
        assert not (home / "ptb-xl/1.0.3" / SUMS).exists()
        server.files = _release()
        root = _fetch(server, home)
    assert (root / "records500/00000/00001_hr.dat").is_file()
    assert _outside(tmp_path, home) == []


def test_database_naming_a_path_outside_is_refused_before_any_request(tmp_path):
    """The checksum list is clean, the CSV's filename column names '../..': refused by the same rule."""
    home = tmp_path / "home"
    files = _with_record(_release(), "../../../evil")
    files = {k: v for k, v in files.items() if "evil" not in k}
    files[SUMS] = _sums(files)
    with PhysioNetServer(files) as server:
        with pytest.raises(UnsafePathError, match=r"127\.0\.0\.1.*'\.\./\.\./\.\./evil\.hea'"):
            _fetch(server, home)
        assert not [path for path, _ in server.requests if "evil" in path]
    assert _outside(tmp_path, home) == []


def test_symlink_escape_is_refused(tmp_path):
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    elsewhere.mkdir()
    root = home / "ptb-xl/1.0.3"
    root.mkdir(parents=True)
    (root / "records500").symlink_to(elsewhere, target_is_directory=True)
    with PhysioNetServer(_release()) as server, pytest.raises(UnsafePathError, match="records500/00000/00001_hr"):
        _fetch(server, home)
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"<!DOCTYPE html><html><body>Service unavailable</body></html>\n", id="html"),
        pytest.param(b"", id="empty"),
        pytest.param(b"deadbeef records500/00000/00001_hr.dat\n", id="short-hex"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00binary", id="binary"),
    ],
)
def test_garbage_checksum_list_is_refused_not_kept_and_refetched(tmp_path, body):
    home = tmp_path / "home"
    files = _release()
    files[SUMS] = body
    with PhysioNetServer(files) as server:
        with pytest.raises(ValueError, match="checksum list"):
            _fetch(server, home)
        release = home / "ptb-xl/1.0.3"
        assert not (release / SUMS).exists()
        assert not (release / (SUMS + ".part")).exists()
        server.files = _release()
        root = _fetch(server, home)
    assert (root / SUMS).read_bytes() == _release()[SUMS]


def test_checksum_list_cut_mid_line_without_length_is_refused(tmp_path):
    home = tmp_path / "home"
    files = _release()
    with PhysioNetServer(files) as server:
        server.no_length.add(SUMS)
        server.drop_after[SUMS] = len(files[SUMS]) // 2 + 7  # mid-line, and the client cannot know the size
        with pytest.raises(ValueError, match="cut"):
            _fetch(server, home)
        assert not (home / "ptb-xl/1.0.3" / SUMS).exists()
        assert not (home / "ptb-xl/1.0.3" / (SUMS + ".part")).exists()
        root = _fetch(server, home)  # the same server, now answering in full
    assert (root / SUMS).read_bytes() == files[SUMS]


def test_checksum_list_shorter_than_its_content_length_is_refused(tmp_path):
    home = tmp_path / "home"
    files = _release()
    with PhysioNetServer(files) as server:
        server.drop_after[SUMS] = len(files[SUMS]) // 2
        with pytest.raises(OSError, match="cut short"):
            _fetch(server, home)
        assert not (home / "ptb-xl/1.0.3" / SUMS).exists()
        root = _fetch(server, home)
    assert (root / SUMS).read_bytes() == files[SUMS]


@pytest.mark.parametrize(
    "url",
    ["http://physionet.org/files/ptb-xl/1.0.3/", "http://10.0.0.8/ptb-xl/", "ftp://mirror.example/ptb-xl/"],
)
def test_checksum_list_over_plain_http_is_refused(tmp_path, url):
    with pytest.raises(ValueError, match=r"HTTPS.*https://"):
        fetch_ptbxl(tmp_path, base_url=url, ecg_ids=[1], verbose=False)
    assert _tree(tmp_path) == []


def test_local_folder_is_named_after_the_release_not_the_url(tmp_path):
    with PhysioNetServer(_release(), release="") as server:
        assert server.url.endswith(":" + server.url.rsplit(":", 1)[1])  # served at the root: no path
        root = _fetch(server, tmp_path, ecg_ids=[1])
    assert root == tmp_path / "ptb-xl" / "1.0.3"
    assert (root / "records500/00000/00001_hr.dat").is_file()


def test_every_record_is_tried_and_one_error_lists_each_failure(tmp_path):
    bad = ["records500/00000/00001_hr.dat", "records500/00000/00002_hr.dat"]
    with PhysioNetServer(_release()) as server:
        for rel in bad:
            server.corrupt[rel] = 99
        with pytest.raises(ChecksumMismatchError) as info:
            _fetch(server, tmp_path, ecg_ids=[1, 2, 6001])
    message = str(info.value)
    assert "2 of" in message
    assert all(rel in message for rel in bad)
    root = tmp_path / "ptb-xl/1.0.3"
    assert (root / "records500/06000/06001_hr.dat").is_file()  # the good record was not stopped
    assert not any((root / rel).exists() for rel in bad)


def test_missing_checksum_list_says_so(tmp_path):
    files = {k: v for k, v in _release().items() if k != SUMS}
    with PhysioNetServer(files) as server, pytest.raises(FileNotFoundError) as info:
        _fetch(server, tmp_path)
    message = str(info.value)
    assert "checksum list was not found" in message
    assert server.url + SUMS in message
    assert "ecg_ids" not in message


def test_a_garbage_list_kept_by_an_older_version_is_fetched_again(tmp_path):
    root = tmp_path / "ptb-xl/1.0.3"
    root.mkdir(parents=True)
    (root / SUMS).write_bytes(b"<html>502 Bad Gateway</html>")
    with PhysioNetServer(_release()) as server:
        assert _fetch(server, tmp_path, ecg_ids=[1]) == root
    assert (root / SUMS).read_bytes() == _release()[SUMS]


def test_file_url_mirror(tmp_path):
    mirror = tmp_path / "mirror"
    for rel, data in _release().items():
        (mirror / rel).parent.mkdir(parents=True, exist_ok=True)
        (mirror / rel).write_bytes(data)
    root = fetch_ptbxl(tmp_path / "home", base_url=mirror.as_uri() + "/", ecg_ids=[2], n_jobs=1, verbose=False)
    assert (root / "records500/00000/00002_hr.dat").read_bytes() == _release()["records500/00000/00002_hr.dat"]
    (mirror / "records500/00000/00001_hr.dat").unlink()
    with pytest.raises(FileNotFoundError, match="PTB-XL record 1: file://.*00001_hr.dat does not exist"):
        fetch_ptbxl(tmp_path / "home", base_url=mirror.as_uri() + "/", ecg_ids=[1], n_jobs=1, verbose=False)


@pytest.mark.parametrize(
    ("url", "trusted"),
    [
        ("https://physionet.org/files/ptb-xl/1.0.3/SHA256SUMS.txt", True),
        ("file:///data/mirror/SHA256SUMS.txt", True),
        ("http://127.0.0.1:8770/SHA256SUMS.txt", True),
        ("http://127.9.9.9/SHA256SUMS.txt", True),
        ("http://[::1]:8080/SHA256SUMS.txt", True),
        ("http://localhost/SHA256SUMS.txt", True),
        ("http://physionet.org/files/ptb-xl/1.0.3/SHA256SUMS.txt", False),
        ("http://128.0.0.1/SHA256SUMS.txt", False),
        ("http://localhost.example.org/SHA256SUMS.txt", False),
    ],
)
def test_root_of_trust_url_rule(url, trusted):
    from sksurv_ecg.datasets._download import _check_trusted_url

    if trusted:
        _check_trusted_url(url, what="the list")
    else:
        with pytest.raises(ValueError, match=r"the list would come from .* not HTTPS"):
            _check_trusted_url(url, what="the list")


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ("../x", "'..'"),
        ("a/../../x", "'..'"),
        ("./x", "'.'"),
        ("/etc/passwd", "absolute"),
        ("C:/x", "drive"),
        ("c:x", "drive"),
        ("a\\b", "backslash"),
        ("a//b", "empty component"),
        ("a/", "empty component"),
        ("", "empty"),
        ("a\x00b", "NUL"),
    ],
)
def test_safe_path_rule(tmp_path, entry, problem):
    from sksurv_ecg.datasets._download import _safe_target

    with pytest.raises(UnsafePathError, match=problem):
        _safe_target(tmp_path, entry, source="the test server")
    assert _safe_target(tmp_path, "records500/00000/x.dat", source="s") == tmp_path / "records500/00000/x.dat"
