"""Analytic receptive fields of the latent time positions."""

from __future__ import annotations

import numpy as np

__all__ = ["receptive_fields"]


def receptive_fields(n_timesteps: int = 608, downsample: int = 5) -> np.ndarray:
    """Return the input-sample interval ``[start, stop)`` that each latent time position sees.

    The interval is propagated backwards through the convolution and pooling stack of
    :class:`DualAttentionEncoder`: each down-sampling stage maps output positions ``[a, b]`` to
    input positions ``[2a - 6, 2b + 6]`` (stride-2 and stride-1 ``(1, 5)`` convolutions; the
    max-pool skip lies inside), each ``k=5`` input convolution widens by 2 on both sides. The result
    is clipped to the input. It is exact for the convolutional paths: in eval mode the gradient of
    latent position ``t`` is non-zero exactly on this interval, apart from the global per-sample
    GroupNorm statistics of the input convolutions, which couple every position weakly to the
    whole signal. The lead axis is not covered here: with ``lead_mixing=True`` every latent lead
    sees all input leads.

    Parameters
    ----------
    n_timesteps : int, default=608
        Input length ``T``.
    downsample : int, default=5
        Number of stride-2 stages; ``T' = T // 2**downsample`` positions are returned.

    Returns
    -------
    ndarray of shape (T', 2), dtype int64
        ``[start, stop)`` of each latent position.

    Examples
    --------
    >>> from sksurv_ecg.nn import receptive_fields
    >>> rf = receptive_fields()
    >>> rf.shape
    (19, 2)
    >>> rf[0].tolist(), rf[9].tolist(), rf[18].tolist()
    ([0, 191], [98, 479], [386, 608])
    """
    if n_timesteps % 2**downsample or n_timesteps < 2**downsample:
        raise ValueError(f"'n_timesteps'={n_timesteps} must be a positive multiple of 2**downsample={2**downsample}.")
    t = np.arange(n_timesteps // 2**downsample, dtype=np.int64)
    start, stop = t.copy(), t.copy()  # inclusive interval at the latent resolution
    for _ in range(downsample):
        start, stop = 2 * start - 6, 2 * stop + 6
    start, stop = start - 4, stop + 4  # the two k=5 input convolutions
    return np.stack([np.clip(start, 0, n_timesteps), np.clip(stop + 1, 0, n_timesteps)], axis=1)
