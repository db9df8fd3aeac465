"""The fit driver the three deep estimators share: the model, the skorch net, fitting, persistence.

Estimators are scikit-learn ``BaseEstimator`` s that build their skorch net in ``fit`` and keep it as
``net_`` (composition: a ``NeuralNet`` subclass fails half of scikit-learn's estimator checks). The
other jobs of the base class live in their own modules: routed parameters (``module__*``, ...) and
their checks in :mod:`sksurv_ecg._params`, reading and checking a warm-start ``encoder=`` in
:mod:`sksurv_ecg._warm_start`. A task subclass sets the class attributes below (its net class,
criterion, the parameters forwarded to them) and builds its heads in ``_build_module``, as skorch's
small subclasses set their default criterion.
"""

from __future__ import annotations

import json
import os
import warnings
from functools import partial
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from skorch.callbacks import (
    Checkpoint,
    GradientNormClipping,
    ProgressBar,
)

from ._params import ROUTED_PREFIXES, RoutedParamsMixin
from ._persistence import load_estimator, register, save_estimator
from ._training import ECGNet, RNGCheckpoint, StratifiedValidSplit
from ._warm_start import network_lead_names, read_encoder
from .distributed import accelerated_net, current_accelerator, plain_net
from .exceptions import TrainingWarning
from .nn import DualAttentionAutoencoder, DualAttentionConfig, default_impl
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


class _BaseECGEstimator(RoutedParamsMixin, BaseEstimator):
    """The model, the fit driver and persistence; routed parameters come from :class:`RoutedParamsMixin`."""

    _parameter_constraints: dict = dict(_COMMON_CONSTRAINTS)

    #: The skorch net class of the estimator's task.
    _net_class = ECGNet
    #: The criterion of the estimator's task: a callable class built with ``_criterion_params``.
    _criterion_class = None
    #: Names of the estimator's parameters passed on to the criterion as keyword arguments.
    _criterion_params: tuple = ()
    #: Names of the estimator's parameters passed on to the net (``_net_class``) as keyword arguments.
    _net_params: tuple = ()
    #: AdamW settings of the task, below the routed ``optimizer__*`` ones.
    _optimizer_defaults: dict = {}
    #: Fitted attributes beyond the weights that ``save`` writes to JSON and ``load`` restores.
    _fitted_attributes: tuple = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__name__.startswith("_"):
            register(cls)  # loadable by name: sksurv_ecg.load_estimator

    def __setstate__(self, state):
        super().__setstate__(state)
        if "net_" in state:  # skorch maps a CUDA-pickled net to the CPU on a host without CUDA
            self.device_ = str(self.net_.device)

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

    def _build_module(self, autoencoder):
        """The task model (an ``ECGTaskModel``) around ``autoencoder``; each estimator adds its heads."""
        raise NotImplementedError

    def _make_module(self, n_leads, n_timesteps):
        source = self.__dict__.pop("_encoder_source", None)  # checked against X by _validate_X
        if source is not None:
            return self._build_module(source.build_autoencoder(self))
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
        accelerator = current_accelerator()
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
                stacklevel=user_stacklevel(),
            )
            batch_size = n_train
        optimizer_params = {
            "weight_decay": self.weight_decay,
            **self._optimizer_defaults,
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
            net_class, net_kwargs = accelerated_net(net_class, accelerator, checkpoint_dir=self.checkpoint_dir)
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
            lead_mask_prob=self.lead_mask_prob,
            precision=self.precision,
            random_state=seed,
            **{f"optimizer__{k}": v for k, v in optimizer_params.items()},
            **iterator_params,
            **callback_params,
            **{name: getattr(self, name) for name in self._net_params},
            **net_kwargs,
        )
        if not self.verbose:
            net.set_params(callbacks__print_log=None)
        return net

    def _criterion(self):
        """The criterion factory: ``_criterion_class`` with the parameters named in ``_criterion_params``.

        A factory because the criteria are plain callables, which skorch builds by calling (only
        torch modules are registered for ``criterion__*`` routing).
        """
        return partial(self._criterion_class, **{name: getattr(self, name) for name in self._criterion_params})

    def _epochs_to_train(self):
        return self.max_epochs

    def _fit_net(self, X, y):
        """Build the model and the net under a forked, seeded RNG, then train (resuming if possible).

        Forking keeps the caller's global RNG untouched while making weight init and dropout depend
        on ``random_state`` alone, so two fits with the same seed give the same model on the CPU.
        """
        seed = self._seed()
        accelerator = current_accelerator()  # set by sksurv_ecg.distributed.data_parallel
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
                net = plain_net(net, self._make_net(net.module_, seed=seed))
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
                source = read_encoder(self.encoder, self._params_for("module"))
                self.lead_order_ = source.check_estimator(self)
                self._encoder_source = source
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
        names = network_lead_names(self.lead_names_, self.lead_order_)
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
        """JSON-serialisable fitted attributes beyond the weights: those named in ``_fitted_attributes``."""
        return {name: getattr(self, name) for name in self._fitted_attributes}

    def _restore_fitted_state(self, state):
        """Inverse of :meth:`_fitted_state`."""
        for name in self._fitted_attributes:
            setattr(self, name, state[name])

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
