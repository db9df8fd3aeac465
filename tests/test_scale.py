"""Out-of-core cohorts: to_memmap (resumable ECG files -> .npy) and estimators streaming from a memmap."""

import json

import numpy as np
import pandas as pd
import pytest
from skorch.dataset import Dataset

import sksurv_ecg.io._memmap as ecg_memmap
from sksurv_ecg import ECGSurvivalAnalysis
from sksurv_ecg.datasets import load_ptbxl, ptbxl_records
from sksurv_ecg.io import read_wfdb, to_memmap
from sksurv_ecg.utils.estimator_checks import survival_check_data
from sksurv_ecg.utils.validation import validate_ecg


# --- to_memmap -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ptbxl_in_memory(ptbxl_dir):
    return load_ptbxl(ptbxl_dir)


def test_to_memmap_ptbxl_download_matches_load_ptbxl(tmp_path, ptbxl_in_memory, ptbxl_dir):
    X_ref, frame = ptbxl_in_memory
    X = to_memmap(ptbxl_records(ptbxl_dir), tmp_path / "ptbxl.npy")
    assert isinstance(X, np.memmap)
    assert X.mode == "r"
    assert X.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(X), X_ref)
    manifest = pd.read_csv(tmp_path / "ptbxl.records.csv")
    assert manifest["record"].tolist() == frame.index.tolist()  # ids are PTB-XL's ecg_id
    progress = json.loads((tmp_path / "ptbxl.progress.json").read_text())
    assert progress["complete"]
    assert progress["n_done"] == len(frame)


@pytest.mark.parametrize("source", ["folder", "list"])
def test_to_memmap_folder_and_list(tmp_path, source, ptbxl_dir, ptbxl_records500):
    src = ptbxl_dir / "records500" if source == "folder" else [str(r) + ".hea" for r in ptbxl_records500]
    X = to_memmap(src, tmp_path / "x.npy", length=1000)
    np.testing.assert_array_equal(np.asarray(X), read_wfdb(ptbxl_records500, length=1000))
    ids = pd.read_csv(tmp_path / "x.records.csv", dtype=str)["record"].tolist()
    if source == "folder":
        assert ids == [r.relative_to(ptbxl_dir / "records500").as_posix() for r in ptbxl_records500]
    else:
        assert ids == [str(r) for r in ptbxl_records500]


def test_to_memmap_resumes_after_interruption(tmp_path, monkeypatch, ptbxl_records500):
    """Killed after 8 reads with a checkpoint every 3: the rerun redoes 2 records, loses none."""
    read_one = ecg_memmap._read_one
    calls = []

    def failing(record, *args):
        calls.append(record)
        if len(calls) == 8:
            raise KeyboardInterrupt
        return read_one(record, *args)

    monkeypatch.setattr(ecg_memmap, "_read_one", failing)
    path = tmp_path / "x.npy"
    with pytest.raises(KeyboardInterrupt):
        to_memmap(ptbxl_records500, path, checkpoint_every=3)
    progress = json.loads((tmp_path / "x.progress.json").read_text())
    assert progress["n_done"] == 6
    assert not progress["complete"]

    calls.clear()
    monkeypatch.setattr(
        ecg_memmap, "_read_one", lambda record, *args: (calls.append(record), read_one(record, *args))[1]
    )
    X = to_memmap(ptbxl_records500, path, checkpoint_every=3)
    assert calls == ptbxl_records500[6:]  # continues after the last checkpoint
    np.testing.assert_array_equal(np.asarray(X), read_wfdb(ptbxl_records500))

    calls.clear()
    to_memmap(ptbxl_records500, path, checkpoint_every=3)  # finished: just opened
    assert calls == []


def test_to_memmap_refuses_foreign_file_and_changed_settings(tmp_path, ptbxl_records500):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(FileExistsError, match="overwrite=True"):
        to_memmap(ptbxl_records500[:2], path)
    X = to_memmap(ptbxl_records500[:2], path, overwrite=True)
    assert X.shape == (2, 12, 5000)
    with pytest.raises(ValueError, match=r"differing: \['settings'\]"):
        to_memmap(ptbxl_records500[:2], path, units="uV")
    with pytest.raises(ValueError, match="records_sha256"):
        to_memmap(ptbxl_records500[:3], path)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        pytest.param({"checkpoint_every": 0}, ValueError, "checkpoint_every=0", id="checkpoint_every"),
        pytest.param({"length": -1}, ValueError, "length=-1", id="length"),
    ],
)
def test_to_memmap_bad_parameters(tmp_path, kwargs, error, match, ptbxl_records500):
    with pytest.raises(error, match=match):
        to_memmap(ptbxl_records500[:1], tmp_path / "x.npy", **kwargs)


def test_to_memmap_empty_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="holds no ECG file in a supported format"):
        to_memmap(tmp_path, tmp_path / "x.npy")


# --- estimators on a memmap ------------------------------------------------------------------
@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    X, y = survival_check_data(n_samples=32, n_leads=12, n_timesteps=64)
    path = tmp_path_factory.mktemp("memmap") / "cohort.npy"
    mm = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=X.shape)
    mm[:] = X
    mm.flush()
    del mm
    return X, np.load(path, mmap_mode="r"), y


def test_validation_and_dataset_do_not_copy_a_memmap(cohort):
    """validate_data's np.asarray of a float32 memmap is a view; skorch's Dataset keeps it."""
    _, X_mm, _ = cohort
    est = ECGSurvivalAnalysis()
    X_checked = validate_ecg(est, X_mm, reset=True)
    assert np.shares_memory(X_checked, X_mm)
    assert np.shares_memory(Dataset(X_checked, None).X, X_mm)


@pytest.fixture(scope="module")
def reference(cohort, tiny_net):
    """A fit on the in-memory copy: what every memmap-backed fit must reproduce exactly."""
    X, _, y = cohort
    return ECGSurvivalAnalysis(**tiny_net).fit(X, y).predict(X)


def test_fit_on_memmap_equals_fit_in_memory(cohort, reference, tiny_net):
    _, X_mm, y = cohort
    np.testing.assert_array_equal(ECGSurvivalAnalysis(**tiny_net).fit(X_mm, y).predict(X_mm), reference)


def test_dataloader_workers_on_memmap_are_seeded(cohort, reference, tiny_net):
    """Batches and lead masks are drawn in the main process: workers change nothing but speed."""
    _, X_mm, y = cohort
    model = ECGSurvivalAnalysis(**tiny_net, iterator_train__num_workers=2, iterator_train__persistent_workers=True)
    assert model.lead_mask_prob > 0  # the default: masks are drawn, and their draws must not move to the workers
    np.testing.assert_array_equal(model.fit(X_mm, y).predict(X_mm), reference)
    assert "iterator_train__num_workers" in model.get_params()
