"""Smoke tests of the accuracy benchmarks: smallest presets, JSON schema, floor < ceiling."""

import importlib.util
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from sksurv_ecg.exceptions import TrainingWarning

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"_bench_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cox_baselines():
    return _load("cox_baselines")


@pytest.fixture(scope="module")
def paper_protocol():
    return _load("paper_protocol")


@pytest.fixture(scope="module")
def cox_run(cox_baselines, tmp_path_factory):
    out = tmp_path_factory.mktemp("cox")
    argv = ["--quick", "--n-samples", "200", "--max-epochs", "1", "--pretrain-epochs", "1", "--text", "onehot"]
    argv += ["--n-resamples", "30"]
    result = cox_baselines.main([*argv, "--out", str(out), "--verbose", "0"])
    return result, out


def test_cox_baselines_schema(cox_baselines, cox_run):
    result, out = cox_run
    on_disk = json.loads((out / "cox_baselines.json").read_text())
    assert on_disk["benchmark"] == "cox_baselines"
    assert set(on_disk["methods"]) == set(cox_baselines.METHOD_LABELS)
    for entry in on_disk["methods"].values():
        assert {"label", "seconds", "harrell", "uno", "ibs"} <= set(entry)
        for metric in ("harrell", "uno", "ibs"):
            assert set(entry[metric]) == {"mean", "std", "n"}
            assert np.isfinite(entry[metric]["mean"])
        assert 0 <= entry["harrell"]["mean"] <= 1
        assert 0 <= entry["ibs"]["mean"] <= 0.5
    assert on_disk["n_samples"] == 200
    assert 0 < on_disk["tau"] <= max(on_disk["ibs_times"]) + 1e-9
    assert {"seconds", "data"} <= set(on_disk["pretraining"]["recon"])
    # two tables: cross-validated means, then intervals, paired differences and calibration
    assert (out / "cox_baselines.md").read_text().count("\n| ") == 2 * (len(cox_baselines.METHOD_LABELS) + 1)
    evidence = on_disk["evidence"]
    assert on_disk["best_simple_baseline"] in cox_baselines.SIMPLE_METHODS
    for method, entry in evidence.items():
        assert entry["c_low"] <= entry["c_pooled"] <= entry["c_high"]
        assert np.isfinite(entry["ici"])
        assert ("diff" in entry) == (method != on_disk["best_simple_baseline"])
    assert (out / "cox_baselines.png").stat().st_size > 1000


def test_oracle_beats_clinical_floor(cox_run):
    methods = cox_run[0]["methods"]
    assert methods["oracle"]["harrell"]["mean"] > methods["clinical"]["harrell"]["mean"] + 0.05


def test_cox_baselines_user_cohort(cox_baselines, tmp_path):
    from sksurv_ecg.datasets import make_ecg_survival

    X, y, _ = make_ecg_survival(120, fs=250, n_timesteps=304, event_rate=0.3, random_state=5)
    for name, array in (("X", X), ("time", y["time"]), ("event", y["event"])):
        np.save(tmp_path / f"{name}.npy", array)
    argv = [f"--{name}={tmp_path / name}.npy" for name in ("X", "time", "event")]
    argv += ["--quick", "--methods", "clinical", "biomarkers_coxnet", "oracle"]
    result = cox_baselines.main([*argv, "--out", str(tmp_path), "--verbose", "0"])
    assert list(result["methods"]) == ["biomarkers_coxnet"]  # clinical and oracle need the synthetic truth
    assert result["n_samples"] == 120


def test_paper_protocol_quick(paper_protocol, tmp_path):
    argv = ["--quick", "--n-samples", "120", "--seeds", "42", "2021", "--max-epochs", "1", "--verbose", "0"]
    result = paper_protocol.main([*argv, "--out", str(tmp_path)])
    on_disk = json.loads((tmp_path / "paper_protocol.json").read_text())
    assert on_disk["benchmark"] == "paper_protocol"
    assert set(on_disk["fold_c_index"]) == {"42", "2021"}
    assert all(len(v) == 2 for v in on_disk["fold_c_index"].values())
    assert on_disk["settings"]["validation_fraction"] == 0.2
    assert on_disk["settings"]["selection"] == "c_index"
    expected = paper_protocol.aggregate(result["fold_c_index"])
    assert on_disk["c_index"] == pytest.approx(expected["c_index"])
    assert 0 <= on_disk["c_index"] <= 1


def test_paper_protocol_aggregation_reproduces_the_seed():
    folds = {
        42: [0.4943, 0.6701],
        2021: [0.5874, 0.5479],
        2022: [0.6468, 0.6093],
        2023: [0.6478, 0.3953],
        2024: [0.5656, 0.6407],
    }
    summary = _load("paper_protocol").aggregate(folds)
    assert summary["c_index"] == pytest.approx(0.5805, abs=5e-5)
    assert summary["c_index_std"] == pytest.approx(0.058, abs=5e-4)
    assert summary["std_of_seed_means"] == pytest.approx(np.std([0.5822, 0.56765, 0.62805, 0.52155, 0.60315]), abs=1e-4)


def test_throughput_smoke():
    # a tiny run of the fast-vs-reference benchmark: schema, parity asserted by the script, ratios;
    # bf16 too where the CPU has bfloat16 arithmetic (emulated, it doubles the run for no new code)
    import subprocess
    import sys

    from sksurv_ecg.utils.validation import bf16_is_native

    precision = "both" if bf16_is_native("cpu") else "fp32"
    argv = ["--batch-size", "8", "--steps", "1", "--warmup", "0", "--precision", precision, "--threads", "1"]
    argv += ["--floor-calls", "1"]
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "throughput.py"), *argv], capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout)
    paths = {"reference_fp32", "fast_fp32"} | ({"fast_bf16"} if precision == "both" else set())
    assert set(result["train_ecg_per_s"]) == paths
    assert set(result["infer_ecg_per_s"]) == paths
    assert result["machine"]["bf16_native"] is (precision == "both")
    assert result["train_speedup_vs_reference"]["reference_fp32"] == 1.0
    assert all(v > 0 for v in result["infer_speedup_vs_reference"].values())
    assert result["parity_fp32"]["max_abs_dev_z"] < 1e-4
    assert isinstance(result["machine"]["allocator_env"], dict)
    low, mid, high = result["step_ms_min_median_max"]["train"]["fast_fp32"]
    assert 0 < low <= mid <= high
    if precision == "both":
        assert 0.5 <= result["bf16_check"]["c_index_bf16"] <= 1.0
    else:
        assert result["bf16_check"] is None
    # roofline: the model's maths at the machine's GEMM peak bound what any implementation could reach
    roof = result["roofline"]
    assert roof["model_gflop_per_batch"]["train"] > 2 * roof["model_gflop_per_batch"]["infer"] > 0
    for key, floor in roof["floor_ms"].items():
        task, precision = key.split("_")
        expected = 1000 * roof["model_gflop_per_batch"][task] / roof["gemm_peak_gflop_s"][precision]
        assert floor == pytest.approx(expected, rel=0.02, abs=0.1)
        assert roof["max_speedup_vs_reference"][key] > 0
    # bf16 has a roofline only where the machine has bfloat16 arithmetic (not emulated)
    with_roofline = {p for p in result["infer_ecg_per_s"] if result["machine"]["bf16_native"] or "bf16" not in p}
    assert set(roof["gemm_peak_gflop_s"]) == ({"fp32", "bf16"} if result["machine"]["bf16_native"] else {"fp32"})
    assert set(roof["fraction_of_peak"]["infer"]) == with_roofline
    assert all(0 < f < 1.5 for paths in roof["fraction_of_peak"].values() for f in paths.values())
    # eager floor: each path's GEMM time at the peak plus its other ops' bytes at the stream rate
    eager = result["eager_floor"]
    assert eager["stream_gb_s"] > 0
    for task in ("train", "infer"):
        assert set(eager["floor_ms"][task]) == with_roofline
        for path, floor in eager["floor_ms"][task].items():
            assert eager["traffic_gb_per_batch"][task][path] > 0
            assert floor == pytest.approx(eager["gemm_ms"][task][path] + eager["traffic_ms"][task][path], abs=0.2)
            assert eager["times_the_floor"][task][path] > 0
    assert eager["gflop_per_batch"]["train"]["reference_fp32"] == pytest.approx(
        roof["model_gflop_per_batch"]["train"], abs=0.01
    )
    # kernel floor: the convolutions (and the fused kernel) as measured, the rest ideal; it can only
    # lie at or above the eager floor's traffic part, and it says how far fusion alone could go
    kernel = result["kernel_floor"]
    for task in ("train", "infer"):
        assert set(kernel["floor_ms"][task]) == with_roofline
        for path, floor in kernel["floor_ms"][task].items():
            assert kernel["measured_ms"][task][path] > 0  # every path convolves
            assert floor >= kernel["measured_ms"][task][path] + eager["traffic_ms"][task][path] - 0.2
            assert kernel["max_speedup_vs_reference"][task][path] > 0


@pytest.mark.parametrize("script", ["fit_overhead.py", "bf16_fits.py"])
def test_benchmark_parses_its_arguments(script):
    # the default suite's check of the two benchmarks whose end-to-end smoke tests are slow
    import subprocess
    import sys

    done = subprocess.run([sys.executable, str(BENCHMARKS / script), "--help"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "--threads" in done.stdout


@pytest.mark.slow  # about 15 s: two fits in fresh processes
def test_fit_overhead_smoke(tmp_path):
    # the parts of a small fit add up: setup + epochs + baseline pass = total, cold and warm
    import subprocess
    import sys

    argv = ["--n-samples", "40", "--batch-size", "16", "--max-epochs", "2", "--threads", "1", "--repeat", "1"]
    subprocess.run(
        [sys.executable, str(BENCHMARKS / "fit_overhead.py"), *argv, "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads((tmp_path / "fit_overhead.json").read_text())
    assert result["import_s"] > 0
    assert result["torch_dynamo_import_s"] > 0
    for fit in (result["cold"], result["warm"]):
        assert len(fit["epoch_s"]) == 2
        assert fit["baseline_pass_s"] > 0
        parts = fit["setup_s"] + sum(fit["epoch_s"]) + fit["baseline_pass_s"]
        assert parts == pytest.approx(fit["total_s"], abs=0.01)


@pytest.mark.slow  # about 12 s: six fits, bf16 emulated on AVX2
def test_bf16_fits_smoke(tmp_path):
    # paired float32 / bf16 / float32-reference fits: one row per seed, summary over seeds, paired differences
    import subprocess
    import sys

    argv = ["--seeds", "2", "--n-samples", "60", "--max-epochs", "1", "--threads", "1", "--out", str(tmp_path)]
    subprocess.run([sys.executable, str(BENCHMARKS / "bf16_fits.py"), *argv], capture_output=True, check=True)
    result = json.loads((tmp_path / "bf16_fits.json").read_text())
    assert [row["random_state"] for row in result["fits"]] == [0, 1]
    for row in result["fits"]:
        for arm in ("float32", "bf16", "float32_reference"):
            assert 0 <= row[arm]["c_index"] <= 1
            assert row[arm]["reconstruction_mse"] > 0
    c = result["summary"]["c_index"]
    diffs = [row["bf16"]["c_index"] - row["float32"]["c_index"] for row in result["fits"]]
    assert c["bf16_minus_float32"]["mean"] == pytest.approx(np.mean(diffs), abs=1e-3)
    assert c["float32"]["mean"] == pytest.approx(np.mean([r["float32"]["c_index"] for r in result["fits"]]), abs=1e-3)


@pytest.mark.slow  # about a minute: two fits and the bootstrap of a 300-ECG cohort
def test_calibration_check_cell_smoke(tiny_net, monkeypatch):
    """One cohort of the calibration grid end to end, with a tiny network: every arm gives its statistics."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the script imports its sibling _common
    bench = _load("calibration_check")
    settings = {**tiny_net, "batch_size": 32, "max_epochs": 2}
    settings.pop("random_state")
    monkeypatch.setattr(bench, "_estimator", lambda preset, **params: bench.ECGSurvivalAnalysis(**settings, **params))
    with warnings.catch_warnings():
        # a two-epoch network may rank backwards on the calibration split (scale clipped at 0, said)
        warnings.simplefilter("ignore", TrainingWarning)
        cell = bench.run_cell("cpu-small", 300, 11)
    assert cell["calibrated"]["calibration_source"] == "holdout"
    assert cell["calibrated"]["n_calibration_events"] >= 10
    for arm in ("raw", "calibrated", "baseline_only", "true_cox"):
        assert 0.0 <= cell[arm]["c_index"] <= 1.0, arm
