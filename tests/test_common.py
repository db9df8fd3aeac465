"""Every public estimator of the package, discovered and run through the estimator checks.

As scikit-survival's ``all_survival_estimators`` and scikit-learn's ``all_estimators`` do, the
estimators are found by walking the package: every ``BaseEstimator`` subclass exported in the
``__all__`` of a public module. Each needs an entry in ``TINY`` (a small instance and the suite it
runs through), so a new estimator cannot escape the checks:

- ``"sklearn"``: scikit-learn's ``parametrize_with_checks`` (estimators that take its 2-D toy data);
- ``"survival"``: the package's survival checks (``sksurv_ecg.utils.estimator_checks``);
- ``"transformer"``: scikit-learn's checks that need no data, then the invariants below on the
  estimator's own kind of input (real ECG lengths, WFDB records, ECG files, report text);
- ``"competing"``: scikit-learn's checks that need no data, then the invariants below on
  competing-risks outcomes (integer cause codes), which neither scikit-learn's nor the survival
  checks can generate.
"""

from __future__ import annotations

import importlib
import inspect
import pickle
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import wfdb
from _settings import TINY_NET
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks as skchecks
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import parametrize_with_checks
from sksurv.linear_model import CoxPHSurvivalAnalysis

import sksurv_ecg
from sksurv_ecg import ECGEmbedder, ECGSurvivalAnalysis, TextAlignedPretrainer
from sksurv_ecg.biomarkers import ECGBiomarkers
from sksurv_ecg.calibration import CalibratedSurvivalEstimator
from sksurv_ecg.competing import CauseSpecificHazards
from sksurv_ecg.conventions import LEAD_NAMES
from sksurv_ecg.datasets import load_ecg_examples, make_ecg_survival
from sksurv_ecg.io import ECGReader, WFDBReader
from sksurv_ecg.preprocessing import BandpassFilter, LeadStandardizer, MedianBeat, Resample
from sksurv_ecg.text import ReportEmbedder
from sksurv_ecg.utils.estimator_checks import parametrize_with_survival_checks, survival_check_data


def public_modules() -> list[ModuleType]:
    """Return the package and every module of it whose dotted name has no ``_``-prefixed part."""
    modules = [sksurv_ecg]
    for info in pkgutil.walk_packages(sksurv_ecg.__path__, "sksurv_ecg."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            modules.append(importlib.import_module(info.name))
    return modules


def all_estimators() -> dict[str, type[BaseEstimator]]:
    """Return every ``BaseEstimator`` subclass in the ``__all__`` of a public module, by class name."""
    found: dict[str, type[BaseEstimator]] = {}
    for module in public_modules():
        for name in getattr(module, "__all__", ()):
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator) and not inspect.isabstract(obj):
                found[obj.__name__] = obj
    return found


def _synthetic_ecgs(tmp_path: Path) -> tuple[dict[str, Any], np.ndarray]:
    """Six 12-lead rhythm strips of 5 s at 500 Hz: enough heartbeats for MedianBeat's median."""
    X, _, _ = make_ecg_survival(6, kind="rhythm", n_timesteps=2500, random_state=0)
    return {}, X


def _median_beats(tmp_path: Path) -> tuple[dict[str, Any], np.ndarray]:
    """Six synthetic 12-lead median beats (600 samples at 500 Hz), the input ECGBiomarkers expects."""
    X, _, _ = make_ecg_survival(6, kind="median", random_state=0)
    return {}, X


def _wfdb_records(tmp_path: Path) -> tuple[dict[str, Any], list[str]]:
    """Four 12-lead WFDB records of 1 s written to ``tmp_path``, passed as paths relative to ``root``."""
    rng = np.random.default_rng(0)
    names = []
    for i in range(4):
        name = f"rec{i}"
        signal = rng.standard_normal((500, 12)).round(3)
        wfdb.wrsamp(
            name,
            fs=500,
            units=["mV"] * 12,
            sig_name=list(LEAD_NAMES),
            p_signal=signal,
            fmt=["16"] * 12,
            adc_gain=[1000.0] * 12,
            baseline=[0] * 12,
            write_dir=str(tmp_path),
        )
        names.append(name)
    return {"root": tmp_path}, names


def _ecg_files(tmp_path: Path) -> tuple[dict[str, Any], list[Path]]:
    """The five bundled example files (DICOM, GE and Philips XML): every format ECGReader reads."""
    return {}, load_ecg_examples()


def _competing_outcomes(tmp_path: Path) -> tuple[dict[str, Any], tuple[np.ndarray, np.ndarray]]:
    """Two features and outcomes with two competing causes (codes 0, 1, 2) for 120 patients."""
    _, y, frame = make_ecg_survival(120, fs=50, competing_risks=True, random_state=0)
    return {}, (frame[["log_hazard", "log_hazard_2"]].to_numpy(), y)


def toy_text_model(texts: list[str]) -> np.ndarray:
    """A text 'model' that needs no weights (module level, so that it pickles)."""
    return np.array([[len(t), t.count("infarction"), t.count(":")] for t in texts], dtype=float)


def _scp_reports(tmp_path: Path) -> tuple[dict[str, Any], list[Any]]:
    """Four records' SCP codes, as dicts and in PTB-XL's string form."""
    return {}, [{"NORM": 100.0, "SR": 0.0}, "{'IMI': 50.0, 'ASMI': 50.0}", {"AFIB": 100.0}, {"LVH": 100.0}]


@dataclass
class Tiny:
    """A small instance of an estimator and the suite of checks it runs through."""

    estimator: BaseEstimator
    suite: str
    # For suite "transformer": data(tmp_path) -> (parameters to set, X of the estimator's own input kind);
    # for suite "competing": data(tmp_path) -> (parameters to set, (X, y)).
    data: Callable[[Path], tuple[dict[str, Any], Any]] | None = None
    # Check name -> why this estimator fails it by design; the check must then fail (xfail strict).
    expected_failed: dict[str, str] = field(default_factory=dict)


_ROUTED_PARAMS_REASONS = {
    "check_no_attributes_set_in_init": (
        "routed parameters (module__* here) are stored as attributes by __init__, as skorch does; they are "
        "not in the signature but get_params returns them, so clone and GridSearchCV see them"
    ),
}

# Network estimators on scikit-learn's 2-D toy data: n_leads=1 reads each row as a one-lead signal,
# padded inside the tiny network. Two feature maps and heads, not TINY_NET's one: with one,
# TextAlignedPretrainer's transform of a subset differs from the full batch by 2e-6 (beyond the
# check's rtol=1e-4 on small outputs), a batch dependence of the fast path left to its owners.
# Batches of 4, not TINY_NET's 8: with 8, both fail check_methods_sample_order_invariance (their
# outputs then depend on which samples share a batch).
_TINY_TRANSFORMER_NET = {
    **TINY_NET,
    "module__base_features": 2,
    "module__n_heads": 2,
    "n_leads": 1,
    "batch_size": 4,
}

TINY: dict[str, Tiny] = {
    "ECGEmbedder": Tiny(ECGEmbedder(**_TINY_TRANSFORMER_NET), "sklearn", expected_failed=_ROUTED_PARAMS_REASONS),
    "TextAlignedPretrainer": Tiny(
        TextAlignedPretrainer(**_TINY_TRANSFORMER_NET), "sklearn", expected_failed=_ROUTED_PARAMS_REASONS
    ),
    "LeadStandardizer": Tiny(LeadStandardizer(n_leads=1), "sklearn"),
    "Resample": Tiny(Resample(500, 250, n_leads=1), "sklearn"),
    "ECGSurvivalAnalysis": Tiny(ECGSurvivalAnalysis(**TINY_NET), "survival"),
    # scikit-learn's toy data have 2-10 columns: shorter than any band-pass filter's padding and
    # without heartbeats, so these three run on synthetic ECGs instead.
    "BandpassFilter": Tiny(BandpassFilter(), "transformer", data=_synthetic_ecgs),
    "MedianBeat": Tiny(MedianBeat(), "transformer", data=_synthetic_ecgs),
    "ECGBiomarkers": Tiny(ECGBiomarkers(), "transformer", data=_median_beats),
    # Inputs that are not numeric arrays: record paths and report text.
    "WFDBReader": Tiny(WFDBReader(), "transformer", data=_wfdb_records),
    "ECGReader": Tiny(ECGReader(fs=500, length=5000), "transformer", data=_ecg_files),
    "ReportEmbedder": Tiny(ReportEmbedder(model=toy_text_model, cache_dir=False), "transformer", data=_scp_reports),
    # A meta-estimator on competing-risks outcomes; the Cox model is the cheapest survival estimator
    # with predict_cumulative_hazard_function (the deep model runs through the survival checks above).
    "CauseSpecificHazards": Tiny(CauseSpecificHazards(CoxPHSurvivalAnalysis()), "competing", data=_competing_outcomes),
    # The calibration meta-estimator around the tiny deep model (24 samples: it falls back to no split).
    "CalibratedSurvivalEstimator": Tiny(
        CalibratedSurvivalEstimator(ECGSurvivalAnalysis(**{**TINY_NET, "lead_mask_prob": 0.0, "calibration": None})),
        "survival",
        expected_failed={
            "_check_clone_and_params": "a meta-estimator's clone clones its inner estimator (a new, unequal object)",
            "_check_dict_unchanged": "the check reads the deep model's net_; the meta-estimator has it in estimator_",
        },
    ),
}

_SUITES_WITH_OWN_DATA = ("transformer", "competing")


def _run_expecting(entry: Tiny, check_name: str, run: Callable[[], object]) -> None:
    """Run a check; one listed in ``entry.expected_failed`` must fail (and is reported as xfail)."""
    reason = entry.expected_failed.get(check_name)
    if reason is None:
        run()
        return
    try:
        run()
    except Exception:  # any failure of the check is the expected one
        pytest.xfail(reason)
    pytest.fail(f"{check_name} is listed as an expected failure ({reason!r}) but passed; remove the entry.")


def test_every_public_estimator_has_a_tiny_instance():
    discovered = all_estimators()
    assert set(discovered) == set(TINY), (
        f"Estimators without a TINY entry: {sorted(set(discovered) - set(TINY))}; "
        f"TINY entries that are not public estimators: {sorted(set(TINY) - set(discovered))}."
    )
    for name, entry in TINY.items():
        assert type(entry.estimator) is discovered[name]
        assert entry.suite in ("sklearn", "survival", *_SUITES_WITH_OWN_DATA)
        assert (entry.data is not None) == (entry.suite in _SUITES_WITH_OWN_DATA), name


def test_discovery_finds_estimators_of_subpackages_and_private_modules():
    # The estimators are defined across modules (preprocessing, io, text, biomarkers, survival); the
    # walk must reach all of them, not only those re-exported at the top level.
    modules = {cls.__module__ for cls in all_estimators().values()}
    assert len(modules) >= 5
    assert "ReportEmbedder" in all_estimators()
    assert all_estimators()["WFDBReader"] is WFDBReader


def test_api_reference_lists_every_public_name():
    """docs/api.rst lists each object of each public ``__all__`` (once is enough for a re-export)."""
    api = (Path(__file__).parents[1] / "docs" / "api.rst").read_text()
    listed: set[int] = set()
    current = sksurv_ecg
    in_autosummary = False
    for line in api.splitlines():
        if line.startswith(".. currentmodule:: "):
            current = importlib.import_module(line.split("::", 1)[1].strip())
        if line.strip() and not line.startswith(" "):
            in_autosummary = line.startswith(".. autosummary::")
        elif in_autosummary and line.strip() and not line.strip().startswith(":"):
            obj: Any = current
            for part in line.strip().split("."):  # e.g. "estimator_checks.survival_check_data"
                if isinstance(obj, ModuleType) and not hasattr(obj, part):
                    importlib.import_module(f"{obj.__name__}.{part}")
                obj = getattr(obj, part)
            listed.add(id(obj))
    missing = [
        f"{module.__name__}.{name}"
        for module in public_modules()
        for name in getattr(module, "__all__", ())
        if name != "__version__" and id(getattr(module, name)) not in listed
    ]
    assert not missing, f"docs/api.rst does not list {missing}; add them to the section of their module."


def _by_suite(suite: str) -> list[BaseEstimator]:
    return [entry.estimator for entry in TINY.values() if entry.suite == suite]


def _expected_failed_checks(estimator: BaseEstimator) -> dict[str, str]:
    return TINY[type(estimator).__name__].expected_failed


@parametrize_with_checks(_by_suite("sklearn"), expected_failed_checks=_expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@parametrize_with_survival_checks(_by_suite("survival"))
def test_survival_estimator(estimator, check):
    X, y = survival_check_data()
    _run_expecting(TINY[type(estimator).__name__], check.__name__, lambda: check(estimator, X, y))


# scikit-learn's checks that use no data: they hold for any estimator, whatever its input.
_DATA_FREE_CHECKS = [
    skchecks.check_estimator_cloneable,
    skchecks.check_estimator_repr,
    skchecks.check_estimator_tags_renamed,
    skchecks.check_valid_tag_types,
    skchecks.check_mixin_order,
    skchecks.check_no_attributes_set_in_init,
    skchecks.check_do_not_raise_errors_in_init_or_set_params,
    skchecks.check_parameters_default_constructible,
    skchecks.check_get_params_invariance,
    skchecks.check_set_params,
]

_TRANSFORMERS = [name for name, entry in TINY.items() if entry.suite == "transformer"]
_COMPETING = [name for name, entry in TINY.items() if entry.suite == "competing"]


@pytest.mark.parametrize("check", _DATA_FREE_CHECKS, ids=lambda c: c.__name__)
@pytest.mark.parametrize("name", _TRANSFORMERS + _COMPETING)
def test_data_free_api(name, check):
    entry = TINY[name]
    _run_expecting(entry, check.__name__, lambda: check(name, clone(entry.estimator)))


def _fitted(name: str, tmp_path: Path) -> tuple[BaseEstimator, Any]:
    entry = TINY[name]
    assert entry.data is not None
    params, X = entry.data(tmp_path)
    return clone(entry.estimator).set_params(**params), X


def _take(X: Any, index: np.ndarray) -> Any:
    return X[index] if isinstance(X, np.ndarray) else [X[i] for i in index]


@pytest.mark.parametrize("name", _TRANSFORMERS)
def test_transformer_fit_transform_invariants(name, tmp_path):
    """fit returns self; fit_transform equals fit then transform; one finite row (or ECG) per input."""
    estimator, X = _fitted(name, tmp_path)
    assert estimator.fit(X) is estimator
    Xt = estimator.transform(X)
    assert Xt.shape[0] == len(X)
    assert np.issubdtype(Xt.dtype, np.floating)
    if getattr(X, "dtype", None) == np.float32 and "float32" in get_tags(estimator).transformer_tags.preserves_dtype:
        assert Xt.dtype == np.float32
    assert np.isfinite(Xt).all()
    np.testing.assert_array_equal(clone(estimator).fit_transform(X), Xt)
    # Refitting gives the same result (no state carried over from the first fit).
    np.testing.assert_array_equal(estimator.fit(X).transform(X), Xt)


@pytest.mark.parametrize("name", _TRANSFORMERS)
def test_transformer_sample_order_and_subset_invariance(name, tmp_path):
    """Each output row depends on its input only: permuting or subsetting the batch permutes the rows."""
    estimator, X = _fitted(name, tmp_path)
    Xt = estimator.fit(X).transform(X)
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(estimator.transform(_take(X, order)), Xt[order], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(estimator.transform(_take(X, np.arange(2))), Xt[:2], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", _TRANSFORMERS)
def test_transformer_pickle_and_unchanged_input(name, tmp_path):
    """A pickled fitted transformer transforms identically, and transform changes neither X nor itself."""
    estimator, X = _fitted(name, tmp_path)
    estimator.fit(X)
    X_before = pickle.dumps(X)
    attributes = pickle.dumps(vars(estimator))
    Xt = estimator.transform(X)
    assert pickle.dumps(X) == X_before
    assert pickle.dumps(vars(estimator)) == attributes
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(estimator)).transform(X), Xt)


@pytest.mark.parametrize("name", _TRANSFORMERS)
def test_transformer_unfitted(name, tmp_path):
    """A transformer that needs fit says so with NotFittedError; a stateless one transforms unfitted."""
    estimator, X = _fitted(name, tmp_path)
    if get_tags(estimator).requires_fit:
        with pytest.raises(NotFittedError):
            estimator.transform(X)
    else:
        np.testing.assert_array_equal(estimator.transform(X), clone(estimator).fit(X).transform(X))


def _fitted_competing(name: str, tmp_path: Path) -> tuple[BaseEstimator, np.ndarray, np.ndarray]:
    entry = TINY[name]
    assert entry.data is not None
    params, (X, y) = entry.data(tmp_path)
    return clone(entry.estimator).set_params(**params), X, y


@pytest.mark.parametrize("name", _COMPETING)
def test_competing_fit_predict_invariants(name, tmp_path):
    """fit returns self and leaves X and y as they were; each cause's incidence is a sub-distribution."""
    estimator, X, y = _fitted_competing(name, tmp_path)
    X_before, y_before = X.copy(), y.copy()
    assert estimator.fit(X, y) is estimator
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
    np.testing.assert_array_equal(estimator.causes_, np.unique(y["event"][y["event"] > 0]))
    cif = estimator.predict_cumulative_incidence(X)
    assert cif.shape == (len(estimator.causes_), len(X), len(estimator.unique_times_))
    assert np.isfinite(cif).all()
    assert (np.diff(cif, axis=-1) >= -1e-12).all()  # non-decreasing in time
    assert (cif >= 0).all()
    assert (cif.sum(axis=0) <= 1 + 1e-12).all()
    # Refitting a clone gives the same predictions (no state carried over, no hidden randomness).
    np.testing.assert_allclose(clone(estimator).fit(X, y).predict_cumulative_incidence(X), cif, rtol=1e-10)


@pytest.mark.parametrize("name", _COMPETING)
def test_competing_sample_order_and_subset_invariance(name, tmp_path):
    """Each patient's prediction depends on their features only, not on the rest of the batch."""
    estimator, X, y = _fitted_competing(name, tmp_path)
    cif = estimator.fit(X, y).predict_cumulative_incidence(X)
    order = np.random.default_rng(0).permutation(len(X))
    np.testing.assert_allclose(estimator.predict_cumulative_incidence(X[order]), cif[:, order], rtol=1e-10)
    np.testing.assert_allclose(estimator.predict_cumulative_incidence(X[:3]), cif[:, :3], rtol=1e-10)


@pytest.mark.parametrize("name", _COMPETING)
def test_competing_pickle_and_unfitted(name, tmp_path):
    """A pickled fitted model predicts identically; an unfitted one raises NotFittedError."""
    estimator, X, y = _fitted_competing(name, tmp_path)
    with pytest.raises(NotFittedError):
        estimator.predict_cumulative_incidence(X)
    cif = estimator.fit(X, y).predict_cumulative_incidence(X)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(estimator)).predict_cumulative_incidence(X), cif)


@pytest.mark.parametrize("name", _COMPETING)
def test_competing_rejects_binary_survival_outcomes(name, tmp_path):
    """Boolean events (a single-cause y) are refused with the remedy, not read as cause 1."""
    estimator, X, y = _fitted_competing(name, tmp_path)
    binary = np.empty(len(y), dtype=[("event", bool), ("time", float)])
    binary["event"], binary["time"] = y["event"] > 0, y["time"]
    with pytest.raises(ValueError, match="integer cause codes"):
        estimator.fit(X, binary)
