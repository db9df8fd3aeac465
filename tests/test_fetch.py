"""fetch_ptbxl / fetch_ptbxl_plus against a local PhysioNet stand-in (RELIABILITY rows 54)."""

import hashlib

import numpy as np
import pytest
from _physionet_server import PhysioNetServer, release_files, shared_ptbxl

from sksurv_ecg.datasets import ChecksumMismatchError, fetch_ptbxl, fetch_ptbxl_plus, get_download_home, load_ptbxl

IDS = [1, 2, 6001]


@pytest.fixture
def physionet_ptbxl():
    """The shared PTB-XL records served in PhysioNet's layout on 127.0.0.1; stopped after the test."""
    with PhysioNetServer(release_files(shared_ptbxl())) as server:
        yield server


def _fetch(server, tmp_path, **kwargs):
    kwargs.setdefault("ecg_ids", IDS)
    return fetch_ptbxl(tmp_path, base_url=server.url, n_jobs=2, verbose=False, **kwargs)


def test_full_fetch_then_rerun_downloads_nothing(physionet_ptbxl, tmp_path):
    root = _fetch(physionet_ptbxl, tmp_path, ecg_ids=None)
    assert root == tmp_path / "ptb-xl" / "1.0.3"
    records = sorted(p.relative_to(root).as_posix() for p in root.rglob("*_hr.*"))
    assert len(records) == 28  # all 14 records of the served release, .hea + .dat
    for rel in records:  # byte-identical to what was served
        assert (root / rel).read_bytes() == physionet_ptbxl.files[rel]
    assert not list(root.rglob("*.part"))
    X, frame = load_ptbxl(root)
    X_ref, _ = load_ptbxl(shared_ptbxl())
    np.testing.assert_array_equal(X, X_ref)

    before = len(physionet_ptbxl.requests)
    assert _fetch(physionet_ptbxl, tmp_path, ecg_ids=None) == root
    assert physionet_ptbxl.requests[before:] == []


def test_only_the_records_asked_for(physionet_ptbxl, tmp_path):
    root = _fetch(physionet_ptbxl, tmp_path)
    dats = sorted(p.name for p in root.rglob("*.dat"))
    assert dats == ["00001_hr.dat", "00002_hr.dat", "06001_hr.dat"]
    X, frame = load_ptbxl(root, ecg_ids=IDS)
    assert X.shape == (3, 12, 5000)


def test_dropped_connection_is_resumed_with_range(physionet_ptbxl, tmp_path):
    rel = "records500/06000/06001_hr.dat"
    physionet_ptbxl.drop_after[rel] = 50_000
    root = _fetch(physionet_ptbxl, tmp_path)
    assert (root / rel).read_bytes() == physionet_ptbxl.files[rel]
    ranges = [r for path, r in physionet_ptbxl.requests if path == rel]
    assert ranges == [None, "bytes=50000-"]


def test_partial_file_from_an_interrupted_run_is_resumed(physionet_ptbxl, tmp_path):
    rel = "records500/00000/00002_hr.dat"
    _fetch(physionet_ptbxl, tmp_path, ecg_ids=[1])
    part = tmp_path / "ptb-xl/1.0.3" / (rel + ".part")
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(physionet_ptbxl.files[rel][:1234])
    root = _fetch(physionet_ptbxl, tmp_path, ecg_ids=[2])
    assert (root / rel).read_bytes() == physionet_ptbxl.files[rel]
    assert [r for path, r in physionet_ptbxl.requests if path == rel] == ["bytes=1234-"]


def test_corrupted_byte_is_fetched_again(physionet_ptbxl, tmp_path):
    rel = "records500/00000/00001_hr.dat"
    physionet_ptbxl.corrupt[rel] = 1
    root = _fetch(physionet_ptbxl, tmp_path)
    served = hashlib.sha256(physionet_ptbxl.files[rel]).hexdigest()
    assert hashlib.sha256((root / rel).read_bytes()).hexdigest() == served
    assert physionet_ptbxl.downloads(rel).count(rel) == 2


def test_corrupt_file_on_disk_is_never_used(physionet_ptbxl, tmp_path):
    rel = "records500/00000/00001_hr.dat"
    root = _fetch(physionet_ptbxl, tmp_path)
    damaged = bytearray((root / rel).read_bytes())
    damaged[100] ^= 1
    (root / rel).write_bytes(bytes(damaged))
    _fetch(physionet_ptbxl, tmp_path)
    assert (root / rel).read_bytes() == physionet_ptbxl.files[rel]


def test_persistently_corrupt_file_raises_and_is_not_kept(physionet_ptbxl, tmp_path):
    rel = "records500/00000/00002_hr.dat"
    physionet_ptbxl.corrupt[rel] = 99
    with pytest.raises(ChecksumMismatchError, match=r"PTB-XL record 2: 'records500/00000/00002_hr.dat'.*SHA-256"):
        _fetch(physionet_ptbxl, tmp_path)
    root = tmp_path / "ptb-xl/1.0.3"
    assert not (root / rel).exists()
    assert not (root / (rel + ".part")).exists()


def test_404_names_the_record(tmp_path):
    files = {k: v for k, v in _release().items() if k != "records500/06000/06001_hr.hea"}
    with PhysioNetServer(files) as server, pytest.raises(FileNotFoundError, match=r"PTB-XL record 6001: .*HTTP 404"):
        _fetch(server, tmp_path)


def _release():
    return release_files(shared_ptbxl())


def test_unknown_ecg_id_and_offline(physionet_ptbxl, tmp_path):
    with pytest.raises(ValueError, match=r"ecg_ids \[99999\] are not in this release"):
        _fetch(physionet_ptbxl, tmp_path, ecg_ids=[99999])
    with pytest.raises(OSError, match="download_if_missing=False"):
        fetch_ptbxl(tmp_path / "empty", base_url=physionet_ptbxl.url, download_if_missing=False)


def test_file_not_in_sums_is_refused(tmp_path):
    files = _release()
    files["SHA256SUMS.txt"] = b"".join(
        line for line in files["SHA256SUMS.txt"].splitlines(keepends=True) if not line.endswith(b"00001_hr.dat\n")
    )
    with PhysioNetServer(files) as server, pytest.raises(ChecksumMismatchError, match="not listed"):
        _fetch(server, tmp_path)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"sampling_rate": 250}, ValueError, "100 or 500 Hz"),
        ({"n_jobs": 0}, ValueError, "n_jobs=0"),
        ({"ecg_ids": "1"}, TypeError, "ecg_ids='1'"),
        ({"ecg_ids": [0]}, ValueError, "positive ints"),
    ],
)
def test_bad_arguments(tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        fetch_ptbxl(tmp_path, base_url="http://127.0.0.1:9/none/", **kwargs)


def test_download_home_env(tmp_path, monkeypatch):
    monkeypatch.setenv("SKSURV_ECG_DOWNLOADS", str(tmp_path / "d"))
    assert get_download_home() == tmp_path / "d"
    assert (tmp_path / "d").is_dir()
    assert get_download_home(tmp_path / "e") == tmp_path / "e"


def _plus_release(tmp_path):
    """A PTB-XL+ release in its layout: 12SL beats for 1 and 2 (5-digit stems), Uni-G for 1 (6-digit)."""
    from _physionet_server import release_files
    from ptbxl_plus_fixtures import write_ptbxl_plus

    folder = write_ptbxl_plus(tmp_path / "plus-src", twelve_sl=[1, 2], unig=[1])
    return release_files(folder)


def test_fetch_ptbxl_plus_median_beats(tmp_path):
    with PhysioNetServer(_plus_release(tmp_path), release="ptb-xl-plus/1.0.1") as server:
        root, missing = fetch_ptbxl_plus(
            tmp_path / "home", median_beats=("12sl", "unig"), ecg_ids=[1, 2, 3], base_url=server.url, verbose=False
        )
        assert missing == {"12sl": [3], "unig": [2, 3]}
        got = sorted(p.relative_to(root).as_posix() for p in root.rglob("*_medians.*"))
        assert got == [
            "median_beats/12sl/00000/00001_medians.dat",
            "median_beats/12sl/00000/00001_medians.hea",
            "median_beats/12sl/00000/00002_medians.dat",
            "median_beats/12sl/00000/00002_medians.hea",
            "median_beats/unig/00000/000001_medians.dat",
            "median_beats/unig/00000/000001_medians.hea",
        ]
        before = len(server.requests)
        fetch_ptbxl_plus(tmp_path / "home", median_beats="12sl", base_url=server.url, verbose=False)
        assert server.requests[before:] == []


# PTB-XL+ median beats through load_ptbxl(median_beats=...)


def test_load_ptbxl_median_beats_12sl(tmp_path):
    import wfdb
    from ptbxl_plus_fixtures import beat, write_ptbxl_plus

    from sksurv_ecg.exceptions import SksurvECGWarning

    plus = write_ptbxl_plus(tmp_path, twelve_sl=[1, 2])
    with pytest.raises(Exception, match="record line"):  # the release's header, as wfdb alone meets it
        wfdb.rdrecord(str(plus / "median_beats/12sl/00000/00001_medians"))
    with pytest.warns(SksurvECGWarning, match=r"1 of 3 records have no PTB-XL\+ 12sl median beat \(e.g. ecg_id \[3\]"):
        X, frame = load_ptbxl(shared_ptbxl(), ecg_ids=[1, 3, 2], median_beats="12sl", plus_root=plus)
    assert X.shape == (3, 12, 608)
    assert frame["median_beat"].tolist() == [True, False, True]
    assert np.isnan(X[1]).all()
    for row, ecg_id in ((0, 1), (2, 2)):
        np.testing.assert_allclose(X[row, :, 4:604], beat(ecg_id), atol=1e-3)
        assert (X[row, :, :4] == 0).all()
        assert (X[row, :, 604:] == 0).all()


def test_load_ptbxl_median_beats_unig_reordered_and_rescaled(tmp_path):
    from ptbxl_plus_fixtures import UNIG_ORDER, beat, write_ptbxl_plus

    from sksurv_ecg.exceptions import SksurvECGWarning

    assert UNIG_ORDER[0] != "I"  # the fixture stores its leads in another order than PTB-XL's
    plus = write_ptbxl_plus(tmp_path, unig=[2])
    with pytest.warns(SksurvECGWarning, match="1 of 1 Uni-G median beats .* divided by 1000"):
        X, frame = load_ptbxl(shared_ptbxl(), ecg_ids=[2], median_beats="unig", plus_root=plus)
    np.testing.assert_allclose(X[0, :, 4:604], beat(2), atol=1e-3)
    with pytest.raises(ValueError, match="median_beats='mean'"):
        load_ptbxl(shared_ptbxl(), ecg_ids=[2], median_beats="mean", plus_root=plus)
    with pytest.raises(FileNotFoundError, match="pass plus_root="):
        load_ptbxl(shared_ptbxl(), ecg_ids=[2], median_beats="12sl", plus_root=plus)
