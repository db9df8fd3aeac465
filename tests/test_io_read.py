"""Tests of sksurv_ecg.io.read_ecg on real clinical files of each format, and on corrupt variants.

The five real files ship with the package (sksurv_ecg/datasets/data/examples, see PROVENANCE.md).
No real GE MUSE file is published on PyPI: the MUSE fixtures here are written by ``write_muse``
(tests/_muse_files.py) from the real 500 Hz strip and median beat of GE's ``ge_dicom1.dcm``, in MUSE's layout
(base64 little-endian int16 per lead, ``LeadAmplitudeUnitsPerBit``), 8 leads as MUSE stores them.
"""

import re
import shutil
import warnings

import numpy as np
import pandas as pd
import pydicom
import pytest
import wfdb
from _muse_files import write_muse
from sklearn.base import clone

from sksurv_ecg.conventions import LEAD_NAMES
from sksurv_ecg.datasets import load_ecg_examples
from sksurv_ecg.exceptions import ECGFileError, ECGReadWarning
from sksurv_ecg.io import ECGReader, read_ecg, read_wfdb, sniff_format, to_memmap
from sksurv_ecg.preprocessing import MedianBeat

EXAMPLES = {p.name: p for p in load_ecg_examples()}
# name: (format, true rate, samples, microvolts per LSB, a statement of the device)
REAL = {
    "pydicom_waveform_ecg.dcm": ("dicom", 1000.0, 10000, 1.25, "RITMO SINUSALE"),
    "ge_dicom1.dcm": ("dicom", 500.0, 5000, 4.88, None),
    "ge_dicom2.dcm": ("dicom", 500.0, 5000, 5.0, "ATRIAL FIBRILLATION"),
    "ge_cardiosoft_ukb.xml": ("cardiosoft", 500.0, 5000, 5.0, "Sinus bradycardia; Otherwise normal ECG"),
    "philips_sierra_129DYPRG.xml": ("sierra", 500.0, 5500, 5.0, "Sinus bradycardia"),
}
WITH_MEDIAN = ["pydicom_waveform_ecg.dcm", "ge_dicom1.dcm", "ge_dicom2.dcm", "ge_cardiosoft_ukb.xml"]


@pytest.fixture(scope="module")
def examples():
    """All five real files read at their own rates, one at a time."""
    return {name: read_ecg(path, median_beats=name in WITH_MEDIAN) for name, path in EXAMPLES.items()}


# --- real files ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(REAL))
def test_real_file_reads_in_mv_at_true_rate_in_standard_order(examples, name):
    fmt, fs, n, lsb_uv, statement = REAL[name]
    X, frame = examples[name][:2]
    assert X.shape == (1, 12, n)
    assert X.dtype == np.float32
    assert frame.loc[0, "format"] == fmt
    assert frame.loc[0, "fs"] == fs
    # mV: QRS of a few tenths to a few mV (not uV, not V)
    assert 0.3 < np.abs(X).max() < 10
    # Einthoven in the standard order (I, II, III): III = II - I within 2 LSB. Philips strips end with a 1-mV
    # calibration pulse in every lead (samples 5350-5449), so the first 10 s are compared there.
    signal = X[0, :, :5000]
    assert np.abs(signal[2] - (signal[1] - signal[0])).max() <= 2 * lsb_uv * 1e-3 + 1e-6
    # Goldberger: aVF = II - I/2 within 2 LSB (GE/Mortara/Philips store them measured or derived)
    assert np.abs(signal[5] - (signal[1] - signal[0] / 2)).max() <= 2 * lsb_uv * 1e-3 + 2e-3
    if statement:
        assert frame.loc[0, "interpretation"].startswith(statement)
    assert not frame.loc[0, "derived_leads"]
    assert {"patient_id", "patient_name", "birth_date"}.isdisjoint(frame.columns)


def test_device_measurements_and_demographics_in_frame(examples):
    cardiosoft = examples["ge_cardiosoft_ukb.xml"][1].iloc[0]
    assert (cardiosoft["device"], cardiosoft["age"], cardiosoft["sex"]) == ("CardioSoft V6.73", 53.0, "male")
    assert cardiosoft[["pr_ms", "qrs_ms", "qt_ms", "qtc_ms", "heart_rate"]].tolist() == [174, 92, 440, 401, 50]
    assert cardiosoft["acquisition_time"] == "2018-07-19T14:19:39"
    dicom = examples["pydicom_waveform_ecg.dcm"][1].iloc[0]
    assert (dicom["age"], dicom["sex"], dicom["qrs_ms"], dicom["qtc_ms"]) == (42.0, "female", 75.0, 370.0)
    sierra = examples["philips_sierra_129DYPRG.xml"][1].iloc[0]
    assert (sierra["device"], sierra["heart_rate"], sierra["qrs_ms"]) == ("HeartstartMRx", 41.0, 135.0)


def test_identifiers_only_on_request():
    frame = read_ecg(EXAMPLES["ge_cardiosoft_ukb.xml"], keep_identifiers=True)[1]
    assert frame.loc[0, "patient_id"] == "1532006361"
    assert frame.loc[0, "birth_date"] == "1965-1-1"
    default = read_ecg(EXAMPLES["ge_cardiosoft_ukb.xml"])[1]
    assert "1532006361" not in default.to_string()


@pytest.mark.parametrize("name", WITH_MEDIAN)
def test_device_median_beat_is_aligned_with_median_beat(name):
    """Vendor beats put the R peak at 238-250 of 600; aligned, they match MedianBeat of the same strip."""
    X, _, beats = read_ecg(EXAMPLES[name], fs=500, median_beats=True)
    assert beats.shape == (1, 12, 608)
    ours = MedianBeat(fs=500).fit_transform(X[:, :, :5000])[0]
    lags = np.arange(-25, 26)
    corr = [np.corrcoef(np.roll(beats[0, 1], lag), ours[1])[0, 1] for lag in lags]
    assert abs(lags[int(np.argmax(corr))]) <= 5  # R peak within 10 ms at 500 Hz
    assert max(corr) > 0.8
    assert np.abs(beats[0, 1]).argmax() == np.abs(ours[1]).argmax() == 304


def test_median_beat_missing_is_an_error():
    with pytest.raises(ECGFileError, match="carries no device median beat.*median_beats=False"):
        read_ecg(EXAMPLES["philips_sierra_129DYPRG.xml"], median_beats=True)


def test_resampled_and_cut_to_one_array():
    X, frame = read_ecg(list(EXAMPLES.values()), fs=500, length=5000)
    assert X.shape == (5, 12, 5000)
    assert frame["fs"].tolist() == [1000.0, 500.0, 500.0, 500.0, 500.0]
    with pytest.raises(ValueError, match=r"sampled at \[500.0, 1000.0\] Hz; pass fs="):
        read_ecg(list(EXAMPLES.values()))
    with pytest.raises(ValueError, match=r"\[5000, 5500\] samples; pass length="):
        read_ecg(list(EXAMPLES.values())[1:])


def test_format_is_sniffed_from_content_not_extension(tmp_path):
    shutil.copy(EXAMPLES["ge_dicom1.dcm"], tmp_path / "looks_like.xml")
    shutil.copy(EXAMPLES["ge_cardiosoft_ukb.xml"], tmp_path / "looks_like.dcm")
    assert sniff_format(tmp_path / "looks_like.xml") == "dicom"
    assert sniff_format(tmp_path / "looks_like.dcm") == "cardiosoft"
    X, frame = read_ecg([tmp_path / "looks_like.xml", tmp_path / "looks_like.dcm"])
    assert frame["format"].tolist() == ["dicom", "cardiosoft"]


def test_wfdb_through_read_ecg_equals_read_wfdb(tmp_path):
    signal = np.random.default_rng(0).normal(scale=0.3, size=(2000, 12))
    order = [5, 0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11]  # stored in another order: read back by name
    wfdb.wrsamp("rec", fs=500, units=["mV"] * 12, sig_name=[LEAD_NAMES[i] for i in order],
                p_signal=signal[:, order], fmt=["16"] * 12, write_dir=str(tmp_path))  # fmt: skip
    X, frame = read_ecg([tmp_path / "rec", tmp_path / "rec.hea"])
    np.testing.assert_array_equal(X[0], read_wfdb(tmp_path / "rec")[0])
    assert frame["format"].tolist() == ["wfdb", "wfdb"]


# --- MUSE (written from a real strip) ---------------------------------------------------------------------------


def test_muse_8_leads_derive_limb_leads(tmp_path):
    muse = write_muse(tmp_path / "muse.xml")
    X, frame, beats = read_ecg(muse, median_beats=True)
    reference = read_ecg(EXAMPLES["ge_dicom1.dcm"])[0]
    assert X.shape == (1, 12, 5000)
    assert frame.loc[0, "derived_leads"]
    assert (frame.loc[0, "format"], frame.loc[0, "device"], frame.loc[0, "qtc_ms"]) == ("muse", "MAC55", 415.0)
    assert frame.loc[0, "interpretation"] == "Normal sinus rhythm; Normal ECG"
    # III, aVR, aVL, aVF derived from I and II match GE's own stored leads within 2 LSB (4.88 uV)
    np.testing.assert_allclose(X[0], reference[0], atol=2 * 4.88e-3)
    assert beats.shape == (1, 12, 1216 // 2)
    assert "DOE" not in frame.to_string()


def test_eight_lead_file_asked_for_twelve(tmp_path):
    muse = write_muse(tmp_path / "muse.xml")
    with pytest.raises(ECGFileError, match=r"missing \['III', 'aVR', 'aVL', 'aVF'\].*derive_leads=True"):
        read_ecg(muse, derive_leads=False)
    no_chest = write_muse(tmp_path / "no_chest.xml", leads=["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2"])
    with pytest.raises(ECGFileError, match=r"8 leads .*missing \['V3', 'V4', 'V5', 'V6'\]"):
        read_ecg(no_chest)


# --- corrupt variants ------------------------------------------------------------------------------------------


def _truncated(tmp_path):
    data = EXAMPLES["ge_dicom2.dcm"].read_bytes()
    (tmp_path / "truncated.dcm").write_bytes(data[: len(data) // 2])
    return tmp_path / "truncated.dcm"


def _truncated_xml(tmp_path):
    text = EXAMPLES["ge_cardiosoft_ukb.xml"].read_bytes()
    (tmp_path / "truncated.xml").write_bytes(text[: len(text) // 3])
    return tmp_path / "truncated.xml"


def _bad_base64(tmp_path):
    return write_muse(tmp_path / "bad_base64.xml", corrupt_lead="V3")


def _entity_bomb(tmp_path):
    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    (tmp_path / "bomb.xml").write_text(
        f'<?xml version="1.0"?><!DOCTYPE CardiologyXML [<!ENTITY l0 "lol">{lol}]><CardiologyXML>&l9;</CardiologyXML>'
    )
    return tmp_path / "bomb.xml"


def _external_entity(tmp_path):
    (tmp_path / "xxe.xml").write_text(
        '<?xml version="1.0"?><!DOCTYPE RestingECG [<!ENTITY x SYSTEM "file:///etc/passwd">]><RestingECG>&x;'
        "</RestingECG>"
    )
    return tmp_path / "xxe.xml"


def _dicom_without_waveform(tmp_path):
    ds = pydicom.dcmread(EXAMPLES["ge_dicom1.dcm"])
    del ds.WaveformSequence
    ds.save_as(tmp_path / "no_waveform.dcm")
    return tmp_path / "no_waveform.dcm"


def _unsupported_iod(tmp_path):
    ds = pydicom.dcmread(EXAMPLES["ge_dicom1.dcm"])
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.9.3.1"  # Cardiac Electrophysiology Waveform Storage
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.save_as(tmp_path / "cardiac_ep.dcm")
    return tmp_path / "cardiac_ep.dcm"


def _dicom_with_unknown_vr(tmp_path):
    data = EXAMPLES["ge_dicom1.dcm"].read_bytes()
    patient_id = b"\x10\x00\x20\x00LO"  # (0010,0020) in explicit VR little endian; pydicom decodes it on first use
    assert data.count(patient_id) == 1
    (tmp_path / "bad_vr.dcm").write_bytes(data.replace(patient_id, b"\x10\x00\x20\x00L\xb0"))
    return tmp_path / "bad_vr.dcm"


def _not_an_ecg(tmp_path):
    (tmp_path / "table.csv").write_text("ecg_id,age\n1,56\n")
    return tmp_path / "table.csv"


def _eight_leads(tmp_path):
    return write_muse(tmp_path / "eight.xml", leads=["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2"])


CORRUPT = [
    pytest.param(_truncated, "truncated", id="truncated-dicom"),
    pytest.param(_truncated_xml, "malformed or truncated", id="truncated-xml"),
    pytest.param(_bad_base64, "unreadable base64", id="bad-base64"),
    pytest.param(_entity_bomb, "declares entities.*refused", id="entity-bomb"),
    pytest.param(_external_entity, "declares entities or external references", id="external-entity"),
    pytest.param(_dicom_without_waveform, "holds no waveform", id="dicom-without-waveform"),
    pytest.param(_unsupported_iod, "unsupported IOD .*Cardiac Electrophysiology", id="unsupported-iod"),
    pytest.param(_dicom_with_unknown_vr, r"truncated or corrupt \(NotImplementedError", id="dicom-unknown-vr"),
    pytest.param(_not_an_ecg, "not an ECG file", id="not-an-ecg"),
    pytest.param(_eight_leads, r"missing \['V3', 'V4', 'V5', 'V6'\]", id="8-leads-for-12"),
]


@pytest.mark.parametrize(("make", "match"), CORRUPT)
def test_corrupt_file_raises_naming_file_and_fault(tmp_path, make, match):
    bad = make(tmp_path)
    with pytest.raises(ECGFileError, match=match) as info:
        read_ecg([EXAMPLES["ge_dicom1.dcm"], bad])
    assert str(bad) in str(info.value)


@pytest.mark.parametrize(("make", "match"), CORRUPT)
def test_corrupt_file_is_a_counted_skip_with_warn(tmp_path, make, match):
    bad = make(tmp_path)
    good = [EXAMPLES["ge_dicom1.dcm"], EXAMPLES["ge_dicom2.dcm"]]
    with pytest.warns(ECGReadWarning, match="1 of 3 ECG files could not be read") as record:
        X, frame = read_ecg([good[0], bad, good[1]], errors="warn")
    assert len(record) == 1
    assert X.shape == (2, 12, 5000)
    assert frame["skipped"].tolist() == [False, True, False]
    assert frame.loc[1, "path"] == str(bad)
    assert pd.Series(frame.loc[1, "skip_reason"]).str.contains(match).all()
    np.testing.assert_array_equal(X, read_ecg(good)[0])


def test_all_files_unreadable(tmp_path):
    with pytest.warns(ECGReadWarning), pytest.raises(ECGFileError, match="None of the 1 ECG files could be read"):
        read_ecg(_not_an_ecg(tmp_path), errors="warn")


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_ecg("no/such/file.xml")


# --- many files, parallel, pipelines, memmap ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed_folder(tmp_path_factory):
    """20 files of mixed formats (DICOM, CardioSoft, Sierra, MUSE, WFDB), copied from the fixtures."""
    folder = tmp_path_factory.mktemp("mixed")
    muse = write_muse(folder / "muse_src.xml")
    X = read_ecg(EXAMPLES["ge_dicom1.dcm"])[0][0]
    wfdb.wrsamp("wfdb_src", fs=500, units=["mV"] * 12, sig_name=list(LEAD_NAMES), p_signal=X.T.astype(float),
                fmt=["16"] * 12, adc_gain=[1000.0] * 12, baseline=[0] * 12, write_dir=str(folder))  # fmt: skip
    sources = [*EXAMPLES.values(), muse, folder / "wfdb_src"]
    paths = []
    for i in range(20):
        source = sources[i % len(sources)]
        if source.name == "wfdb_src":
            for ext in (".hea", ".dat"):
                text = (folder / f"wfdb_src{ext}").read_bytes()
                (folder / f"rec{i:02d}{ext}").write_bytes(text.replace(b"wfdb_src", f"rec{i:02d}".encode()))
            paths.append(folder / f"rec{i:02d}")
        else:
            paths.append(folder / f"file{i:02d}{source.suffix}")
            shutil.copy(source, paths[-1])
    (folder / "wfdb_src.hea").unlink()
    (folder / "wfdb_src.dat").unlink()
    muse.unlink()
    return folder, paths


def test_mixed_folder_reads_with_progress_bar(mixed_folder, capsys):
    _, paths = mixed_folder
    X, frame = read_ecg(paths, fs=500, length=5000, verbose=True)
    assert X.shape == (20, 12, 5000)
    assert set(frame["format"]) == {"dicom", "cardiosoft", "sierra", "muse", "wfdb"}
    assert "Reading ECGs" in capsys.readouterr().err


@pytest.mark.slow  # starting joblib worker processes takes tens of seconds on 2 busy cores
def test_parallel_equals_serial(mixed_folder):
    _, paths = mixed_folder
    serial = read_ecg(paths[:7], fs=500, length=5000)
    parallel = read_ecg(paths[:7], fs=500, length=5000, n_jobs=2)
    np.testing.assert_array_equal(serial[0], parallel[0])
    pd.testing.assert_frame_equal(serial[1], parallel[1])


@pytest.mark.slow
def test_to_memmap_from_mixed_folder(mixed_folder, tmp_path):
    folder, paths = mixed_folder
    X = to_memmap(folder, tmp_path / "x.npy", length=5000, resample=True)
    expected = read_ecg(sorted(paths), fs=500, length=5000)[0]
    np.testing.assert_array_equal(np.asarray(X), expected)
    ids = pd.read_csv(tmp_path / "x.records.csv")["record"].tolist()
    assert ids == [p.name for p in sorted(paths)]


def test_ecg_reader_in_pipeline():
    reader = ECGReader(fs=500, length=5000)
    assert clone(reader).get_params() == reader.get_params()
    paths = list(EXAMPLES.values())
    X = reader.fit_transform(pd.DataFrame({"path": paths}))
    np.testing.assert_array_equal(X, read_ecg(paths, fs=500, length=5000)[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="one file path per row"):
            reader.transform(np.array([paths[:2], paths[2:4]]))


# --- hostile inputs: declared rates, empty files, folders, globs, missing device beats ---------------------------


def _edit(tmp_path, name, source_text, pattern, replacement, count=1):
    """A copy of ``source_text`` with ``pattern`` replaced (``count`` times), written to ``tmp_path / name``."""
    edited, n = re.subn(pattern, replacement, source_text, count=count)
    assert n == count or count == 0, f"{pattern!r} matched {n} times"
    (tmp_path / name).write_text(edited)
    return tmp_path / name


def _cardiosoft_rate(tmp_path, rate, block="StripData"):
    text = EXAMPLES["ge_cardiosoft_ukb.xml"].read_text()
    # the strip's own SampleRate: the first one after <StripData> (the median block has another)
    pattern = rf"(<{block}>.*?<SampleRate[^>]*>)500(</SampleRate>)"
    edited = re.sub(pattern, rf"\g<1>{rate}\g<2>", text, count=1, flags=re.DOTALL)
    assert edited != text
    (tmp_path / "cs.xml").write_text(edited)
    return tmp_path / "cs.xml"


def _muse_rate(tmp_path, rate):
    text = write_muse(tmp_path / "src.xml").read_text()
    return _edit(tmp_path, "muse_rate.xml", text, r"<SampleBase>500</SampleBase>", f"<SampleBase>{rate}</SampleBase>",
                 count=2)  # fmt: skip


BAD_RATES = ["0", "-500", "NaN", "inf", "20000", "49"]


@pytest.mark.parametrize("rate", BAD_RATES)
@pytest.mark.parametrize("make", [_cardiosoft_rate, _muse_rate], ids=["cardiosoft", "muse"])
@pytest.mark.parametrize("fs", [None, 500])
def test_declared_rate_outside_range_is_refused_naming_file_and_value(tmp_path, make, rate, fs):
    bad = make(tmp_path, rate)
    # NaN and inf are not numbers a file may declare: the refusal names the field as missing or the value
    with pytest.raises(ECGFileError, match=r"sampling rate|SampleRate|SampleBase") as info:
        read_ecg(bad, fs=fs)
    message = str(info.value)
    assert str(bad) in message
    if rate not in {"NaN", "inf"}:
        assert f"{float(rate):g} Hz" in message
        assert "50-10000 Hz" in message


def test_median_beat_rate_outside_range_is_refused(tmp_path):
    bad = _cardiosoft_rate(tmp_path, "0", block="MedianSamples")
    read_ecg(bad)  # the strip is fine; the device beat is only read on request
    with pytest.raises(ECGFileError, match=r"median beat.*sampling rate of 0 Hz.*50-10000 Hz"):
        read_ecg(bad, median_beats=True)


def test_rate_at_the_limits_is_accepted(tmp_path):
    # 50 Hz and 10 kHz are inside the rule; the signal is then a 100-s or 0.5-s recording
    for rate in ("50", "10000"):
        X, frame = read_ecg(_muse_rate(tmp_path, rate))
        assert frame.loc[0, "fs"] == float(rate)
        assert X.shape == (1, 12, 5000)


def test_muse_exponent_overflow_is_refused(tmp_path):
    text = write_muse(tmp_path / "src.xml").read_text()
    bad = _edit(tmp_path, "exp.xml", text, r"<SampleExponent>0</SampleExponent>",
                "<SampleExponent>400</SampleExponent>", count=2)  # fmt: skip
    with pytest.raises(ECGFileError, match=r"sampling rate of inf Hz"):
        read_ecg(bad)


def test_muse_of_garbage_base64_without_counts_is_refused(tmp_path):
    text = write_muse(tmp_path / "src.xml").read_text()
    text = re.sub(r"<LeadSampleCountTotal>\d+</LeadSampleCountTotal>", "", text)
    bad = _edit(tmp_path, "garbage.xml", text, r"<WaveFormData>[^<]*</WaveFormData>",
                "<WaveFormData>!!!!</WaveFormData>", count=16)  # fmt: skip
    with pytest.raises(ECGFileError, match=r"0 samples") as info:
        read_ecg(bad)
    assert str(bad) in str(info.value)


def test_cardiosoft_without_leads_is_refused(tmp_path):
    text = EXAMPLES["ge_cardiosoft_ukb.xml"].read_text()
    strip = re.search(r"<StripData>.*?</StripData>", text, flags=re.DOTALL).group(0)
    bare = re.sub(r"<WaveformData[^>]*>[^<]*</WaveformData>", "", strip)
    (tmp_path / "no_leads.xml").write_text(text.replace(strip, bare))
    with pytest.raises(ECGFileError, match=r"no leads") as info:
        read_ecg(tmp_path / "no_leads.xml")
    assert "no_leads.xml" in str(info.value)


def _wfdb_copy(tmp_path, ptbxl_dir, name, record_line):
    """The PTB-XL record 00001_hr under ``name`` with its header's record line replaced."""
    source = ptbxl_dir / "records500" / "00000" / "00001_hr"
    shutil.copy(source.with_suffix(".dat"), tmp_path / f"{name}.dat")
    lines = source.with_suffix(".hea").read_text().replace("00001_hr", name).splitlines()
    lines[0] = record_line.format(name=name)
    (tmp_path / f"{name}.hea").write_text("\n".join(lines) + "\n")
    return tmp_path / name


@pytest.mark.parametrize("rate", ["-500", "0", "20000", "nan"])
def test_wfdb_header_rate_is_the_header_own_not_wfdb_fallback(tmp_path, ptbxl_dir, rate):
    record = _wfdb_copy(tmp_path, ptbxl_dir, "neg", "{name} 12 " + rate + " 5000")
    for read in (read_ecg, read_wfdb):
        with pytest.raises(ValueError, match=r"sampling rate of " + rate.replace("nan", "nan") + " Hz") as info:
            read(record)
        assert "250 Hz" not in str(info.value)
        assert str(record) in str(info.value)
        assert isinstance(info.value, ECGFileError)


def test_wfdb_header_without_rate_is_refused(tmp_path, ptbxl_dir):
    record = _wfdb_copy(tmp_path, ptbxl_dir, "norate", "{name} 12")
    with pytest.raises(ECGFileError, match=r"declares no sampling rate.*250 Hz"):
        read_ecg(record)


def test_wfdb_header_with_zero_leads_is_refused(tmp_path, ptbxl_dir):
    record = _wfdb_copy(tmp_path, ptbxl_dir, "zero", "{name} 0 500 5000")
    (tmp_path / "zero.hea").write_text("zero 0 500 5000\n")
    for read in (read_ecg, read_wfdb):
        with pytest.raises(ECGFileError, match=r"no leads") as info:
            read(record)
        assert str(record) in str(info.value)


def test_wfdb_header_with_zero_samples_is_refused(tmp_path, ptbxl_dir):
    record = _wfdb_copy(tmp_path, ptbxl_dir, "empty", "{name} 12 500 0")
    (tmp_path / "empty.dat").write_bytes(b"")
    for read in (read_ecg, read_wfdb):
        with pytest.raises(ECGFileError, match=r"0 samples") as info:
            read(record)
        assert str(record) in str(info.value)


# --- folders and glob patterns ------------------------------------------------------------------------------------


@pytest.fixture
def ecg_folder(tmp_path):
    """A folder of three ECGs (one in a sub-folder, one WFDB record) beside files that are not ECGs."""
    folder = tmp_path / "cohort"
    (folder / "sub").mkdir(parents=True)
    shutil.copy(EXAMPLES["ge_dicom2.dcm"], folder / "b.dcm")
    shutil.copy(EXAMPLES["ge_cardiosoft_ukb.xml"], folder / "sub" / "a.xml")
    X = read_ecg(EXAMPLES["ge_dicom1.dcm"])[0][0]
    wfdb.wrsamp("c", fs=500, units=["mV"] * 12, sig_name=list(LEAD_NAMES), p_signal=X.T.astype(float),
                fmt=["16"] * 12, adc_gain=[1000.0] * 12, baseline=[0] * 12, write_dir=str(folder))  # fmt: skip
    (folder / "labels.csv").write_text("ecg_id,age\n1,56\n")
    (folder / "README.txt").write_text("three ECGs\n")
    shutil.copy(EXAMPLES["ge_dicom1.dcm"], folder / ".hidden.dcm")
    (folder / ".cache").mkdir()
    shutil.copy(EXAMPLES["ge_dicom1.dcm"], folder / ".cache" / "x.dcm")
    return folder


def test_folder_reads_its_ecg_files_in_sorted_order(ecg_folder):
    X, frame = read_ecg(ecg_folder, fs=500, length=5000)
    assert frame["path"].tolist() == [str(ecg_folder / "b.dcm"), str(ecg_folder / "c"), str(ecg_folder / "sub/a.xml")]
    assert frame["format"].tolist() == ["dicom", "wfdb", "cardiosoft"]
    expected = read_ecg([ecg_folder / "b.dcm", ecg_folder / "c", ecg_folder / "sub" / "a.xml"], fs=500, length=5000)
    np.testing.assert_array_equal(X, expected[0])


def test_folder_names_a_damaged_ecg_file_or_skips_it(ecg_folder):
    (ecg_folder / "d.xml").write_text("<CardiologyXML><StripData>")  # an ECG suffix, a cut file: not left out
    with pytest.raises(ECGFileError, match=r"d\.xml.*malformed or truncated"):
        read_ecg(ecg_folder, fs=500, length=5000)
    with pytest.warns(ECGReadWarning, match="1 of 4 ECG files could not be read"):
        X, frame = read_ecg(ecg_folder, fs=500, length=5000, errors="warn")
    assert X.shape == (3, 12, 5000)
    assert frame.loc[frame["skipped"], "path"].tolist() == [str(ecg_folder / "d.xml")]


def test_glob_pattern(ecg_folder):
    X, frame = read_ecg(str(ecg_folder / "**" / "*.xml"))
    assert frame["path"].tolist() == [str(ecg_folder / "sub" / "a.xml")]
    X, frame = read_ecg([ecg_folder / "*.dcm", ecg_folder / "sub"], fs=500, length=5000)
    assert frame["format"].tolist() == ["dicom", "cardiosoft"]
    with pytest.raises(FileNotFoundError, match=r"\*\.hl7' matches no file"):
        read_ecg(str(ecg_folder / "*.hl7"))


def test_sniff_format_of_a_folder_says_it_is_one(ecg_folder):
    with pytest.raises(IsADirectoryError, match=r"cohort' is a folder, not an ECG file; pass it to read_ecg"):
        sniff_format(ecg_folder)


def test_folder_without_ecg_files(tmp_path):
    (tmp_path / "labels.csv").write_text("a\n1\n")
    with pytest.raises(FileNotFoundError, match=r"holds no ECG file.*labels\.csv"):
        read_ecg(tmp_path)


# --- device median beats in a mixed-vendor cohort --------------------------------------------------------------


def test_median_beats_warn_keeps_files_without_a_device_beat():
    paths = [EXAMPLES["ge_dicom1.dcm"], EXAMPLES["philips_sierra_129DYPRG.xml"], EXAMPLES["ge_dicom2.dcm"]]
    with pytest.warns(ECGReadWarning, match=r"1 of 3 ECG files carry no device median beat.*median_beats='compute'"):
        X, frame, beats = read_ecg(paths, fs=500, length=5000, median_beats=True, errors="warn")
    assert X.shape == (3, 12, 5000)
    assert frame["skipped"].tolist() == [False, False, False]
    assert frame["has_median_beat"].tolist() == [True, False, True]
    assert frame["median_beat_source"].fillna("none").tolist() == ["device", "none", "device"]
    assert np.isnan(beats[1]).all()
    assert np.isfinite(beats[[0, 2]]).all()


def test_median_beats_compute_fills_files_without_a_device_beat():
    paths = [EXAMPLES["ge_dicom1.dcm"], EXAMPLES["philips_sierra_129DYPRG.xml"]]
    X, frame, beats = read_ecg(paths, fs=500, length=5000, median_beats="compute")
    assert frame["has_median_beat"].tolist() == [True, False]
    assert frame["median_beat_source"].tolist() == ["device", "computed"]
    np.testing.assert_allclose(beats[1], MedianBeat(fs=500).fit_transform(X[1:])[0], atol=1e-6)
    assert np.isfinite(beats).all()


def test_median_beats_compute_on_a_flat_recording_names_the_file(tmp_path):
    flat = np.zeros((5000, 12))
    wfdb.wrsamp("flat", fs=500, units=["mV"] * 12, sig_name=list(LEAD_NAMES), p_signal=flat, fmt=["16"] * 12,
                adc_gain=[1000.0] * 12, baseline=[0] * 12, write_dir=str(tmp_path))  # fmt: skip
    with pytest.raises(ECGFileError, match=r"flat'.*no median beat can be computed"):
        read_ecg(tmp_path / "flat", median_beats="compute")
    with pytest.warns(ECGReadWarning, match="1 of 2 ECG files could not be read"):
        X, frame, beats = read_ecg([tmp_path / "flat", EXAMPLES["ge_dicom1.dcm"]], median_beats="compute",
                                   errors="warn")  # fmt: skip
    assert frame["skipped"].tolist() == [True, False]
    assert beats.shape == (1, 12, 608)


def test_amplitude_beyond_any_ecg_is_refused(tmp_path):
    """A damaged scale factor of 1e300 uV per LSB: finite in float64, inf in the float32 output."""
    ds = pydicom.dcmread(EXAMPLES["ge_dicom1.dcm"])
    ds.WaveformSequence[0].ChannelDefinitionSequence[0].ChannelSensitivity = "1e300"
    ds.save_as(tmp_path / "huge.dcm")
    with pytest.raises(ECGFileError, match=r"huge\.dcm.*amplitudes up to .* mV, beyond the 10000 mV"):
        read_ecg(tmp_path / "huge.dcm")


def test_unreadable_acquisition_time_is_left_out_not_an_error(tmp_path):
    text = EXAMPLES["ge_cardiosoft_ukb.xml"].read_text()
    odd = _edit(tmp_path, "odd_time.xml", text, r"<Hour>14</Hour>", "<Hour>-inf</Hour>")
    X, frame = read_ecg(odd)
    assert pd.isna(frame.loc[0, "acquisition_time"])
    np.testing.assert_array_equal(X, read_ecg(EXAMPLES["ge_cardiosoft_ukb.xml"])[0])
