"""What the three deep estimators share: routed parameters, the model, the net, fitting, persistence.

Estimators are scikit-learn ``BaseEstimator`` s that build their skorch net in ``fit`` and keep it as
``net_`` (composition: a ``NeuralNet`` subclass fails half of scikit-learn's estimator checks).
Parameters users tune most are flat ``__init__`` arguments; the rest are routed skorch-style
(``module__n_heads``, ``optimizer__betas``, ``iterator_train__num_workers``, ...) and appear in
``get_params`` so that ``clone`` and ``GridSearchCV`` see them.
"""

from __future__ import annotations

import difflib
import json
import os
import warnings
from dataclasses import fields, replace
from functools import partial
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

from ._persistence import estimator_class, load_estimator, register, save_estimator
from ._training import ECGNet, RNGCheckpoint, StratifiedValidSplit
from .distributed import _accelerated_net, _current_accelerator, _plain_net
from .exceptions import TrainingWarning
from .nn import DualAttentionAutoencoder, DualAttentionConfig
from .nn._config import default_impl
from .nn.tasks import ECGTaskModel, padded_length
from .utils.validation import (
    check_device,
    check_ecg_length,
    check_lead_names,
    check_lead_order,
    check_precision,
    user_stacklevel,
    validate_ecg,
)

__all__ = ["ROUTED_PREFIXES"]

#: Prefixes of parameters that are routed to the network, the optimizer, the data loaders or the
#: skorch callbacks instead of being named in ``__init__``.
ROUTED_PREFIXES = ("module__", "optimizer__", "iterator_train__", "iterator_valid__", "callbacks__")

#: ``module__*`` keys that are not routed because the estimator sets them: the shape from ``X``,
#: dropout from its flat parameters.
_MODULE_KEYS_SET_BY_ESTIMATOR = {
    "n_leads": "it is taken from X",
    "n_timesteps": "it is taken from X",
    "dropout": "use the estimator's dropout parameter",
    "dropout_mode": "use the estimator's dropout_mode parameter",
}

#: ``module__*`` keys a warm-start ``encoder=`` does not fix: how the network is computed.
_MODULE_KEYS_FREE_WITH_ENCODER = {"impl", "attention_impl"}


def _module_keys():
    """The ``module__*`` names the network accepts (fields of ``DualAttentionConfig``)."""
    names = [f.name for f in fields(DualAttentionConfig) if f.name not in _MODULE_KEYS_SET_BY_ESTIMATOR]
    return [*names, "attention_impl"]  # the deprecated alias of impl (FutureWarning)


def _did_you_mean(key, candidates):
    match = difflib.get_close_matches(key, list(candidates), n=1)
    return f"; did you mean {match[0]!r}?" if match else "."


_COMMON_CONSTRAINTS = {
    "n_leads": [Interval(Integral, 1, None, closed="left"), None],
    "fs": [Interval(Real, 0, None, closed="neither")],
    "lead_names": ["array-like", None],
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

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            register(cls)  # loadable by name: sksurv_ecg.load_estimator

    # --- parameters ---------------------------------------------------------------------------
    def _routed_params(self):
        return {k: v for k, v in vars(self).items() if k.startswith(ROUTED_PREFIXES) and not k.endswith("_")}

    def _unexpected_params(self):
        """Keywords given to ``__init__`` that are neither in its signature nor routed (typos)."""
        names = set(self._get_param_names())
        return {
            k: v
            for k, v in vars(self).items()
            if not (k.startswith("_") or k.endswith("_") or k in names or k.startswith(ROUTED_PREFIXES))
        }

    def get_params(self, deep=True):
        params = super().get_params(deep=deep)
        params.update(self._routed_params())
        params.update(self._unexpected_params())  # kept, so that a clone fails at fit as the original
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
        """Refuse misspelt parameters and ``module__*`` keys the network does not accept.

        Called at the start of ``fit`` (``__init__`` only stores), as skorch does, with a
        suggestion from :mod:`difflib`.
        """
        name = type(self).__name__
        for key in self._unexpected_params():
            if "__" in key:
                prefix, rest = key.split("__", 1)
                match = difflib.get_close_matches(prefix + "__", ROUTED_PREFIXES, n=1)
                hint = f"; did you mean {match[0] + rest!r}?" if match else ";"
                raise TypeError(
                    f"{name} got an unexpected parameter {key!r}{hint} Routed parameters must start with one of "
                    f"{', '.join(ROUTED_PREFIXES)}."
                )
            raise TypeError(
                f"{name} got an unexpected parameter {key!r}{_did_you_mean(key, self._get_param_names())} "
                f"It is neither a parameter of {name} nor routed (a prefix {', '.join(ROUTED_PREFIXES)})."
            )
        accepted = _module_keys()
        for key in self._params_for("module"):
            if key in _MODULE_KEYS_SET_BY_ESTIMATOR:
                raise TypeError(
                    f"{name} got module__{key}, which the estimator sets itself: {_MODULE_KEYS_SET_BY_ESTIMATOR[key]}."
                )
            if key not in accepted:
                raise TypeError(
                    f"{name} got module__{key}, which the network does not accept{_did_you_mean(key, accepted)} "
                    f"Accepted module__ names: {', '.join(accepted)}."
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
        downsample = module_params.get("downsample", DualAttentionConfig.downsample)
        if not self._impl_given():
            module_params["impl"] = self.impl_
        return dict(
            n_leads=n_leads,
            n_timesteps=padded_length(n_timesteps, downsample),
            dropout=self.dropout,
            dropout_mode=self.dropout_mode,
            **module_params,
        )

    def _impl_given(self):
        return bool({"impl", "attention_impl"} & set(self._params_for("module")))

    def _choose_impl(self):
        """Set ``impl_``: the user's ``module__impl`` (or its old name), else the device's default."""
        module_params = self._params_for("module")
        if "impl" in module_params:
            self.impl_ = module_params["impl"]
        elif "attention_impl" in module_params:
            self.impl_ = {"fused": "fast"}.get(module_params["attention_impl"], module_params["attention_impl"])
        else:
            self.impl_ = default_impl(self.device_)

    def _warm_start_source(self):
        """The fitted estimator given as ``encoder=``, checked against ``X`` and this estimator's settings.

        A path is a directory saved by ``save`` or a seed (Lightning) checkpoint file. The encoder's
        sampling rate and standardisation must equal this estimator's; its leads must be X's leads
        (by name): the same set in another order sets ``lead_order_``, which reorders X to the
        encoder's order; X's length must pad to the encoder's network length.
        """
        source = self.encoder
        if isinstance(source, (str, os.PathLike)):
            source = self._load_encoder(Path(source))
        check_is_fitted(source, "net_")
        name, source_name = type(self).__name__, type(source).__name__
        source_fs = float(getattr(source, "fs_", 500.0))
        if source_fs != self.fs_:
            raise ValueError(
                f"encoder ({source_name}) was fitted on ECGs sampled at {source_fs:g} Hz, but {name} has "
                f"fs={self.fs_:g}; resample X to {source_fs:g} Hz (sksurv_ecg.preprocessing.Resample) and set "
                f"fs={source_fs:g}, or use an encoder fitted at {self.fs_:g} Hz."
            )
        if bool(getattr(source, "standardize", True)) != bool(self.standardize):
            raise ValueError(
                f"encoder ({source_name}) was fitted with standardize={source.standardize}, but {name} has "
                f"standardize={self.standardize}; its weights expect inputs scaled as at its fit: set "
                f"standardize={source.standardize}."
            )
        self.lead_order_ = self._lead_order_for(source)
        config = source.net_.module_.autoencoder.config
        check_ecg_length(
            self.n_timesteps_in_,
            fitted=source.n_timesteps_in_,
            padded=config.n_timesteps,
            downsample=config.downsample,
            fs=source_fs,
            owner=f"the encoder ({source_name})",
        )
        return source

    def _lead_order_for(self, source):
        """Columns of X in the encoder's lead order (None: X's order already is), or refuse other leads."""
        theirs = source._network_lead_names() if hasattr(source, "lead_names_") else None
        if theirs is None and not hasattr(source, "lead_names_"):  # fitted before lead names were kept
            theirs = check_lead_names(None, source.n_leads_, owner=type(source).__name__)
        mine = self.lead_names_
        if theirs is None or mine is None:
            if source.n_leads_ != self.n_leads_:
                raise ValueError(
                    f"encoder was fitted on ECGs of {source.n_leads_} leads, but X has {self.n_leads_}; "
                    "fit the encoder on signals with the same leads."
                )
            return None
        if list(theirs) == mine:
            return None
        if set(theirs) == set(mine):  # the caller named X's leads, so reordering them is what was asked
            return [mine.index(lead) for lead in theirs]
        missing = [lead for lead in theirs if lead not in mine]
        extra = [lead for lead in mine if lead not in theirs]
        raise ValueError(
            f"X's leads {mine} are not the leads the encoder was fitted on {list(theirs)}: X lacks {missing} and "
            f"has {extra} besides; select and name the encoder's leads (lead_names=), or fit an encoder on X's leads."
        )

    def _load_encoder(self, path):
        """A saved estimator (a directory) or the seed's Lightning checkpoint (a file)."""
        if path.is_dir():
            return load_estimator(path)
        if path.is_file():
            # Looked up by name: embedding.py imports this module, so importing it here would be a cycle.
            embedder = estimator_class("ECGEmbedder")
            architecture = {
                f"module__{k}": v
                for k, v in self._params_for("module").items()
                if k not in _MODULE_KEYS_FREE_WITH_ENCODER
            }
            return embedder.from_seed_checkpoint(path, **architecture)
        raise FileNotFoundError(
            f"encoder={str(path)!r} does not exist; pass a fitted estimator, the directory written by its save(), "
            "or the seed's .ckpt file."
        )

    def _network_lead_names(self):
        """Names of the leads in the order the network reads them (None: unnamed)."""
        if self.lead_names_ is None or self.lead_order_ is None:
            return self.lead_names_
        return [self.lead_names_[i] for i in self.lead_order_]

    def _check_module_params_against(self, config):
        """Refuse ``module__*`` settings that differ from the architecture of a warm-start encoder."""
        conflicts = [
            f"module__{key}={value!r} vs the encoder's {getattr(config, key)!r}"
            for key, value in self._params_for("module").items()
            if key not in _MODULE_KEYS_FREE_WITH_ENCODER and getattr(config, key) != value
        ]
        if conflicts:
            raise ValueError(
                f"{type(self).__name__} got encoder=, which fixes the architecture, and module__ settings that "
                f"contradict it: {'; '.join(conflicts)}. Drop these module__ parameters, or fit without encoder=."
            )

    def _build_module(self, autoencoder):
        """The task model (an ``ECGTaskModel``) around ``autoencoder``; each estimator adds its heads."""
        raise NotImplementedError

    def _make_module(self, n_leads, n_timesteps):
        source = self.__dict__.pop("_encoder_source", None)  # checked against X by _validate_X
        if source is not None:
            source_config = source.net_.module_.autoencoder.config
            self._check_module_params_against(source_config)
            # The encoder fixes the architecture; training-time choices and the implementation
            # (which computes the same function from the same weights) stay this estimator's.
            config = replace(source_config, dropout=self.dropout, dropout_mode=self.dropout_mode, impl=self.impl_)
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
        net_class, net_kwargs = self._net_class, {}
        if accelerator is not None:
            net_class, net_kwargs = _accelerated_net(net_class, accelerator, checkpoint_dir=self.checkpoint_dir)
        criterion, criterion_params = self._criterion()
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
            # A factory: the criteria are plain callables, which skorch builds by calling (only
            # torch modules are registered for criterion__* routing).
            criterion=partial(criterion, **criterion_params),
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

    #: The skorch net class of the estimator's task.
    _net_class = ECGNet

    def _criterion(self):
        """The criterion class and its parameters."""
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
        check_precision(self.precision, self.device_)
        self._choose_impl()
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
        """Check X against the preprocessing contract; return it in the network's lead order.

        In ``fit`` (``reset=True``) record ``fs_``, ``lead_names_`` and the shape, and check X
        against ``encoder``; afterwards, accept every length that pads to the network's. Signals
        with the six named limb leads are checked for a swapped lead order (a warning).
        """
        owner = type(self).__name__
        if reset:
            X = validate_ecg(self, X, reset=True, n_leads=self.n_leads, ensure_min_samples=ensure_min_samples)
            self.fs_ = float(self.fs)
            self.lead_names_ = check_lead_names(self.lead_names, self.n_leads_, owner=owner)
            self.lead_order_ = None
            if getattr(self, "encoder", None) is not None:
                self._encoder_source = self._warm_start_source()
        else:
            X = validate_ecg(self, X, reset=False, ensure_min_samples=ensure_min_samples, check_length=False)
            config = self.net_.module_.autoencoder.config
            check_ecg_length(
                X.shape[2],
                fitted=self.n_timesteps_in_,
                padded=config.n_timesteps,
                downsample=config.downsample,
                fs=self.fs_,
                owner=owner,
            )
        if self.lead_order_ is not None:
            X = X[:, self.lead_order_]
        names = self._network_lead_names()
        if names is not None:
            check_lead_order(X, lead_names=names, stacklevel=user_stacklevel())
        return X

    def _attach_module(self, module):
        """Wrap a model with loaded weights in a fresh net and keep it as ``net_`` (loading, checkpoints)."""
        net = self._make_net(module, seed=0)
        net.initialize()  # module is an instance: skorch keeps it (and the weights in it)
        self.net_ = net
        self.history_ = net.history

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
        return save_estimator(self, path)

    @classmethod
    def load(cls, path, *, device="cpu"):
        """Load an estimator of this class saved with :meth:`save`.

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
        return load_estimator(path, device=device, expected_class=cls)
