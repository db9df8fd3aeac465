"""Property-based fuzzing of the ECG readers: damaged copies of real files of every format.

Each example takes a real file (the DICOM, CardioSoft and Sierra files bundled with the package, a
PTB-XL WFDB record, a MUSE file written by ``tests/_muse_files.py``), damages it (cut short, bytes
flipped, an XML element dropped, a number changed: rates, counts, scale factors) and reads it with
:func:`sksurv_ecg.io.read_ecg`. The reader must either refuse it with the package's
``ECGFileError``, or a ``ValueError``/``OSError`` whose message names the file, or return signals of
the shape the file declares with finite values. Any other exception, a hang (``pytest-timeout``,
hypothesis deadlines) or NaN in the signals fails the test.

The default suite runs a fixed, bounded set of examples per format (``derandomize=True``: the same
examples each run); ``-m slow`` runs many more, drawn afresh.
"""

import re
import warnings
from datetime import timedelta
from io import BytesIO

import numpy as np
import pydicom
import pytest
from _muse_files import write_muse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sksurv_ecg.datasets import load_ecg_examples
from sksurv_ecg.exceptions import ECGFileError
from sksurv_ecg.io import read_ecg

EXAMPLES = {p.name: p for p in load_ecg_examples()}
FORMATS = ["dicom", "cardiosoft", "sierra", "muse", "wfdb"]
# Numbers a damaged or hostile file may hold where a rate, count or scale factor belongs.
HOSTILE_NUMBERS = st.one_of(
    st.sampled_from(
        [
            "0",
            "-1",
            "-500",
            "49",
            "10001",
            "1e308",
            "-1e308",
            "1e-308",
            "nan",
            "inf",
            "-inf",
            "2147483648",
            "99999999999999999999",
            "0.5",
            "1.5",
            "abc",
            "",
        ]
    ),  # fmt: skip
    st.integers(-(10**6), 10**6).map(str),
)
# Element text that is one number (rates, counts, scale factors), not the waveform blobs around it.
_XML_NUMBER = re.compile(rb">(\s*-?\d+(?:\.\d+)?\s*)<")
_ANY_NUMBER = re.compile(rb"-?\d+(?:\.\d+)?")
_START_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*)[^>]*?(/?)>")
# read_ecg options an example runs with: the file's own rate and length, a resampled fixed length, or the
# device median beats too (each path divides by, resamples at or aligns to the declared rate).
OPTIONS = [{}, {"fs": 500, "length": 5000, "pad": True}, {"median_beats": True}]
# MedianBeat's QRS detection takes about a second a file: only in the slow suite.
SLOW_OPTIONS = [*OPTIONS, {"fs": 500, "median_beats": "compute"}]

FAST = settings(
    max_examples=20,
    deadline=timedelta(seconds=20),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
THOROUGH = settings(
    max_examples=300,
    deadline=timedelta(seconds=20),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def sources(tmp_path_factory, ptbxl_dir):
    """The bytes of one real file per format, and the folder the damaged copies are written to."""
    folder = tmp_path_factory.mktemp("fuzz")
    record = ptbxl_dir / "records500" / "00000" / "00001_hr"
    return folder, {
        "dicom": EXAMPLES["ge_dicom1.dcm"].read_bytes(),
        "cardiosoft": EXAMPLES["ge_cardiosoft_ukb.xml"].read_bytes(),
        "sierra": EXAMPLES["philips_sierra_129DYPRG.xml"].read_bytes(),
        "muse": write_muse(folder / "muse_source.xml").read_bytes(),
        "wfdb": (
            record.with_suffix(".hea").read_bytes().replace(b"00001_hr", b"fuzzed"),
            record.with_suffix(".dat").read_bytes(),
        ),
    }


def _cut(data, fraction):
    return data[: int(len(data) * fraction)]


def _flip(data, positions, xor):
    array = bytearray(data)
    for fraction in positions:
        i = min(int(len(array) * fraction), len(array) - 1)
        array[i] ^= xor
    return bytes(array)


def _replace_number(data, pattern, index, value):
    matches = list(pattern.finditer(data))
    if not matches:
        return data
    match = matches[index % len(matches)]
    start, end = match.span(1 if pattern.groups else 0)
    return data[:start] + value.encode() + data[end:]


def _drop_element(data, index):
    """``data`` without one element (its start tag to the matching end tag), chosen by ``index``."""
    tags = [m for m in _START_TAG.finditer(data) if data[m.start() + 1 : m.start() + 2] not in b"?!/"]
    if len(tags) < 2:
        return data
    tag = tags[1 + index % (len(tags) - 1)]  # never the root: that case is a cut file
    if tag.group(2) == b"/":
        return data[: tag.start()] + data[tag.end() :]
    end = data.find(b"</" + tag.group(1) + b">", tag.end())
    if end < 0:
        return data[: tag.start()]
    return data[: tag.start()] + data[end + len(tag.group(1)) + 3 :]


def _damage_dicom(data, name, value):
    """``data`` with a rate, count or scale factor of its waveform set to ``value`` through pydicom."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom warns of values invalid for the VR: such a file is the point
        try:
            ds = pydicom.dcmread(BytesIO(data))
            group = ds.WaveformSequence[0]
            target = group.ChannelDefinitionSequence[0] if name.startswith("Channel") else group
            target[name].value = value
            out = BytesIO()
            ds.save_as(out)
        except Exception:  # noqa: BLE001  # already cut, or pydicom cannot write this value: left as it is
            return data
    return out.getvalue()


@st.composite
def damaged(draw, fmt, source):
    """A damaged copy of ``source`` (bytes, or the (header, data) pair of a WFDB record)."""
    if fmt == "wfdb":
        header, signal = source
        if draw(st.booleans()):
            return _damage_bytes(draw, header, fmt, _ANY_NUMBER), signal
        return header, _damage_bytes(draw, signal, fmt, None)
    return _damage_bytes(draw, source, fmt, _XML_NUMBER if fmt != "dicom" else None)


def _damage_bytes(draw, data, fmt, number_pattern):
    kinds = ["cut", "flip"]
    if number_pattern is not None or fmt == "dicom":
        kinds.append("number")
    if fmt in {"cardiosoft", "sierra", "muse"}:
        kinds.append("drop")
    for kind in draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=3)):
        if kind == "cut":
            # mostly cut inside the file; an empty file is one example among many
            data = _cut(data, draw(st.one_of(st.just(0.0), st.floats(0.001, 1.0))))
        elif kind == "flip":
            positions = st.lists(st.floats(0.0, 1.0, exclude_min=True), min_size=1, max_size=8)
            data = _flip(data, draw(positions), draw(st.integers(1, 255)))
        elif kind == "drop":
            data = _drop_element(data, draw(st.integers(0, 10**6)))
        elif fmt == "dicom":
            name = draw(st.sampled_from(["SamplingFrequency", "NumberOfWaveformSamples", "NumberOfWaveformChannels",
                                         "WaveformBitsAllocated", "ChannelSensitivity",
                                         "ChannelSensitivityCorrectionFactor", "ChannelBaseline"]))  # fmt: skip
            data = _damage_dicom(data, name, draw(HOSTILE_NUMBERS))
        else:
            data = _replace_number(data, number_pattern, draw(st.integers(0, 10**6)), draw(HOSTILE_NUMBERS))
        if not data:
            break
    return data


def _write(folder, fmt, damaged_source):
    if fmt == "wfdb":
        header, signal = damaged_source
        (folder / "fuzzed.hea").write_bytes(header)
        (folder / "fuzzed.dat").write_bytes(signal)
        return folder / "fuzzed"
    path = folder / ("fuzzed.dcm" if fmt == "dicom" else "fuzzed.xml")
    path.write_bytes(damaged_source)
    return path


def _check_read(path, options):
    """Read ``path``; assert a named refusal of the package's kind or well-formed finite signals."""
    with warnings.catch_warnings():
        # pydicom and sierraecg warn of the damage they meet; the outcome is what is checked here
        warnings.simplefilter("ignore")
        try:
            result = read_ecg(path, **options)
        except (ECGFileError, ValueError, OSError) as err:  # any other type fails the test
            refusal = err
        else:
            refusal = None
    if refusal is not None:
        assert path.name in str(refusal), f"{type(refusal).__name__} does not name the file: {refusal}"
        return
    X, frame = result[:2]
    assert X.dtype == np.float32
    assert np.isfinite(X).all(), "NaN or inf in the signals"
    n = options.get("length", frame.loc[0, "n_samples"])
    assert X.shape == (1, 12, n)
    assert 50 <= frame.loc[0, "fs"] <= 10_000
    if options.get("median_beats"):
        beats = result[2]
        assert beats.shape[:2] == (1, 12)
        assert np.isfinite(beats).all()


def _fuzz(fmt, sources, data, options=OPTIONS):
    folder, files = sources
    options = data.draw(st.sampled_from(options), label="options")
    path = _write(folder, fmt, data.draw(damaged(fmt, files[fmt]), label="damaged"))
    _check_read(path, options)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("fmt", FORMATS)
@FAST
@given(data=st.data())
def test_damaged_file_is_refused_by_name_or_read_finite(fmt, sources, data):
    _fuzz(fmt, sources, data)


@pytest.mark.slow
@pytest.mark.timeout(1800)
@pytest.mark.parametrize("fmt", FORMATS)
@THOROUGH
@given(data=st.data())
def test_damaged_file_is_refused_by_name_or_read_finite_thorough(fmt, sources, data):
    _fuzz(fmt, sources, data, SLOW_OPTIONS)


def test_every_format_reads_undamaged(sources):
    """The sources themselves read: the properties above are not met by refusing everything."""
    folder, files = sources
    for fmt in FORMATS:
        path = _write(folder, fmt, files[fmt])
        X, frame = read_ecg(path)[:2]
        assert X.shape[:2] == (1, 12)
        assert frame.loc[0, "format"] == fmt


def test_mutations_change_the_file(sources):
    """Each kind of damage changes its source, so that the examples are not the real file read again."""
    _, files = sources
    xml = files["cardiosoft"]
    assert _cut(xml, 0.5) == xml[: len(xml) // 2]
    assert _flip(xml, [0.5], 1) != xml
    assert _drop_element(xml, 3) != xml
    assert b">-500<" in _replace_number(xml, _XML_NUMBER, 0, "-500")
    changed = _damage_dicom(files["dicom"], "SamplingFrequency", "0")
    assert pydicom.dcmread(BytesIO(changed)).WaveformSequence[0].SamplingFrequency == 0
    header = _replace_number(files["wfdb"][0], _ANY_NUMBER, 1, "-500")
    assert header.splitlines()[0] == b"fuzzed 12 -500 5000"
