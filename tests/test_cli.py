"""The sksurv-ecg command, as `make demo` runs it (smallest settings), and `fit` as a study runs it."""

import argparse
import json
import subprocess
import sys

import numpy as np
import pytest
from sklearn.model_selection import train_test_split
from sksurv.util import Surv

from sksurv_ecg import ECGSurvivalAnalysis, load_estimator
from sksurv_ecg._cli import _PRESETS, _parser, main
from sksurv_ecg.datasets import make_ecg_survival

TINY = ["--module", "base_features=1", "--module", "latent_dim=8", "--module", "n_heads=1", "--module", "downsample=2"]
# A synthetic cohort at 125 Hz, the tiny network, one epoch, few resamples: a study in a few seconds.
SMALL_STUDY = ["--synthetic", "48", "--fs", "125", "--event-rate", "0.5", "--preset", "cpu-small"]
SMALL_STUDY += ["--max-epochs", "1", "--batch-size", "12", "--device", "cpu", "--verbose", "0", "--n-resamples", "200"]
SMALL_STUDY += TINY


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


@pytest.mark.filterwarnings("ignore::sksurv_ecg.exceptions.BootstrapWarning")  # 8 held-out ECGs
def test_fit_command_on_npy_files(tmp_path):
    X, y, _ = make_ecg_survival(40, fs=125, random_state=0)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "time.npy", y["time"])
    np.save(tmp_path / "event.npy", y["event"])
    args = ["fit", "--X", str(tmp_path / "X.npy"), "--time", str(tmp_path / "time.npy")]
    args += ["--event", str(tmp_path / "event.npy"), "--out", str(tmp_path / "m"), "--epochs", "1"]
    args += ["--batch-size", "16", "--device", "cpu", "--n-resamples", "200", *TINY]
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


@pytest.mark.filterwarnings("ignore::sksurv_ecg.exceptions.BootstrapWarning")  # small held-out part
def test_fit_on_the_synthetic_cohort_writes_a_report(tmp_path, capsys):
    args = ["fit", *SMALL_STUDY, "--test-fraction", "0.25", "--validation-fraction", "0.25"]
    assert main([*args, "--out", str(tmp_path / "m")]) == 0
    report = json.loads((tmp_path / "m-report.json").read_text())  # next to the model by default
    _, y, _ = make_ecg_survival(48, fs=125, event_rate=0.5, random_state=0)
    _, test = train_test_split(np.arange(48), test_size=0.25, stratify=y["event"], random_state=0)
    assert report["n"] == 48
    assert report["events"] == int(y["event"].sum())
    assert report["evaluation"] == {
        "scheme": "holdout",
        "cv": None,
        "test_fraction": 0.25,
        "n": 12,
        "events": int(y["event"][test].sum()),
        "saved_model": "the model scored on the held-out part",
    }
    assert 0 <= report["c_index_low"] <= report["c_index"] <= report["c_index_high"] <= 1
    assert report["confidence_level"] == 0.95
    assert report["n_resamples"] == 200
    assert 0 <= report["n_invalid_resamples"] < 200
    assert report["fold_c_index"] == [report["c_index"]]
    # the default horizon: the median event time of the held-out ECGs
    assert report["horizon"] == pytest.approx(np.median(y["time"][test][y["event"][test]]))
    if report["calibration_error"] is None:
        assert report["calibration_slope"] is not None
        assert 0 <= report["ici"] <= 1
    else:  # a one-epoch tiny network may predict too few distinct risks for the spline: said, not hidden
        assert report["calibration_slope"] is None
        assert report["ici"] is None
    settings = report["settings"]
    assert settings["preset"] == "cpu-small"
    assert settings["lr"] == ECGSurvivalAnalysis.PRESETS["cpu-small"]["lr"]  # from the preset
    assert (settings["max_epochs"], settings["batch_size"], settings["fs"]) == (1, 12, 125.0)  # overridden
    assert settings["module__latent_dim"] == 8
    assert (settings["validation_fraction"], settings["calibration"]) == (0.25, "auto")
    assert report["sksurv_ecg_version"]
    assert "C = " in capsys.readouterr().out
    model = load_estimator(tmp_path / "m")
    # calibration="auto" with a validation split: calibrated on it, or, where it holds fewer than
    # MIN_CALIBRATION_EVENTS events (this tiny cohort may), the raw scale with a CalibrationWarning
    assert model.calibration_source_ in {"validation", "none"}
    assert model.predict(make_ecg_survival(3, fs=125, random_state=1)[0]).shape == (3,)


@pytest.mark.slow  # three fits
@pytest.mark.filterwarnings("ignore::sksurv_ecg.exceptions.BootstrapWarning")
def test_fit_out_of_fold_scores_every_ecg_and_refits(tmp_path):
    report_path = tmp_path / "reports" / "study.json"
    # 32 ECGs, batches of 16: one training step per fold, two for the refit
    args = ["fit", *SMALL_STUDY, "--synthetic", "32", "--batch-size", "16", "--cv", "2", "--horizon", "3"]
    args += ["--calibration", "none", "--out", str(tmp_path / "m"), "--report", str(report_path)]
    assert main(args) == 0
    report = json.loads(report_path.read_text())
    _, y, _ = make_ecg_survival(32, fs=125, event_rate=0.5, random_state=0)
    assert report["evaluation"]["scheme"] == "cv"
    assert report["evaluation"]["n"] == report["n"] == 32
    assert report["evaluation"]["events"] == report["events"] == int(y["event"].sum())
    assert len(report["fold_c_index"]) == 2
    assert all(0 <= c <= 1 for c in report["fold_c_index"])
    assert report["horizon"] == 3.0
    assert report["settings"]["calibration"] is None
    assert load_estimator(tmp_path / "m").calibration_source_ == "none"


def test_fit_refuses_a_bad_calibration_before_reading_data(tmp_path):
    with pytest.raises(SystemExit, match="'calibration' parameter of ECGSurvivalAnalysis"):
        main(["fit", "--X", "absent.npy", "--time", "t.npy", "--event", "e.npy", "--calibration", "sometimes",
              "--out", str(tmp_path / "m")])  # fmt: skip
    assert not (tmp_path / "m").exists()


def test_fit_refuses_a_horizon_past_the_follow_up_before_training(tmp_path):
    with pytest.raises(SystemExit, match="beyond the follow-up"):
        main(["fit", *SMALL_STUDY, "--horizon", "1000", "--out", str(tmp_path / "m")])
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        pytest.param([], "--X, --time and --event", id="no-data"),
        pytest.param(["--synthetic", "40", "--X", "x.npy"], "not both", id="files-and-synthetic"),
        pytest.param(["--synthetic", "40", "--cv", "3", "--test-fraction", "0.3"], "not both", id="cv-and-holdout"),
        pytest.param(["--synthetic", "40", "--cv", "1"], "at least 2 folds", id="one-fold"),
        pytest.param(["--synthetic", "40", "--test-fraction", "1.5"], "between 0 and 1", id="test-fraction"),
        pytest.param(["--synthetic", "40", "--preset", "gpu-huge"], "invalid choice", id="unknown-preset"),
    ],
)
def test_fit_refuses_contradictory_options(tmp_path, capsys, extra, message):
    with pytest.raises(SystemExit) as info:
        main(["fit", *extra, "--out", str(tmp_path / "m")])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_old_option_names_still_work():
    parser = _parser()
    old = parser.parse_args(["fit", "--synthetic", "9", "--out", "m", "--epochs", "3", "--seed", "7"])
    new = parser.parse_args(["fit", "--synthetic", "9", "--out", "m", "--max-epochs", "3", "--random-state", "7"])
    assert (old.max_epochs, old.random_state) == (new.max_epochs, new.random_state) == (3, 7)
    pretrain = parser.parse_args(["pretrain", "--out", "e", "--epochs", "2", "--seed", "5"])
    assert (pretrain.max_epochs, pretrain.random_state) == (2, 5)


@pytest.mark.parametrize(("text", "value"), [("none", None), ("None", None), ("5", 5), ("auto", "auto")])
def test_calibration_option_values(text, value):
    args = _parser().parse_args(["fit", "--synthetic", "9", "--out", "m", "--calibration", text])
    assert args.calibration == value


def test_presets_are_the_estimators():
    assert sorted(_PRESETS) == sorted(ECGSurvivalAnalysis.PRESETS)


def _all_parsers(parser):
    yield parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                yield from _all_parsers(sub)


def test_every_option_has_plain_help_text():
    for parser in _all_parsers(_parser()):
        texts = [parser.description or ""]
        for action in parser._actions:
            assert action.help, f"{parser.prog} {action.option_strings or action.dest} has no help text"
            texts.append(action.help)
        for text in texts:
            for markup in ("``", ":class:", ":func:", ":mod:"):
                assert markup not in text, text


def test_help_imports_no_heavy_library():
    """``--help`` must answer at once: torch, scikit-learn, skorch and sksurv wait until a command runs."""
    code = (
        "import contextlib, io, sys\n"
        "from sksurv_ecg.__main__ import main\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):\n"
        "    main(['fit', '--help'])\n"
        "print([m for m in ('torch', 'sklearn', 'skorch', 'sksurv') if m in sys.modules])\n"
        "print(out.getvalue())\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    heavy, _, help_text = result.stdout.partition("\n")
    assert heavy == "[]"
    options = ["--preset", "--lr", "--max-epochs", "--calibration", "--validation-fraction", "--random-state"]
    options += ["--test-fraction", "--cv", "--horizon", "--report", "--synthetic", "--epochs", "--seed"]
    for option in options:
        assert option in help_text
