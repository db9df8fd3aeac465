"""Checks of estimator parameters that depend on the machine: the device and the numeric precision."""

from __future__ import annotations

import warnings

from ..exceptions import DeviceWarning, user_stacklevel


def check_device(device):
    """Resolve ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"`` to a usable torch device string.

    A CUDA request on a host without CUDA falls back to the CPU with a :class:`DeviceWarning`.

    Parameters
    ----------
    device : str
        Requested device.

    Returns
    -------
    device : str
        ``"cpu"`` or a CUDA device string.

    Examples
    --------
    >>> from sksurv_ecg.utils.validation import check_device
    >>> check_device("cpu")
    'cpu'
    """
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if isinstance(device, str) and device.startswith("cuda"):
        if torch.cuda.is_available():
            return device
        warnings.warn(
            f"device={device!r} was requested but CUDA is not available; using 'cpu'.",
            DeviceWarning,
            stacklevel=user_stacklevel(),
        )
        return "cpu"
    if device == "cpu":
        return device
    raise ValueError(f"device={device!r} is not supported; use 'cpu', 'cuda', 'cuda:N' or 'auto'.")


def bf16_is_native(device):
    """Whether ``device`` computes in bfloat16 natively rather than emulating it.

    A CPU counts as native when oneDNN has bfloat16 kernels for it (AVX-512 or newer; not AVX2), a
    CUDA device from compute capability 8.0. A torch build without oneDNN cannot tell, and counts as
    native (no false alarm).

    Parameters
    ----------
    device : str
        A resolved device (``check_device``'s output).

    Returns
    -------
    native : bool
        False where bf16 autocast runs several times slower than float32.

    Examples
    --------
    >>> from sksurv_ecg.utils.validation import bf16_is_native
    >>> isinstance(bf16_is_native("cpu"), bool)
    True
    """
    import torch

    if device.startswith("cuda"):
        return bool(torch.cuda.is_bf16_supported(including_emulation=False))
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):  # a build without oneDNN: no way to tell
        return True


def check_precision(precision, device):
    """Warn when ``precision="bf16"`` asks for bfloat16 arithmetic that ``device`` only emulates.

    On a CPU without AVX-512 (``torch.backends.cpu.get_cpu_capability()`` AVX2 or less), oneDNN has
    no bfloat16 kernels and torch falls back to generic loops: bf16 autocast then trains and predicts
    several times slower than float32 (4.6 s against 0.53 s per training step of 128 ECGs on a
    2-core AVX2 AMD EPYC, docs/results.md) instead of faster. A CUDA device without native bfloat16
    (before compute capability 8.0) is likewise emulated. Either way the computation is correct, so
    this warns and carries on. See :func:`bf16_is_native`.

    Parameters
    ----------
    precision : {"float32", "bf16"}
        Requested precision.
    device : str
        The resolved device (``check_device``'s output).

    Examples
    --------
    >>> from sksurv_ecg.utils.validation import check_precision
    >>> check_precision("float32", "cpu")  # nothing to check
    """
    import torch

    if precision != "bf16" or bf16_is_native(device):
        return
    if device.startswith("cuda"):
        where = f"CUDA device {torch.cuda.get_device_name(torch.device(device))!r}"
    else:
        where = f"this CPU (instruction set {torch.backends.cpu.get_cpu_capability()}, no bfloat16 kernels)"
    warnings.warn(
        f"precision='bf16' on {where}: bfloat16 is emulated there, so it runs several times slower "
        "than float32 instead of faster. Use precision='float32' on this machine.",
        DeviceWarning,
        stacklevel=user_stacklevel(),
    )
