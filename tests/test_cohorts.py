"""Loaders of CODE-15%, SaMi-Trop and MIMIC-IV-ECG on releases written by the tests in each layout."""

import cohort_fixtures as cf
import h5py
import numpy as np
import pandas as pd
import pytest
from sksurv.util import check_y_survival

from sksurv_ecg.datasets import load_code15, load_mimic_iv_ecg, load_samitrop
from sksurv_ecg.exceptions import SignalQualityWarning, SksurvECGWarning

# Edge samples where the polyphase filter's transient makes the comparison with the analytic sine loose.
EDGE = 40


def _check_signature(x, exam_id, seconds, fs):
    """Row ``x`` holds exam ``exam_id``'s signal from its first recorded sample, then zeros."""
    n = int(seconds * fs)
    expected = cf.signature(exam_id, n, fs)
    np.testing.assert_allclose(x[:, EDGE : n - EDGE], expected[:, EDGE : n - EDGE], atol=0.01)
    assert not x[:, n:].any()


@pytest.fixture(scope="module")
def code15(tmp_path_factory):
    return cf.write_code15(tmp_path_factory.mktemp("code15"))


@pytest.fixture(scope="module")
def samitrop(tmp_path_factory):
    return cf.write_samitrop(tmp_path_factory.mktemp("samitrop"))


@pytest.fixture(scope="module")
def mimic(tmp_path_factory):
    return cf.write_mimic(tmp_path_factory.mktemp("mimic"))


def _load_code15(root, **kwargs):
    with pytest.warns(SksurvECGWarning) as record:
        out = load_code15(root, **kwargs)
    return out, [str(w.message) for w in record]


class TestCode15:
    def test_one_row_per_followed_patient_with_its_first_exam(self, code15):
        (X, y, frame), messages = _load_code15(code15)
        # patients 1, 2, 5, 6 are followed; 3 has no follow-up; 4's only tracing is all zero
        assert sorted(frame["patient_id"]) == [1, 2, 5, 6]
        assert sorted(frame.index) == [101, 201, 501, 601]
        assert frame.index.name == "exam_id"
        assert not frame["patient_id"].duplicated().any()
        for exam_id, (_, death, timey, _, _) in cf.CODE15_EXAMS.items():
            if exam_id in frame.index:
                i = frame.index.get_loc(exam_id)
                assert y["event"][i] == (death == "True")
                assert y["time"][i] == timey
        assert any("1 patients without follow-up" in m for m in messages)
        assert any("1 all-zero tracings" in m for m in messages)
        check_y_survival(y)  # a valid sksurv outcome

    def test_signals_are_those_of_the_right_exam(self, code15):
        (X, _, frame), _ = _load_code15(code15)
        assert X.shape == (4, 12, 5000)
        assert X.dtype == np.float32
        for i, exam_id in enumerate(frame.index):
            _check_signature(X[i], exam_id, cf.CODE15_EXAMS[exam_id][4], 500)

    def test_padding_removed_before_resampling_to_another_rate(self, code15):
        (X, _, frame), _ = _load_code15(code15, fs=250, length=2000)
        assert X.shape == (4, 12, 2000)
        for i, exam_id in enumerate(frame.index):
            seconds = cf.CODE15_EXAMS[exam_id][4]
            n = min(2000, seconds * 250)
            expected = cf.signature(exam_id, n, 250)
            np.testing.assert_allclose(X[i, :, EDGE : n - EDGE], expected[:, EDGE : n - EDGE], atol=0.01)

    def test_covariates_and_labels_in_frame(self, code15):
        (_, _, frame), _ = _load_code15(code15)
        for column in ["age", "is_male", "nn_predicted_age", *cf.CODE15_COLUMNS[4:10], "normal_ecg", "trace_file"]:
            assert column in frame.columns
        assert bool(frame.loc[101, "AF"])
        assert bool(frame.loc[201, "RBBB"])

    def test_all_exams_keeps_missing_outcomes_missing(self, code15):
        with pytest.warns(SignalQualityWarning, match="1 all-zero"):
            X, y, frame = load_code15(code15, all_exams=True)
        assert sorted(frame.index) == sorted(set(cf.CODE15_EXAMS) - cf.CODE15_FLAT)
        blank = [e for e, v in cf.CODE15_EXAMS.items() if v[1] is None]
        rows = frame.index.get_indexer(blank)
        assert np.isnan(y["time"][rows]).all()
        assert not y["event"][rows].any()
        assert not frame.loc[blank, "has_outcome"].any()
        with pytest.raises(ValueError, match="NaN"):
            check_y_survival(y)  # missing can never pass for censored
        keep = frame["has_outcome"].to_numpy()
        check_y_survival(y[keep])
        for i, exam_id in enumerate(frame.index):
            _check_signature(X[i], exam_id, cf.CODE15_EXAMS[exam_id][4], 500)

    def test_parts_selects_files(self, code15):
        # patient 1's outcome exam (101) is in part 0: followed, but not in this selection, and not
        # counted as without follow-up; patient 3 (exam 302 here) is.
        with pytest.warns(SksurvECGWarning, match="1 patients without follow-up"):
            _, _, frame = load_code15(code15, parts=[1])
        assert sorted(frame.index) == [201, 601]
        assert (frame["trace_file"] == "exams_part1.hdf5").all()

    def test_exams_without_trace_file_found_by_exam_id(self, code15):
        _, _, frame = load_code15(code15, parts=[1], all_exams=True)  # part 1 holds no all-zero tracing
        assert sorted(frame.index) == [102, 201, 302, 601]
        assert frame.loc[[102, 302], "trace_file"].isna().all()

    def test_to_memmap_and_threads_give_the_same(self, code15, tmp_path):
        (X, y, frame), _ = _load_code15(code15)
        path = tmp_path / "code15.npy"
        (Xm, ym, fm), _ = _load_code15(code15, to_memmap=path, n_jobs=2)
        assert isinstance(Xm, np.memmap)
        np.testing.assert_array_equal(np.asarray(Xm), X)
        assert fm.index.equals(frame.index)
        reopened = np.load(path, mmap_mode="r")
        assert reopened.shape == (4, 12, 5000)  # the all-zero row was never stored
        np.testing.assert_array_equal(reopened, X)

    def test_missing_part_names_the_fetch(self, code15):
        with pytest.raises(FileNotFoundError, match=r"fetch_code15\(parts=\[5\]\)"):
            load_code15(code15, parts=[5])

    @pytest.mark.parametrize("parts", [[18], "0", [True], []])
    def test_bad_parts(self, code15, parts):
        with pytest.raises(ValueError, match="parts="):
            load_code15(code15, parts=parts)

    def test_exam_listed_but_absent_from_its_part(self, code15, tmp_path):
        root = cf.write_code15(tmp_path / "c")
        frame = pd.read_csv(root / "exams.csv")
        frame.loc[frame["exam_id"] == 201, "trace_file"] = "exams_part0.hdf5"
        frame.to_csv(root / "exams.csv", index=False)
        with pytest.raises(ValueError, match=r"lacks exams \[201\]"):
            load_code15(root)

    def test_wrong_amplitude_scale_is_flagged(self, tmp_path):
        root = cf.write_code15(tmp_path / "c", scale=10.0)  # values in units of 1e-4 V
        _, messages = _load_code15(root)
        assert any("1e-4 V" in m for m in messages)

    def test_missing_files_and_bad_args(self, tmp_path, code15):
        with pytest.raises(FileNotFoundError, match="exams.csv"):
            load_code15(tmp_path)
        with pytest.raises(TypeError, match="root"):
            load_code15(3)
        with pytest.raises(ValueError, match="fs="):
            load_code15(code15, fs=0)
        with pytest.raises(ValueError, match="length="):
            load_code15(code15, length=0)
        with pytest.raises(ValueError, match="n_jobs="):
            load_code15(code15, n_jobs=0)
        with pytest.raises(TypeError, match="to_memmap"):
            load_code15(code15, to_memmap=3)

    def test_bad_death_value(self, tmp_path):
        root = cf.write_code15(tmp_path / "c")
        frame = pd.read_csv(root / "exams.csv", dtype={"death": "string"})
        frame.loc[0, "death"] = "maybe"
        frame.to_csv(root / "exams.csv", index=False)
        with pytest.raises(ValueError, match="'death' holds"):
            load_code15(root)


class TestSamiTrop:
    def test_row_order_join(self, samitrop):
        with pytest.warns(SksurvECGWarning) as record:
            X, y, frame = load_samitrop(samitrop)
        messages = [str(w.message) for w in record]
        assert list(frame.index) == [7001, 7002, 7004, 7006]
        assert (frame["patient_id"] == frame.index).all()
        expected = {e: (d == "1", t) for e, d, t, _ in cf.SAMITROP_EXAMS}
        for i, exam_id in enumerate(frame.index):
            assert (bool(y["event"][i]), y["time"][i]) == expected[exam_id]
            _check_signature(X[i], exam_id, {e: s for e, _, _, s in cf.SAMITROP_EXAMS}[exam_id], 500)
        assert any("1 patients without follow-up" in m for m in messages)
        assert any("1 all-zero" in m for m in messages)

    def test_exam_id_dataset_used_when_present(self, tmp_path):
        root = cf.write_samitrop(tmp_path / "s", with_exam_id=True)
        with pytest.warns(SksurvECGWarning):
            X, _, frame = load_samitrop(root)
        seconds = {e: s for e, _, _, s in cf.SAMITROP_EXAMS}
        for i, exam_id in enumerate(frame.index):
            _check_signature(X[i], exam_id, seconds[exam_id], 500)

    def test_row_counts_must_match(self, tmp_path):
        root = cf.write_samitrop(tmp_path / "s")
        frame = pd.read_csv(root / "exams.csv")
        frame.iloc[:-1].to_csv(root / "exams.csv", index=False)
        with pytest.raises(ValueError, match="row order"):
            load_samitrop(root)

    def test_all_exams(self, samitrop):
        with pytest.warns(SignalQualityWarning):
            _, y, frame = load_samitrop(samitrop, all_exams=True)
        assert np.isnan(y["time"][frame.index.get_loc(7003)])
        assert not frame.loc[7003, "has_outcome"]

    def test_tracings_layout_checked(self, tmp_path):
        root = cf.write_samitrop(tmp_path / "s")
        with h5py.File(root / "exams.hdf5", "w") as fh:
            fh.create_dataset("tracings", data=np.zeros((6, 4000, 12), np.float32))
        with pytest.raises(ValueError, match=r"expected \(N, 4096, 12\)"):
            load_samitrop(root)


class TestMimic:
    def test_outcomes_from_dod_and_the_documented_window(self, mimic):
        ecg, patients, admissions = mimic
        with pytest.warns(SksurvECGWarning, match="2 subjects without follow-up"):
            X, y, frame = load_mimic_iv_ecg(ecg, patients, admissions=admissions)
        assert frame.index.name == "study_id"
        assert list(frame.index) == [40000011, 40000021, 40000031]  # first ECG of each followed subject
        days = dict(zip(frame.index, frame["time_days"], strict=True))
        assert days[40000011] == 365  # dod 2151-01-01 - ECG date 2150-01-01
        assert days[40000021] == 0.5  # death on the ECG's date: kept, half a day
        assert days[40000031] == (pd.Timestamp("2171-02-01") - pd.Timestamp("2170-01-10")).days  # discharge + 365 d
        np.testing.assert_allclose(y["time"], frame["time_days"] / 365.25)
        assert y["event"].tolist() == [True, True, False]
        assert frame.loc[40000011, "rr_interval"] == 811  # machine measurements joined by study
        assert frame.loc[40000021, "gender"] == "F"
        for i, study in enumerate(frame.index):
            np.testing.assert_allclose(X[i], cf.signature(study, 5000, 500), atol=0.003)  # aVL/aVF put in order

    def test_all_exams_times_from_each_ecg(self, mimic):
        ecg, patients, admissions = mimic
        X, y, frame = load_mimic_iv_ecg(ecg, patients, admissions=admissions, all_exams=True, fs=250, length=2500)
        assert X.shape == (6, 12, 2500)
        assert frame.loc[40000012, "time_days"] == (pd.Timestamp("2151-01-01") - pd.Timestamp("2150-06-01")).days
        assert not frame.loc[[40000041, 40000051], "has_outcome"].any()
        assert np.isnan(y["time"][frame.index.get_indexer([40000041, 40000051])]).all()
        i = frame.index.get_loc(40000031)
        np.testing.assert_allclose(X[i, :, EDGE:-EDGE], cf.signature(40000031, 2500, 250)[:, EDGE:-EDGE], atol=0.01)

    def test_without_admissions_warns_and_censors_at_last_ecg(self, mimic):
        ecg, patients, _ = mimic
        with pytest.warns(SksurvECGWarning) as record:
            _, y, frame = load_mimic_iv_ecg(ecg, patients)
        messages = [str(w.message) for w in record]
        assert any("without admissions" in m for m in messages)
        assert any("3 subjects without follow-up" in m for m in messages)
        # survivors with a single ECG have no follow-up past it: left out, never censored at 0
        assert list(frame.index) == [40000011, 40000021]
        assert (y["time"] > 0).all()

    def test_missing_tables(self, mimic, tmp_path):
        ecg, patients, _ = mimic
        with pytest.raises(FileNotFoundError, match="credentialed"):
            load_mimic_iv_ecg(ecg, tmp_path / "patients.csv", admissions=tmp_path / "admissions.csv")
        pd.DataFrame({"subject_id": [1]}).to_csv(tmp_path / "p.csv", index=False)
        with pytest.raises(ValueError, match=r"lacks the columns \['dod'\]"):
            load_mimic_iv_ecg(ecg, tmp_path / "p.csv")


def test_reads_chunks_not_the_whole_part(tmp_path, monkeypatch):
    """Loading never holds a part's raw tracings in memory: peak far below the part's size."""
    import tracemalloc

    from sksurv_ecg.datasets import _cohorts

    n = 200
    root = tmp_path / "big"
    root.mkdir()
    with h5py.File(root / "exams_part0.hdf5", "w") as fh:
        tracings = fh.create_dataset("tracings", shape=(n, 4096, 12), dtype="float32", chunks=(1, 4096, 12))
        for i in range(n):
            tracings[i] = cf.code_tracing(i + 1, 10)
        fh.create_dataset("exam_id", data=np.arange(1, n + 1, dtype=np.int64))
    rows = [
        {**dict.fromkeys(cf.CODE15_COLUMNS, 0), "exam_id": i + 1, "patient_id": i + 1, "death": "False", "timey": 1.0}
        for i in range(n)
    ]
    frame = pd.DataFrame(rows, columns=cf.CODE15_COLUMNS).assign(trace_file="exams_part0.hdf5")
    frame.to_csv(root / "exams.csv", index=False)
    monkeypatch.setattr(_cohorts, "_CHUNK", 8)
    part_bytes = n * 4096 * 12 * 4  # 39 MB of raw tracings
    tracemalloc.start()
    try:
        X, _, _ = load_code15(root, fs=100, length=1000, to_memmap=tmp_path / "x.npy")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert X.shape == (n, 12, 1000)
    assert peak < part_bytes / 10


def test_benchmark_help(capsys):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "real_cohorts.py"
    spec = importlib.util.spec_from_file_location("_bench_real_cohorts", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(SystemExit) as exc:
        module.main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    for flag in ("--cohort", "--max-patients", "--outcomes", "--admissions", "--parts"):
        assert flag in text


@pytest.mark.slow
def test_benchmark_end_to_end_on_a_fixture_cohort(tmp_path):
    import importlib.util
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "real_cohorts.py"
    spec = importlib.util.spec_from_file_location("_bench_real_cohorts", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    root = cf.write_code15_cohort(tmp_path / "code15", 120)
    out = tmp_path / "out"
    argv = ["--cohort", "code15", "--root", str(root), "--folds", "2", "--max-epochs", "1", "--pretrain-epochs", "1"]
    argv += ["--batch-size", "32", "--n-resamples", "30", "--max-patients", "100", "--out", str(out), "--verbose", "0"]
    result = module.main(argv)
    on_disk = json.loads((out / "real_cohorts.json").read_text())
    assert on_disk["n_patients"] == result["n_patients"] == 100
    assert set(on_disk["methods"]) == set(module.METHOD_LABELS)
    for entry in on_disk["methods"].values():
        assert entry["c_low"] <= entry["c_pooled"] <= entry["c_high"]
        assert len(entry["harrell_folds"]["0"]) == 2
    assert on_disk["published"]["c_index"] == 0.83
    assert any("without follow-up" in w for w in on_disk["warnings"])
    assert (out / "real_cohorts_cindex.png").stat().st_size > 0
    assert (out / "real_cohorts_calibration.png").stat().st_size > 0
