"""Saving and loading fitted estimators: safetensors weights plus a JSON configuration.

The module sits below the estimators and imports none of them at import time. Every estimator
class registers itself here by name when it is defined (``_BaseECGEstimator.__init_subclass__``
calls :func:`register`); the package's own classes are also listed in a static table of the
modules that define them, which :func:`estimator_class` imports on demand, so that loading works
whatever the caller has imported (``import sksurv_ecg`` imports nothing up front).
"""

from __future__ import annotations

import importlib
import json
import math
import os
import warnings
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from safetensors.torch import save as safetensors_bytes
from sklearn.utils.validation import check_is_fitted

from ._version import __version__
from .exceptions import DamagedFileError, TrainingWarning, user_stacklevel
from .nn import DualAttentionAutoencoder, default_impl
from .utils import atomic_write, atomic_write_text
from .utils.validation import check_device, check_lead_names, check_precision

__all__ = ["FORMAT_TAG", "estimator_class", "load_estimator", "register", "save_estimator"]

FORMAT_TAG = "sksurv-ecg.model.v1"

#: Estimator classes that can be loaded, by class name.
_REGISTRY: dict[str, type] = {}

#: The package's estimator classes and the modules that define (and so register) them.
_ESTIMATOR_MODULES = {
    "ECGEmbedder": "sksurv_ecg.embedding",
    "TextAlignedPretrainer": "sksurv_ecg.embedding",
    "ECGSurvivalAnalysis": "sksurv_ecg.survival",
}


def register(cls):
    """Make ``cls`` loadable by :func:`load_estimator` under its class name.

    Parameters
    ----------
    cls : type
        Estimator class to register (used as a class decorator).

    Returns
    -------
    cls : type
        The class, unchanged.
    """
    _REGISTRY[cls.__name__] = cls
    return cls


def estimator_class(name):
    """The registered estimator class called ``name``, importing the package module that defines it.

    Parameters
    ----------
    name : str
        Class name, as saved in ``config.json``.

    Returns
    -------
    cls : type or None
        The class, or None when no loadable class has that name.

    Examples
    --------
    >>> from sksurv_ecg._persistence import estimator_class
    >>> estimator_class("ECGSurvivalAnalysis").__name__
    'ECGSurvivalAnalysis'
    """
    if name not in _REGISTRY and name in _ESTIMATOR_MODULES:
        importlib.import_module(_ESTIMATOR_MODULES[name])
    return _REGISTRY.get(name)


def _json_default(value):
    if isinstance(value, (np.integer, np.floating)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"parameter value {value!r} of type {type(value).__name__} cannot be saved as JSON")


def _versions():
    import sklearn
    import skorch
    import sksurv

    return {
        "sksurv_ecg": __version__,
        "torch": torch.__version__,
        "sklearn": sklearn.__version__,
        "sksurv": sksurv.__version__,
        "skorch": skorch.__version__,
    }


def _state_dict_diff(saved, expected, limit=5):
    """Name the first tensors that are missing, unexpected or of another shape."""
    lines = [f"{k}: missing from the file" for k in expected if k not in saved]
    lines += [f"{k}: not in the model" for k in saved if k not in expected]
    lines += [
        f"{k}: file {tuple(saved[k].shape)} vs model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in saved and saved[k].shape != v.shape
    ]
    more = f" (+{len(lines) - limit} more)" if len(lines) > limit else ""
    return "; ".join(lines[:limit]) + more


def save_estimator(estimator, path):
    """Save a fitted estimator as ``model.safetensors`` plus ``config.json`` in directory ``path``.

    Parameters
    ----------
    estimator : ECGEmbedder, TextAlignedPretrainer or ECGSurvivalAnalysis
        A fitted estimator.
    path : str or path-like
        Directory to create (or overwrite).

    Returns
    -------
    path : pathlib.Path
        The directory written.
    """
    check_is_fitted(estimator, "net_")
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    params = {k: v for k, v in estimator.get_params(deep=False).items() if k != "encoder"}
    state = {k: v.detach().cpu().contiguous() for k, v in estimator.net_.module_.state_dict().items()}
    config = {
        "format": FORMAT_TAG,
        "class": type(estimator).__name__,
        "params": params,
        "autoencoder": asdict(estimator.net_.module_.autoencoder.config),
        "n_features_in_": int(estimator.n_features_in_),
        "n_leads_": int(estimator.n_leads_),
        "n_timesteps_in_": int(estimator.n_timesteps_in_),
        "fs_": float(estimator.fs_),
        "lead_names_": estimator.lead_names_,
        "lead_order_": estimator.lead_order_,
        "fitted": estimator._fitted_state(),
        "versions": _versions(),
    }
    atomic_write(path / "model.safetensors", lambda fh: fh.write(safetensors_bytes(state, {"format": FORMAT_TAG})))
    atomic_write_text(path / "config.json", json.dumps(config, indent=2, default=_json_default))
    return path


def load_estimator(path, *, device="cpu", expected_class=None):
    """Load an estimator saved with ``save(path)``, whatever its class.

    Weights are read with safetensors (no pickle, so no code can run from the file) and loaded with
    ``load_state_dict(strict=True)`` into a model rebuilt from the JSON configuration.

    Parameters
    ----------
    path : str or path-like
        Directory written by ``save``.
    device : str, default="cpu"
        Device to place the model on.
    expected_class : type or None, default=None
        When given, the saved estimator must be of this class (or a subclass).

    Returns
    -------
    estimator : ECGEmbedder, TextAlignedPretrainer or ECGSurvivalAnalysis
        The fitted estimator.

    Examples
    --------
    >>> import tempfile
    >>> from sksurv_ecg import ECGSurvivalAnalysis, load_estimator
    >>> from sksurv_ecg.datasets import make_ecg_survival
    >>> X, y, _ = make_ecg_survival(40, random_state=0)
    >>> model = ECGSurvivalAnalysis(max_epochs=1, batch_size=20, random_state=0).fit(X, y)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     restored = load_estimator(model.save(tmp))
    >>> bool((restored.predict(X[:3]) == model.predict(X[:3])).all())
    True
    """
    path = Path(path)
    config_file, weights_file = path / "config.json", path / "model.safetensors"
    if path.is_file():
        raise DamagedFileError(
            f"{path} is a file, not the directory written by estimator.save(); pass its folder, {path.parent}."
        )
    for file in (config_file, weights_file):
        if not file.exists():
            raise FileNotFoundError(f"{file} does not exist; pass the directory written by estimator.save().")
    config = _read_config(config_file)
    if config["format"] != FORMAT_TAG:
        raise DamagedFileError(
            f"{config_file} has format {config['format']!r}, expected {FORMAT_TAG!r}: it is damaged or not a saved "
            "estimator; pass the directory written by estimator.save()."
        )
    klass = estimator_class(config["class"])
    if klass is None:
        raise ValueError(
            f"{config_file} holds a {config['class']!r}; this sksurv-ecg loads "
            f"{sorted(set(_REGISTRY) | set(_ESTIMATOR_MODULES))}. "
            "Load it with the sksurv-ecg version that saved it."
        )
    if expected_class is not None and not issubclass(klass, expected_class):
        raise TypeError(f"{path} holds a {config['class']}, not a {expected_class.__name__}.")
    saved_version = config["versions"].get("sksurv_ecg")
    if saved_version != __version__:
        warnings.warn(
            f"{path} was saved with sksurv-ecg {saved_version}; this is {__version__}. Check its predictions.",
            TrainingWarning,
            stacklevel=user_stacklevel(),
        )
    device_ = check_device(device)
    state = _read_weights(weights_file)
    try:
        estimator, module = _rebuild(klass, config, device, device_)
    except (KeyError, TypeError, ValueError, IndexError) as err:  # sklearn's InvalidParameterError included
        raise _damaged(config_file, f"it does not rebuild a {config['class']} ({type(err).__name__}: {err})") from err
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise ValueError(
            f"The weights in {path} do not fit the architecture in its config.json: "
            f"{_state_dict_diff(state, module.state_dict())}; the files were mixed up or edited."
        ) from err
    estimator._attach_module(module)
    return estimator


def _damaged(file, detail):
    return DamagedFileError(
        f"{file} is damaged or not a saved estimator: {detail}. Save the estimator again, or pass the directory "
        "written by estimator.save()."
    )


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_str_list(value):
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


# What save_estimator writes: key -> (test, what it must be). fs_, lead_names_ and lead_order_ are
# absent from files of sksurv-ecg 0.1.0, which load_estimator accepts.
_CONFIG_KEYS = {
    "format": (lambda v: isinstance(v, str), "a string"),
    "class": (lambda v: isinstance(v, str), "a class name"),
    "params": (lambda v: isinstance(v, dict) and all(isinstance(k, str) for k in v), "an object of parameters"),
    "autoencoder": (lambda v: isinstance(v, dict), "an object of architecture settings"),
    "n_features_in_": (lambda v: _is_int(v) and v > 0, "a positive integer"),
    "n_leads_": (lambda v: _is_int(v) and v > 0, "a positive integer"),
    "n_timesteps_in_": (lambda v: _is_int(v) and v > 0, "a positive integer"),
    "fitted": (lambda v: isinstance(v, dict), "an object of fitted attributes"),
    "versions": (lambda v: isinstance(v, dict), "an object of package versions"),
}
_OPTIONAL_CONFIG_KEYS = {
    "fs_": (
        lambda v: isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v > 0,
        "a positive sampling rate",
    ),
    "lead_names_": (lambda v: v is None or (_is_str_list(v) and len(set(v)) == len(v)), "null or distinct names"),
    "lead_order_": (
        lambda v: (
            v is None or (isinstance(v, list) and all(_is_int(i) and i >= 0 for i in v) and len(set(v)) == len(v))
        ),
        "null or distinct lead indices",
    ),
}


def _read_config(config_file):
    """``config.json`` as a dict of the shape ``save_estimator`` writes, or :class:`DamagedFileError`."""
    if config_file.is_dir():
        raise _damaged(config_file, "it is a directory, not a file")
    try:
        config = json.loads(config_file.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise _damaged(config_file, f"it is not JSON ({type(err).__name__}: {err})") from err
    if not isinstance(config, dict):
        raise _damaged(config_file, f"it holds a JSON {type(config).__name__}, not an object")
    missing = sorted(set(_CONFIG_KEYS) - set(config))
    if missing:
        raise _damaged(config_file, f"it lacks the keys {missing}")
    checks = {**_CONFIG_KEYS, **{k: v for k, v in _OPTIONAL_CONFIG_KEYS.items() if k in config}}
    wrong = [
        f"{key}={config[key]!r:.60} (expected {what})" for key, (test, what) in checks.items() if not test(config[key])
    ]
    if wrong:
        raise _damaged(config_file, "; ".join(wrong))
    names, order = config.get("lead_names_"), config.get("lead_order_")
    if names is not None and len(names) != config["n_leads_"]:
        raise _damaged(config_file, f"lead_names_ names {len(names)} leads, but n_leads_={config['n_leads_']}")
    if order is not None and (names is None or max(order, default=-1) >= len(names)):
        raise _damaged(config_file, f"lead_order_={order} does not index lead_names_={names}")
    return config


def _read_weights(weights_file):
    """The tensors of ``model.safetensors``, or :class:`DamagedFileError` naming the file."""
    if weights_file.is_dir():
        raise _damaged(weights_file, "it is a directory, not a file")
    try:  # safetensors checks the header's length, JSON and offsets against the file before reading
        state = load_file(str(weights_file))
    except SafetensorError as err:
        raise _damaged(weights_file, f"it is not a complete safetensors file ({err})") from err
    if not state:
        raise _damaged(weights_file, "it holds no tensors")
    return state


def _rebuild(klass, config, device, device_):
    """The estimator and its (untrained) module, as described by a checked configuration."""
    estimator = klass(**dict(config["params"], device=device))
    # a file whose parameters a fit would refuse was not written by save()
    estimator._validate_params()
    estimator._validate_routed()
    estimator.n_features_in_ = config["n_features_in_"]
    estimator.n_leads_ = config["n_leads_"]
    estimator.n_timesteps_in_ = config["n_timesteps_in_"]
    # Files written before the preprocessing was recorded: the package's only rate and lead order then.
    estimator.fs_ = float(config.get("fs_", 500.0))
    if "lead_names_" in config:
        estimator.lead_names_ = config["lead_names_"]
    else:
        estimator.lead_names_ = check_lead_names(None, estimator.n_leads_, owner=config["class"])
    estimator.lead_order_ = config.get("lead_order_")
    estimator.device_ = device_
    # a model fitted in bf16 elsewhere (a GPU, an AMX CPU) predicts in bf16 here too
    check_precision(getattr(estimator, "precision", "float32"), estimator.device_)
    estimator._restore_fitted_state(config["fitted"])
    architecture = dict(config["autoencoder"])
    if "attention_impl" in architecture:  # files written by sksurv-ecg 0.1.0
        architecture["impl"] = {"fused": "fast"}.get(architecture.pop("attention_impl"), "reference")
    if not estimator._impl_given():  # as at fit: the implementation follows the device
        architecture["impl"] = default_impl(estimator.device_)
    estimator.impl_ = architecture["impl"]
    module = estimator._build_module(DualAttentionAutoencoder(**architecture))
    return estimator, module
