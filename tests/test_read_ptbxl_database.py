"""read_ptbxl_database: the public frame-only reader of a PTB-XL download (used by ``sksurv-ecg pretrain``)."""

import pytest

from sksurv_ecg.datasets import read_ptbxl_database


def test_frame_is_load_ptbxls_without_signals(ptbxl_dir, ptbxl_sample):
    _, expected = ptbxl_sample
    frame = read_ptbxl_database(ptbxl_dir, ecg_ids=expected.index.tolist())
    assert frame.index.tolist() == expected.index.tolist()
    assert frame["scp_codes"].tolist() == expected["scp_codes"].tolist()
    fold = int(expected["strat_fold"].iloc[0])
    assert set(read_ptbxl_database(ptbxl_dir, folds=[fold])["strat_fold"]) == {fold}


def test_refuses_a_folder_without_the_database(tmp_path):
    with pytest.raises(FileNotFoundError, match="ptbxl_database.csv"):
        read_ptbxl_database(tmp_path)


def test_refuses_an_unknown_fold(ptbxl_dir):
    with pytest.raises(ValueError, match="strat_fold runs from 1 to 10"):
        read_ptbxl_database(ptbxl_dir, folds=[11])
