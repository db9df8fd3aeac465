"""fetch_code15 / fetch_samitrop against a Zenodo stand-in and fetch_mimic_iv_ecg against a PhysioNet one.

The Zenodo stand-in serves ``api/records/<id>`` in the shape of Zenodo's record API (``files:
[{key, size, checksum: "md5:<hex>", links: {self: <download URL>}}]``) and the files at the
links it gives; the zips hold tiny HDF5 files written with h5py. Every test lists the whole
temporary tree: nothing is written outside ``data_home``.
"""

import hashlib
import io
import json
import stat
import zipfile

import h5py
import numpy as np
import pytest
from _physionet_server import PhysioNetServer
from _zenodo_server import Zenodo

from sksurv_ecg.datasets import ChecksumMismatchError, fetch_code15, fetch_mimic_iv_ecg, fetch_samitrop
from sksurv_ecg.exceptions import UnsafePathError

CODE15 = 4916206
SAMITROP = 4905618


def _hdf5(n, first_id):
    buffer = io.BytesIO()
    rng = np.random.default_rng(first_id)
    with h5py.File(buffer, "w") as f:
        f.create_dataset("tracings", data=rng.normal(size=(n, 4096, 12)).astype(np.float32) * 0)
        f.create_dataset("exam_id", data=np.arange(first_id, first_id + n))
    return buffer.getvalue()


def _zip(members):
    """``members``: {name: bytes}, or {name: ("symlink", target)} for a symbolic-link entry."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            if isinstance(data, tuple):
                info = zipfile.ZipInfo(name)
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
                zf.writestr(info, data[1])
            else:
                zf.writestr(name, data)
    return buffer.getvalue()


def _code15_files(n_parts=2):
    table = b"exam_id,age,is_male,death,timey,patient_id,trace_file\n1,60,True,False,5.1,10,exams_part0.hdf5\n"
    files = {"exams.csv": table}
    for i in range(n_parts):
        files[f"exams_part{i}.zip"] = _zip({f"exams_part{i}.hdf5": _hdf5(2, 10 * i + 1)})
    return files


def _tree(path):
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file() or p.is_symlink())


def _outside(tmp_path, home):
    return [rel for rel in _tree(tmp_path) if not (tmp_path / rel).is_relative_to(home)]


def test_code15_one_part_unzipped_then_rerun_downloads_nothing(tmp_path):
    home = tmp_path / "home"
    files = _code15_files()
    with Zenodo({CODE15: files}) as zenodo:
        root = fetch_code15(home, parts=[0], base_url=zenodo.url, verbose=False)
        assert root == home / "code-15" / "1.0.0"
        assert sorted(p.name for p in root.iterdir() if not p.name.startswith(".")) == [
            "exams.csv",
            "exams_part0.hdf5",
        ]  # part 1 not fetched, the zip deleted after extraction (keep_archives=False)
        assert not any("exams_part1" in path for path in zenodo.requests())
        with h5py.File(root / "exams_part0.hdf5", "r") as f:
            assert f["tracings"].shape == (2, 4096, 12)
            np.testing.assert_array_equal(f["exam_id"][:], [1, 2])
        assert (root / "exams.csv").read_bytes() == files["exams.csv"]

        before = len(zenodo.requests())
        assert fetch_code15(home, parts=0, base_url=zenodo.url, verbose=False) == root
        assert zenodo.requests()[before:] == []
    # Offline: the listing and the extracted part are enough.
    assert fetch_code15(home, parts=[0], download_if_missing=False, verbose=False) == root
    with pytest.raises(OSError, match="download_if_missing=False"):
        fetch_code15(home, parts=[1], download_if_missing=False, verbose=False)
    assert _outside(tmp_path, home) == []


def test_code15_resumes_a_dropped_zip_and_keeps_archives(tmp_path):
    files = _code15_files(1)
    key = "exams_part0.zip"
    with Zenodo({CODE15: files}) as zenodo:
        path = zenodo.content(CODE15, key)
        zenodo.server.drop_after[path] = len(files[key]) // 3
        root = fetch_code15(tmp_path, parts=[0], keep_archives=True, base_url=zenodo.url, verbose=False)
        ranges = [r for p, r in zenodo.server.requests if p == path]
    assert ranges == [None, f"bytes={len(files[key]) // 3}-"]
    assert (root / key).read_bytes() == files[key]
    assert (root / "exams_part0.hdf5").is_file()


def test_samitrop_and_a_record_without_version(tmp_path):
    files = {"exams.csv": b"exam_id,age,is_male,normal_ecg,death,timey\n1,50,False,True,False,3.0\n"}
    files["exams.zip"] = _zip({"exams.hdf5": _hdf5(3, 1)})
    with Zenodo({SAMITROP: files}, version=None) as zenodo:
        root = fetch_samitrop(tmp_path, base_url=zenodo.url, verbose=False)
    assert root == tmp_path / "sami-trop" / f"zenodo-{SAMITROP}"
    with h5py.File(root / "exams.hdf5", "r") as f:
        assert f["tracings"].shape == (3, 4096, 12)
    assert not (root / "exams.zip").exists()


@pytest.mark.parametrize(
    "members",
    [
        pytest.param({"../evil.hdf5": b"x"}, id="dotdot"),
        pytest.param({"ok/../../evil.hdf5": b"x"}, id="dotdot-inside"),
        pytest.param({"/tmp/sksurv_ecg_evil_zip.hdf5": b"x"}, id="absolute"),
        pytest.param({"exams_part0.hdf5": b"x", "link": ("symlink", "../../../../evil")}, id="symlink"),
        pytest.param({"exams_part0.hdf5": b"x", "exams.csv": b"forged"}, id="replaces-a-listed-file"),
    ],
)
def test_zip_members_outside_are_refused_before_extraction(tmp_path, members):
    home = tmp_path / "home"
    files = _code15_files(1)
    files["exams_part0.zip"] = _zip(members)
    with Zenodo({CODE15: files}) as zenodo:
        with pytest.raises(UnsafePathError, match=r"exams_part0\.zip"):
            fetch_code15(home, parts=[0], base_url=zenodo.url, verbose=False)
        root = home / "code-15/1.0.0"
        assert not (root / "exams_part0.hdf5").exists()  # nothing extracted, not even the safe member
        assert not [p for p in root.iterdir() if "extract" in p.name]
        assert _outside(tmp_path, home) == []
        # The server is fixed: the next call extracts the good archive, no clean-up needed.
        zenodo.records = {CODE15: _code15_files(1)}
        zenodo.publish()
        fetch_code15(home, parts=[0], base_url=zenodo.url, verbose=False)
    assert (root / "exams_part0.hdf5").is_file()
    assert _outside(tmp_path, home) == []


def test_symlink_in_the_release_folder_is_not_followed_by_extraction(tmp_path):
    home, elsewhere = tmp_path / "home", tmp_path / "elsewhere"
    elsewhere.mkdir()
    files = _code15_files(1)
    files["exams_part0.zip"] = _zip({"data/exams_part0.hdf5": _hdf5(1, 1)})
    root = home / "code-15/1.0.0"
    root.mkdir(parents=True)
    (root / "data").symlink_to(elsewhere, target_is_directory=True)
    with Zenodo({CODE15: files}) as zenodo, pytest.raises(UnsafePathError, match="symbolic link"):
        fetch_code15(home, parts=[0], base_url=zenodo.url, verbose=False)
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize(
    ("override", "error", "match"),
    [
        pytest.param(lambda d: {**d, "files": [{**d["files"][0], "key": "../../evil.csv"}]}, UnsafePathError, "evil"),
        pytest.param(
            lambda d: {**d, "files": [{**d["files"][0], "links": {"self": "https://elsewhere.example/x"}}]},
            ValueError,
            "elsewhere.example",
        ),
        pytest.param(lambda d: {**d, "files": [{**d["files"][0], "checksum": "sha1:00"}]}, ValueError, "md5"),
        pytest.param(lambda d: "<html>Zenodo is down</html>", ValueError, "not JSON"),
    ],
)
def test_bad_listing_is_refused_and_not_kept(tmp_path, override, error, match):
    home = tmp_path / "home"
    with Zenodo({CODE15: _code15_files(1)}) as zenodo:
        listing = f"api/records/{CODE15}"
        good = zenodo.server.files[listing]
        data = override(json.loads(good))
        zenodo.server.files[listing] = data.encode() if isinstance(data, str) else json.dumps(data).encode()
        with pytest.raises(error, match=match):
            fetch_code15(home, parts=[0], base_url=zenodo.url, verbose=False)
        assert _tree(tmp_path) == []  # not even the listing
        zenodo.server.files[listing] = good
        root = fetch_code15(home, parts=[0], base_url=zenodo.url, verbose=False)
    assert (root / "exams_part0.hdf5").is_file()
    assert _outside(tmp_path, home) == []


def test_zenodo_md5_failures_are_listed_together(tmp_path):
    files = _code15_files(2)
    with Zenodo({CODE15: files}) as zenodo:
        for key in ("exams_part0.zip", "exams_part1.zip"):
            zenodo.server.corrupt[zenodo.content(CODE15, key)] = 99
        with pytest.raises(ChecksumMismatchError, match=r"2 of 3 CODE-15% files failed(.|\n)*part0(.|\n)*part1"):
            fetch_code15(tmp_path, parts=[0, 1], base_url=zenodo.url, verbose=False)
    assert (tmp_path / "code-15/1.0.0/exams.csv").is_file()


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"parts": [18]}, ValueError, r"0\.\.17"),
        ({"parts": []}, ValueError, "non-empty"),
        ({"parts": "0"}, TypeError, "parts='0'"),
        ({"keep_archives": 1}, TypeError, "keep_archives=1"),
        ({"base_url": "http://zenodo.org/"}, ValueError, "not HTTPS"),
    ],
)
def test_code15_bad_arguments(tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        fetch_code15(tmp_path, verbose=False, **kwargs)
    assert _tree(tmp_path) == []


# MIMIC-IV-ECG ---------------------------------------------------------------------------------------------------------

_MIMIC = [(10000032, 40689238), (10000032, 44458630), (10000117, 45090959)]


def _mimic_files(extra=()):
    rows = [(subject, study, f"files/p{str(subject)[:4]}/p{subject}/s{study}/{study}") for subject, study in _MIMIC]
    rows += list(extra)
    table = "subject_id,study_id,file_name,ecg_time,path\n" + "".join(
        f"{subject},{study},{study},2180-07-23 08:44:00,{path}\n" for subject, study, path in rows
    )
    files = {"record_list.csv": table.encode(), "machine_measurements.csv": b"subject_id,study_id,rr_interval\n"}
    for _, study, path in rows:
        files[f"{path}.hea"] = f"{study} 12 500 5000\n".encode()
        files[f"{path}.dat"] = bytes([study % 251]) * 96
    files["SHA256SUMS.txt"] = "".join(f"{hashlib.sha256(d).hexdigest()} {rel}\n" for rel, d in files.items()).encode()
    return files


def _records(root):
    return sorted(p.relative_to(root).as_posix() for p in (root / "files").rglob("*") if p.is_file())


def test_mimic_by_subject_then_rerun_downloads_nothing(tmp_path):
    with PhysioNetServer(_mimic_files(), release="mimic-iv-ecg/1.0") as server:
        root = fetch_mimic_iv_ecg(tmp_path, subject_ids=[10000032], base_url=server.url, n_jobs=2, verbose=False)
        assert root == tmp_path / "mimic-iv-ecg" / "1.0"
        assert _records(root) == [
            "files/p1000/p10000032/s40689238/40689238.dat",
            "files/p1000/p10000032/s40689238/40689238.hea",
            "files/p1000/p10000032/s44458630/44458630.dat",
            "files/p1000/p10000032/s44458630/44458630.hea",
        ]
        assert (root / "machine_measurements.csv").is_file()
        before = len(server.requests)
        fetch_mimic_iv_ecg(tmp_path, subject_ids=10000032, base_url=server.url, verbose=False)
        assert server.requests[before:] == []
        fetch_mimic_iv_ecg(tmp_path, max_records=1, base_url=server.url, verbose=False)  # a subset of what is there
        assert server.requests[before:] == []
        rec = "files/p1000/p10000117/s45090959/45090959"
        fetch_mimic_iv_ecg(tmp_path, records=[rec + ".hea"], base_url=server.url, verbose=False)
    assert (root / f"{rec}.dat").is_file()


def test_mimic_record_list_naming_a_path_outside_is_refused(tmp_path):
    home = tmp_path / "home"
    files = _mimic_files(extra=[(1, 2, "../../../evil")])
    files = {k: v for k, v in files.items() if "evil" not in k}  # the sums stay clean: the CSV alone is hostile
    files["SHA256SUMS.txt"] = "".join(
        f"{hashlib.sha256(d).hexdigest()} {rel}\n" for rel, d in files.items() if rel != "SHA256SUMS.txt"
    ).encode()
    with PhysioNetServer(files, release="mimic-iv-ecg/1.0") as server:
        with pytest.raises(UnsafePathError, match=r"'\.\./\.\./\.\./evil\.hea'"):
            fetch_mimic_iv_ecg(home, base_url=server.url, verbose=False)
        assert not [p for p, _ in server.requests if "evil" in p]
    assert _outside(tmp_path, home) == []


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"subject_ids": [1]}, ValueError, r"subject_ids \[1\] are not in"),
        ({"records": ["files/p1/x"]}, ValueError, "not paths of"),
        ({"records": "files/p1/x"}, TypeError, "records="),
        ({"max_records": 0}, ValueError, "max_records=0"),
        ({"max_records": 1, "subject_ids": [10000032]}, ValueError, "at most one"),
    ],
)
def test_mimic_bad_selection(tmp_path, kwargs, error, match):
    with PhysioNetServer(_mimic_files(), release="mimic-iv-ecg/1.0") as server, pytest.raises(error, match=match):
        fetch_mimic_iv_ecg(tmp_path, base_url=server.url, verbose=False, **kwargs)


def test_invenio_shaped_listing_is_read_too():
    from sksurv_ecg.datasets._download import _parse_zenodo_record

    api = "https://zenodo.org/api/records/4916206"
    entry = {"key": "exams.csv", "checksum": "md5:" + "a" * 32, "links": {"content": api + "/files/exams.csv/content"}}
    record = {"metadata": {"version": "1.0.0"}, "files": {"entries": {"exams.csv": entry}}}
    _, digests, urls = _parse_zenodo_record(json.dumps(record).encode(), source="s", api_url=api)
    assert digests == {"exams.csv": ("md5", "a" * 32)}
    assert urls == {"exams.csv": api + "/files/exams.csv/content"}


def test_mimic_progress_bar(tmp_path, capsys):
    with PhysioNetServer(_mimic_files(), release="mimic-iv-ecg/1.0") as server:
        fetch_mimic_iv_ecg(tmp_path, max_records=2, base_url=server.url, n_jobs=2, verbose=True)
    assert "MIMIC-IV-ECG" in capsys.readouterr().err
