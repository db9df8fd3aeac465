"""Fused training-mode BatchNorm + LeakyReLU for the fast path's channels-last activations.

The fast path keeps its residual-stack activations as contiguous ``(N, L, T, C)`` tensors, i.e. rows
of ``C`` channels. Training-mode BatchNorm followed by LeakyReLU over them is, eagerly, six to eight
passes over memory (sums, squares, affine, activation; three more in the backward pass). The C++
kernel in ``csrc/fused_bn_act.cpp`` does it in two passes each way, with ``at::vec`` loops:

- forward: per-channel sum and sum of squares (float32 lanes, shifted by the first row, added in
  double per block of 4 Ki elements), then ``y = LeakyReLU(x * scale + shift)``;
- backward: ``sum g`` and ``sum g * (x - mean)`` in one pass, ``g`` the upstream gradient through the
  LeakyReLU (whose sign is recomputed from ``x``), then the input gradient in one elementwise pass.

float32 and bfloat16 activations are handled (statistics in float32 and double); anything else, or a
host where the extension cannot be built, runs the pure-torch :class:`BatchNormLeakyReLUTorch` with
the same semantics. The extension is compiled on first use with the installed torch
(:func:`torch.utils.cpp_extension.load`, cached under ``TORCH_EXTENSIONS_DIR``, by default
``~/.cache/torch_extensions``, one folder per ISA, torch and Python version; the first build prints one line
to stderr, as it pauses the first training step for 30-90 s); set ``SKSURV_ECG_FUSED=0`` to never
build or use it.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.autograd.function import once_differentiable

from ..exceptions import DeviceWarning, user_stacklevel

__all__ = ["SLOPE", "batch_norm_leaky_relu", "fused_extension"]

SLOPE = 0.01  # F.leaky_relu's default negative slope, as in ResBlock2D

_ENV_VAR = "SKSURV_ECG_FUSED"
_SOURCE = Path(__file__).resolve().parent / "csrc" / "fused_bn_act.cpp"
_DTYPES = (torch.float32, torch.bfloat16)


def _isa_flags() -> tuple[str, list[str]]:
    """Name suffix and compiler flags of the widest vector ISA torch's own CPU kernels use here.

    ``at::vec`` picks its implementation from ``CPU_CAPABILITY_*``; the flags are those torch compiles
    its AVX-512 and AVX2 kernels with (no ``-march=native``, so that a cached build also runs on
    another host of the same capability).
    """
    cap = torch.backends.cpu.get_cpu_capability()
    if cap.startswith("AVX512"):
        return "avx512", ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mfma", "-DCPU_CAPABILITY_AVX512"]
    if cap == "AVX2":
        return "avx2", ["-mavx2", "-mfma", "-mf16c", "-DCPU_CAPABILITY_AVX2"]
    return "default", []


def _ninja_on_path() -> None:
    """Put the ``ninja`` of the PyPI package on ``PATH``: torch looks for the executable there only.

    A virtual environment that is not activated (``.venv/bin/python ...``) has the package but not
    its ``bin`` folder on ``PATH``; a system ninja, where present, is used as it is.
    """
    try:
        import ninja
    except ImportError:
        return
    bin_dir = getattr(ninja, "BIN_DIR", None)
    if bin_dir and bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])


@functools.cache
def fused_extension() -> ModuleType | None:
    """The compiled kernel module, built on first call; ``None`` where it is disabled or cannot be built.

    A failed build issues one :class:`~sksurv_ecg.exceptions.DeviceWarning` (naming the error) and the
    pure-torch implementation is used from then on.

    Returns
    -------
    module or None
        The extension, with ``forward`` and ``backward`` functions.
    """
    if os.environ.get(_ENV_VAR, "1").strip().lower() in {"0", "false", "no", "off"}:
        return None
    isa, flags = _isa_flags()
    # one build per ISA, torch and Python version: a cached build is only reused where its ABI matches
    version = re.sub(r"\W", "_", torch.__version__)
    name = f"sksurv_ecg_fused_bn_act_{isa}_{version}_py{sys.version_info.major}{sys.version_info.minor}"
    try:
        from torch.utils.cpp_extension import get_default_build_root, load

        _ninja_on_path()
        # torch's own root (TORCH_EXTENSIONS_DIR, else its per-user cache), one folder per build name
        build_dir = Path(os.environ.get("TORCH_EXTENSIONS_DIR") or get_default_build_root()) / name
        build_dir.mkdir(parents=True, exist_ok=True)
        # the source is built from a copy in the build folder, rewritten only when its text changes:
        # ninja rebuilds when a source's path or time stamp changes, so every checkout or environment
        # of the package (one path each) would otherwise rebuild the shared build in turn
        source = build_dir / _SOURCE.name
        changed = not source.exists() or source.read_bytes() != _SOURCE.read_bytes()
        if changed:  # written whole, then renamed: processes starting together never read half a file
            partial = source.with_name(f"{source.name}.{os.getpid()}.partial")
            shutil.copyfile(_SOURCE, partial)
            os.replace(partial, source)
        if changed or not (build_dir / f"{name}.so").exists():
            # a build takes 30-90 s inside a training step: say what the pause is
            print(
                f"sksurv-ecg: compiling the fused BatchNorm + LeakyReLU kernel for this CPU ({isa}, torch "
                f"{torch.__version__}) into {build_dir}; once per machine, 30-90 s. {_ENV_VAR}=0 skips it.",
                file=sys.stderr,
                flush=True,
            )
        module: ModuleType = load(
            name=name,
            sources=[str(source)],
            extra_cflags=["-O3", *flags],
            build_directory=str(build_dir),
            verbose=False,
        )
        return module
    except Exception as exc:  # no compiler, no ninja, a compile error: all mean the same fallback
        warnings.warn(
            f"The fused BatchNorm + LeakyReLU kernel could not be built ({type(exc).__name__}: "
            f"{str(exc)[:300]}); training uses the slower pure-torch implementation. Install a C++ "
            f"compiler and ninja to get it, or set {_ENV_VAR}=0 to silence this warning.",
            DeviceWarning,
            stacklevel=user_stacklevel(),
        )
        return None


class BatchNormLeakyReLUFused(torch.autograd.Function):
    """BatchNorm with batch statistics + LeakyReLU on a contiguous ``(rows, C)`` tensor (C++ kernel)."""

    @staticmethod
    def forward(  # ctx is torch's dynamic context object: typed Any
        ctx: Any, x: Tensor, weight: Tensor, bias: Tensor, eps: float
    ) -> tuple[Tensor, Tensor, Tensor]:
        ext = fused_extension()
        assert ext is not None
        y, mean, var, invstd, scale, shift = ext.forward(x, weight, bias, eps, SLOPE)
        ctx.save_for_backward(x, mean, invstd, scale, shift)
        ctx.weight_dtype = weight.dtype
        ctx.mark_non_differentiable(mean, var)
        return y, mean, var

    @staticmethod
    @once_differentiable  # the C++ backward is not itself differentiable
    def backward(
        ctx: Any, gy: Tensor, _gmean: Tensor | None, _gvar: Tensor | None
    ) -> tuple[Tensor, Tensor, Tensor, None]:
        x, mean, invstd, scale, shift = ctx.saved_tensors
        ext = fused_extension()
        assert ext is not None
        gx, dweight, dbias = ext.backward(gy, x, mean, invstd, scale, shift, SLOPE)
        return gx, dweight.to(ctx.weight_dtype), dbias.to(ctx.weight_dtype), None


def _acc_dtype(x: Tensor) -> torch.dtype:
    return torch.float64 if x.dtype == torch.float64 else torch.float32


def _wide(x: Tensor, channels: int, width: int = 64) -> tuple[Tensor, int]:
    """A 2-D ``(rows, r * channels)`` view of a contiguous ``(rows, channels)`` tensor, with
    ``r * channels`` near ``width`` so that per-channel broadcasts run on long vectorised rows."""
    rows = x.numel() // channels
    r = 1
    while r * channels * 2 <= width and rows % (r * 2) == 0:
        r *= 2
    return x.view(rows // r, r * channels), r


def _fold(v: Tensor, r: int) -> Tensor:
    """Per-channel sum of a ``(r * C,)`` row-sum vector."""
    return v.view(r, -1).sum(0)


class BatchNormLeakyReLUTorch(torch.autograd.Function):
    """The same function in pure torch, on a ``(rows, r * C)`` view (see :func:`_wide`).

    The squares are written into the output buffer before it is overwritten (a fresh activation-sized
    temporary costs more in page faults than the squaring itself); the backward pass is three passes.
    Reduced-precision activations are widened to float32 for the arithmetic and rounded once.
    """

    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor, bias: Tensor, eps: float, r: int) -> tuple[Tensor, Tensor, Tensor]:
        acc = _acc_dtype(x)
        count = x.shape[0] * r
        if x.dtype == acc:
            y = torch.empty_like(x)
            s1, s2 = x.sum(0), torch.square(x, out=y).sum(0)
        else:
            wide = x.to(acc)  # reduced precision: widened once, for both sums and the affine map
            s1, s2 = wide.sum(0), torch.square(wide).sum(0)
        s1, s2 = _fold(s1, r), _fold(s2, r)
        mean = s1 / count
        var = (s2 / count - mean.square()).clamp_min(0)
        invstd = torch.rsqrt(var + eps)
        scale = weight.to(acc) * invstd
        shift = bias.to(acc) - mean * scale
        if x.dtype == acc:
            torch.addcmul(shift.repeat(r), x, scale.repeat(r), out=y)
        else:
            y = torch.addcmul(shift.repeat(r), wide, scale.repeat(r), out=wide).to(x.dtype)
        F.leaky_relu_(y, SLOPE)
        ctx.save_for_backward(x, y, weight, mean, invstd)
        ctx.r = r
        ctx.mark_non_differentiable(mean, var)
        return y, mean, var

    @staticmethod
    def backward(
        ctx: Any, gy: Tensor, _gmean: Tensor | None, _gvar: Tensor | None
    ) -> tuple[Tensor, Tensor, Tensor, None, None]:
        x, y, weight, mean, invstd = ctx.saved_tensors
        r = ctx.r
        acc = mean.dtype
        count = x.shape[0] * r
        dt = x.dtype
        # bfloat16: the gradient in float32, rounded once (in bfloat16 its cancellation cost 4 %)
        x, gy = x.to(acc), gy.to(acc)
        g = torch.ops.aten.leaky_relu_backward(gy, y.to(acc), SLOPE, True)
        sg = _fold(g.sum(0), r)
        buf = torch.mul(g, x)  # g * x, then reused for gx: one activation-sized allocation, not three
        sgx = _fold(buf.sum(0), r)
        dweight = invstd * (sgx - mean * sg)  # sum(g * xhat)
        scale = weight.to(acc) * invstd
        a = scale
        b = -scale * invstd * dweight / count
        c = -scale * sg / count - b * mean
        gx = torch.addcmul(c.repeat(r), x, b.repeat(r), out=buf).addcmul_(g, a.repeat(r)).to(dt)
        return gx, dweight.to(weight.dtype), sg.to(weight.dtype), None, None


def batch_norm_leaky_relu(
    x: Tensor, weight: Tensor, bias: Tensor, eps: float, *, fused: bool | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """``LeakyReLU(BatchNorm(x))`` with batch statistics over the rows of a contiguous ``(rows, C)`` tensor.

    Parameters
    ----------
    x : Tensor
        Activations with the channels on the last axis (copied to a contiguous layout if not in one).
    weight, bias : Tensor
        BatchNorm affine parameters, shape ``(C,)``.
    eps : float
        Added to the variance.
    fused : bool or None, default=None
        Use the C++ kernel (``True``: it must be available), the pure-torch implementation
        (``False``), or the kernel where it applies (``None``: a float32 or bfloat16 CPU tensor and a
        built extension).

    Returns
    -------
    y : Tensor
        Activated output, shape and dtype of ``x``.
    mean, var : Tensor
        Per-channel batch mean and biased variance (float32, float64 for float64 input), for the
        running statistics; not differentiable.

    Examples
    --------
    >>> import torch
    >>> from sksurv_ecg.nn._fused import batch_norm_leaky_relu
    >>> x = torch.randn(100, 3)
    >>> y, mean, var = batch_norm_leaky_relu(x, torch.ones(3), torch.zeros(3), 1e-5, fused=False)
    >>> y.shape, mean.shape
    (torch.Size([100, 3]), torch.Size([3]))
    """
    C = x.shape[-1]
    x = x.contiguous()
    if fused is None:
        fused = x.device.type == "cpu" and x.dtype in _DTYPES and fused_extension() is not None
    if fused:
        if fused_extension() is None:
            raise RuntimeError(
                f"fused=True but the fused BatchNorm + LeakyReLU extension is not available "
                f"({_ENV_VAR}={os.environ.get(_ENV_VAR)!r}, or its build failed); pass fused=None."
            )
        # torch.autograd.Function.apply is unannotated in torch; the Function's forward gives the type.
        out: tuple[Tensor, Tensor, Tensor] = BatchNormLeakyReLUFused.apply(  # type: ignore[no-untyped-call]
            x.view(-1, C), weight, bias, eps
        )
    else:
        x2, r = _wide(x, C)
        out = BatchNormLeakyReLUTorch.apply(x2, weight, bias, eps, r)  # type: ignore[no-untyped-call]
    y, mean, var = out
    return y.view(x.shape), mean, var
