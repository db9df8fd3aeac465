"""Warm start: read an estimator's ``encoder=`` and check it against ``X`` and the estimator's settings.

``encoder=`` is a fitted estimator, the directory its ``save`` wrote, or the seed's Lightning
checkpoint file. Each is read into an :class:`EncoderSource`: the autoencoder whose weights start the
new network and the preprocessing it was fitted with (rate, standardisation, leads, length). The
seed checkpoint is read by :mod:`sksurv_ecg._seed_checkpoint` alone, so this module needs none of the
estimators that use it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from sklearn.utils.validation import check_is_fitted

from ._persistence import load_estimator
from ._seed_checkpoint import SEED_FS, SEED_N_TIMESTEPS, load_into, read_seed_checkpoint
from .conventions import LEAD_NAMES
from .nn import DualAttentionAutoencoder, DualAttentionConfig
from .nn.tasks import padded_length
from .utils.validation import check_ecg_length, check_lead_names

__all__ = ["EncoderSource", "network_lead_names", "read_encoder"]

#: ``module__*`` keys a warm-start ``encoder=`` does not fix: how the network is computed.
_MODULE_KEYS_FREE_WITH_ENCODER = {"impl", "attention_impl"}


def network_lead_names(lead_names, lead_order):
    """Names of the leads in the order the network reads them (None: unnamed).

    Parameters
    ----------
    lead_names : list of str or None
        Names of the leads of ``X`` as given (``lead_names_``).
    lead_order : list of int or None
        Columns of ``X`` in the network's order (``lead_order_``); None: ``X``'s order.

    Returns
    -------
    names : list of str or None
        The names in the network's order.
    """
    if lead_names is None or lead_order is None:
        return lead_names
    return [lead_names[i] for i in lead_order]


@dataclass(frozen=True)
class EncoderSource:
    """A warm-start encoder: its autoencoder and the preprocessing its weights expect.

    Attributes
    ----------
    name : str
        What the encoder is, for messages (its class name, or the checkpoint file).
    autoencoder : DualAttentionAutoencoder
        The fitted autoencoder whose weights are copied (only read).
    fs : float
        Sampling rate it was fitted at, in Hz.
    standardize : bool
        Whether it z-scores each lead inside the model.
    n_leads : int
        Number of leads it reads.
    n_timesteps_in : int
        Length of the ECGs it was fitted on (before padding).
    lead_names : list of str or None
        Its leads in the order its network reads them (None: unnamed).
    """

    name: str
    autoencoder: DualAttentionAutoencoder
    fs: float
    standardize: bool
    n_leads: int
    n_timesteps_in: int
    lead_names: list | None

    @property
    def config(self) -> DualAttentionConfig:
        """The architecture of :attr:`autoencoder`."""
        return self.autoencoder.config

    @classmethod
    def from_estimator(cls, estimator):
        """Read a fitted estimator (``ECGEmbedder``, ``TextAlignedPretrainer``, ``ECGSurvivalAnalysis``).

        Parameters
        ----------
        estimator : object
            A fitted estimator of this package.

        Returns
        -------
        source : EncoderSource
            Its autoencoder and preprocessing.
        """
        check_is_fitted(estimator, "net_")
        name = type(estimator).__name__
        if hasattr(estimator, "lead_names_"):
            lead_names = network_lead_names(estimator.lead_names_, getattr(estimator, "lead_order_", None))
        else:  # fitted before lead names were kept: the package's only lead order then
            lead_names = check_lead_names(None, estimator.n_leads_, owner=name)
        return cls(
            name=name,
            autoencoder=estimator.net_.module_.autoencoder,
            fs=float(getattr(estimator, "fs_", 500.0)),
            standardize=bool(getattr(estimator, "standardize", True)),
            n_leads=estimator.n_leads_,
            n_timesteps_in=estimator.n_timesteps_in_,
            lead_names=lead_names,
        )

    @classmethod
    def from_seed_checkpoint(cls, path, module_params):
        """Read the seed's Lightning checkpoint with the architecture ``module_params`` describes.

        The preprocessing is the one the checkpoint was trained with (as
        :meth:`sksurv_ecg.ECGEmbedder.from_seed_checkpoint` records it): 500 Hz, the 12 standard
        leads in order, per-lead z-score, 608 samples.

        Parameters
        ----------
        path : path-like
            The ``.ckpt`` file.
        module_params : dict
            ``module__*`` settings of the warm-starting estimator, without the prefix.

        Returns
        -------
        source : EncoderSource
            The checkpoint's autoencoder and preprocessing.
        """
        checkpoint = read_seed_checkpoint(path)
        architecture = {k: v for k, v in module_params.items() if k not in _MODULE_KEYS_FREE_WITH_ENCODER}
        downsample = architecture.get("downsample", DualAttentionConfig.downsample)
        # Initialising the weights draws from torch's RNG; the checkpoint's replace them, and the
        # caller's global RNG stays untouched.
        with torch.random.fork_rng(devices=[]):
            autoencoder = DualAttentionAutoencoder(
                n_leads=len(LEAD_NAMES), n_timesteps=padded_length(SEED_N_TIMESTEPS, downsample), **architecture
            )
        load_into(autoencoder, checkpoint.autoencoder, what="autoencoder", source=path)
        return cls(
            name="ECGEmbedder",  # the class from_seed_checkpoint builds: messages read as for an estimator
            autoencoder=autoencoder,
            fs=SEED_FS,
            standardize=True,
            n_leads=len(LEAD_NAMES),
            n_timesteps_in=SEED_N_TIMESTEPS,
            lead_names=list(LEAD_NAMES),
        )

    def check_estimator(self, estimator):
        """Check the estimator's recorded ``X`` and settings against this encoder.

        The sampling rate and standardisation must be the encoder's; ``X``'s leads must be the
        encoder's (by name), in any order; ``X``'s length must pad to the encoder's network length.

        Parameters
        ----------
        estimator : object
            The estimator being fitted, after ``fs_``, ``n_leads_``, ``lead_names_`` and
            ``n_timesteps_in_`` are recorded from ``X``.

        Returns
        -------
        lead_order : list of int or None
            Columns of ``X`` in the encoder's lead order (None: ``X``'s order already is).
        """
        name = type(estimator).__name__
        if self.fs != estimator.fs_:
            raise ValueError(
                f"encoder ({self.name}) was fitted on ECGs sampled at {self.fs:g} Hz, but {name} has "
                f"fs={estimator.fs_:g}; resample X to {self.fs:g} Hz (sksurv_ecg.preprocessing.Resample) and set "
                f"fs={self.fs:g}, or use an encoder fitted at {estimator.fs_:g} Hz."
            )
        if self.standardize != bool(estimator.standardize):
            raise ValueError(
                f"encoder ({self.name}) was fitted with standardize={self.standardize}, but {name} has "
                f"standardize={estimator.standardize}; its weights expect inputs scaled as at its fit: set "
                f"standardize={self.standardize}."
            )
        lead_order = self._lead_order(estimator.lead_names_, estimator.n_leads_)
        check_ecg_length(
            estimator.n_timesteps_in_,
            fitted=self.n_timesteps_in,
            padded=self.config.n_timesteps,
            downsample=self.config.downsample,
            fs=self.fs,
            owner=f"the encoder ({self.name})",
        )
        return lead_order

    def _lead_order(self, mine, n_leads):
        """Columns of X in the encoder's lead order (None: X's order already is), or refuse other leads."""
        theirs = self.lead_names
        if theirs is None or mine is None:
            if self.n_leads != n_leads:
                raise ValueError(
                    f"encoder was fitted on ECGs of {self.n_leads} leads, but X has {n_leads}; "
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

    def build_autoencoder(self, estimator):
        """A new autoencoder with this encoder's architecture and weights and the estimator's training choices.

        The encoder fixes the architecture; dropout and the implementation (which computes the same
        function from the same weights) stay the estimator's. ``module__*`` settings that contradict
        the architecture are refused.

        Parameters
        ----------
        estimator : object
            The estimator being fitted, after ``impl_`` is chosen.

        Returns
        -------
        autoencoder : DualAttentionAutoencoder
            The autoencoder to train, holding a copy of the encoder's weights.
        """
        module_params = estimator._params_for("module")
        conflicts = [
            f"module__{key}={value!r} vs the encoder's {getattr(self.config, key)!r}"
            for key, value in module_params.items()
            if key not in _MODULE_KEYS_FREE_WITH_ENCODER and getattr(self.config, key) != value
        ]
        if conflicts:
            raise ValueError(
                f"{type(estimator).__name__} got encoder=, which fixes the architecture, and module__ settings that "
                f"contradict it: {'; '.join(conflicts)}. Drop these module__ parameters, or fit without encoder=."
            )
        config = replace(
            self.config, dropout=estimator.dropout, dropout_mode=estimator.dropout_mode, impl=estimator.impl_
        )
        autoencoder = DualAttentionAutoencoder.from_config(config)
        autoencoder.load_state_dict(self.autoencoder.state_dict())
        return autoencoder


def read_encoder(encoder, module_params):
    """The :class:`EncoderSource` of an ``encoder=`` parameter.

    Parameters
    ----------
    encoder : estimator, str or path-like
        A fitted estimator, the directory written by its ``save``, or the seed's ``.ckpt`` file.
    module_params : dict
        ``module__*`` settings of the warm-starting estimator, without the prefix: the architecture
        a seed checkpoint is read with.

    Returns
    -------
    source : EncoderSource
        The encoder's autoencoder and preprocessing.
    """
    if isinstance(encoder, (str, os.PathLike)):
        path = Path(encoder)
        if path.is_dir():
            encoder = load_estimator(path)
        elif path.is_file():
            return EncoderSource.from_seed_checkpoint(path, module_params)
        else:
            raise FileNotFoundError(
                f"encoder={str(path)!r} does not exist; pass a fitted estimator, the directory written by its "
                "save(), or the seed's .ckpt file."
            )
    return EncoderSource.from_estimator(encoder)
