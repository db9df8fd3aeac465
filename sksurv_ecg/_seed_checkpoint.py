"""Read the authors' released PyTorch Lightning checkpoint without running pickled code.

The seed's ``checkpoint_best_loss-v2.ckpt`` is a Lightning checkpoint: a dict whose
``"state_dict"`` holds the autoencoder under ``network.`` (``network.encoder.*``,
``network.decoder.*``), the alignment projectors under ``ecg_projector.*`` and ``text_projector.*``,
possibly a classifier and metric states, and Lightning's own entries. ``hyper_parameters`` holds an
``argparse.Namespace`` and may reference classes of the seed's package ``multi_modal_heart``.

``torch.load(weights_only=True)`` refuses such a file, and ``weights_only=False`` would execute
whatever the pickle asks for. Here the pickle's globals are listed first; those on an allow-list
(``argparse.Namespace``, Lightning's ``AttributeDict``, anything under ``multi_modal_heart``) are
mapped to inert placeholder classes that only record what they were built with, and any other
global (``os.system``, ``builtins.eval``, ...) makes the load refuse before a byte is unpickled.
Tensors come through torch's weights-only unpickler.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .exceptions import DamagedFileError, UnsafeCheckpointError
from .nn import convert_seed_state_dict

__all__ = ["SEED_FS", "SEED_N_TIMESTEPS", "SeedCheckpoint", "read_seed_checkpoint"]

#: The preprocessing the released checkpoint was trained with (SEED_SPEC.md, section 5): PTB-XL+
#: median beats at 500 Hz, 600 samples centre-padded to 608, the 12 standard leads in order
#: (:data:`sksurv_ecg.conventions.LEAD_NAMES`), each lead of each beat z-scored over time.
SEED_FS = 500.0
SEED_N_TIMESTEPS = 608

# Globals a Lightning checkpoint of the seed may reference outside torch's own weights-only allow-list.
_ALLOWED_EXACT = {
    "argparse.Namespace",
    "pytorch_lightning.utilities.parsing.AttributeDict",
    "lightning.pytorch.utilities.parsing.AttributeDict",
    "lightning_fabric.utilities.data.AttributeDict",
    "lightning.fabric.utilities.data.AttributeDict",
    "pathlib.PosixPath",
    "pathlib.WindowsPath",
}
_ALLOWED_PREFIXES = ("multi_modal_heart.",)
_PROJECTORS = ("ecg_projector", "text_projector")


class _Inert(dict):
    """Stand-in for a pickled object of an allow-listed class: stores its arguments and state, does nothing."""

    def __new__(cls, *args, **kwargs):
        return super().__new__(cls)

    def __init__(self, *args, **kwargs):
        super().__init__()
        self.__dict__["pickled_args"] = args

    def __setstate__(self, state):
        self.__dict__["pickled_state"] = state

    def __repr__(self):
        return f"<inert {type(self).pickled_name}>"


def _placeholder(name: str) -> type:
    return type(name.rsplit(".", 1)[-1], (_Inert,), {"pickled_name": name, "__module__": __name__})


def _plain(value):
    """Placeholders -> plain dicts/lists, so that hyper-parameters read like JSON."""
    if isinstance(value, _Inert):
        state = value.__dict__.get("pickled_state")
        out = {"__class__": type(value).pickled_name}
        out.update({str(k): _plain(v) for k, v in dict(value).items()})
        if isinstance(state, dict):
            out.update({str(k): _plain(v) for k, v in state.items()})
        return out
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@dataclass
class SeedCheckpoint:
    """The parts of a seed Lightning checkpoint this package uses.

    Attributes
    ----------
    autoencoder : dict of str to Tensor
        ``encoder.*`` and ``decoder.*`` weights in this package's layout
        (:func:`sksurv_ecg.nn.convert_seed_state_dict`), loadable into
        :class:`sksurv_ecg.nn.DualAttentionAutoencoder`.
    projectors : dict of str to dict
        ``{"ecg_projector": ..., "text_projector": ...}`` state dicts in
        :class:`sksurv_ecg.nn.ProjectionHead`'s layout (``net.0.weight`` ...), those present.
    unused : list of str
        Keys of the checkpoint's ``state_dict`` that are not kept (a classifier, metric states).
    hyper_parameters : dict
        The Lightning hyper-parameters as plain data (placeholders turned into dicts with a
        ``"__class__"`` entry).
    """

    autoencoder: dict
    projectors: dict
    unused: list = field(default_factory=list)
    hyper_parameters: dict = field(default_factory=dict)


def _is_allowed(name: str) -> bool:
    return name in _ALLOWED_EXACT or name.startswith(_ALLOWED_PREFIXES)


def _unpickle_inertly(path):
    """``torch.load`` of ``path`` with allow-listed globals as placeholders; refuse any other global."""
    # Lightning has written torch's zip format since torch 1.6; the legacy format cannot be inspected unpickled
    if not zipfile.is_zipfile(path):
        raise _damaged(path, "it is not a torch.save archive (a zip file)")
    try:
        names = torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except (RuntimeError, ValueError, pickle.UnpicklingError, EOFError, zipfile.BadZipFile) as err:
        raise _damaged(path, f"its archive cannot be read ({type(err).__name__}: {err})") from err
    refused = sorted(n for n in names if not _is_allowed(n))
    if refused:
        raise UnsafeCheckpointError(
            f"{str(path)!r} references {refused[:5]}, which a seed checkpoint has no reason to hold; it was not "
            "loaded and nothing in it was executed. Only tensors, argparse.Namespace, Lightning's AttributeDict and "
            "classes of the seed's package (multi_modal_heart) are read, as inert placeholders."
        )
    placeholders = [(_placeholder(n), n) for n in sorted(names)]
    try:
        with torch.serialization.safe_globals(placeholders):
            raw = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:  # weights-only refusals the listing above did not foresee
        raise UnsafeCheckpointError(
            f"{str(path)!r} could not be read with torch's weights-only unpickler ({err}); nothing in it was executed."
        ) from err
    except (RuntimeError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise _damaged(path, f"it cannot be unpickled ({type(err).__name__}: {err})") from err
    return raw


def read_seed_checkpoint(path) -> SeedCheckpoint:
    """Read a seed (PyTorch Lightning) checkpoint safely; no pickled code is executed.

    Parameters
    ----------
    path : str or path-like
        The ``.ckpt`` file.

    Returns
    -------
    checkpoint : SeedCheckpoint
        The autoencoder's weights, the projectors, the keys left out and the hyper-parameters.

    Raises
    ------
    sksurv_ecg.exceptions.UnsafeCheckpointError
        When the file references a global outside the allow-list (e.g. a callable such as
        ``os.system``); it names the global. Nothing is executed. It is both a
        ``pickle.UnpicklingError`` and a ``ValueError``.
    sksurv_ecg.exceptions.DamagedFileError
        A ``ValueError`` naming the file, "damaged or not a checkpoint", when it is not a torch
        archive, is cut short, is a directory, or is not a Lightning checkpoint of the seed (no
        ``state_dict`` of tensors with ``network.encoder.*`` keys); the reader's error is chained.
    FileNotFoundError
        When ``path`` does not exist.

    Examples
    --------
    >>> from sksurv_ecg._seed_checkpoint import read_seed_checkpoint
    >>> ckpt = read_seed_checkpoint("checkpoint_best_loss-v2.ckpt")  # doctest: +SKIP
    >>> sorted(ckpt.projectors)  # doctest: +SKIP
    ['ecg_projector', 'text_projector']
    """
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"path must be a path to a .ckpt file, got {type(path).__name__}.")
    path = Path(path)
    if path.is_dir():
        raise _damaged(path, "it is a directory; for a directory written by save() use sksurv_ecg.load_estimator")
    if not path.is_file():
        raise FileNotFoundError(f"{str(path)!r} does not exist; pass the seed's .ckpt file.")
    raw = _unpickle_inertly(path)
    state = raw.get("state_dict") if isinstance(raw, dict) else None
    if not isinstance(state, dict) or not any(isinstance(k, str) and k.startswith("network.encoder.") for k in state):
        raise _damaged(
            path,
            "it is not a Lightning checkpoint of the seed: expected a 'state_dict' with 'network.encoder.*' keys; "
            "for a directory saved by sksurv-ecg use sksurv_ecg.load_estimator",
        )
    not_tensors = sorted(str(k) for k, v in state.items() if not isinstance(v, torch.Tensor))
    if not_tensors:
        raise _damaged(path, f"its state_dict holds values that are not tensors under {not_tensors[:5]}")
    network = {k: v for k, v in state.items() if k.startswith("network.")}
    projectors = {}
    for name in _PROJECTORS:
        head = {k[len(name) + 1 :]: v for k, v in state.items() if k.startswith(name + ".")}
        if head:
            projectors[name] = {f"net.{k}": v for k, v in head.items()}
    kept = set(network) | {k for k in state if k.startswith(tuple(n + "." for n in projectors))}
    return SeedCheckpoint(
        autoencoder=convert_seed_state_dict(network),
        projectors=projectors,
        unused=sorted(set(state) - kept),
        hyper_parameters=_plain(raw.get("hyper_parameters", {})),
    )


def _damaged(path, detail):
    return DamagedFileError(f"{str(path)!r} is damaged or not a checkpoint: {detail}.")


def load_into(module: torch.nn.Module, weights: dict, *, what: str, source) -> None:
    """``module.load_state_dict(weights)``, raising with every missing and unexpected key named.

    Parameters
    ----------
    module : torch.nn.Module
        Receives the weights.
    weights : dict of str to Tensor
        State dict.
    what : str
        The module's name in messages.
    source : str or path-like
        The checkpoint, named in messages.
    """
    expected = module.state_dict()
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    mismatched = [
        f"{k} {tuple(weights[k].shape)} vs {tuple(expected[k].shape)}"
        for k in sorted(set(expected) & set(weights))
        if weights[k].shape != expected[k].shape
    ]
    if missing or unexpected or mismatched:
        raise ValueError(
            f"{str(source)!r} does not fit the {what}: missing keys {missing[:8]}, unexpected keys {unexpected[:8]}, "
            f"shape mismatches {mismatched[:5]}; pass the module__* options the checkpoint was trained with "
            "(the seed's paper configuration is the default)."
        )
    module.load_state_dict(weights, strict=True)
