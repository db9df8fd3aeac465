"""The skorch glue: the training net, its criteria, callbacks and data iterators.

Estimators (``embedding.py``, ``survival.py``) stay thin: they validate inputs, then build an
:class:`ECGNet` here and call ``fit``. skorch runs the loop, the callbacks, the progress bar and the
checkpoints; this module only adds what an ECG survival model needs on top: lead masking, event-
stratified batches, bf16 autocast, a guard for batches without events and a NaN stop.
"""

from __future__ import annotations

import json
import math
import warnings
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from skorch import NeuralNet
from skorch.callbacks import Callback, LRScheduler
from skorch.dataset import Dataset, unpack_data
from skorch.utils import to_device, to_tensor
from sksurv.metrics import concordance_index_censored
from torch.optim.lr_scheduler import LambdaLR
from torch.utils.data import DataLoader, Subset

from .exceptions import TrainingWarning, user_stacklevel
from .losses import alignment_loss, cox_ph_loss, reconstruction_loss
from .nn import sample_lead_mask
from .sampling import StratifiedBatchSampler
from .utils import atomic_write_text

__all__ = [
    "AlignNet",
    "BatchLRScheduler",
    "ECGDataset",
    "ECGNet",
    "PretrainCriterion",
    "SurvivalCriterion",
    "SurvivalNet",
    "ValidConcordance",
    "WarmupCosine",
    "RNGCheckpoint",
    "StratifiedValidSplit",
]


class PretrainCriterion:
    """Reconstruction (+ optional ECG-text alignment) loss for the pretraining estimators.

    A plain callable, not a ``torch.nn.Module``: it has no parameters, so skorch (and its
    ``AccelerateMixin``) leave it as it is instead of moving or wrapping it.
    """

    def __init__(self, reconstruction_weight=1.0, alignment_weight=0.0, alignment="cosine", temperature=0.1):
        self.reconstruction_weight = reconstruction_weight
        self.alignment_weight = alignment_weight
        self.alignment = alignment
        self.temperature = temperature

    def __call__(self, out, text_projection=None):
        loss = self.reconstruction_weight * reconstruction_loss(out.x_hat, out.target)
        if self.alignment_weight and text_projection is not None:
            loss = loss + self.alignment_weight * alignment_loss(
                out.ecg_projection, text_projection, method=self.alignment, temperature=self.temperature
            )
        return loss


class SurvivalCriterion:
    """``alpha * Cox partial likelihood + (1 - alpha) * reconstruction`` (the seed's risk loss).

    A batch without events has no partial likelihood; its loss is the reconstruction error alone
    (training never gets here: :class:`SurvivalNet` skips such batches; validation batches may).
    """

    def __init__(self, alpha=0.5, ties="breslow"):
        self.alpha = alpha
        self.ties = ties

    def __call__(self, out, y):
        time, event = y[:, 0], y[:, 1]
        if not bool((event > 0.5).any()):
            return reconstruction_loss(out.x_hat.float(), out.target.float())
        loss = self.alpha * cox_ph_loss(out.log_risk.float(), time, event, ties=self.ties, on_no_events="zero")
        if self.alpha < 1 and out.x_hat is not None:
            loss = loss + (1 - self.alpha) * reconstruction_loss(out.x_hat.float(), out.target.float())
        return loss


def _to_device(X, device):
    """Move a collated batch to ``device``; from pinned memory the copy to a GPU is asynchronous."""
    if isinstance(X, torch.Tensor):
        return X.to(device, non_blocking=True)
    return to_tensor(X, device)


def _has_events(y):
    """Whether a batch of ``[time, event]`` targets holds at least one event."""
    return bool((torch.as_tensor(y)[:, 1] > 0.5).any())


def _dataset_targets(dataset):
    """The ``y`` of a skorch Dataset or of a Subset of one, without touching ``X``."""
    if isinstance(dataset, Subset):
        return _dataset_targets(dataset.dataset)[np.asarray(dataset.indices)]
    return dataset.y


class ECGDataset(Dataset):
    """skorch's ``Dataset`` that reads a whole batch of an array ``X`` with one index.

    The batch is a fresh, writable copy of the rows it holds: a read-only memory-mapped ``X``
    (``numpy.load(path, mmap_mode="r")``) is streamed batch by batch, never loaded whole, and
    torch gets writable arrays (it warns on read-only ones).
    """

    def __getitems__(self, indices):
        if not isinstance(self.X, np.ndarray):
            return [self[i] for i in indices]
        idx = np.asarray(indices)
        X = self.X[idx]
        y = None if self.y is None else self.y[idx]
        return [self.transform(X[k], None if y is None else y[k]) for k in range(idx.shape[0])]


class StratifiedValidSplit:
    """A skorch ``train_split`` holding out ``fraction`` of the samples, stratified on the event.

    Returns Subsets, so a memory-mapped ``X`` is never copied. For survival targets ``y`` is
    ``(n, 2)`` = ``[time, event]``; for other targets the split is plain (not stratified).
    """

    def __init__(self, fraction, random_state):
        self.fraction = fraction
        self.random_state = random_state

    def __call__(self, dataset, y=None, **fit_params):
        y_all = _dataset_targets(dataset)
        stratify = None
        if y_all is not None and np.ndim(y_all) == 2 and np.shape(y_all)[1] == 2:
            stratify = np.asarray(y_all)[:, 1]
        train_idx, valid_idx = train_test_split(
            np.arange(len(dataset)), test_size=self.fraction, stratify=stratify, random_state=self.random_state
        )
        return Subset(dataset, np.sort(train_idx)), Subset(dataset, np.sort(valid_idx))


class WarmupCosine:
    """Linear warm-up over ``warmup_fraction`` of the steps, then half a cosine to 0.

    The seed's schedule (Hugging Face's ``get_cosine_schedule_with_warmup``) as the ``lr_lambda``
    of :class:`torch.optim.lr_scheduler.LambdaLR`; :class:`BatchLRScheduler` steps it per batch.

    Parameters
    ----------
    total_steps : int
        Optimizer steps of the whole fit.
    warmup_fraction : float
        Share of the steps spent warming up.
    """

    def __init__(self, total_steps, warmup_fraction):
        self.total_steps = total_steps
        self.warmup_fraction = warmup_fraction

    def __call__(self, step):
        """LR multiplier at training step ``step`` (0-based)."""
        warmup = int(self.warmup_fraction * self.total_steps)
        if step < warmup:
            return (step + 1) / max(1, warmup)
        progress = (step - warmup) / max(1, self.total_steps - warmup)
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress))))


class BatchLRScheduler(LRScheduler):
    """skorch's ``LRScheduler`` stepped per batch that resumes at the batch it stopped at.

    skorch resumes a scheduler at the number of *epochs* in the history; a per-batch schedule must
    continue from the number of training batches (``batch_idx_``, which skorch counts from the
    history), so a fit resumed from a checkpoint continues the schedule exactly.
    """

    def on_train_begin(self, net, **kwargs):
        super().on_train_begin(net, **kwargs)
        if self.batch_idx_:
            self.lr_scheduler_ = self.policy_(net.optimizer_, **{**self.kwargs, "last_epoch": self.batch_idx_ - 1})


def warmup_cosine_schedule(total_steps, warmup_fraction):
    """The per-batch warm-up + cosine schedule as a skorch callback."""
    return BatchLRScheduler(
        policy=LambdaLR,
        lr_lambda=WarmupCosine(total_steps, warmup_fraction),
        step_every="batch",
        event_name=None,
    )


class RNGCheckpoint(Callback):
    """Save every random state training draws from after each epoch, next to skorch's checkpoint.

    With params, optimizer and history (skorch ``Checkpoint``) this makes a resumed fit continue
    exactly as the uninterrupted one would have: same lead masks, same batches, same dropout.
    """

    def __init__(self, dirname):
        self.dirname = dirname

    def on_epoch_end(self, net, **kwargs):
        atomic_write_text(Path(self.dirname) / "rng_state.json", json.dumps(net.get_rng_state()))


class ValidConcordance(Callback):
    """Record Harrell's C on the validation split after every epoch as ``valid_c_index``."""

    def on_epoch_end(self, net, dataset_valid=None, **kwargs):
        if dataset_valid is None:
            return
        y = np.asarray(_dataset_targets(dataset_valid))
        risk = net.predict_risk(dataset_valid)
        event = y[:, 1] > 0.5
        try:
            c_index = concordance_index_censored(event, y[:, 0], risk)[0]
        except ValueError:  # no comparable pair in a tiny validation split
            c_index = float("nan")
        net.history.record("valid_c_index", float(c_index))


class ECGNet(NeuralNet):
    """skorch ``NeuralNet`` for :class:`sksurv_ecg.nn.tasks.ECGTaskModel`: reconstruction pretraining.

    The task logic sits in skorch's extension points: :meth:`infer` (lead masking, bf16 autocast),
    :meth:`get_loss` (the criterion, a NaN stop) and :meth:`get_iterator` (balanced batches).
    :class:`AlignNet` and :class:`SurvivalNet` change what ``y`` is, as skorch's
    ``NeuralNetClassifier`` and ``NeuralNetRegressor`` do.

    Parameters beyond skorch's own:

    lead_mask_prob : float
        Probability that a sample (a batch for :class:`SurvivalNet`) is trained on a CinC
        reduced-lead subset.
    precision : {"float32", "bf16"}
        ``"bf16"`` runs forward passes under ``torch.autocast``.
    random_state : int
        Seeds the lead masks and the batch sampler through their own generators.
    """

    #: Whether one lead mask is drawn per batch (True) or per sample (False).
    lead_mask_per_batch = False

    def __init__(self, *args, lead_mask_prob=0.0, precision="float32", random_state=0, **kwargs):
        self.lead_mask_prob = lead_mask_prob
        self.precision = precision
        self.random_state = random_state
        kwargs.setdefault("dataset", ECGDataset)
        super().__init__(*args, **kwargs)

    # --- set-up -------------------------------------------------------------------------------
    def initialize(self):
        super().initialize()
        self.mask_generator_ = torch.Generator().manual_seed(int(self.random_state))
        return self

    def _autocast(self):
        if self.precision != "bf16":
            return nullcontext()
        return torch.autocast(device_type=torch.device(self.device).type, dtype=torch.bfloat16)

    def _batch_events(self, dataset):
        """Event indicator the training batches are stratified on, and the events each must hold."""
        return np.zeros(len(dataset), dtype=bool), 0

    def get_iterator(self, dataset, training=False):
        if not training:
            return super().get_iterator(dataset, training=training)
        # Training batches are a balanced partition of the epoch (sizes within 1, never a
        # leftover batch of one sample that BatchNorm cannot train on); for the Cox loss they are
        # also stratified on the event.
        event, min_events = self._batch_events(dataset)
        sampler = StratifiedBatchSampler(
            event, self.batch_size, min_events_per_batch=min_events, random_state=int(self.random_state)
        )
        if getattr(self, "_sampler_state", None) is not None:  # resuming: continue its sequence
            sampler.set_state(self._sampler_state)
            self._sampler_state = None
        self.train_sampler_ = sampler
        kwargs = self._loader_params("iterator_train")
        for key in ("batch_size", "shuffle", "sampler", "drop_last"):
            kwargs.pop(key, None)
        return DataLoader(dataset, batch_sampler=self._shard_batches(sampler), **kwargs)

    def _loader_params(self, prefix):
        """Routed DataLoader arguments; on CUDA, batches default to page-locked memory so that the
        host-to-GPU copies (``non_blocking``) overlap with compute. Decided here, not stored, so a
        CUDA-fitted net unpickled on a CPU-only host does not pin."""
        kwargs = self.get_params_for(prefix)
        if str(self.device).startswith("cuda"):
            kwargs.setdefault("pin_memory", True)
        return kwargs

    def _shard_batches(self, sampler):
        """The batches this process trains on: all of them (data-parallel nets keep their share)."""
        return sampler

    def get_rng_state(self):
        """Every random state training draws from, JSON-serialisable."""
        state = {
            "torch": torch.get_rng_state().tolist(),
            "lead_mask": self.mask_generator_.get_state().tolist(),
        }
        if getattr(self, "train_sampler_", None) is not None:
            state["sampler"] = self.train_sampler_.get_state()
        return state

    def set_rng_state(self, state):
        """Restore what :meth:`get_rng_state` returned; the sampler's is applied when it is built."""
        torch.set_rng_state(torch.tensor(state["torch"], dtype=torch.uint8))
        self.mask_generator_.set_state(torch.tensor(state["lead_mask"], dtype=torch.uint8))
        self._sampler_state = state.get("sampler")

    # --- steps --------------------------------------------------------------------------------
    def _lead_mask(self, n_samples, n_leads):
        if not self.lead_mask_prob:
            return None
        mask = sample_lead_mask(
            n_samples,
            n_leads,
            p_mask=self.lead_mask_prob,
            per_batch=self.lead_mask_per_batch,
            generator=self.mask_generator_,
        )
        return to_device(mask, self.device)

    def infer(self, x, **fit_params):
        """Forward pass; in training mode the input leads are masked."""
        x = _to_device(x, self.device).float()
        lead_mask = self._lead_mask(x.shape[0], x.shape[1]) if self.module_.training else None
        with self._autocast():
            return self.module_(x, lead_mask=lead_mask, **fit_params)

    def _loss_target(self, y_true):
        """What the criterion compares the output with (pretraining: nothing)."""
        return None

    def get_loss(self, y_pred, y_true, X=None, training=False):
        """The criterion on the model output; a non-finite training loss stops training."""
        loss = self.criterion_(y_pred, self._loss_target(y_true))
        if training and not torch.isfinite(loss):
            raise FloatingPointError(
                f"The training loss became {loss.item()} at epoch {len(self.history)}, batch "
                f"{len(self.history[-1]['batches']) + 1}; lower lr, use precision='float32' or check the inputs."
            )
        return loss

    # --- inference ----------------------------------------------------------------------------
    def _map_batches(self, X, fn):
        """Apply ``fn(module, X_batch)`` batch by batch in eval mode; concatenate on the CPU."""
        dataset = X if isinstance(X, (Dataset, Subset)) else self.get_dataset(X)
        self._set_training(False)
        # A private generator: a DataLoader without one draws its base seed from the global RNG.
        kwargs = {
            "batch_size": self.batch_size,
            **self._loader_params("iterator_valid"),
            "generator": torch.Generator(),
        }
        outputs = []
        with torch.inference_mode(), self._autocast():
            for batch in self.iterator_valid(dataset, **kwargs):
                Xi, _ = unpack_data(batch)
                result = fn(self.module_, _to_device(Xi, self.device).float())
                if isinstance(result, tuple):
                    outputs.append(tuple(r.float().cpu() for r in result))
                else:
                    outputs.append(result.float().cpu())
        if outputs and isinstance(outputs[0], tuple):
            return tuple(torch.cat(parts).numpy() for parts in zip(*outputs, strict=True))
        return torch.cat(outputs).numpy()

    def predict_risk(self, X):
        """Log-hazard of every sample, float64 ``(n,)``."""
        risk = self._map_batches(X, lambda m, x: m.head(m.encode(x)))
        return risk.astype(np.float64)

    def embed(self, X):
        """Latent codes, float32 ``(n, latent_dim)``."""
        return self._map_batches(X, lambda m, x: m.encode(x)).astype(np.float32)

    def attention(self, X):
        """Head-averaged lead maps ``(n, L, L)`` and time maps ``(n, L, T', T')`` (or None)."""

        def maps(module, x):
            _, lead, time = module.encode(x, return_attention=True)
            if time is None:
                time = torch.zeros(x.shape[0], 0)
            if lead is None:
                lead = torch.zeros(x.shape[0], 0)
            return lead, time

        lead, time = self._map_batches(X, maps)
        return (lead if lead.size else None), (time if time.size else None)


class AlignNet(ECGNet):
    """:class:`ECGNet` whose ``y`` is one text embedding per ECG (ECG-report alignment)."""

    def _loss_target(self, y_true):
        return self.module_.text_projection(to_tensor(y_true, self.device).float())


class SurvivalNet(ECGNet):
    """:class:`ECGNet` whose ``y`` is ``[time, event]`` (the Cox risk task).

    Training batches are stratified on the event so that each holds ``min_events_per_batch``
    events (:class:`~sksurv_ecg.sampling.StratifiedBatchSampler`), and one lead mask is drawn per
    batch. A training batch without events that still arrives has no Cox likelihood: it is skipped
    (no gradient, no weight decay step), marked ``"skipped"`` in the batch history and reported
    with a :class:`~sksurv_ecg.TrainingWarning` at the end of the epoch. Never a silent NaN.

    min_events_per_batch : int
        Events every training batch holds.
    """

    lead_mask_per_batch = True

    def __init__(self, *args, min_events_per_batch=1, **kwargs):
        self.min_events_per_batch = min_events_per_batch
        super().__init__(*args, **kwargs)

    def _batch_events(self, dataset):
        return np.asarray(_dataset_targets(dataset))[:, 1] > 0.5, self.min_events_per_batch

    def _loss_target(self, y_true):
        return to_tensor(y_true, self.device).float()

    def train_step(self, batch, **fit_params):
        _, yi = unpack_data(batch)
        if not _has_events(yi):
            self.history.record_batch("skipped", True)
            return {"loss": torch.zeros((), device=self.device), "y_pred": None}
        return super().train_step(batch, **fit_params)

    def on_epoch_end(self, net, **kwargs):
        skipped = sum(1 for b in self.history[-1]["batches"] if b.get("skipped"))
        if skipped:
            warnings.warn(
                f"{skipped} training batch(es) without events were skipped in epoch {len(self.history)}; "
                "use event-stratified batches (min_events_per_batch >= 1).",
                TrainingWarning,
                stacklevel=user_stacklevel(),
            )
        super().on_epoch_end(net, **kwargs)
