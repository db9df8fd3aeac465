"""Event-stratified batch sampling for the Cox partial likelihood."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from torch.utils.data import Sampler

from .utils.validation import check_event_batching

__all__ = ["StratifiedBatchSampler"]


class StratifiedBatchSampler(Sampler[list[int]]):
    """Batch sampler that spreads the events evenly over the batches of an epoch.

    The Cox partial likelihood of a batch compares each event with its risk set inside the batch;
    a batch without events gives no signal and a batch with few gives a noisy one. This sampler
    partitions the samples into ``n_batches = max(1, n_samples // batch_size)`` batches in which
    the numbers of events differ by at most one (so every batch holds at least
    ``min_events_per_batch`` events, or :class:`~sksurv_ecg.exceptions.InsufficientEventsError` is
    raised at construction) and the batch sizes differ by at most one (so they are between
    ``batch_size`` and about ``2 * batch_size``). Every sample is used exactly once per epoch, and
    the partition is redrawn at every epoch from the sampler's own ``numpy.random.Generator``.

    It replaces the seed's sampler (the test folds of a ``StratifiedKFold`` re-seeded from the
    global torch RNG at every epoch), with the same batch count and balance, but seeded
    reproducibly and with an explicit minimum of events. Use it as
    ``DataLoader(dataset, batch_sampler=sampler)``.

    Parameters
    ----------
    event : array-like of shape (n_samples,)
        Event indicator (bool or 0/1).
    batch_size : int
        Requested batch size.
    min_events_per_batch : int, default=1
        Events every batch must hold.
    shuffle : bool, default=True
        Redraw the partition at every epoch. When False, events and censored samples are dealt
        in index order and every epoch yields the same batches.
    random_state : int, numpy.random.Generator or None, default=None
        Seed of the sampler's generator.

    Attributes
    ----------
    n_batches : int
        Number of batches per epoch.
    n_events : int
        Number of events.

    Examples
    --------
    >>> import numpy as np
    >>> from sksurv_ecg.sampling import StratifiedBatchSampler
    >>> event = np.array([1, 0, 0, 0, 1, 0, 0, 0, 1, 1])
    >>> sampler = StratifiedBatchSampler(event, batch_size=4, random_state=0)
    >>> len(sampler)
    2
    >>> [int(event[b].sum()) for b in sampler]
    [2, 2]
    >>> sorted(i for b in sampler for i in b) == list(range(10))
    True
    """

    def __init__(
        self,
        event: ArrayLike,
        batch_size: int,
        *,
        min_events_per_batch: int = 1,
        shuffle: bool = True,
        random_state: int | np.random.Generator | None = None,
    ) -> None:
        event_arr = np.asarray(event)
        if event_arr.ndim != 1 or event_arr.shape[0] == 0:
            raise ValueError(
                f"'event' has shape {event_arr.shape}, but a non-empty 1-D event indicator was expected; "
                "pass y['event']."
            )
        # Python and NumPy integers (what numbers.Integral admits), but not bool.
        if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
            raise ValueError(f"'batch_size'={batch_size!r} must be a positive integer.")
        self.event: NDArray[np.bool_] = event_arr.astype(bool)
        self.batch_size = int(batch_size)
        self.min_events_per_batch = min_events_per_batch
        self.shuffle = bool(shuffle)
        self.random_state = random_state
        self.n_batches: int = check_event_batching(self.event, self.batch_size, min_events_per_batch)
        self.n_events = int(self.event.sum())
        self._rng = np.random.default_rng(random_state)

    def get_state(self) -> dict[str, Any]:
        """Return the state of the sampler's generator, e.g. for checkpoints.

        Returns
        -------
        dict
            The ``bit_generator.state`` of the sampler's ``numpy.random.Generator`` (JSON-serialisable).

        Examples
        --------
        >>> import numpy as np
        >>> from sksurv_ecg.sampling import StratifiedBatchSampler
        >>> sampler = StratifiedBatchSampler(np.array([1, 0, 1, 0]), batch_size=2, random_state=0)
        >>> state = sampler.get_state()
        >>> first = list(sampler)
        >>> sampler.set_state(state)
        >>> list(sampler) == first
        True
        """
        return dict(self._rng.bit_generator.state)

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore a state returned by :meth:`get_state`; the next epochs continue that sequence.

        Parameters
        ----------
        state : dict
            A state returned by :meth:`get_state`.

        Examples
        --------
        >>> import numpy as np
        >>> from sksurv_ecg.sampling import StratifiedBatchSampler
        >>> a = StratifiedBatchSampler(np.array([1, 0, 1, 0]), batch_size=2, random_state=0)
        >>> b = StratifiedBatchSampler(np.array([1, 0, 1, 0]), batch_size=2, random_state=1)
        >>> b.set_state(a.get_state())
        >>> list(a) == list(b)
        True
        """
        self._rng.bit_generator.state = state

    def __len__(self) -> int:
        """Return the number of batches per epoch."""
        return self.n_batches

    def __iter__(self) -> Iterator[list[int]]:
        """Yield the batches of one epoch as lists of sample indices."""
        n_batches = self.n_batches
        events = np.flatnonzero(self.event)
        censored = np.flatnonzero(~self.event)
        if self.shuffle:
            events = self._rng.permutation(events)
            censored = self._rng.permutation(censored)
        n = self.event.shape[0]
        sizes = np.full(n_batches, n // n_batches)
        sizes[: n % n_batches] += 1
        n_ev = np.full(n_batches, events.shape[0] // n_batches)
        n_ev[: events.shape[0] % n_batches] += 1  # the larger batches take the extra events, so n_ev <= sizes
        ev_split = np.split(events, np.cumsum(n_ev)[:-1])
        ce_split = np.split(censored, np.cumsum(sizes - n_ev)[:-1])
        batches = [np.concatenate([e, c]) for e, c in zip(ev_split, ce_split, strict=True)]
        order = self._rng.permutation(n_batches) if self.shuffle else np.arange(n_batches)
        for b in order:
            batch = self._rng.permutation(batches[b]) if self.shuffle else np.sort(batches[b])
            yield batch.tolist()
