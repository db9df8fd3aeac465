"""What the three deep estimators share: routed parameters, the model, the net, fitting, persistence.

Estimators are scikit-learn ``BaseEstimator`` s that build their skorch net in ``fit`` and keep it as
``net_`` (composition: a ``NeuralNet`` subclass fails half of scikit-learn's estimator checks).
Parameters users tune most are flat ``__init__`` arguments; the rest are routed skorch-style
(``module__n_heads``, ``optimizer__betas``, ``iterator_train__num_workers``, ...) and appear in
``get_params`` so that ``clone`` and ``GridSearchCV`` see them.
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import asdict, replace
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, clone
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import (
    Checkpoint,
    GradientNormClipping,
    ProgressBar,
)

from ._training import ECGNet, RNGCheckpoint, StratifiedValidSplit
from .distributed import _accelerated_net, _current_accelerator, _plain_net
from .exceptions import TrainingWarning
from .nn import DualAttentionAutoencoder
from .nn.tasks import ECGTaskModel, padded_length
from .utils.validation import check_device, validate_ecg

__all__ = ["ROUTED_PREFIXES", "load"]

#: Prefixes of parameters that are routed to the network, the optimizer, the data loaders or the
#: skorch callbacks instead of being named in ``__init__``.
ROUTED_PREFIXES = ("module__", "optimizer__", "iterator_train__", "iterator_valid__", "callbacks__")

FORMAT_TAG = "sksurv-ecg.model.v1"

_COMMON_CONSTRAINTS = {
    "n_leads": [Interval(Integral, 1, None, closed="left"), None],
    "max_epochs": [Interval(Integral, 1, None, closed="left")],
    "batch_size": [Interval(Integral, 2, None, closed="left")],
    "lr": [Interval(Real, 0, None, closed="neither")],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "dropout_mode": [StrOptions({"batchwise", "standard"})],
    "lead_mask_prob": [Interval(Real, 0, 1, closed="both")],
    "standardize": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
    "device": [StrOptions({"cpu", "cuda", "auto"}), str],
    "precision": [StrOptions({"float32", "bf16"})],
    "checkpoint_dir": [str, os.PathLike, None],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}


class _BaseECGEstimator(BaseEstimator):
    """Routed parameters, model building, the fit driver and persistence."""

    _parameter_constraints: dict = dict(_COMMON_CONSTRAINTS)

    # --- parameters ---------------------------------------------------------------------------
    def _routed_params(self):
        return {k: v for k, v in vars(self).items() if k.startswith(ROUTED_PREFIXES) and not k.endswith("_")}

    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        params.update(self._routed_params())
        return params

    def set_params(self, **params):
        routed = {k: v for k, v in params.items() if k.startswith(ROUTED_PREFIXES)}
        for key, value in routed.items():
            setattr(self, key, value)
        return super().set_params(**{k: v for k, v in params.items() if k not in routed})

    def _set_routed(self, kwargs):
        for key, value in kwargs.items():
            setattr(self, key, value)

    def __sklearn_clone__(self):
        """Clone the hyper-parameters but keep a fitted ``encoder`` by reference.

        The pretrained encoder is frozen input to this estimator, like a
        :class:`sklearn.frozen.FrozenEstimator`: ``cross_validate`` and ``GridSearchCV`` must hand
        every fold the same fitted weights, not an unfitted copy. It is only read, never changed.
        """
        encoder = getattr(self, "encoder", None)
        if encoder is None or isinstance(encoder, (str, os.PathLike)):
            return super().__sklearn_clone__()
        params = {k: clone(v, safe=False) for k, v in self.get_params(deep=False).items() if k != "encoder"}
        return type(self)(encoder=encoder, **params)

    def __setstate__(self, state):
        super().__setstate__(state)
        if "net_" in state:  # skorch maps a CUDA-pickled net to the CPU on a host without CUDA
            self.device_ = str(self.net_.device)

    def _validate_routed(self):
        for key in vars(self):
            if "__" in key and not key.startswith(ROUTED_PREFIXES):
                raise TypeError(
                    f"{type(self).__name__} got an unexpected parameter {key!r}; routed parameters must "
                    f"start with one of {', '.join(ROUTED_PREFIXES)}."
                )

    def _params_for(self, prefix):
        start = prefix + "__"
        return {k[len(start) :]: v for k, v in self._routed_params().items() if k.startswith(start)}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.two_d_array = True
        tags.non_deterministic = False
        return tags

    # --- the model ----------------------------------------------------------------------------
    def _seed(self):
        return int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))

    def _autoencoder_config(self, n_leads, n_timesteps):
        module_params = self._params_for("module")
        downsample = module_params.get("downsample", 5)
        return dict(
            n_leads=n_leads,
            n_timesteps=padded_length(n_timesteps, downsample),
            dropout=self.dropout,
            dropout_mode=self.dropout_mode,
            **module_params,
        )

    def _warm_start_source(self):
        """The fitted estimator given as ``encoder=``, loaded from disk when it is a path."""
        source = self.encoder
        if isinstance(source, (str, os.PathLike)):
            source = load(source)
        check_is_fitted(source, "net_")
        if source.n_leads_ != self.n_leads_ or source.n_timesteps_in_ != self.n_timesteps_in_:
            raise ValueError(
                f"encoder was fitted on ECGs of {source.n_leads_} leads x {source.n_timesteps_in_} time steps, "
                f"but X has {self.n_leads_} x {self.n_timesteps_in_}; fit the encoder on signals of the same shape."
            )
        return source

    def _build_module(self, autoencoder):
        """The task model (an ``ECGTaskModel``) around ``autoencoder``; each estimator adds its heads."""
        raise NotImplementedError

    def _make_module(self, n_leads, n_timesteps):
        if getattr(self, "encoder", None) is not None:
            source = self._warm_start_source()
            # The encoder fixes the architecture; training-time choices stay this estimator's.
            config = replace(
                source.net_.module_.autoencoder.config, dropout=self.dropout, dropout_mode=self.dropout_mode
            )
            module = self._build_module(DualAttentionAutoencoder.from_config(config))
            module.autoencoder.load_state_dict(source.net_.module_.autoencoder.state_dict())
            return module
        ae = DualAttentionAutoencoder(**self._autoencoder_config(n_leads, n_timesteps))
        return self._build_module(ae)

    def _task_model(self, autoencoder, **heads):
        return ECGTaskModel(autoencoder, self.n_timesteps_in_, standardize=self.standardize, **heads)

    # --- the net ------------------------------------------------------------------------------
    def _callbacks(self, n_train):
        callbacks = []
        if self.verbose:
            callbacks.append(("progress", ProgressBar()))
        schedule = self._lr_schedule(n_train)
        if schedule is not None:
            callbacks.append(("lr_schedule", schedule))
        clip = getattr(self, "grad_clip", None)
        if clip:
            callbacks.append(("grad_clip", GradientNormClipping(gradient_clip_value=clip)))
        callbacks.extend(self._selection_callbacks())
        if self.checkpoint_dir is not None:
            # Routed checkpoint options go to the constructor, where skorch checks them (set_params
            # would skip that check, e.g. safetensors with an optimizer file, and fail silently later).
            options = {
                "monitor": None,
                "dirname": str(self.checkpoint_dir),
                "f_params": "params.pt",
                "f_optimizer": "optimizer.pt",
                "f_criterion": None,
                "f_history": "history.json",
                "load_best": False,
                **self._checkpoint_options(),
            }
            callbacks.append(("checkpoint", Checkpoint(**options)))
            callbacks.append(("rng_checkpoint", RNGCheckpoint(self.checkpoint_dir)))
        return callbacks

    def _checkpoint_options(self):
        prefix = "checkpoint__"
        return {k[len(prefix) :]: v for k, v in self._params_for("callbacks").items() if k.startswith(prefix)}

    def _lr_schedule(self, n_train):
        return None

    def _selection_callbacks(self):
        return []

    def _n_train(self, n_samples):
        """Samples left for training after the validation split (which rounds its share up)."""
        if not self.validation_fraction:
            return n_samples
        return n_samples - int(np.ceil(n_samples * self.validation_fraction))

    def _n_batches(self, n_train):
        """Optimizer steps per epoch (per process when training data-parallel)."""
        n_batches = max(1, n_train // min(self.batch_size, n_train))
        accelerator = _current_accelerator()
        return n_batches if accelerator is None else -(-n_batches // accelerator.num_processes)

    def _make_net(self, module, *, seed, n_train=None, accelerator=None):
        """The skorch net around ``module``; ``n_train`` (training samples) clips the batch size.

        With an ``accelerate.Accelerator`` the net trains data-parallel (:mod:`sksurv_ecg.distributed`).
        """
        batch_size = self.batch_size
        if n_train is not None and batch_size > n_train:
            warnings.warn(
                f"batch_size={batch_size} is larger than the {n_train} training samples; it is clipped to "
                f"{n_train}. Lower batch_size to silence this warning.",
                TrainingWarning,
                stacklevel=4,
            )
            batch_size = n_train
        optimizer_params = {
            "weight_decay": self.weight_decay,
            **self._optimizer_defaults(),
            **self._params_for("optimizer"),
        }
        iterator_params = {f"iterator_train__{k}": v for k, v in self._params_for("iterator_train").items()}
        iterator_params.update({f"iterator_valid__{k}": v for k, v in self._params_for("iterator_valid").items()})
        callback_params = {
            f"callbacks__{k}": v
            for k, v in self._params_for("callbacks").items()
            if not (self.checkpoint_dir is not None and k.startswith("checkpoint__"))
        }
        net_class, net_kwargs = ECGNet, {}
        if accelerator is not None:
            net_class, net_kwargs = _accelerated_net(accelerator, checkpoint_dir=self.checkpoint_dir)
        net = net_class(
            module=module,
            optimizer=torch.optim.AdamW,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=batch_size,
            train_split=(StratifiedValidSplit(self.validation_fraction, seed) if self.validation_fraction else None),
            callbacks=self._callbacks(n_train or batch_size),
            device=self.device_,
            verbose=self.verbose,
            iterator_train__generator=torch.Generator().manual_seed(seed),
            criterion=self._criterion(),
            task=self._task,
            lead_mask_prob=self.lead_mask_prob,
            precision=self.precision,
            random_state=seed,
            **{f"optimizer__{k}": v for k, v in optimizer_params.items()},
            **iterator_params,
            **callback_params,
            **self._net_kwargs(),
            **net_kwargs,
        )
        if not self.verbose:
            net.set_params(callbacks__print_log=None)
        return net

    _task = "pretrain"

    def _criterion(self):
        raise NotImplementedError

    def _net_kwargs(self):
        return {}

    def _optimizer_defaults(self):
        return {}

    def _epochs_to_train(self):
        return self.max_epochs

    def _fit_net(self, X, y):
        """Build the model and the net under a forked, seeded RNG, then train (resuming if possible).

        Forking keeps the caller's global RNG untouched while making weight init and dropout depend
        on ``random_state`` alone, so two fits with the same seed give the same model on the CPU.
        """
        seed = self._seed()
        accelerator = _current_accelerator()  # set by sksurv_ecg.distributed.data_parallel
        self.device_ = check_device(self.device) if accelerator is None else str(accelerator.device)
        devices = [torch.device(self.device_).index or 0] if self.device_.startswith("cuda") else []
        n_train = self._n_train(X.shape[0])
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(seed)
            epochs = self._epochs_to_train()
            module = self._make_module(self.n_leads_, self.n_timesteps_in_)
            net = self._make_net(module, seed=seed, n_train=n_train if epochs else None, accelerator=accelerator)
            net.initialize()
            checkpoint = dict(net.callbacks_).get("checkpoint")
            if checkpoint is not None and Path(checkpoint.dirname, "params.pt").exists():
                net.load_params(checkpoint=checkpoint)
                rng_file = Path(checkpoint.dirname, "rng_state.json")
                if rng_file.exists():
                    net.set_rng_state(json.loads(rng_file.read_text()))
                epochs -= len(net.history)
            if epochs > 0:
                net.partial_fit(X, y, epochs=epochs)
            if accelerator is not None:  # a plain, picklable net around the trained weights
                net = _plain_net(net, self._make_net(net.module_, seed=seed))
        self.net_ = net
        self.history_ = net.history
        return net

    def _validate_X(self, X, *, reset, ensure_min_samples=1):
        return validate_ecg(self, X, reset=reset, n_leads=self.n_leads, ensure_min_samples=ensure_min_samples)

    # --- persistence --------------------------------------------------------------------------
    def _fitted_state(self):
        """JSON-serialisable fitted attributes beyond the weights (estimator-specific)."""
        return {}

    def _restore_fitted_state(self, state):
        """Inverse of :meth:`_fitted_state`."""

    def save(self, path):
        """Save the fitted estimator as safetensors weights plus a JSON configuration.

        Parameters
        ----------
        path : str or path-like
            Directory to create (or overwrite); it receives ``config.json`` and ``model.safetensors``.

        Returns
        -------
        path : pathlib.Path
            The directory written.
        """
        from safetensors.torch import save_file

        check_is_fitted(self, "net_")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        params = {k: v for k, v in self.get_params(deep=False).items() if k != "encoder"}
        state = {k: v.detach().cpu().contiguous() for k, v in self.net_.module_.state_dict().items()}
        config = {
            "format": FORMAT_TAG,
            "class": type(self).__name__,
            "params": params,
            "autoencoder": asdict(self.net_.module_.autoencoder.config),
            "n_features_in_": int(self.n_features_in_),
            "n_leads_": int(self.n_leads_),
            "n_timesteps_in_": int(self.n_timesteps_in_),
            "fitted": self._fitted_state(),
            "versions": _versions(),
        }
        tmp = path / "model.safetensors.tmp"
        save_file(state, str(tmp), metadata={"format": FORMAT_TAG})
        os.replace(tmp, path / "model.safetensors")
        (path / "config.json.tmp").write_text(json.dumps(config, indent=2, default=_json_default))
        os.replace(path / "config.json.tmp", path / "config.json")
        return path

    @classmethod
    def load(cls, path, *, device="cpu"):
        """Load an estimator saved with :meth:`save`.

        Parameters
        ----------
        path : str or path-like
            Directory written by :meth:`save`.
        device : str, default="cpu"
            Device to place the model on.

        Returns
        -------
        estimator
            The fitted estimator.
        """
        return load(path, device=device, expected_class=cls)


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

    from . import __version__

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


def load(path, *, device="cpu", expected_class=None):
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
        When given, the saved estimator must be of this class.

    Returns
    -------
    estimator : ECGEmbedder, TextAlignedPretrainer or ECGSurvivalAnalysis
        The fitted estimator.
    """
    from safetensors.torch import load_file

    from . import embedding, survival

    path = Path(path)
    config_file = path / "config.json"
    if not config_file.exists():
        raise FileNotFoundError(f"{config_file} does not exist; pass the directory written by estimator.save().")
    config = json.loads(config_file.read_text())
    if config.get("format") != FORMAT_TAG:
        raise ValueError(f"{config_file} has format {config.get('format')!r}, expected {FORMAT_TAG!r}.")
    classes = {
        "ECGEmbedder": embedding.ECGEmbedder,
        "TextAlignedPretrainer": embedding.TextAlignedPretrainer,
        "ECGSurvivalAnalysis": survival.ECGSurvivalAnalysis,
    }
    klass = classes[config["class"]]
    if expected_class is not None and not issubclass(klass, expected_class):
        raise TypeError(f"{path} holds a {config['class']}, not a {expected_class.__name__}.")
    saved_version = config["versions"].get("sksurv_ecg")
    from . import __version__

    if saved_version != __version__:
        warnings.warn(
            f"{path} was saved with sksurv-ecg {saved_version}; this is {__version__}. Check its predictions.",
            TrainingWarning,
            stacklevel=2,
        )
    params = dict(config["params"], device=device)
    estimator = klass(**params)
    estimator.n_features_in_ = config["n_features_in_"]
    estimator.n_leads_ = config["n_leads_"]
    estimator.n_timesteps_in_ = config["n_timesteps_in_"]
    estimator.device_ = check_device(device)
    estimator._restore_fitted_state(config["fitted"])
    architecture = dict(config["autoencoder"])
    if "attention_impl" in architecture:  # files written by sksurv-ecg 0.1.0
        architecture["impl"] = {"fused": "fast"}.get(architecture.pop("attention_impl"), "reference")
    autoencoder = DualAttentionAutoencoder(**architecture)
    module = estimator._build_module(autoencoder)
    state = load_file(str(path / "model.safetensors"))
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise ValueError(
            f"The weights in {path} do not fit the architecture in its config.json: "
            f"{_state_dict_diff(state, module.state_dict())}; the files were mixed up or edited."
        ) from err
    net = estimator._make_net(module, seed=0)
    net.initialize()
    net.module_.load_state_dict(state)
    estimator.net_ = net
    estimator.history_ = net.history
    return estimator
