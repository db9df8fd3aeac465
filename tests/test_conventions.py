"""sksurv_ecg.conventions: one home for the 12-lead order, its checks, the rate rule; old names kept; warnings
that name the user's line (one way to set stacklevel)."""

import ast
from pathlib import Path

import numpy as np
import pytest
import torch

import sksurv_ecg
from sksurv_ecg import conventions, explain, preprocessing
from sksurv_ecg.conventions import (
    FS_RANGE,
    LEAD_NAMES,
    check_lead_names,
    check_standard_12_leads,
    declared_sampling_rate,
    median_beat_layout,
    polyphase_factors,
)
from sksurv_ecg.exceptions import DeviceWarning, ECGFileError, LeadOrderWarning, user_stacklevel
from sksurv_ecg.io._common import check_sampling_rate
from sksurv_ecg.preprocessing import MedianBeat
from sksurv_ecg.utils import validation

ROOT = Path(sksurv_ecg.__file__).parent


def _literal_lead_lists():
    """``file:line`` of every tuple or list literal in the package that spells out leads I, II and V6."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Tuple | ast.List):
                values = {elt.value for elt in node.elts if isinstance(elt, ast.Constant)}
                if {"I", "II", "V6"} <= values:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_lead_order_is_written_once():
    assert LEAD_NAMES == ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
    assert _literal_lead_lists() == ["conventions.py:" + str(_line_of("LEAD_NAMES: tuple"))]


def _line_of(text):
    lines = (ROOT / "conventions.py").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.startswith(text))


def test_conventions_is_a_leaf():
    """The leaf imports nothing of the package but its exceptions, so every room can import it."""
    tree = ast.parse((ROOT / "conventions.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    ours = {name for name in imported if name.startswith(".") or name.startswith("sksurv_ecg")}
    assert ours == {".exceptions"}


@pytest.mark.parametrize(
    ("module", "name"),
    [pytest.param("sksurv_ecg.nn", "LEAD_NAMES", id="nn"), pytest.param("sksurv_ecg.io", "STANDARD_LEADS", id="io")],
)
def test_old_lead_names_are_deprecated_aliases(module, name):
    package = __import__(module, fromlist=["_"])
    with pytest.warns(FutureWarning, match="use sksurv_ecg.conventions.LEAD_NAMES") as caught:
        value = getattr(package, name)
    assert value is LEAD_NAMES
    assert caught[0].filename == __file__  # the user's line, not the package's
    with pytest.warns(FutureWarning, match=rf"sksurv_ecg\.{module.split('.')[1]}\.{name} is deprecated"):
        exec(f"from {module} import {name}", {})  # noqa: S102  (the import form of the same access)
    assert name not in package.__all__
    with pytest.raises(AttributeError, match="no attribute 'NO_SUCH_NAME'"):
        package.NO_SUCH_NAME  # noqa: B018


def test_old_locations_re_export_the_same_objects():
    for name in ("check_lead_order", "LeadOrderCheck", "check_lead_names", "check_ecg_amplitude", "check_median_beats"):
        assert getattr(validation, name) is getattr(conventions, name)
        assert name in validation.__all__
    assert preprocessing.median_beat_layout is median_beat_layout
    assert validation.MAX_MEDIAN_BEAT_SECONDS == conventions.MAX_MEDIAN_BEAT_SECONDS
    assert explain.lead_names(12) == list(LEAD_NAMES) == check_lead_names(None, 12, owner="test")
    assert "conventions" in dir(sksurv_ecg)


def test_check_standard_12_leads_names_the_leads():
    with pytest.raises(ValueError, match=r"X has 8 leads \(axis 1\), but ECGBiomarkers expects .* aVF, V1-V6"):
        check_standard_12_leads(np.zeros((1, 8, 10)), owner="ECGBiomarkers")
    # The facade keeps its array checks in front of the lead rule.
    with pytest.raises(ValueError, match="NaN"):
        validation.check_standard_12_leads(np.full((1, 12, 10), np.nan), owner="ECGBiomarkers")
    assert validation.check_standard_12_leads(np.zeros((1, 12, 10), dtype=np.float64), owner="x").dtype == np.float32


@pytest.mark.parametrize(
    ("fs", "expected"),
    [
        pytest.param(50, 50.0, id="lowest"),
        pytest.param("500", 500.0, id="text"),
        pytest.param(10_000.0, 10_000.0, id="highest"),
        pytest.param(49.9, None, id="too-low"),
        pytest.param(10_001, None, id="too-high"),
        pytest.param(float("nan"), None, id="nan"),
        pytest.param(float("inf"), None, id="inf"),
        pytest.param("five hundred", None, id="not-a-number"),
        pytest.param(None, None, id="missing"),
    ],
)
def test_declared_sampling_rate_is_the_readers_rule(fs, expected):
    assert FS_RANGE == (50.0, 10_000.0)
    assert declared_sampling_rate(fs) == expected
    if expected is None:
        with pytest.raises(ECGFileError, match=r"'rec\.hea': the recording declares a sampling rate of .* Hz"):
            check_sampling_rate("rec.hea", fs)
    else:
        assert check_sampling_rate("rec.hea", fs) == expected


def test_polyphase_factors_and_layout():
    assert polyphase_factors(500, 100) == (1, 5)
    assert polyphase_factors(257, 500) == (500, 257)
    assert median_beat_layout(100) == (120, 128, 64)


def test_warnings_point_at_the_users_line(ptbxl_sample):
    """Warnings issued deep in the package (through scikit-learn's wrappers) name the caller's line."""
    assert user_stacklevel() == 1
    X = ptbxl_sample[0][:2]
    with pytest.warns(FutureWarning, match=r"window=600 \(samples\) is deprecated") as caught:
        MedianBeat(window=600).fit_transform(X)
    assert [w.filename for w in caught] == [__file__]
    with pytest.warns(LeadOrderWarning, match="I and II look exchanged") as caught:
        MedianBeat().fit_transform(X[:, [1, 0, *range(2, 12)]])
    assert {w.filename for w in caught} == {__file__}
    if not torch.cuda.is_available():
        with pytest.warns(DeviceWarning, match="CUDA is not available") as caught:
            validation.check_device("cuda")
        assert caught[0].filename == __file__


def test_load_warning_points_at_the_users_line(tmp_path):
    """The version warning is issued in a helper under load_estimator; it names the caller's line."""
    import json
    import shutil

    from sksurv_ecg import TrainingWarning, load_estimator

    path = shutil.copytree(Path(__file__).parent / "data" / "model_v0.1.0", tmp_path / "m")
    config = json.loads((path / "config.json").read_text())
    config["versions"]["sksurv_ecg"] = "0.0.1"
    (path / "config.json").write_text(json.dumps(config))
    with pytest.warns(TrainingWarning, match="saved with sksurv-ecg 0.0.1") as caught:
        load_estimator(path)
    assert [w.filename for w in caught] == [__file__]
