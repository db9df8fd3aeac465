"""Tests of sksurv_ecg.losses."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sksurv_ecg.losses import alignment_loss, cox_ph_loss, reconstruction_loss

DATA = Path(__file__).parent / "data"


def direct_cox(theta, time, event, ties):
    """O(n^2) textbook formula, group by group, in float64."""
    theta, time, event = (np.asarray(a, dtype=float) for a in (theta, time, event))
    event = event.astype(bool)
    total = 0.0
    for t in np.unique(time[event]):
        at_risk = time >= t
        in_group = (time == t) & event
        d = in_group.sum()
        risk = np.exp(theta[at_risk]).sum()
        tied = np.exp(theta[in_group]).sum()
        if ties == "breslow":
            total += theta[in_group].sum() - d * np.log(risk)
        else:
            total += theta[in_group].sum() - sum(np.log(risk - k / d * tied) for k in range(d))
    return -total / event.sum()


@pytest.mark.parametrize("ties", ["breslow", "efron"])
@pytest.mark.parametrize("tied_times", [False, True], ids=["distinct", "tied"])
def test_cox_matches_direct_formula(ties, tied_times, rng):
    for _ in range(5):
        n = 40
        time = rng.integers(1, 8, n).astype(float) if tied_times else rng.permutation(n) + 1.0
        event = rng.random(n) < 0.6
        event[0] = True
        theta = rng.normal(scale=2.0, size=n)
        got = cox_ph_loss(torch.tensor(theta), torch.tensor(time), torch.tensor(event), ties=ties)
        np.testing.assert_allclose(got.item(), direct_cox(theta, time, event, ties), rtol=1e-10)


def test_breslow_equals_efron_without_ties(rng):
    theta, time, event = torch.randn(30), torch.randperm(30).double() + 1, torch.rand(30) < 0.5
    event[3] = True
    a = cox_ph_loss(theta, time, event, ties="breslow")
    b = cox_ph_loss(theta, time, event, ties="efron")
    torch.testing.assert_close(a, b)


@pytest.mark.parametrize("ties", ["breslow", "efron"])
def test_cox_gradient_vanishes_at_sksurv_optimum(ties):
    from sksurv.datasets import load_whas500

    ref = json.loads((DATA / "cox_reference.json").read_text())
    X_df, y = load_whas500()
    X = X_df[ref["columns"]].to_numpy(dtype=np.float64)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    coef = torch.tensor(ref[ties]["coef"], dtype=torch.float64, requires_grad=True)
    loss = cox_ph_loss(
        torch.tensor(X) @ coef, torch.tensor(y["lenfol"].copy()), torch.tensor(y["fstat"].copy()), ties=ties
    )
    loss.backward()
    assert coef.grad.abs().max().item() < 1e-5
    expected = ref[ties]["sksurv_nlog_likelihood"] * ref["n_samples"] / ref["n_events"]
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-10)


@pytest.mark.parametrize("ties", ["breslow", "efron"])
def test_cox_is_stable_for_huge_log_risk(ties):
    theta = torch.tensor([1000.0, 999.0, -1000.0, 5000.0, 4999.5], requires_grad=True)
    time, event = torch.tensor([1.0, 1.0, 2.0, 3.0, 3.0]), torch.tensor([1, 1, 0, 1, 1])
    loss = cox_ph_loss(theta, time, event, ties=ties)
    loss.backward()
    assert torch.isfinite(loss)
    assert torch.isfinite(theta.grad).all()
    shifted = cox_ph_loss(theta.detach() - 5000.0, time, event, ties=ties)
    torch.testing.assert_close(loss.detach(), shifted)


def test_cox_no_event_raise_and_zero():
    """RELIABILITY row 25: never nan, never a detached 0."""
    theta = torch.randn(5, requires_grad=True)
    time, event = torch.arange(1.0, 6.0), torch.zeros(5, dtype=torch.bool)
    with pytest.raises(ValueError, match="holds no event"):
        cox_ph_loss(theta, time, event)
    loss = cox_ph_loss(theta, time, event, on_no_events="zero")
    loss.backward()
    assert loss.item() == 0.0
    assert loss.requires_grad
    assert torch.equal(theta.grad, torch.zeros(5))


def test_cox_accepts_column_and_bf16():
    theta = torch.randn(6, 1)
    time, event = torch.arange(6.0), torch.tensor([1, 0, 1, 0, 1, 1])
    a = cox_ph_loss(theta, time, event)
    b = cox_ph_loss(theta.bfloat16(), time, event)
    assert b.dtype == torch.float32
    torch.testing.assert_close(a, b, atol=0.05, rtol=0.05)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        pytest.param({"ties": "exact"}, "'ties'", id="ties"),
        pytest.param({"on_no_events": "skip"}, "'on_no_events'", id="on_no_events"),
    ],
)
def test_cox_bad_options(kwargs, match):
    with pytest.raises(ValueError, match=match):
        cox_ph_loss(torch.zeros(2), torch.ones(2), torch.ones(2), **kwargs)


def test_cox_shape_mismatch():
    with pytest.raises(ValueError, match="Dimension mismatch: 'time' has 3 samples"):
        cox_ph_loss(torch.zeros(2), torch.ones(3), torch.ones(2))


@st.composite
def survival_batches(draw):
    n = draw(st.integers(1, 25))
    time = draw(st.lists(st.sampled_from([0.5, 1.0, 2.0, 3.5, 7.0, 1e3]), min_size=n, max_size=n))
    event = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    event[draw(st.integers(0, n - 1))] = True
    theta = draw(st.lists(st.floats(-30, 30, allow_nan=False), min_size=n, max_size=n))
    return np.array(theta), np.array(time), np.array(event)


@settings(max_examples=60, deadline=None)
@given(batch=survival_batches(), ties=st.sampled_from(["breslow", "efron"]), seed=st.integers(0, 2**16))
def test_cox_properties(batch, ties, seed):
    theta, time, event = batch
    loss = cox_ph_loss(torch.tensor(theta), torch.tensor(time), torch.tensor(event), ties=ties).item()
    assert np.isfinite(loss)
    assert loss >= -1e-9
    perm = np.random.default_rng(seed).permutation(len(theta))
    permuted = cox_ph_loss(torch.tensor(theta[perm]), torch.tensor(time[perm]), torch.tensor(event[perm]), ties=ties)
    np.testing.assert_allclose(permuted.item(), loss, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(loss, direct_cox(theta, time, event, ties), rtol=1e-7, atol=1e-9)


def test_reconstruction_loss():
    x_hat, target = torch.randn(2, 3, 10), torch.randn(2, 3, 10)
    torch.testing.assert_close(reconstruction_loss(x_hat, target), ((x_hat - target) ** 2).mean())
    mask = torch.zeros(2, 1, 10, dtype=torch.bool)
    mask[..., 2:8] = True
    expected = ((x_hat - target)[..., 2:8] ** 2).mean()
    torch.testing.assert_close(reconstruction_loss(x_hat, target, mask), expected)
    assert reconstruction_loss(x_hat, target, torch.zeros_like(mask)).item() == 0.0
    with pytest.raises(ValueError, match="Dimension mismatch"):
        reconstruction_loss(x_hat, target[:1])


def test_alignment_cosine_matches_seed_definition():
    e, u = torch.randn(8, 16), torch.randn(8, 16)
    seed = torch.nn.CosineEmbeddingLoss(margin=0.0)(
        torch.nn.functional.normalize(e), torch.nn.functional.normalize(u), torch.ones(8)
    )
    torch.testing.assert_close(alignment_loss(e, u), seed)


def test_alignment_infonce():
    e = torch.randn(6, 8)
    perfect = alignment_loss(e, e, method="infonce", temperature=0.01)
    shuffled = alignment_loss(e, e.roll(1, 0), method="infonce", temperature=0.01)
    assert perfect.item() < 1e-3 < shuffled.item()
    logits = torch.nn.functional.normalize(e) @ torch.nn.functional.normalize(e).T / 0.1
    expected = torch.nn.functional.cross_entropy(logits, torch.arange(6))
    torch.testing.assert_close(alignment_loss(e, e, method="infonce"), expected)
    with pytest.raises(ValueError, match="'method'"):
        alignment_loss(e, e, method="barlow")
    with pytest.raises(ValueError, match="Dimension mismatch"):
        alignment_loss(e, e[:, :4])
