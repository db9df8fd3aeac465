"""Tests of sksurv_ecg.io._wfdb: reading WFDB records (RELIABILITY rows 31-35) from the real PTB-XL records.

The records are never part of the repository: the ``ptbxl_dir`` fixture (tests/conftest.py) finds them."""

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wfdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from sksurv_ecg.conventions import LEAD_NAMES as STANDARD_LEADS
from sksurv_ecg.exceptions import ECGFileError
from sksurv_ecg.io import WFDBReader, read_ecg, read_wfdb
from sksurv_ecg.preprocessing import LeadStandardizer


@pytest.fixture(scope="module")
def REFERENCE(ptbxl_dir):
    return ptbxl_dir / "records500" / "00000" / "00001_hr"


@pytest.fixture(scope="module")
def reference(REFERENCE):
    """The reference record read through read_wfdb, and its digital form read through wfdb."""
    return read_wfdb(REFERENCE)[0], wfdb.rdrecord(str(REFERENCE), physical=False)


def _write(directory, name, record, *, order=None, sig_name=None, fs=None, units=None, gain=1.0, d_signal=None):
    """Write a copy of ``record`` (digital samples kept exactly) with changed metadata."""
    order = list(range(record.n_sig)) if order is None else order
    d = record.d_signal[:, order] if d_signal is None else d_signal
    names = [record.sig_name[i] for i in order] if sig_name is None else sig_name
    wfdb.wrsamp(
        name,
        fs=record.fs if fs is None else fs,
        units=[record.units[i] for i in order] if units is None else units,
        sig_name=names,
        d_signal=np.ascontiguousarray(d),
        fmt=["16"] * len(order),
        adc_gain=[record.adc_gain[i] * gain for i in order],
        baseline=[record.baseline[i] for i in order],
        write_dir=str(directory),
    )
    return Path(directory) / name


# --- every bundled record --------------------------------------------------------------------------------------


def test_every_record_reads(ptbxl_records500):
    assert len(ptbxl_records500) == 14
    for record in ptbxl_records500:
        X = read_wfdb(record)
        assert X.shape == (1, 12, 5000)
        assert X.dtype == np.float32
        assert np.isfinite(X).all()
        # mV: QRS amplitudes of a few mV, not µV (thousands) nor V (thousandths)
        assert 0.2 < np.abs(X).max() < 10.0


def test_reads_many_records_in_order(ptbxl_records500):
    X = read_wfdb(ptbxl_records500)
    assert X.shape == (len(ptbxl_records500), 12, 5000)
    np.testing.assert_array_equal(X[3], read_wfdb(ptbxl_records500[3])[0])


def test_values_match_wfdb_physical_signal(REFERENCE):
    expected = wfdb.rdrecord(str(REFERENCE)).p_signal.T
    np.testing.assert_allclose(read_wfdb(REFERENCE)[0], expected, atol=1e-6)


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(str, id="str"),
        pytest.param(lambda r: r, id="path"),
        pytest.param(lambda r: str(r) + ".hea", id="hea"),
        pytest.param(lambda r: str(r) + ".dat", id="dat"),
        pytest.param(lambda r: [r], id="list"),
    ],
)
def test_path_forms(path, reference, REFERENCE):
    np.testing.assert_array_equal(read_wfdb(path(REFERENCE))[0], reference[0])


def test_root_joins_relative_paths(reference, ptbxl_dir):
    X = read_wfdb(["records500/00000/00001_hr"], root=ptbxl_dir)
    np.testing.assert_array_equal(X[0], reference[0])


def test_microvolt_output(reference, REFERENCE):
    np.testing.assert_allclose(read_wfdb(REFERENCE, units="uV")[0], reference[0] * 1000, rtol=1e-6)


# --- leads ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("order", "rename"),
    [
        pytest.param([3, 0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11], str.upper, id="permuted"),
        pytest.param(list(range(11, -1, -1)), str.lower, id="reversed-lowercase"),
        pytest.param([6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5], lambda s: s, id="chest-first"),
    ],
)
def test_leads_reordered_by_name(tmp_path, reference, order, rename):
    X_ref, record = reference
    names = [rename(record.sig_name[i]) for i in order]
    path = _write(tmp_path, "perm", record, order=order, sig_name=names)
    assert wfdb.rdheader(str(path)).sig_name == names
    np.testing.assert_array_equal(read_wfdb(path)[0], X_ref)


def test_extra_leads_are_dropped(tmp_path, reference):
    X_ref, record = reference
    d = np.concatenate([record.d_signal, record.d_signal[:, :3]], axis=1)
    names = list(record.sig_name) + ["VX", "VY", "VZ"]
    path = _write(tmp_path, "frank", record, order=list(range(12)) + [0, 1, 2], sig_name=names, d_signal=d)
    np.testing.assert_array_equal(read_wfdb(path)[0], X_ref)


def test_lead_subset_in_requested_order(reference, REFERENCE):
    X = read_wfdb(REFERENCE, leads=["V1", "II"])
    np.testing.assert_array_equal(X[0], reference[0][[6, 1]])


@pytest.mark.parametrize(
    ("sig_name", "match"),
    [
        pytest.param(["I", "II", "III", "AVR", "AVL", "AVF", "V1", "V2", "V3", "V4", "V5", "V7"], r"missing: \['V6'\]",
                     id="V7-not-V6"),
        pytest.param([f"ch{i}" for i in range(12)], r"has leads \['ch0'.*but leads \['I', 'II'", id="unnamed"),
    ],
)  # fmt: skip
def test_lead_set_errors(tmp_path, reference, sig_name, match):
    path = _write(tmp_path, "leads", reference[1], sig_name=sig_name)
    with pytest.raises(ValueError, match=match):
        read_wfdb(path)


def test_duplicate_lead_names(tmp_path, reference):
    path = _write(tmp_path, "dup", reference[1])
    hea = path.with_suffix(".hea")
    hea.write_text(hea.read_text().replace(" II\n", " I\n", 1))  # wrsamp refuses duplicates; edit the text
    with pytest.raises(ValueError, match=r"lists a lead twice: \['I', 'I', 'III'"):
        read_wfdb(path)


def test_header_with_too_few_signal_lines(tmp_path, REFERENCE):
    shutil.copy(REFERENCE.with_suffix(".dat"), tmp_path / "rec.dat")
    (tmp_path / "rec.hea").write_text("rec 2 500 100\nrec.dat 16 1000/mV 16 0 0 0 0 I\n")
    with pytest.raises(ECGFileError, match=r"'.*rec': the WFDB header declares 2 signals but describes 1"):
        read_wfdb(tmp_path / "rec", leads=["I"])
    with pytest.raises(ECGFileError, match=r"declares 2 signals but describes 1"):  # before: a bare IndexError
        read_ecg(tmp_path / "rec")


# --- units ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "gain"),
    [
        pytest.param("uV", 1e-3, id="uV"),
        pytest.param("V", 1e3, id="V"),
        pytest.param("MV", 1.0, id="upper-case"),
    ],
)
def test_units_converted_to_millivolts(tmp_path, reference, unit, gain):
    X_ref, record = reference
    # adc_gain is ADC units per physical unit: a µV record has 1000x fewer per unit than a mV record
    path = _write(tmp_path, "units", record, units=[unit] * 12, gain=gain)
    np.testing.assert_allclose(read_wfdb(path)[0], X_ref, rtol=1e-5, atol=1e-6)


def test_unknown_units(tmp_path, reference):
    path = _write(tmp_path, "units", reference[1], units=["mmHg"] * 12)
    with pytest.raises(ValueError, match=r"units 'mmHg'.*convert"):
        read_wfdb(path)


# --- sampling frequency ---------------------------------------------------------------------------------------


def test_wrong_fs_is_an_error(tmp_path, reference):
    path = _write(tmp_path, "fs250", reference[1], fs=250)
    with pytest.raises(ValueError, match=r"found 250 Hz, expected 500 Hz.*resample=True"):
        read_wfdb(path)


def test_wrong_fs_resampled_on_request(tmp_path, reference):
    path = _write(tmp_path, "fs250", reference[1], fs=250)
    X = read_wfdb(path, resample=True)
    assert X.shape == (1, 12, 10000)
    # a 500 Hz record relabelled as 250 Hz and upsampled by 2 keeps every other sample
    np.testing.assert_allclose(X[0, :, 2000:8000:2], reference[0][:, 1000:4000], atol=0.05)


def test_bundled_100hz_record_resampled_matches_500hz(ptbxl_dir, REFERENCE):
    lr = read_wfdb(ptbxl_dir / "records100/00000/00001_lr", resample=True)[0]
    hr = read_wfdb(REFERENCE)[0]
    corr = [np.corrcoef(lr[i], hr[i])[0, 1] for i in range(12)]
    assert min(corr) > 0.9


def test_read_at_own_rate(ptbxl_dir):
    assert read_wfdb(ptbxl_dir / "records100/00000/00001_lr", fs=100).shape == (1, 12, 1000)


# --- files and headers ----------------------------------------------------------------------------------------


def test_missing_header(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"'.*nothere/rec' has no header file"):
        read_wfdb(tmp_path / "nothere" / "rec")


def test_missing_data_file(tmp_path, reference):
    path = _write(tmp_path, "nodat", reference[1])
    path.with_suffix(".dat").unlink()
    with pytest.raises(FileNotFoundError, match=r"'.*nodat' has no data file '.*nodat\.dat'"):
        read_wfdb(path)


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        pytest.param("this is not a header\n", wfdb.io.header.HeaderSyntaxError, id="record-line"),
        pytest.param("rec 1 500 100\nrubbish\n", wfdb.io.header.HeaderSyntaxError, id="signal-line"),
        pytest.param("", IndexError, id="empty"),
    ],
)
def test_malformed_header(tmp_path, text, cause):
    (tmp_path / "rec.hea").write_text(text)
    with pytest.raises(ValueError, match=r"WFDB record '.*rec' has a malformed header") as excinfo:
        read_wfdb(tmp_path / "rec")
    assert isinstance(excinfo.value.__cause__, cause)


def test_truncated_data_file(tmp_path, reference):
    path = _write(tmp_path, "short", reference[1])
    data = path.with_suffix(".dat")
    data.write_bytes(data.read_bytes()[:1000])
    with pytest.raises(ValueError, match=r"'.*short' could not be read") as excinfo:
        read_wfdb(path)
    assert excinfo.value.__cause__ is not None


def test_nan_samples(tmp_path, reference):
    record = reference[1]
    d = record.d_signal.copy()
    d[100:110, 7] = -32768  # WFDB's invalid-sample value for format 16
    path = _write(tmp_path, "gaps", record, d_signal=d)
    with pytest.raises(ValueError, match=r"'.*gaps' contains 10 NaN samples .* leads \['V2'\]"):
        read_wfdb(path)


# --- lengths --------------------------------------------------------------------------------------------------


@pytest.fixture
def short_record(tmp_path, reference):
    record = reference[1]
    return _write(tmp_path, "short", record, d_signal=record.d_signal[:3000])


def test_unequal_lengths(short_record, REFERENCE):
    with pytest.raises(ValueError, match=r"has 3000 samples, but .* has 5000; pass length="):
        read_wfdb([REFERENCE, short_record])


def test_length_crops(short_record, reference, REFERENCE):
    X = read_wfdb([REFERENCE, short_record], length=2500)
    assert X.shape == (2, 12, 2500)
    np.testing.assert_array_equal(X[0], reference[0][:, :2500])
    np.testing.assert_array_equal(X[1], reference[0][:, :2500])


def test_shorter_than_length(short_record, REFERENCE):
    with pytest.raises(ValueError, match=r"has 3000 samples, fewer than length=5000; pass pad=True"):
        read_wfdb([REFERENCE, short_record], length=5000)


def test_pad_on_request(short_record, reference, REFERENCE):
    X = read_wfdb([short_record, REFERENCE], length=5000, pad=True)
    np.testing.assert_array_equal(X[0, :, :3000], reference[0][:, :3000])
    assert not X[0, :, 3000:].any()


# --- arguments ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        pytest.param({"paths": []}, ValueError, "paths is empty", id="empty"),
        pytest.param({"paths": [1]}, TypeError, "str or os.PathLike", id="int-path"),
        pytest.param({"paths": 3.0}, TypeError, "record path", id="float"),
        pytest.param({"paths": "REFERENCE", "fs": 0}, ValueError, "fs=0", id="fs-zero"),
        pytest.param({"paths": "REFERENCE", "units": "mmHg"}, ValueError, "units='mmHg'", id="units"),
        pytest.param({"paths": "REFERENCE", "leads": "I"}, ValueError, "sequence of lead names", id="leads-str"),
        pytest.param({"paths": "REFERENCE", "length": 0}, ValueError, "length=0", id="length"),
    ],
)
def test_bad_arguments(kwargs, error, match, REFERENCE):
    kwargs = {k: REFERENCE if v == "REFERENCE" else v for k, v in kwargs.items()}
    with pytest.raises(error, match=match):
        read_wfdb(**kwargs)


@pytest.mark.parametrize(
    ("verbose", "n_records", "shown"),
    [
        pytest.param(None, 3, False, id="auto-few"),
        pytest.param(None, 50, True, id="auto-many"),
        pytest.param(True, 2, True, id="forced"),
        pytest.param(False, 50, False, id="off"),
    ],
)
def test_progress_bar(capsys, verbose, n_records, shown, REFERENCE):
    read_wfdb([REFERENCE] * n_records, verbose=verbose)
    assert ("Reading WFDB" in capsys.readouterr().err) is shown


# --- WFDBReader -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make_X",
    [
        pytest.param(lambda names: names, id="list"),
        pytest.param(lambda names: np.asarray(names), id="1d-array"),
        pytest.param(lambda names: np.asarray(names)[:, None], id="column"),
        pytest.param(lambda names: pd.Series(names), id="series"),
        pytest.param(lambda names: pd.DataFrame({"filename_hr": names}), id="frame"),
    ],
)
def test_reader_in_pipeline(make_X, ptbxl_dir):
    names = ["records500/00000/00001_hr", "records500/06000/06003_hr"]
    pipe = make_pipeline(WFDBReader(root=ptbxl_dir), LeadStandardizer())
    Z = pipe.fit_transform(make_X(names))
    assert Z.shape == (2, 12, 5000)
    np.testing.assert_allclose(Z.std(axis=-1), 1.0, atol=1e-4)


def test_reader_is_stateless_and_clonable(ptbxl_dir):
    reader = WFDBReader(fs=100, resample=True, root=ptbxl_dir)
    assert clone(reader).get_params() == reader.get_params()
    assert reader.__sklearn_tags__().requires_fit is False
    X = reader.transform(["records500/00000/00001_hr"])  # no fit needed
    assert X.shape == (1, 12, 1000)
    assert reader.fit(["ignored"]) is reader


def test_reader_rejects_2d_table():
    with pytest.raises(ValueError, match="1-D list of record paths"):
        WFDBReader().transform(np.asarray([["a", "b"], ["c", "d"]]))


def test_standard_leads():
    assert STANDARD_LEADS == ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


# --- property: malformed header text never escapes as another exception ---------------------------------------

_TOKENS = st.sampled_from(
    ["rec", "rec.dat", "1", "2", "12", "500", "250", "0", "-1", "5000", "1e99", "16", "212", "1000.0(0)/mV",
     "200/uV", "/mV", "(0)", "I", "II", "#", "+", "/", "x", "rec/2", "~", "0.0", "nan", "\t", "16+24", "16x2"]
)  # fmt: skip
_LINE = st.one_of(st.lists(_TOKENS, max_size=10).map(" ".join), st.text(max_size=40))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(_LINE, max_size=4), record_line=st.booleans())
def test_malformed_header_property(lines, record_line, REFERENCE):
    with tempfile.TemporaryDirectory() as directory:
        shutil.copy(REFERENCE.with_suffix(".dat"), Path(directory) / "rec.dat")
        head = ["rec 1 500 5000"] if record_line else []
        (Path(directory) / "rec.hea").write_text("\n".join(head + lines) + "\n", errors="surrogateescape")
        message = X = None
        try:
            X = read_wfdb(Path(directory) / "rec", leads=["I"])
        except (ValueError, FileNotFoundError) as err:  # anything else fails the test
            message = str(err)
    if X is None:
        assert "rec" in message  # the error names the record
    else:
        assert X.shape[:2] == (1, 1)
        assert np.isfinite(X).all()


# --- from the reliability matrix (RELIABILITY.md) ---------------------------------------------------


def _write_record(directory, name, record, *, sig_name=None, fs=None, units=None, gain=1.0, n_samples=None):
    order = list(range(record.n_sig))
    wfdb.wrsamp(
        name,
        fs=record.fs if fs is None else fs,
        units=list(record.units) if units is None else units,
        sig_name=list(record.sig_name) if sig_name is None else sig_name,
        d_signal=np.ascontiguousarray(record.d_signal[:n_samples]),
        fmt=["16"] * len(order),
        adc_gain=[g * gain for g in record.adc_gain],
        baseline=list(record.baseline),
        write_dir=str(directory),
    )
    return Path(directory) / name


@pytest.fixture(scope="module")
def reference_record(ptbxl_dir):
    reference = ptbxl_dir / "records500" / "00000" / "00001_hr"
    return read_wfdb(reference)[0], wfdb.rdrecord(str(reference), physical=False)


def test_missing_header_or_data_file_is_named(tmp_path, reference_record):
    """RELIABILITY row 31."""
    with pytest.raises(FileNotFoundError, match=r"'.*missing/rec' has no header file"):
        read_wfdb(tmp_path / "missing" / "rec")
    path = _write_record(tmp_path, "nodat", reference_record[1])
    path.with_suffix(".dat").unlink()
    with pytest.raises(FileNotFoundError, match=r"'.*nodat' has no data file"):
        read_wfdb(path)


def test_malformed_header_keeps_the_wfdb_cause(tmp_path):
    """RELIABILITY row 32."""
    (tmp_path / "bad.hea").write_text("this is not a header\n")
    with pytest.raises(ValueError, match=r"WFDB record '.*bad' has a malformed header") as info:
        read_wfdb(tmp_path / "bad")
    assert isinstance(info.value.__cause__, wfdb.io.header.HeaderSyntaxError)
    assert "invalid syntax in record line" in str(info.value.__cause__)


def test_sampling_frequency_mismatch_suggests_resampling(tmp_path, reference_record):
    """RELIABILITY row 33."""
    path = _write_record(tmp_path, "fs250", reference_record[1], fs=250)
    with pytest.raises(ValueError, match=r"found 250 Hz, expected 500 Hz.*resample=True"):
        read_wfdb(path)
    assert read_wfdb(path, resample=True).shape == (1, 12, 10000)


def test_leads_reordered_by_name_and_units_converted(tmp_path, reference_record):
    """RELIABILITY row 34."""
    X_ref, record = reference_record
    # same set, other order (reversed): reordered by name
    wfdb.wrsamp(
        "rev",
        fs=record.fs,
        units=list(record.units)[::-1],
        sig_name=list(record.sig_name)[::-1],
        d_signal=np.ascontiguousarray(record.d_signal[:, ::-1]),
        fmt=["16"] * 12,
        adc_gain=list(record.adc_gain)[::-1],
        baseline=list(record.baseline)[::-1],
        write_dir=str(tmp_path),
    )
    np.testing.assert_array_equal(read_wfdb(tmp_path / "rev")[0], X_ref)
    # another set: both lists in the message
    names = list(record.sig_name[:11]) + ["V7"]
    path = _write_record(tmp_path, "v7", record, sig_name=names)
    with pytest.raises(ValueError, match=r"missing: \['V6'\]"):
        read_wfdb(path)
    # µV converted to mV; unknown units rejected
    path = _write_record(tmp_path, "uv", record, units=["uV"] * 12, gain=1e-3)
    np.testing.assert_allclose(read_wfdb(path)[0], X_ref, rtol=1e-5, atol=1e-6)
    path = _write_record(tmp_path, "mmhg", record, units=["mmHg"] * 12)
    with pytest.raises(ValueError, match=r"units 'mmHg'"):
        read_wfdb(path)


def test_record_shorter_than_the_window_needs_pad(tmp_path, reference_record):
    """RELIABILITY row 35."""
    path = _write_record(tmp_path, "short", reference_record[1], n_samples=3000)
    with pytest.raises(ValueError, match=r"has 3000 samples, fewer than length=5000; pass pad=True"):
        read_wfdb(path, length=5000)
    X = read_wfdb(path, length=5000, pad=True)
    assert X.shape == (1, 12, 5000)
    assert not X[0, :, 3000:].any()


def test_amplitude_beyond_any_ecg_is_refused(tmp_path, reference):
    # an ADC gain a million times too small: finite float64 values of about 1e9 mV, inf once cast to float32
    path = _write(tmp_path, "huge", reference[1], gain=1e-9)
    for read in (read_wfdb, read_ecg):
        with pytest.raises(ECGFileError, match=r"'.*huge'.*amplitudes up to .* mV, beyond the 10000 mV"):
            read(path)
