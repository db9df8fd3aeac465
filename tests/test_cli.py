"""The sksurv-ecg command, as `make demo` runs it (smallest settings)."""

import json

import numpy as np
import pytest
from sksurv.util import Surv

from sksurv_ecg import ECGSurvivalAnalysis, load_estimator
from sksurv_ecg._cli import main
from sksurv_ecg.datasets import make_ecg_survival


def test_demo_runs_end_to_end_and_writes_its_outputs(tmp_path, capsys):
    status = main(["demo", "--out", str(tmp_path), "--n-samples", "80", "--epochs", "1", "--pretrain-epochs", "1"])
    assert status == 0
    out = capsys.readouterr().out
    for stage in range(1, 8):
        assert f"[{stage}/7]" in out
    assert "too few to estimate calibration" in out  # 24 held-out ECGs; the default 500 report C, slope, ICI
    rows = json.loads((tmp_path / "comparison.json").read_text())
    assert [r["method"].split(",")[0] for r in rows][0] == "Cox PH"
    floor, ceiling = rows[0]["c_index_mean"], rows[-1]["c_index_mean"]
    assert ceiling > floor  # the oracle Cox on the true hazard features beats age + sex
    for name in ("attention_real_record.png", "lead_attention_risk_groups.png", "kaplan_meier_risk_groups.png"):
        assert (tmp_path / name).stat().st_size > 1000
    assert isinstance(load_estimator(tmp_path / "model"), ECGSurvivalAnalysis)


def test_fit_command_on_npy_files(tmp_path):
    X, y, _ = make_ecg_survival(40, fs=125, random_state=0)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "time.npy", y["time"])
    np.save(tmp_path / "event.npy", y["event"])
    args = ["fit", "--X", str(tmp_path / "X.npy"), "--time", str(tmp_path / "time.npy")]
    args += ["--event", str(tmp_path / "event.npy"), "--out", str(tmp_path / "m"), "--epochs", "1"]
    args += ["--batch-size", "16", "--device", "cpu"]
    assert main(args) == 0
    model = load_estimator(tmp_path / "m")
    assert model.predict(X).shape == (40,)
    assert 0 <= model.score(X, Surv.from_arrays(y["event"], y["time"])) <= 1


def test_unknown_arguments_are_an_error():
    with pytest.raises(SystemExit):
        main(["demo", "--no-such-flag"])


def test_benchmark_subcommand_is_gone(capsys):
    """The wheel does not ship benchmarks/, so the CLI does not pretend to run them."""
    with pytest.raises(SystemExit) as info:
        main(["benchmark", "--quick"])
    assert info.value.code == 2
    assert "invalid choice: 'benchmark'" in capsys.readouterr().err
