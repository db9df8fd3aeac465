"""Fast computation of the residual stacks (``impl="fast"``): same parameters, same maths.

The residual blocks of :class:`~sksurv_ecg.nn.ResBlock2D` only convolve along time, so the fast path
keeps their activations in a ``(N, L, T, C)`` contiguous layout (NHWC: what oneDNN's small-channel
kernels want) from the first block to the last, and rewrites the operations that are slow on 1-16
feature maps:

- BatchNorm + LeakyReLU in training mode is one autograd function (:mod:`._fused`): a compiled C++
  kernel with two passes forward (statistics; normalise + activate) and two backward (one reduction,
  one elementwise), or, for small tensors and where no compiler is found, a pure-torch version over a
  wide 2-D view of the activations (three passes each way). ATen's BatchNorm takes 25-120 ms on a
  (128, 4, 12, 608) NHWC tensor with 1-4 channels; the pure-torch version 3-5 ms on an idle machine,
  the kernel 2-2.5x less than that in float32 and 3-4.7x in bfloat16 (forward + backward). In eval
  mode the BatchNorm is folded into the convolution (weights and bias computed on the fly from the
  parameters and running statistics, so nothing is cached and the state dict is untouched).
- The up-sampling skip path ``Conv1x1(ConvTranspose(1, 4), stride 2)`` is one stride-1 ``(1, 3)``
  convolution to ``2 * C`` maps (the two output phases), whose output *is* the up-sampled NHWC tensor.
- Stride-1 ``(1, 5)`` convolutions over fewer maps than half the CPU's float32 vector lanes run as
  ``(1, 3)`` convolutions over rows of ``lanes / C`` time steps (banded weight, 16 maps per row with
  AVX-512, 8 with AVX2): 1.5-3x faster for 4-8 maps and 20-40x for the one-map convolution of the
  last decoder block, despite up to 2.4x the multiply-adds. With AVX2 and gradients on, the encoder's
  stride-2 convolutions over 4 and 8 maps also run banded (rows of 2 steps).
- Max-pooling over pairs of time steps is an elementwise maximum of the even and odd steps, with an
  explicit backward that routes ties to the first element, as ``max_pool2d`` does (ATen's NHWC
  max-pool, with its int64 indices, is 5-10x slower on 4-8 maps).
- The 1x1 skip convolution to a single map (the decoder's last block) is a matrix-vector product
  over the ``(rows, C)`` view.

All of it is exact up to floating-point rounding (asserted against the reference path in the tests).
"""

from __future__ import annotations

import functools
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ._fused import SLOPE, batch_norm_leaky_relu, fused_extension
from ._layers import ResBlock2D

__all__ = ["input_convs", "inference_chunk", "nlt_blocks"]

_SLOPE = SLOPE

# Bytes of the widest activation of one chunk of ECGs in CPU inference. The CNN stage is bound by
# memory traffic: in float32 at 12 x 608, chunks of 48-64 ECGs (5.6-7.5 MB per activation) ran the
# encoder 15-25 % faster than batches of 128 in processes that only predict, on the 2-core Zen 4 VM
# (L2 1 MiB/core, L3 32 MiB; 0-3 % once training steps had warmed glibc's heap), and bf16 autocast
# (half the bytes) gained nothing from splitting 128, which this budget also gives.
_CPU_CHUNK_BYTES = 8 << 20


# Elements of one BatchNorm input from which training uses the compiled kernel (and builds it on first
# use: 30-90 s once per host and torch version). Smaller tensors, as in tests and toy fits, would pay
# more for the build than they save. At batch 128 x 12 leads x 608 steps, 20 of the paper network's
# 22 BatchNorms are above it (0.47-3.7 M elements; the first decoder block's two have 0.23 M), where
# the kernel's passes ran 2-4.7x faster than the pure-torch ones on the shared 2-core Xeon; at batch 8
# (the float32 parity tests) none is.
_FUSED_MIN_NUMEL = 1 << 18


def _use_fused(h: Tensor) -> bool:
    """Whether the BatchNorm + LeakyReLU of ``h`` runs the compiled kernel (:mod:`._fused`)."""
    return (
        h.device.type == "cpu"
        and h.dtype in (torch.float32, torch.bfloat16)
        and h.numel() >= _FUSED_MIN_NUMEL
        and fused_extension() is not None
    )


def _bn_leaky(h: Tensor, bn: nn.BatchNorm2d) -> Tensor:
    """BatchNorm2d (training mode: batch statistics, running statistics updated as ATen does) and
    LeakyReLU of a contiguous ``(N, L, T, C)`` tensor."""
    C = h.shape[-1]
    assert bn.weight is not None
    assert bn.bias is not None
    y, mean, var = batch_norm_leaky_relu(h, bn.weight, bn.bias, bn.eps, fused=_use_fused(h))
    if bn.track_running_stats and bn.running_mean is not None and bn.running_var is not None:
        with torch.no_grad():
            assert bn.num_batches_tracked is not None
            bn.num_batches_tracked.add_(1)
            factor = 1.0 / float(bn.num_batches_tracked) if bn.momentum is None else bn.momentum
            count = h.numel() // C
            bn.running_mean.mul_(1 - factor).add_(mean.to(bn.running_mean.dtype), alpha=factor)
            unbiased = var * (count / max(count - 1, 1))
            bn.running_var.mul_(1 - factor).add_(unbiased.to(bn.running_var.dtype), alpha=factor)
    return y


def _conv(x: Tensor, weight: Tensor, bias: Tensor | None, stride: int = 1, padding: int = 0) -> Tensor:
    """``(1, K)`` convolution of a contiguous ``(N, L, T, C)`` tensor (an NHWC view for oneDNN)."""
    y = F.conv2d(x.permute(0, 3, 1, 2), weight, bias, (1, stride), (0, padding))
    return y.permute(0, 2, 3, 1).contiguous()


def _conv1x1(x: Tensor, conv: nn.Conv2d) -> Tensor:
    """1x1 convolution of a contiguous ``(N, L, T, C)`` tensor; to one map, a matrix-vector product.

    oneDNN's kernels for a single output map are slow: the decoder's last skip convolution (4 maps to
    1 over 934 k positions at batch 128) took 2.5x longer forward and backward than ``addmv`` over the
    ``(rows, C)`` view. Wider 1x1 convolutions stay with oneDNN (``F.linear`` was 1.2-3.4x slower).
    """
    if conv.out_channels != 1:
        return _conv(x, conv.weight, conv.bias)
    N, L, T, C = x.shape
    weight = conv.weight.view(C).to(x.dtype)  # addmv is not on autocast's list: one dtype throughout
    bias = x.new_zeros(()) if conv.bias is None else conv.bias.to(x.dtype)
    return torch.addmv(bias.expand(N * L * T), x.view(-1, C), weight).view(N, L, T, 1)


def _banded_weight(weight: Tensor, r: int, stride: int = 1) -> Tensor:
    """Weight of the ``(1, 3)`` convolution, over rows of ``stride * r`` time steps x ``C_in`` maps,
    that equals a ``(1, K)`` convolution with ``stride`` and padding ``(K - 1) // 2`` whose output
    rows hold ``r`` time steps x ``C_out`` maps (needs ``K <= 2 * stride * r + 1``)."""
    c_out, c_in, _, K = weight.shape
    pad = (K - 1) // 2
    r_in = stride * r
    p = torch.arange(r).view(r, 1, 1)
    q = torch.arange(r_in).view(1, r_in, 1)
    j = torch.arange(3).view(1, 1, 3)
    k = r_in * (j - 1) + q - stride * p + pad  # tap of output phase p, input phase q, row offset j
    k = torch.where((k >= 0) & (k < K), k, K).to(weight.device)  # K -> a zero tap
    w = torch.cat([weight[:, :, 0, :], weight.new_zeros(c_out, c_in, 1)], dim=2)  # (o, i, K + 1)
    banded = w[:, :, k]  # (o, i, p, q, j)
    return banded.permute(2, 0, 3, 1, 4).reshape(r * c_out, r_in * c_in, 1, 3)


def _conv_banded(x: Tensor, weight: Tensor, bias: Tensor | None, r: int, stride: int = 1) -> Tensor:
    """``(1, K)`` convolution of ``(N, L, T, C)`` computed on rows of ``stride * r`` time steps."""
    N, L, T, _ = x.shape
    w = _banded_weight(weight, r, stride)
    y = _conv(x.view(N, L, T // (stride * r), -1), w, None if bias is None else bias.repeat(r), padding=1)
    return y.view(N, L, T // stride, -1)


@functools.cache
def _cpu_lanes() -> int:
    """float32 lanes of the CPU's vector registers: 16 with AVX-512, else 8 (AVX2; NEON has 4, but
    rows under 8 maps were never measured faster)."""
    return 16 if torch.backends.cpu.get_cpu_capability().startswith("AVX512") else 8


def _band_factor(x: Tensor, c_in: int, c_out: int, K: int, stride: int) -> int:
    """Output time steps per row of the banded form of a ``(1, K)`` convolution of ``x`` (0: plain).

    oneDNN's NHWC kernels are slow on fewer feature maps than the vector has lanes (16 float32 with
    AVX-512, 8 with AVX2), so convolutions over fewer maps run as banded convolutions over rows of
    ``lanes / C`` time steps, although these do up to 2.4x the multiply-adds: stride 1 over at most
    8 maps was 1.5-3x faster (8 and 4 maps) and 20-40x (1 map) with AVX-512 on rows of 16 maps;
    with AVX2, rows of 8 maps were 1.5-3x faster than rows of 16. Strided convolutions are banded
    only with AVX2 and gradients on (where measured): a stride-2 convolution over at most 8 input
    maps as a stride-1 one over rows of 2 steps took 11-13 ms against 21-22 ms with its backward
    pass, while its forward alone was 1.3-1.8x slower.
    """
    lanes = _cpu_lanes() if x.device.type == "cpu" else 16
    T = x.shape[2]
    if stride != 1:
        strided = lanes == 8 and torch.is_grad_enabled()
        return 1 if strided and c_in <= 8 and K <= 2 * stride + 1 and T % stride == 0 else 0
    if max(c_in, c_out) > lanes // 2 or K > 33:
        return 0
    r = lanes // max(c_in, c_out)
    while r > 1 and T % r:
        r //= 2
    return r if 2 * r + 1 >= K else 0


def _conv_bn_leaky(x: Tensor, conv: nn.Conv2d, bn: nn.BatchNorm2d, stride: int = 1) -> Tensor:
    """``LeakyReLU(BN(conv(x)))`` on ``(N, L, T, C)``; BN folded into the convolution in eval mode."""
    K = conv.weight.shape[-1]
    pad = (K - 1) // 2
    r = _band_factor(x, conv.in_channels, conv.out_channels, K, stride)
    if bn.training or not bn.track_running_stats or bn.running_var is None:
        h = _conv_banded(x, conv.weight, None, r, stride) if r else _conv(x, conv.weight, None, stride, pad)
        return _bn_leaky(h, bn)
    assert bn.running_mean is not None
    assert bn.weight is not None
    assert bn.bias is not None
    scale = bn.weight * torch.rsqrt(bn.running_var + bn.eps)
    weight = conv.weight * scale.view(-1, 1, 1, 1)
    bias = bn.bias - bn.running_mean * scale
    if r:
        h = _conv_banded(x, weight, bias, r, stride)
    else:
        h = _conv(x, weight, bias, stride, pad)
    return F.leaky_relu(h, _SLOPE, inplace=not torch.is_grad_enabled())


class _PairMax(torch.autograd.Function):
    """``max_pool2d((1, 2))`` of ``(N, L, T, C)``; ties go to the first element, as in ATen."""

    @staticmethod
    def forward(ctx: Any, x: Tensor) -> Tensor:
        a, b = x[:, :, 0::2], x[:, :, 1::2]
        ctx.save_for_backward(a >= b)
        return torch.maximum(a, b)

    @staticmethod
    def backward(ctx: Any, g: Tensor) -> Tensor:
        (first,) = ctx.saved_tensors
        N, L, T, C = g.shape
        gx = g.new_empty(N, L, T, 2, C)
        torch.mul(g, first, out=gx[:, :, :, 0])
        torch.sub(g, gx[:, :, :, 0], out=gx[:, :, :, 1])
        return gx.view(N, L, 2 * T, C)


def _pair_max(x: Tensor) -> Tensor:
    if torch.is_grad_enabled() and x.requires_grad:
        # torch.autograd.Function.apply is unannotated in torch.
        pooled: Tensor = _PairMax.apply(x)  # type: ignore[no-untyped-call]
        return pooled
    return torch.maximum(x[:, :, 0::2], x[:, :, 1::2])


def _gelu_sum(h: Tensor, skip: Tensor) -> Tensor:
    if torch.is_grad_enabled() and (h.requires_grad or skip.requires_grad):
        return F.gelu(h + skip)
    out: Tensor = torch.ops.aten.gelu_(h.add_(skip))  # torch.ops are typed Any
    return out


def _up_skip_weight(block: ResBlock2D) -> tuple[Tensor, Tensor]:
    """``Conv1x1(ConvTranspose(1, 4), stride 2, padding 1)`` as one ``(1, 3)`` convolution to 2 phases.

    Output step ``2t`` takes ``x[t-1] W3 + x[t] W1``, step ``2t+1`` takes ``x[t] W2 + x[t+1] W0``.
    """
    convt, conv1x1 = block.idfunc_0, block.idfunc_1
    assert isinstance(convt, nn.ConvTranspose2d)
    assert convt.bias is not None
    w1 = conv1x1.weight[:, :, 0, 0]  # (o2, o)
    wt = torch.einsum("po,iok->pik", w1, convt.weight[:, :, 0, :])  # (o2, i, 4)
    zero = wt.new_zeros(wt.shape[:2])
    even = torch.stack([wt[..., 3], wt[..., 1], zero], dim=-1)
    odd = torch.stack([zero, wt[..., 2], wt[..., 0]], dim=-1)
    weight = torch.cat([even, odd], dim=0).unsqueeze(2)  # (2 o2, i, 1, 3)
    bias = (w1 @ convt.bias).repeat(2)
    return weight, bias


def _block(block: ResBlock2D, x: Tensor) -> Tensor:
    """:meth:`ResBlock2D.forward` on a contiguous ``(N, L, T, C)`` tensor."""
    if block.mode == "up":
        N, L, T, _ = x.shape
        weight, bias = _up_skip_weight(block)
        skip = _conv(x, weight, bias, padding=1).view(N, L, 2 * T, -1)
        h = _conv_bn_leaky(skip, block.conv1, block.bn1)
    elif block.mode == "down":
        pooled = _pair_max(x)
        skip = _conv1x1(pooled, block.idfunc_1)
        h = _conv_bn_leaky(x, block.conv1, block.bn1, stride=2)
    else:
        skip = _conv1x1(x, block.idfunc_1)
        h = _conv_bn_leaky(x, block.conv1, block.bn1)
    h = _conv_bn_leaky(h, block.conv2, block.bn2)
    return _gelu_sum(h, skip)


def nlt_blocks(blocks: nn.Sequential, x: Tensor) -> Tensor:
    """Run a stack of :class:`ResBlock2D` on a contiguous ``(N, L, T, C)`` tensor (fast path)."""
    for block in blocks:
        assert isinstance(block, ResBlock2D)
        x = _block(block, x)
    return x


def inference_chunk(x: Tensor, width: int, modules: nn.Module) -> int:
    """Number of ECGs per chunk for the CNN stage of ``x`` (``x.shape[0]``: no split).

    Only CPU inference is split: with gradients on, the saved activations outlive the chunk anyway,
    and a training-mode BatchNorm's batch statistics would change with the split (they are checked
    on ``modules``). ``width`` is the number of feature maps of the widest activation (length
    ``x.shape[-1]``); its element size is the autocast dtype's when autocast is on.
    """
    n = x.shape[0]
    if x.device.type != "cpu" or torch.is_grad_enabled():
        return n
    if any(isinstance(m, nn.modules.batchnorm._BatchNorm) and (m.training or not m.track_running_stats)
           for m in modules.modules()):  # fmt: skip
        return n
    dtype = torch.get_autocast_dtype("cpu") if torch.is_autocast_enabled("cpu") else x.dtype
    per_ecg = width * x.shape[-1] * dtype.itemsize
    chunks = -(-n // max(1, _CPU_CHUNK_BYTES // per_ecg))
    return -(-n // chunks)  # equal chunks: 128 -> 2 x 64, not 71 + 57


def input_convs(seq: nn.Sequential, x: Tensor, n_leads: int) -> Tensor:
    """The encoder's ``input_conv`` stack, with the per-lead grouped first convolution run as a dense
    convolution with a block-diagonal weight (oneDNN's grouped kernel for 1 input map per group is
    several times slower than the dense one on 12 maps)."""
    conv0, gn0, act0, conv1, gn1, act1 = seq
    assert isinstance(conv0, nn.Conv1d)
    w = conv0.weight  # (width, 1, K): output channel c reads input lead c // (width // n_leads)
    width, _, K = w.shape
    if conv0.groups > 1:
        rows = torch.arange(width, device=w.device)
        w = w.new_zeros(width, n_leads, K).index_put((rows, rows // (width // n_leads)), w[:, 0, :])
    h = act0(gn0(F.conv1d(x, w, conv0.bias, padding=conv0.padding)))
    out: Tensor = act1(gn1(conv1(h)))
    return out
