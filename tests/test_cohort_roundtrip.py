"""Fetch then load: what ``fetch_code15`` / ``fetch_samitrop`` lay down is what the loaders read.

The releases are written by :mod:`cohort_fixtures` in each dataset's layout, zipped as Zenodo serves
them, and fetched from a Zenodo stand-in on 127.0.0.1.
"""

import io
import zipfile

import cohort_fixtures as cf
import numpy as np
import pytest
from _zenodo_server import Zenodo

from sksurv_ecg.datasets import fetch_code15, fetch_samitrop, load_code15, load_samitrop
from sksurv_ecg.exceptions import SksurvECGWarning


def _zipped(path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(path, path.name)
    return buffer.getvalue()


def _served(release, archives):
    """``{key: bytes}`` as Zenodo lists them: ``exams.csv`` plain, each HDF5 file zipped."""
    files = {"exams.csv": (release / "exams.csv").read_bytes()}
    for zip_name, hdf5_name in archives.items():
        files[zip_name] = _zipped(release / hdf5_name)
    return files


def test_fetched_code15_part_loads_like_the_release(tmp_path):
    source = cf.write_code15(tmp_path / "source")
    files = _served(source, {"exams_part0.zip": "exams_part0.hdf5", "exams_part1.zip": "exams_part1.hdf5"})
    with Zenodo({4916206: files}) as zenodo:
        root = fetch_code15(tmp_path / "home", parts=[0], base_url=zenodo.url, verbose=False)
    with pytest.warns(SksurvECGWarning):
        X, y, frame = load_code15(root, parts=[0], fs=400, length=4096)
    with pytest.warns(SksurvECGWarning):
        X_ref, y_ref, frame_ref = load_code15(source, parts=[0], fs=400, length=4096)
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)
    assert list(frame.index) == list(frame_ref.index)
    assert set(frame.index) <= {e for e, v in cf.CODE15_EXAMS.items() if v[3] == 0}


def test_fetched_samitrop_loads_like_the_release(tmp_path):
    source = cf.write_samitrop(tmp_path / "source")
    files = _served(source, {"exams.zip": "exams.hdf5"})
    with Zenodo({4905618: files}) as zenodo:
        root = fetch_samitrop(tmp_path / "home", base_url=zenodo.url, verbose=False)
    with pytest.warns(SksurvECGWarning):
        X, y, _ = load_samitrop(root)
    with pytest.warns(SksurvECGWarning):
        X_ref, y_ref, _ = load_samitrop(source)
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)
