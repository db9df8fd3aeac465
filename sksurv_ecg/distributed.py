"""Data-parallel training of one model on several processes through Hugging Face ``accelerate``.

Fit any sksurv-ecg estimator inside :func:`data_parallel` and launch the script on several
processes (``accelerate launch --num_processes 2 script.py`` or ``torchrun --nproc_per_node 2
script.py``): every process holds the whole model, trains on its own share of the batches, and
torch's ``DistributedDataParallel`` averages the gradients, so all processes end each step with
the same weights. The skorch side is skorch's :class:`skorch.hf.AccelerateMixin`; this module
adapts it to :class:`~sksurv_ecg._training.ECGNet` and its task subclasses:

- Batches. Every process draws the same seeded event-stratified partition of the epoch
  (:class:`~sksurv_ecg.sampling.StratifiedBatchSampler`, seeded by ``random_state``) and keeps
  batches ``rank, rank + world_size, ...`` (:class:`ShardedBatchSampler`). Each batch still holds
  ``min_events_per_batch`` events, and every process gets the same number of batches (the last
  round is filled with the first batches of the epoch), as DDP needs. accelerate's own sharding
  of the data loader is not used: it assumes batches of one fixed size.
- Randomness. Process 0 draws lead masks and dropout exactly as a single-process fit does; the
  other processes offset those seeds by their rank so that they do not repeat process 0's masks.
- Validation (``validation_fraction``) runs on the whole validation split on every process, so
  early stopping and model selection decide the same on all of them.
- After training the net is unwrapped and replaced by a plain net of the same task around the trained
  weights: the fitted estimator pickles, saves and predicts like any other, on every process.

Cross-validation and grid search need none of this: they fan out through joblib (for a cluster,
``joblib.parallel_backend("dask")``); see ``docs/scale.md``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import torch
from skorch import NeuralNet
from skorch.hf import AccelerateMixin
from torch.utils.data import Sampler

from ._training import AlignNet, ECGNet, SurvivalNet

__all__ = ["ShardedBatchSampler", "accelerated_net", "current_accelerator", "data_parallel", "plain_net"]

_ACCELERATOR: ContextVar = ContextVar("sksurv_ecg_accelerator", default=None)


class ShardedBatchSampler(Sampler[list[int]]):
    """One process's share of the batches of a batch sampler, for data-parallel training.

    Every process iterates its own copy of ``batch_sampler``, which must yield the same batches on
    all of them (a seeded sampler does), and keeps batches ``rank, rank + num_replicas, ...``. When
    the number of batches is not a multiple of ``num_replicas``, the last round is completed with
    the first batches of the epoch, so every process gets ``ceil(n_batches / num_replicas)``
    batches (``DistributedDataParallel`` hangs when processes take different numbers of steps).
    Batches are kept whole, so their sizes and event counts are those of ``batch_sampler``.

    Parameters
    ----------
    batch_sampler : iterable of list of int
        The full batch sampler, e.g. a :class:`~sksurv_ecg.sampling.StratifiedBatchSampler`.
    num_replicas : int
        Number of processes.
    rank : int
        This process's index, ``0 <= rank < num_replicas``.

    See Also
    --------
    data_parallel : Trains estimators with this sampler.

    Examples
    --------
    >>> from sksurv_ecg.distributed import ShardedBatchSampler
    >>> batches = [[0, 1], [2, 3], [4, 5]]
    >>> [list(ShardedBatchSampler(batches, num_replicas=2, rank=r)) for r in (0, 1)]
    [[[0, 1], [4, 5]], [[2, 3], [0, 1]]]
    """

    def __init__(self, batch_sampler, num_replicas: int, rank: int) -> None:
        if not isinstance(num_replicas, int) or num_replicas < 1:
            raise ValueError(f"num_replicas={num_replicas!r} must be a positive int (the number of processes).")
        if not isinstance(rank, int) or not 0 <= rank < num_replicas:
            raise ValueError(f"rank={rank!r} must be an int in [0, num_replicas={num_replicas}).")
        self.batch_sampler = batch_sampler
        self.num_replicas = num_replicas
        self.rank = rank

    def __len__(self) -> int:
        """Return the number of batches this process gets per epoch."""
        return math.ceil(len(self.batch_sampler) / self.num_replicas)

    def __iter__(self) -> Iterator[list[int]]:
        """Yield this process's batches of one epoch."""
        batches = list(self.batch_sampler)  # consume the whole epoch: the sampler's RNG stays in step
        needed = math.ceil(len(batches) / self.num_replicas) * self.num_replicas
        filled = [batches[i % len(batches)] for i in range(needed)]
        yield from filled[self.rank :: self.num_replicas]


class _DataParallelMixin(AccelerateMixin):
    """skorch's ``AccelerateMixin`` for the :class:`~sksurv_ecg._training.ECGNet` family.

    The mixin's training step (autocast, ``accelerator.backward``), its preparation of module,
    optimizer and LR scheduler, and its unwrapping after training are used as they are; the
    criteria are plain callables without parameters, which the mixin leaves alone. Overridden:
    the data loaders (ours are event-stratified with batches of varying size, which accelerate
    would re-shard; each process keeps its own share), the device check (the estimator sets
    ``device`` to the accelerator's device), per-process random streams and buffer averaging.
    """

    def initialize(self):
        super().initialize()  # the mixin builds, then prepares module and optimizer (DDP wrap)
        rank = self.accelerator.process_index
        seed = int(self.random_state)
        if rank:  # process 0 draws as a single-process fit; the others must not repeat its draws
            torch.manual_seed(seed + rank)
        self.mask_generator_ = torch.Generator().manual_seed(seed + rank)
        return self

    def _initialize_callbacks(self):
        if getattr(self, "callbacks__print_log", True) is None:  # verbose=0: no log to route to accelerator.print
            vars(self).pop("callbacks__print_log__sink", None)
            return NeuralNet._initialize_callbacks(self)
        return super()._initialize_callbacks()

    def on_train_end(self, net, X=None, y=None, **kwargs):
        self._synchronize_buffers()
        return super().on_train_end(net, X=X, y=y, **kwargs)

    def _synchronize_buffers(self):
        """Give every process the same buffers: BatchNorm statistics averaged, the rest from process 0.

        DDP keeps the parameters equal, but each process's last forward pass updates its own
        running statistics; without this the processes would end with slightly different models.
        """
        if self.accelerator.num_processes < 2 or not torch.distributed.is_initialized():
            return
        for buffer in self.module_.buffers():
            if torch.is_floating_point(buffer):
                torch.distributed.all_reduce(buffer, op=torch.distributed.ReduceOp.SUM)
                buffer.div_(self.accelerator.num_processes)
            else:
                torch.distributed.broadcast(buffer, src=0)

    def _validate_params(self):
        # The mixin refuses a device when the accelerator places tensors; ours *is* the
        # accelerator's device (ECGNet moves batches and masks itself).
        NeuralNet._validate_params(self)

    def get_iterator(self, dataset, training=False):
        # Not the mixin's: accelerate would re-shard our variable-size stratified batches.
        return ECGNet.get_iterator(self, dataset, training=training)

    def _shard_batches(self, sampler):
        return ShardedBatchSampler(sampler, self.accelerator.num_processes, self.accelerator.process_index)


class _DataParallelECGNet(_DataParallelMixin, ECGNet):
    """:class:`ECGNet` trained data-parallel."""


class _DataParallelAlignNet(_DataParallelMixin, AlignNet):
    """:class:`AlignNet` trained data-parallel."""


class _DataParallelSurvivalNet(_DataParallelMixin, SurvivalNet):
    """:class:`SurvivalNet` trained data-parallel."""


_DATA_PARALLEL = {ECGNet: _DataParallelECGNet, AlignNet: _DataParallelAlignNet, SurvivalNet: _DataParallelSurvivalNet}


def current_accelerator():
    """The ``accelerate.Accelerator`` of the enclosing :func:`data_parallel` block, or None.

    The estimators' ``fit`` asks this to decide whether to train data-parallel.

    Returns
    -------
    accelerator : accelerate.Accelerator or None
        The accelerator of the innermost enclosing block; None outside any block.
    """
    return _ACCELERATOR.get()


def accelerated_net(net_class, accelerator, *, checkpoint_dir=None):
    """The net class and extra keyword arguments that make ``net_class`` train data-parallel.

    Parameters
    ----------
    net_class : type
        One of the skorch nets of the estimators (``ECGNet``, ``AlignNet``, ``SurvivalNet``).
    accelerator : accelerate.Accelerator
        The accelerator of the enclosing :func:`data_parallel` block.
    checkpoint_dir : str, os.PathLike or None, default=None
        The estimator's ``checkpoint_dir``; must be None, since the exact resume is single-process.

    Returns
    -------
    net_class : type
        The data-parallel subclass of ``net_class``.
    net_kwargs : dict
        Keyword arguments to add when building it.
    """
    if checkpoint_dir is not None:
        raise ValueError(
            f"checkpoint_dir={str(checkpoint_dir)!r} cannot be used inside data_parallel(): every process "
            "would write its own random state to one file; set checkpoint_dir=None (the exact resume is "
            "single-process), or fit outside data_parallel()."
        )
    return _DATA_PARALLEL[net_class], {"accelerator": accelerator, "unwrap_after_train": True}


def plain_net(trained, net):
    """Initialise ``net`` (a plain :class:`ECGNet` around ``trained``'s module) and give it the history.

    After data-parallel training the fitted estimator keeps a plain net, which saves, predicts and
    pickles without an accelerator.

    Parameters
    ----------
    trained : skorch.NeuralNet
        The data-parallel net after training.
    net : skorch.NeuralNet
        A plain net around the trained module.

    Returns
    -------
    net : skorch.NeuralNet
        ``net``, initialised, with ``trained``'s history.
    """
    net.initialize()
    net.history_ = trained.history_
    return net


@contextmanager
def data_parallel(accelerator=None, **accelerator_kwargs):
    """Train every sksurv-ecg estimator fitted inside the block data-parallel with ``accelerate``.

    Run the script on several processes (``accelerate launch --num_processes N script.py``, or
    ``torchrun --nproc_per_node N script.py``; add ``--cpu`` / ``cpu=True`` for CPU processes with
    the gloo backend). Every process must call ``fit`` with the same data and the same estimator
    parameters (in particular the same ``random_state``): each trains on its share of the
    event-stratified batches and ``DistributedDataParallel`` averages the gradients, so an epoch
    takes ``ceil(n_batches / N)`` optimizer steps of ``N`` batches each. Fitted estimators are
    plain (picklable, ``save``-able) and identical on all processes; save from one of them, e.g.
    ``if accelerator.is_main_process: model.save(...)``. In a single process the block changes
    nothing: the model equals the one fitted without it.

    Parameters
    ----------
    accelerator : accelerate.Accelerator or None, default=None
        The accelerator; ``None`` creates ``accelerate.Accelerator(**accelerator_kwargs)``. Leave
        its ``mixed_precision`` at ``"no"`` and use the estimators' ``precision="bf16"``. When
        some parameters get no gradient (e.g. ``alpha=1`` leaves the decoder unused), pass
        ``kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)]``.
    **accelerator_kwargs : dict
        Arguments of ``accelerate.Accelerator`` when ``accelerator`` is None.

    Yields
    ------
    accelerator : accelerate.Accelerator
        The accelerator in use (``process_index``, ``is_main_process``, ``print``, ...).

    Raises
    ------
    TypeError
        When both ``accelerator`` and ``accelerator_kwargs`` are given.

    See Also
    --------
    ShardedBatchSampler : How the batches are shared out.

    Notes
    -----
    The estimator's ``device`` is ignored inside the block: the accelerator places the model.
    ``checkpoint_dir`` is refused (the exact resume is single-process). Prediction, the Breslow
    baseline and validation run on every process over all their samples.

    Examples
    --------
    >>> from sksurv_ecg import ECGSurvivalAnalysis
    >>> from sksurv_ecg.datasets import make_ecg_survival
    >>> from sksurv_ecg.distributed import data_parallel
    >>> X, y, _ = make_ecg_survival(40, random_state=0)
    >>> with data_parallel(cpu=True) as accelerator:
    ...     model = ECGSurvivalAnalysis(max_epochs=1, batch_size=20, random_state=0).fit(X, y)
    >>> accelerator.num_processes, model.predict(X[:3]).shape
    (1, (3,))
    """
    if accelerator is None:
        from accelerate import Accelerator

        accelerator = Accelerator(**accelerator_kwargs)
    elif accelerator_kwargs:
        raise TypeError(
            f"data_parallel() got an accelerator and Accelerator arguments {sorted(accelerator_kwargs)}; "
            "pass one or the other."
        )
    token = _ACCELERATOR.set(accelerator)
    try:
        yield accelerator
    finally:
        _ACCELERATOR.reset(token)
