"""Tests of sksurv_ecg.sampling."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from sksurv.util import Surv
from torch.utils.data import DataLoader, TensorDataset

from sksurv_ecg import (
    ECGSurvivalAnalysis,
    InsufficientEventsError,
)
from sksurv_ecg.sampling import StratifiedBatchSampler


def check_epoch(sampler, event, min_events):
    batches = list(sampler)
    assert len(batches) == len(sampler) == max(1, len(event) // sampler.batch_size)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(event)))
    assert all(isinstance(i, int) for i in flat)
    sizes = [len(b) for b in batches]
    n_events = [int(event[b].sum()) for b in batches]
    assert max(sizes) - min(sizes) <= 1
    assert max(n_events) - min(n_events) <= 1
    assert min(n_events) >= min_events
    return batches


def test_seed_examples():
    # SEED_SPEC 4.4: 320 samples, 13 events, bs 128 -> 2 batches of 160 with 6 and 7 events
    event = np.zeros(320, dtype=bool)
    event[:13] = True
    batches = check_epoch(StratifiedBatchSampler(event, 128, random_state=0), event, 1)
    assert sorted(len(b) for b in batches) == [160, 160]
    assert sorted(int(event[b].sum()) for b in batches) == [6, 7]


def test_reshuffles_every_epoch_and_is_reproducible():
    event = np.arange(100) % 7 == 0
    a = StratifiedBatchSampler(event, 10, random_state=3)
    b = StratifiedBatchSampler(event, 10, random_state=3)
    epoch1, epoch2 = list(a), list(a)
    assert epoch1 != epoch2
    assert epoch1 == list(b)
    assert epoch2 == list(b)


def test_no_shuffle_is_deterministic():
    event = np.arange(20) % 4 == 0
    sampler = StratifiedBatchSampler(event, 6, shuffle=False)
    assert list(sampler) == list(sampler)


def test_single_batch_when_batch_size_exceeds_samples():
    event = np.array([0, 1, 0])
    sampler = StratifiedBatchSampler(event, 64, random_state=0)
    assert len(sampler) == 1
    assert sorted(next(iter(sampler))) == [0, 1, 2]


def test_insufficient_events_message():
    event = np.zeros(100, dtype=bool)
    event[:3] = True
    with pytest.raises(InsufficientEventsError, match=r"3 events .* 10 batches .* min_events_per_batch=1"):
        StratifiedBatchSampler(event, 10)
    StratifiedBatchSampler(event, 10, min_events_per_batch=0)


@pytest.mark.parametrize(
    ("event", "batch_size"),
    [
        pytest.param(np.zeros((2, 2)), 1, id="2d"),
        pytest.param(np.zeros(0), 1, id="empty"),
        pytest.param(np.ones(4), 0, id="batch_size"),
        pytest.param(np.ones(4), 2.5, id="float_batch_size"),
    ],
)
def test_bad_inputs(event, batch_size):
    with pytest.raises(ValueError, match="event|batch_size"):
        StratifiedBatchSampler(event, batch_size)


def test_with_dataloader():
    event = torch.arange(30) % 3 == 0
    dataset = TensorDataset(torch.arange(30), event)
    loader = DataLoader(dataset, batch_sampler=StratifiedBatchSampler(event.numpy(), 8, random_state=0))
    seen = torch.cat([idx for idx, _ in loader])
    assert sorted(seen.tolist()) == list(range(30))
    assert all(ev.any() for _, ev in loader)


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(1, 300),
    event_rate=st.floats(0.0, 1.0),
    batch_size=st.integers(1, 80),
    min_events=st.integers(0, 3),
    seed=st.integers(0, 1000),
)
def test_sampler_properties(n, event_rate, batch_size, min_events, seed):
    rng = np.random.default_rng(seed)
    event = rng.random(n) < event_rate
    n_batches = max(1, n // batch_size)
    if event.sum() < n_batches * min_events:
        with pytest.raises(InsufficientEventsError):
            StratifiedBatchSampler(event, batch_size, min_events_per_batch=min_events)
        return
    sampler = StratifiedBatchSampler(event, batch_size, min_events_per_batch=min_events, random_state=seed)
    for _ in range(2):
        check_epoch(sampler, event, min_events)


# --- from the reliability matrix (RELIABILITY.md) ---------------------------------------------------


def _surv(event, time):
    return Surv.from_arrays(np.asarray(event, dtype=bool), np.asarray(time, dtype=float))


def test_too_few_events_for_the_batches_names_the_remedy(check_data, tiny_net):
    """RELIABILITY row 24."""
    X, y = check_data
    y = _surv(np.arange(len(y)) < 3, y["time"])  # 3 events, 3 batches of 8, 2 events each needed
    with pytest.raises(InsufficientEventsError, match=r"3 events cannot give each of 3 batches") as info:
        ECGSurvivalAnalysis(**tiny_net).fit(X, y)
    assert isinstance(info.value, ValueError)
    assert "min_events_per_batch=2" in str(info.value)
    assert "use at most 1 batches (batch_size >= 24)" in str(info.value)  # the remedy
    # the remedy works, and every batch the sampler yields then holds the events it promises
    ECGSurvivalAnalysis(**{**tiny_net, "batch_size": 24}).fit(X, y)
    sampler = StratifiedBatchSampler(y["event"], 8, min_events_per_batch=1, random_state=0)
    for _ in range(5):
        assert all(y["event"][batch].sum() >= 1 for batch in sampler)
