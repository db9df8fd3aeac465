"""Loading torch files safely: ``weights_only=True`` always, CUDA tensors mapped to a CPU-only host."""

from __future__ import annotations

import os
import warnings

import torch

from ..exceptions import DeviceWarning

__all__ = ["load_state_dict"]


def load_state_dict(path: str | os.PathLike, device: str | None = None) -> dict[str, torch.Tensor]:
    """Load a ``state_dict`` saved with ``torch.save``, refusing anything but tensors and containers.

    ``torch.load`` is called with ``weights_only=True``, so a file that holds a pickled object
    (a function, a class instance) raises ``pickle.UnpicklingError`` instead of running code. Tensors
    saved on a GPU are loaded onto the CPU, with a :class:`~sksurv_ecg.DeviceWarning`, when CUDA is
    not available. Only load files you trust all the same: pickle and joblib files of fitted
    estimators can run arbitrary code.

    Parameters
    ----------
    path : str or path-like
        File written by ``torch.save(module.state_dict(), path)``.
    device : str or None, default=None
        Where to put the tensors; None keeps the saved device when it exists, else the CPU.

    Returns
    -------
    state_dict : dict of str to Tensor
        The tensors.

    Examples
    --------
    >>> import io, torch
    >>> from sksurv_ecg.utils.torch_io import load_state_dict
    >>> buffer = io.BytesIO()
    >>> torch.save({"w": torch.ones(2)}, buffer)
    >>> _ = buffer.seek(0)
    >>> load_state_dict(buffer)["w"]
    tensor([1., 1.])
    """
    moved: list[str] = []

    def map_location(storage, location):
        if device is not None:
            return storage.to(device) if device != "cpu" else storage
        if location.startswith("cuda") and not torch.cuda.is_available():
            moved.append(location)
            return storage
        return storage.to(location) if location.startswith("cuda") else storage

    state = torch.load(path, map_location=map_location, weights_only=True)
    if moved:
        warnings.warn(
            f"{path} holds tensors saved on {moved[0]}, but CUDA is not available; they were loaded on the CPU.",
            DeviceWarning,
            stacklevel=2,
        )
    return state
