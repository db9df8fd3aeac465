"""``sksurv-ecg pretrain`` end to end: download from a local PhysioNet stand-in, cache, train, resume."""

import json

import numpy as np
import pytest
from _physionet_server import PhysioNetServer, release_files, shared_ptbxl

from sksurv_ecg._cli import main

TINY = ["--module", "base_features=1", "--module", "latent_dim=8", "--module", "n_heads=1", "--module", "downsample=2"]


def _history(checkpoints):
    return json.loads((checkpoints / "history.json").read_text())


@pytest.mark.filterwarnings("ignore::sksurv_ecg.exceptions.SksurvECGWarning")
def test_pretrain_fetches_trains_and_resumes(tmp_path):
    out, checkpoints = tmp_path / "encoder", tmp_path / "ckpt"
    with PhysioNetServer(release_files(shared_ptbxl())) as server:
        common = [
            "pretrain",
            "--fetch",
            "--base-url",
            server.url,
            "--data-home",
            str(tmp_path / "home"),
            "--input",
            "median-beats",
            "--ecg-ids",
            "1",
            "2",
            "3",
            "4",
            "--text",
            "scp",
            "--batch-size",
            "4",
            "--lr",
            "0.003",
            "--device",
            "cpu",
            "--checkpoint-dir",
            str(checkpoints),
            "--out",
            str(out),
            *TINY,
        ]
        assert main([*common, "--epochs", "2"]) == 0  # stands for a run stopped after its second epoch
        first = _history(checkpoints)
        assert [row["epoch"] for row in first] == [1, 2]
        downloads = len(server.requests)
        assert main([*common, "--epochs", "3"]) == 0
        assert len(server.requests) == downloads  # the rerun downloads nothing and reuses the cache
    resumed = _history(checkpoints)
    assert [row["epoch"] for row in resumed] == [1, 2, 3]
    assert [row["train_loss"] for row in resumed[:2]] == [row["train_loss"] for row in first]
    assert np.load(tmp_path / "encoder-cache" / "beats-median-beats.npy", mmap_mode="r").shape == (4, 12, 608)

    from sksurv_ecg.survival import ECGSurvivalAnalysis

    assert ECGSurvivalAnalysis(encoder=str(out)).encoder == str(out)
    assert (out / "config.json").is_file() or any(out.iterdir())


def test_pretrain_needs_a_source(tmp_path):
    with pytest.raises(SystemExit, match="--ptbxl ROOT"):
        main(["pretrain", "--out", str(tmp_path / "x")])
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        main(["pretrain", "--ptbxl", str(shared_ptbxl()), "--module", "latent_dim", "--out", str(tmp_path / "x")])
