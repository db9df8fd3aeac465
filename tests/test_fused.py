"""Tests of the fused training-mode BatchNorm + LeakyReLU (sksurv_ecg.nn._fused) and its use in the fast path.

The compiled kernel is built on first use (30-90 s once per host and torch version), so the tests that
need it are ``slow``; the default suite tests the pure-torch implementation with the same semantics,
and that the fast path never builds the kernel for small tensors.
"""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from sksurv_ecg.exceptions import DeviceWarning
from sksurv_ecg.nn import DualAttentionAutoencoder, _fast, _fused
from sksurv_ecg.nn._fused import batch_norm_leaky_relu


@pytest.fixture(autouse=True)
def _kernel_on_for_slow_tests(request, monkeypatch):
    """The suite runs with ``SKSURV_ECG_FUSED=0`` (conftest); the slow tests here are the compiled
    kernel's own, so they switch it back on (``make test-kernel`` runs them, and CI runs that)."""
    if request.node.get_closest_marker("slow") is None:
        yield
        return
    monkeypatch.setenv("SKSURV_ECG_FUSED", "1")
    _fused.fused_extension.cache_clear()
    yield
    _fused.fused_extension.cache_clear()


KERNEL = pytest.param(True, marks=pytest.mark.slow, id="kernel")
TORCH = pytest.param(False, id="torch")


def reference(x, weight, bias, eps):
    """``F.batch_norm`` (training mode) + ``F.leaky_relu`` of a ``(rows, C)`` tensor, as the model does it."""
    y = F.batch_norm(x.t().unsqueeze(0), None, None, weight, bias, True, 0.1, eps)
    return F.leaky_relu(y).squeeze(0).t()


def grads(fn, x, weight, bias, gy):
    """Output and gradients with respect to (x, weight, bias) of ``fn(x, weight, bias)``."""
    leaves = [t.detach().clone().requires_grad_() for t in (x, weight, bias)]
    y = fn(*leaves)
    y.backward(gy)
    return [y.detach(), *(t.grad for t in leaves)]


def assert_rel_close(actual, expected, rtol, name):
    scale = expected.abs().max().clamp_min(1e-30)
    err = ((actual.double() - expected.double()).abs().max() / scale).item()
    assert err <= rtol, f"{name}: relative max error {err:.2e} > {rtol:.0e}"


# channels 1..64 (odd, powers of two, not dividing the vector width); rows not multiple of the vector
# width; a batch of one (the statistics are over N * L * T rows, here 1 * 12 * 23)
SHAPES = [(1, 12, 23, 1), (1, 12, 23, 3), (2, 12, 37, 4), (3, 5, 19, 7), (2, 12, 38, 16), (1, 3, 29, 33), (2, 4, 9, 64)]


@pytest.mark.parametrize("fused", [TORCH, KERNEL])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_matches_batch_norm_and_leaky_relu(fused, shape):
    gen = torch.Generator().manual_seed(sum(shape))
    C = shape[-1]
    x = torch.randn(shape, generator=gen) * 3 + 2  # a mean away from zero tests the statistics
    weight, bias = torch.randn(C, generator=gen), torch.randn(C, generator=gen)
    gy = torch.randn(shape, generator=gen)

    def ours(x, w, b):
        return batch_norm_leaky_relu(x, w, b, 1e-5, fused=fused)[0]

    def ref(x, w, b):
        return reference(x.reshape(-1, C), w, b, 1e-5).reshape(shape)

    got, want = grads(ours, x, weight, bias, gy), grads(ref, x, weight, bias, gy)
    for name, a, b in zip(("y", "grad x", "grad weight", "grad bias"), got, want, strict=True):
        assert a.dtype == b.dtype == torch.float32
        assert_rel_close(a, b, 2e-5, name)
    _, mean, var = batch_norm_leaky_relu(x, weight, bias, 1e-5, fused=fused)
    rows = x.reshape(-1, C).double()
    assert_rel_close(mean, rows.mean(0), 1e-6, "mean")
    assert_rel_close(var, rows.var(0, unbiased=False), 1e-5, "var")


@pytest.mark.parametrize("fused", [TORCH, KERNEL])
def test_statistics_far_from_zero(fused):
    """One-pass statistics on a baseline 100 standard deviations from zero."""
    x = torch.randn(4, 12, 300, 4, generator=torch.Generator().manual_seed(0)) + 100.0
    _, mean, var = batch_norm_leaky_relu(x, torch.ones(4), torch.zeros(4), 1e-5, fused=fused)
    rows = x.reshape(-1, 4).double()
    assert_rel_close(mean, rows.mean(0), 1e-6, "mean")
    # E[x^2] - E[x]^2 in float32 loses ~1e4 * 2^-24 to cancellation; the kernel's shifted sums do not
    assert_rel_close(var, rows.var(0, unbiased=False), 1e-5 if fused else 5e-3, "var")


@pytest.mark.parametrize("fused", [TORCH, KERNEL])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_fast_path_running_statistics_follow_batch_norm(fused, momentum, monkeypatch):
    """The fast path's BatchNorm updates running mean, unbiased variance and the batch count as
    ``nn.BatchNorm2d`` does, over three steps, with the kernel or without."""
    monkeypatch.setattr(_fast, "_use_fused", lambda h: fused)
    ours, theirs = nn.BatchNorm2d(5, momentum=momentum), nn.BatchNorm2d(5, momentum=momentum)
    gen = torch.Generator().manual_seed(1)
    for step in range(3):
        h = torch.randn(2, 12, 41, 5, generator=gen) * (step + 1) + step
        y = _fast._bn_leaky(h, ours)
        y_ref = F.leaky_relu(theirs(h.permute(0, 3, 1, 2))).permute(0, 2, 3, 1)
        assert_rel_close(y, y_ref, 2e-5, "y")
    assert ours.num_batches_tracked.item() == theirs.num_batches_tracked.item() == 3
    torch.testing.assert_close(ours.running_mean, theirs.running_mean, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ours.running_var, theirs.running_var, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fused", [TORCH, KERNEL])
def test_bfloat16_statistics_in_float32(fused):
    """bfloat16 activations: float32 statistics and gradients within bfloat16 rounding of the float64
    computation on the same (bfloat16) values."""
    gen = torch.Generator().manual_seed(2)
    shape, C = (2, 12, 77, 8), 8
    x = (torch.randn(shape, generator=gen) + 0.5).bfloat16()
    weight, bias, gy = torch.randn(C, generator=gen), torch.randn(C, generator=gen), torch.randn(shape, generator=gen)

    def ours(x, w, b):
        return batch_norm_leaky_relu(x, w, b, 1e-5, fused=fused)[0]

    def ref(x, w, b):
        return reference(x.reshape(-1, C), w, b, 1e-5).reshape(shape)

    got = grads(ours, x, weight, bias, gy.bfloat16())
    want = grads(ref, x.double(), weight.double(), bias.double(), gy.bfloat16().double())
    assert got[0].dtype == got[1].dtype == torch.bfloat16
    assert got[2].dtype == got[3].dtype == torch.float32
    for name, a, b in zip(("y", "grad x", "grad weight", "grad bias"), got, want, strict=True):
        err = ((a.double() - b).norm() / b.norm()).item()
        assert err < 1e-2, f"{name}: relative L2 error {err:.1e}"
    _, mean, var = batch_norm_leaky_relu(x, weight, bias, 1e-5, fused=fused)
    assert mean.dtype == var.dtype == torch.float32
    assert_rel_close(mean, x.double().reshape(-1, C).mean(0), 1e-5, "mean")


def test_float64_never_uses_the_kernel():
    x = torch.randn(3, 12, 10000, 4, dtype=torch.float64)
    assert not _fast._use_fused(x)
    assert batch_norm_leaky_relu(x, torch.ones(4), torch.zeros(4), 1e-5)[1].dtype == torch.float64


def test_small_tensors_do_not_build_the_kernel(monkeypatch):
    """The fast path builds the kernel only for activations worth it: a toy fit never compiles."""

    def fail():
        raise AssertionError("the kernel was requested for a small tensor")

    monkeypatch.setattr(_fast, "fused_extension", fail)
    model = DualAttentionAutoencoder(n_timesteps=64, downsample=2)
    z, x_hat = model(torch.randn(4, 12, 64))
    (z.square().mean() + x_hat.square().mean()).backward()


def test_disabled_by_environment_variable(monkeypatch):
    monkeypatch.setenv("SKSURV_ECG_FUSED", "0")
    _fused.fused_extension.cache_clear()
    try:
        assert _fused.fused_extension() is None
        with pytest.raises(RuntimeError, match="SKSURV_ECG_FUSED='0'"):
            batch_norm_leaky_relu(torch.randn(10, 2), torch.ones(2), torch.zeros(2), 1e-5, fused=True)
        y, _, _ = batch_norm_leaky_relu(torch.randn(10, 2), torch.ones(2), torch.zeros(2), 1e-5)
        assert y.shape == (10, 2)
    finally:
        _fused.fused_extension.cache_clear()


def test_failed_build_warns_once_and_falls_back(monkeypatch):
    import torch.utils.cpp_extension

    def broken(**kwargs):
        raise RuntimeError("Error building extension: no C++ compiler")

    monkeypatch.delenv("SKSURV_ECG_FUSED", raising=False)
    monkeypatch.setattr(torch.utils.cpp_extension, "load", broken)
    _fused.fused_extension.cache_clear()
    try:
        with pytest.warns(DeviceWarning, match="could not be built.*no C\\+\\+ compiler"):
            assert _fused.fused_extension() is None
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert _fused.fused_extension() is None  # once: the failure is remembered
            assert not _fast._use_fused(torch.empty(1 << 20))
    finally:
        _fused.fused_extension.cache_clear()


def test_first_build_says_so_and_a_cached_one_is_silent(monkeypatch, tmp_path, capsys):
    """A first build pauses a training step for 30-90 s: one line on stderr names it; a cached one
    (its shared library in the build folder) loads without a word."""
    import types

    import torch.utils.cpp_extension

    built = types.ModuleType("fake_extension")
    calls = []

    def fake_load(**kwargs):
        calls.append(kwargs)
        return built

    monkeypatch.delenv("SKSURV_ECG_FUSED", raising=False)
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path))
    monkeypatch.setattr(torch.utils.cpp_extension, "load", fake_load)
    _fused.fused_extension.cache_clear()
    try:
        assert _fused.fused_extension() is built
        err = capsys.readouterr().err
        assert "compiling the fused BatchNorm + LeakyReLU kernel" in err
        assert "SKSURV_ECG_FUSED=0" in err
        build_dir = Path(calls[0]["build_directory"])
        assert build_dir.parent == tmp_path
        # built from a copy in the build folder, so that every checkout shares one build
        assert calls[0]["sources"] == [str(build_dir / "fused_bn_act.cpp")]
        assert (build_dir / "fused_bn_act.cpp").read_bytes() == _fused._SOURCE.read_bytes()
        (build_dir / f"{calls[0]['name']}.so").touch()  # what a finished build leaves
        _fused.fused_extension.cache_clear()
        assert _fused.fused_extension() is built
        assert capsys.readouterr().err == ""
    finally:
        _fused.fused_extension.cache_clear()


# ---------------------------------------------------------------- with the compiled kernel (slow)
@pytest.mark.slow
def test_kernel_is_independent_of_the_thread_count():
    """Fixed blocks of partial sums: the same bits with 1 and 2 threads."""
    x = torch.randn(64, 12, 100, 4, generator=torch.Generator().manual_seed(3)).requires_grad_()
    w, b = torch.ones(4, requires_grad=True), torch.zeros(4, requires_grad=True)
    threads = torch.get_num_threads()
    outs = []
    try:
        for n in (1, 2):
            torch.set_num_threads(n)
            outs.append(grads(lambda x, w, b: batch_norm_leaky_relu(x, w, b, 1e-5, fused=True)[0], x, w, b, x))
    finally:
        torch.set_num_threads(threads)
    for a, b_ in zip(*outs, strict=True):
        assert torch.equal(a, b_)


@pytest.mark.slow
def test_fast_path_with_kernel_equals_reference_path(monkeypatch):
    """Whole network in training mode, every BatchNorm through the kernel: outputs, gradients and
    running statistics as the reference path's (float32 rounding)."""
    monkeypatch.setattr(_fast, "_FUSED_MIN_NUMEL", 0)
    calls = []
    real = _fused.BatchNormLeakyReLUFused.apply
    monkeypatch.setattr(_fused.BatchNormLeakyReLUFused, "apply", lambda *a: calls.append(1) or real(*a))
    torch.manual_seed(0)
    fast = DualAttentionAutoencoder(impl="fast", dropout=0.0)
    ref = DualAttentionAutoencoder(impl="reference", dropout=0.0)
    ref.load_state_dict(fast.state_dict())
    x = torch.randn(4, 12, 608)
    outs = [m(x) for m in (fast, ref)]
    for a, b in zip(*outs, strict=True):  # float32 rounding, relative to the output's scale
        torch.testing.assert_close(a, b, atol=5e-5 * b.abs().max().item(), rtol=0)
    for z, x_hat in outs:
        (z.square().mean() + x_hat.square().mean()).backward()
    assert len(calls) == 2 * (5 + 6)  # two BatchNorms in each of the 11 residual blocks
    ref_params = dict(ref.named_parameters())
    # relative to the largest gradient: some are rounding noise around 0 (a bias before a norm)
    scale = max(p.grad.abs().max().item() for p in ref_params.values())
    for name, p in fast.named_parameters():
        torch.testing.assert_close(p.grad, ref_params[name].grad, atol=1e-6 * scale, rtol=1e-4, msg=name)
    ref_buffers = dict(ref.named_buffers())
    for name, buf in fast.named_buffers():
        torch.testing.assert_close(buf, ref_buffers[name], atol=1e-5, rtol=1e-4, msg=name)


@pytest.mark.slow
def test_environment_switch_in_a_fresh_process():
    """``SKSURV_ECG_FUSED=0`` disables the kernel in a fresh process; otherwise it loads (from the cache)."""
    code = "from sksurv_ecg.nn._fused import fused_extension as f; print(f() is None)"
    for value, expected in (("0", "True"), ("1", "False")):
        env = {**os.environ, "SKSURV_ECG_FUSED": value}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.strip().splitlines()[-1] == expected
