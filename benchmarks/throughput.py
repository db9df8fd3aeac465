"""Training and inference throughput of the dual-attention network: fast path vs reference path.

Call like this::

    python benchmarks/throughput.py --device cpu --batch-size 128 --steps 5 --precision both

Both paths hold the same weights in the same run: ``impl="fast"`` (batched per-lead
attention, (N, L, T, C) residual stacks, see docs/model.md) and ``impl="reference"`` (the
seed's computation: a loop over the 12 leads with multi-head attention, NCHW convolutions). Their
timed steps are interleaved, so that load from other processes hits both alike, and the median step
time is reported (``--clock process``: CPU time, for one-thread runs on a busy machine).

- training step: autoencoder + :class:`~sksurv_ecg.nn.RiskHead`, loss 0.5 * Cox (Breslow) +
  0.5 * MSE, AdamW, batch-wise dropout on;
- inference: encoder in eval mode under ``torch.no_grad``.

The allocator matters on the CPU: under glibc's defaults every fresh activation-sized tensor is
page-faulted in, which slows the reference path's training step by about 1.6x and the fast path's
hardly at all. Run it twice to see both, e.g.::

    MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=4294967296 python benchmarks/throughput.py

It also measures, in the same run, how far any implementation of the model could go on this machine
(``roofline``): the model's floating-point operations per batch (counted with
``torch.utils.flop_counter`` on the reference path, i.e. the model's own maths; the fast path's banded
convolutions do more) and the machine's matrix-multiply peak (a 2048 x 2048 GEMM, float32 and
bfloat16). ``floor_ms`` is the time of a batch if every operation ran at that peak with free memory
traffic, and ``max_speedup_vs_reference`` the ratio such an implementation would reach: an upper bound
to read the speed-up targets against. Where the device only emulates bfloat16 (a CPU without
AVX-512, ``machine.bf16_native`` false) there is no bf16 roofline: the emulated "peak" bounds nothing.

``eager_floor`` adds what the GEMM roofline leaves out: each path's own op sequence, its matmul and
convolution FLOPs at the GEMM peak plus the bytes read and written by all its other ops (elementwise,
normalisations, reductions, copies; one pass per op, as eager PyTorch runs them) at the machine's
stream bandwidth (a 256 MB copy). ``times_the_floor`` there says how far each path is from the best
its own ops could do without fusing them; tensors small enough to stay in cache can beat the stream
rate, so it is an estimate, not a strict bound.

``kernel_floor`` keeps what cannot be fused away in eager PyTorch as it is: each path's convolutions
(forward and backward, every op whose name has "conv") and the compiled BatchNorm + LeakyReLU, timed
with ``torch.profiler`` in the same process (median of 3 profiled calls), plus its other matmuls at the
GEMM peak and its other ops' bytes at the stream bandwidth. Its ``max_speedup_vs_reference`` is the
most that fusing every remaining elementwise op could give without faster convolutions: where a
target is above it, the convolutions as oneDNN runs them on this CPU are what stops it.

The timed steps are repeated ``--repeats`` times (default 3) in the same process; each repeat gives a
median step time per path, and the figures reported are the medians of those (the per-repeat
speed-ups are listed too). The record names the CPU model and its vector and matrix extensions and
the instruction set oneDNN's kernels used (a subprocess runs a float32 and a bfloat16 convolution and
GEMM with ``ONEDNN_VERBOSE=1`` under the same ``ONEDNN_MAX_CPU_ISA``): set ``ONEDNN_MAX_CPU_ISA``
(``AVX2``, ``AVX512_CORE``, ``AVX512_CORE_BF16``, ``AVX512_CORE_AMX``) to time a lower ISA path.

It prints one JSON object with ECG/s of both paths, their ratios and the seed's figures on the
reference machine (102 ECG/s training, 948 ECG/s inference; SEED_SPEC section 10), and asserts that
the two paths agree within 1e-4 in float32. With ``--precision bf16`` or ``both`` the fast path is
also timed under bfloat16 autocast and the deviation of its outputs (latent code, log-risk,
concordance of the risk ranking) from float32 is reported.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

from sksurv_ecg.losses import cox_ph_loss
from sksurv_ecg.nn import DualAttentionAutoencoder, RiskHead
from sksurv_ecg.utils.validation import bf16_is_native

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info  # noqa: E402

SEED_TRAIN_ECG_S = 102.0
SEED_INFER_ECG_S = 948.0


def cpu_model():
    """The CPU's model name and the vector / matrix extensions that decide oneDNN's kernels."""
    info = {"model_name": None, "flags": []}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return info
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and info["model_name"] is None:
            info["model_name"] = value.strip()
        if key.strip() == "flags" and not info["flags"]:
            wanted = ("avx2", "avx512f", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_tile")
            info["flags"] = [f for f in value.split() if f in wanted]
    return info


_ONEDNN_PROBE = """
import torch
x = torch.randn(8, 16, 1, 256).to(memory_format=torch.channels_last)
w = torch.randn(16, 16, 1, 5)
a, b = torch.randn(64, 64), torch.randn(64, 64)
torch.nn.functional.conv2d(x, w, padding=(0, 2)); a @ b
with torch.autocast("cpu", dtype=torch.bfloat16):
    torch.nn.functional.conv2d(x, w, padding=(0, 2)); a @ b
"""


def onednn_isa():
    """The instruction set oneDNN dispatches to here, and the kernels it ran for a float32 and a bf16
    convolution and GEMM (``ONEDNN_VERBOSE=1`` in a subprocess with this process's environment)."""
    import subprocess

    env = {**os.environ, "ONEDNN_VERBOSE": "1", "DNNL_VERBOSE": "1"}
    try:
        out = subprocess.run(
            [sys.executable, "-c", _ONEDNN_PROBE], env=env, capture_output=True, text=True, timeout=300
        ).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        return {"error": f"{type(exc).__name__}: {exc}"[:200]}
    isa, kernels = None, set()
    for line in out.splitlines():
        fields = line.split(",")
        if not fields[0].startswith(("onednn_verbose", "dnnl_verbose")):
            continue
        for f in fields:
            if f.startswith("isa:"):
                isa = f[4:]
        if "exec" in fields and "cpu" in fields:
            # the implementation name follows the primitive kind: e.g. brg_conv_fwd:avx512_core_amx
            kind = fields.index("cpu") + 1
            if kind + 1 < len(fields):
                dtype = "bf16" if "bf16" in line else "f32"
                kernels.add(f"{fields[kind]} {dtype}: {fields[kind + 1]}")
    return {
        "max_cpu_isa_env": os.environ.get("ONEDNN_MAX_CPU_ISA"),
        "isa": isa,
        "kernels": sorted(kernels),
    }


def build(impl, state, head_state, device):
    model = DualAttentionAutoencoder(impl=impl).to(device)
    model.load_state_dict(state)
    head = RiskHead().to(device)
    head.load_state_dict(head_state)
    params = list(model.parameters()) + list(head.parameters())
    return model, head, torch.optim.AdamW(params, lr=1e-4, weight_decay=1e-2)


def autocast(device, precision):
    if precision == "bf16":
        return torch.autocast(torch.device(device).type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def train_step(model, head, opt, x, time_, event, precision, device):
    opt.zero_grad(set_to_none=True)
    with autocast(device, precision):
        z, x_hat = model(x)
        risk = head(z)
    loss = 0.5 * cox_ph_loss(risk.float(), time_, event, ties="breslow") + 0.5 * torch.nn.functional.mse_loss(
        x_hat.float(), x
    )
    loss.backward()
    opt.step()
    return loss


@torch.no_grad()
def infer_step(model, x, precision, device):
    with autocast(device, precision):
        return model.encoder(x)


def sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


CLOCKS = {"wall": time.perf_counter, "process": time.process_time}


def timed(fn, device, clock=time.perf_counter):
    sync(device)
    start = clock()
    fn()
    sync(device)
    return clock() - start


def interleaved(fns, steps, warmup, device, clock=time.perf_counter):
    """Seconds per call of each function (a list per function), calls interleaved step by step."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times = {name: [] for name in fns}
    for _ in range(steps):
        for name, fn in fns.items():
            times[name].append(timed(fn, device, clock))
    return times


def repeated(fns_train, fns_infer, models, args, device, clock):
    """``args.repeats`` interleaved timings of the training and inference steps: all step times per
    path, the median over repeats of each repeat's median, and each repeat's speed-ups."""
    runs = {"train": [], "infer": []}  # per repeat: path -> median seconds per step
    all_times = {"train": {name: [] for name in fns_train}, "infer": {name: [] for name in fns_infer}}
    for _ in range(args.repeats):
        for task, fns, training in (("train", fns_train, True), ("infer", fns_infer, False)):
            for m in models:
                m.train(training)
            times = interleaved(fns, args.steps, args.warmup, device, clock)
            runs[task].append({name: statistics.median(ts) for name, ts in times.items()})
            for name, ts in times.items():
                all_times[task][name] += ts
    median_s = {task: {name: statistics.median(r[name] for r in rs) for name in rs[0]} for task, rs in runs.items()}
    speedups = {
        task: {name: [round(r["reference_fp32"] / r[name], 2) for r in rs] for name in rs[0]}
        for task, rs in runs.items()
    }
    return all_times["train"], all_times["infer"], median_s["train"], median_s["infer"], speedups


def spread_ms(times):
    """Fastest, median and slowest step in milliseconds: how noisy the machine was during the run."""
    return {name: [round(1000 * f(ts), 1) for f in (min, statistics.median, max)] for name, ts in times.items()}


def gemm_peak_gflop_s(device, dtype, n=2048, reps=5, clock=time.perf_counter):
    """The machine's matrix-multiply rate: best of ``reps`` square GEMMs of size ``n`` (same clock as
    the steps, so that a busy machine does not understate the peak)."""
    a = torch.randn(n, n, device=device).to(dtype)
    b = torch.randn(n, n, device=device).to(dtype)
    for _ in range(2):
        a @ b
    return 2 * n**3 / min(timed(lambda: a @ b, device, clock) for _ in range(reps)) / 1e9


def gflop(fn):
    """Floating-point operations of one call of ``fn``, in GFLOP: all of them (matmuls and
    convolutions), and those of the convolutions alone (forward and backward)."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    conv = sum(v for op, v in counter.get_flop_counts().get("Global", {}).items() if "conv" in str(op))
    return counter.get_total_flops() / 1e9, conv / 1e9


class _MemoryTraffic:
    """Bytes read and written by the elementwise, normalisation and reduction ops of a call.

    Every aten op except views, allocations and the matmuls and convolutions that the FLOP count
    covers is charged the bytes of its tensor inputs and outputs (an ``out=`` tensor as written
    only). This is the traffic of the op sequence as eager PyTorch runs it, one pass per op, with
    no fusion: the part of a step that the GEMM roofline does not see.
    """

    def __init__(self):
        from torch.utils._python_dispatch import TorchDispatchMode
        from torch.utils.flop_counter import flop_registry

        counted = set(flop_registry)
        owner = self
        self.bytes = 0

        class Mode(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                kwargs = kwargs or {}
                out = func(*args, **kwargs)
                name = func.name().split("::")[-1].split(".")[0]
                # _unsafe_view is a view that autograd does not track as one (after reshape's copy)
                if (
                    func.is_view
                    or func.overloadpacket in counted
                    or name.startswith(("empty", "new_empty", "_unsafe_view"))
                ):
                    return out
                inputs = {k: v for k, v in kwargs.items() if k != "out"}
                owner.bytes += _nbytes(args) + _nbytes(inputs) + _nbytes(out)
                return out

        self.mode = Mode()

    def __enter__(self):
        self.mode.__enter__()
        return self

    def __exit__(self, *exc):
        return self.mode.__exit__(*exc)


def _nbytes(tree):
    from torch.utils._pytree import tree_leaves

    return sum(t.numel() * t.element_size() for t in tree_leaves(tree) if isinstance(t, torch.Tensor))


def traffic_gb(fn):
    """Gigabytes moved by the non-GEMM ops of one call of ``fn`` (see :class:`_MemoryTraffic`)."""
    with _MemoryTraffic() as counter:
        fn()
    return counter.bytes / 1e9


def stream_gb_s(device, clock=time.perf_counter, n=64 << 20, reps=5):
    """Memory bandwidth: best of ``reps`` copies of a 256 MB float32 tensor (read + write)."""
    a = torch.randn(n, device=device)
    b = torch.empty_like(a)
    b.copy_(a)
    return 2 * a.numel() * a.element_size() / min(timed(lambda: b.copy_(a), device, clock) for _ in range(reps)) / 1e9


def eager_floor(gflop_s, traffic_s, peaks, bandwidth, step_s):
    """The floor of each path's own op sequence in eager mode: its matmul and convolution FLOPs at the
    GEMM peak plus its other ops' bytes at the stream bandwidth (``gflop_s``, ``traffic_s``: task ->
    path -> GFLOP / GB per batch), and how far the measured step is from it."""
    floor = {
        task: {
            path: gflop_s[task][path] / peaks[path.split("_")[1]] + traffic_s[task][path] / bandwidth
            for path in gflop_s[task]
        }
        for task in gflop_s
    }
    return {
        "stream_gb_s": round(bandwidth, 1),
        "gflop_per_batch": {t: {p: round(v, 2) for p, v in d.items()} for t, d in gflop_s.items()},
        "traffic_gb_per_batch": {t: {p: round(v, 2) for p, v in d.items()} for t, d in traffic_s.items()},
        "gemm_ms": {
            t: {p: round(1000 * gflop_s[t][p] / peaks[p.split("_")[1]], 1) for p in d} for t, d in gflop_s.items()
        },
        "traffic_ms": {t: {p: round(1000 * v / bandwidth, 1) for p, v in d.items()} for t, d in traffic_s.items()},
        "floor_ms": {t: {p: round(1000 * v, 1) for p, v in d.items()} for t, d in floor.items()},
        "times_the_floor": {t: {p: round(step_s[t][p] / v, 2) for p, v in d.items()} for t, d in floor.items()},
    }


# ops whose time the kernel floor takes as measured: the convolutions, forward and backward, whichever
# ATen kernel runs them (oneDNN on few feature maps runs far below its GEMM peak), and the compiled
# BatchNorm + LeakyReLU (whose traffic the dispatch counter cannot see inside the extension)
_MEASURED_OPS = ("conv", "batchnormleakyrelufused")


def _is_measured(name):
    return any(key in name.lower() for key in _MEASURED_OPS)


def measured_kernel_ms(fn, calls=3):
    """Milliseconds per call of ``fn`` spent in the ops of ``_MEASURED_OPS`` (torch.profiler, median of
    ``calls`` profiled calls after one unprofiled call)."""
    from torch.profiler import ProfilerActivity, profile

    fn()
    per_call = []
    for _ in range(calls):
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            fn()
        per_call.append(sum(e.self_cpu_time_total for e in prof.key_averages() if _is_measured(e.key)) / 1000)
    return statistics.median(per_call)


def kernel_floor(measured_ms, gflop_all, gflop_conv, traffic, peaks, bandwidth, step_s):
    """The floor of each path with its convolutions and fused kernels as fast as they run here
    (measured) and everything else ideal: its other matmuls at the GEMM peak and its other ops' bytes
    at the stream bandwidth. ``max_speedup_vs_reference`` is the reference's measured step over that
    floor: the most any fusion of the remaining eager ops could give without faster convolutions."""
    floor = {
        task: {
            path: measured_ms[task][path] / 1000
            + (gflop_all[task][path] - gflop_conv[task][path]) / peaks[path.split("_")[1]]
            + traffic[task][path] / bandwidth
            for path in measured_ms[task]
        }
        for task in measured_ms
    }
    return {
        "measured_ops": list(_MEASURED_OPS),
        "measured_ms": {t: {p: round(v, 1) for p, v in d.items()} for t, d in measured_ms.items()},
        "floor_ms": {t: {p: round(1000 * v, 1) for p, v in d.items()} for t, d in floor.items()},
        "times_the_floor": {t: {p: round(step_s[t][p] / v, 2) for p, v in d.items()} for t, d in floor.items()},
        "max_speedup_vs_reference": {
            t: {p: round(step_s[t]["reference_fp32"] / v, 2) for p, v in d.items()} for t, d in floor.items()
        },
    }


def count_work(path, state, head_state, x, time_, event, device, floor_calls):
    """GFLOP and GB per batch of a path's training and inference steps, on a fresh copy of the
    weights (a training step updates them): task -> (GFLOP, GB, convolution GFLOP, milliseconds in
    the ops that :func:`kernel_floor` takes as measured, over ``floor_calls`` profiled calls; None
    with 0 calls)."""
    impl, precision = path.split("_")
    model, head, opt = build(impl, state, head_state, device)

    def train():
        return train_step(model, head, opt, x, time_, event, precision, device)

    def infer():
        return infer_step(model, x, precision, device)

    def work(fn):
        total, conv = gflop(fn)
        return total, traffic_gb(fn), conv, measured_kernel_ms(fn, floor_calls) if floor_calls else None

    counts = {"train": work(train)}
    model.eval()
    with torch.no_grad():
        counts["infer"] = work(infer)
    return counts


def collect_work(paths, state, head_state, x, time_, event, device, floor_calls, with_floor):
    """:func:`count_work` of every path, as task -> (GFLOP, GB, conv GFLOP, ms), each path -> value;
    the kernel floor's profile only for the paths in ``with_floor`` (a precision the device only
    emulates has no floor, and profiling its slow steps would only cost time)."""
    work = {"train": ({}, {}, {}, {}), "infer": ({}, {}, {}, {})}
    for path in paths:
        calls = floor_calls if path in with_floor else 0
        for task, values in count_work(path, state, head_state, x, time_, event, device, calls).items():
            for table, value in zip(work[task], values, strict=True):
                table[path] = value
    return work


def _with_peak(work, i, peaks):
    """Table ``i`` of ``work`` (task -> tuple of path -> value) for the paths whose precision has a
    GEMM peak here (bf16 where it is only emulated has none)."""
    return {t: {p: v for p, v in w[i].items() if p.split("_")[1] in peaks} for t, w in work.items()}


def roofline(train_gflop, infer_gflop, peaks, step_s):
    """Floor time of a batch at the GEMM peak, the speed-up over the reference it would give, and the
    fraction of the peak each path reaches (``step_s``: task -> path -> median seconds per batch)."""
    work = {"train": train_gflop, "infer": infer_gflop}
    floor_s = {f"{task}_{p}": work[task] / peak for task in work for p, peak in peaks.items()}
    return {
        "gemm_peak_gflop_s": {p: round(v, 1) for p, v in peaks.items()},
        "model_gflop_per_batch": {task: round(v, 2) for task, v in work.items()},
        "floor_ms": {k: round(1000 * v, 1) for k, v in floor_s.items()},
        "max_speedup_vs_reference": {
            k: round(step_s[k.split("_")[0]]["reference_fp32"] / v, 2) for k, v in floor_s.items()
        },
        # a path named "<impl>_<precision>[_...]" is measured against that precision's peak (a
        # precision without a peak, bf16 where it is only emulated, has no roofline)
        "fraction_of_peak": {
            task: {
                path: round(work[task] / s / peaks[path.split("_")[1]], 3)
                for path, s in paths.items()
                if path.split("_")[1] in peaks
            }
            for task, paths in step_s.items()
        },
        # how far each path is from the roofline: its step time over the floor at its precision's peak
        "times_the_floor": {
            task: {
                path: round(s * peaks[path.split("_")[1]] / work[task], 2)
                for path, s in paths.items()
                if path.split("_")[1] in peaks
            }
            for task, paths in step_s.items()
        },
    }


def harrell_c(risk, time_, event):
    from sksurv.metrics import concordance_index_censored

    return float(concordance_index_censored(event, time_, risk)[0])


def check_agreement(fast, ref, fast_head, ref_head, x, time_, event, args, device):
    """Float32 parity of the two paths (same weights, eval mode) and, when bf16 is timed, how far
    its outputs are from float32's."""
    # parity in float32, same weights (eval mode: dropout off)
    with torch.no_grad():
        fast.eval(), ref.eval(), fast_head.eval(), ref_head.eval()
        z_fast, xh_fast = fast(x)
        z_ref, xh_ref = ref(x)
        max_dev_z = (z_fast - z_ref).abs().max().item()
        max_dev_xhat = (xh_fast - xh_ref).abs().max().item()
        result_parity = {"max_abs_dev_z": max_dev_z, "max_abs_dev_x_hat": max_dev_xhat}
        assert max_dev_z < 1e-4, result_parity
        assert max_dev_xhat < 1e-4, result_parity
        precision_check = None
        if args.precision in ("bf16", "both"):
            with autocast(device, "bf16"):
                z_bf, _ = fast(x)
                risk_bf = fast_head(z_bf).float()
            risk_fp = fast_head(z_fast)
            t_np, e_np = time_.cpu().numpy().astype(float), event.cpu().numpy().astype(bool)
            # synthetic outcome driven by the float32 risk, to compare the two rankings on it
            t_syn = np.exp(-risk_fp.cpu().numpy().astype(float)) * t_np
            precision_check = {
                "max_abs_dev_z_bf16_vs_fp32": (z_bf.float() - z_fast).abs().max().item(),
                "max_abs_z_fp32": z_fast.abs().max().item(),
                "max_abs_dev_log_risk_bf16_vs_fp32": (risk_bf - risk_fp).abs().max().item(),
                "c_index_fp32": harrell_c(risk_fp.cpu().numpy().astype(float), t_syn, e_np),
                "c_index_bf16": harrell_c(risk_bf.cpu().numpy().astype(float), t_syn, e_np),
            }
    return result_parity, precision_check


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--n-timesteps", type=int, default=608)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=5, help="timed steps per path (median reported)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument(
        "--repeats", type=int, default=3, help="repeats of the interleaved timing (median of their medians)"
    )
    parser.add_argument("--precision", choices=["fp32", "bf16", "both"], default="both")
    parser.add_argument("--compile", action="store_true", help="also try torch.compile on the fast path")
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="wall: elapsed time; process: CPU time of this process (with --threads 1 it is robust to "
        "other processes time-sharing the cores; with more threads it also counts OpenMP spin-waits)",
    )
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument(
        "--floor-calls", type=int, default=3, help="profiled calls per path for the kernel floor (median)"
    )
    args = parser.parse_args()

    load_at_start = os.getloadavg() if hasattr(os, "getloadavg") else None
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    clock = CLOCKS[args.clock]
    torch.manual_seed(args.seed)
    device, n = args.device, args.batch_size
    base = DualAttentionAutoencoder(n_timesteps=args.n_timesteps)
    if args.n_timesteps != 608:
        raise SystemExit("--n-timesteps other than 608 is not supported by the seed comparison")
    state, head_state = base.state_dict(), RiskHead().state_dict()
    gen = torch.Generator().manual_seed(args.seed)
    x = torch.randn(n, 12, args.n_timesteps, generator=gen).to(device)
    time_ = (torch.rand(n, generator=gen) * 80 + 1).to(device)
    event = (torch.rand(n, generator=gen) < 0.3).to(device)
    event[0] = True

    fast, fast_head, fast_opt = build("fast", state, head_state, device)
    ref, ref_head, ref_opt = build("reference", state, head_state, device)

    result_parity, precision_check = check_agreement(fast, ref, fast_head, ref_head, x, time_, event, args, device)
    for m in (fast, ref, fast_head, ref_head):
        m.train()

    fns_train = {
        "reference_fp32": lambda: train_step(ref, ref_head, ref_opt, x, time_, event, "fp32", device),
    }
    fns_infer = {"reference_fp32": lambda: infer_step(ref, x, "fp32", device)}
    precisions = ["fp32", "bf16"] if args.precision == "both" else [args.precision]
    for p in precisions:
        fns_train[f"fast_{p}"] = lambda p=p: train_step(fast, fast_head, fast_opt, x, time_, event, p, device)
        fns_infer[f"fast_{p}"] = lambda p=p: infer_step(fast, x, p, device)
    compile_note = None
    if args.compile:
        try:
            compiled = torch.compile(fast.encoder)
            with torch.no_grad():
                compiled.eval()(x)
            fns_infer["fast_fp32_compiled"] = lambda: torch.no_grad()(compiled)(x)
        except Exception as exc:  # optional lever: fall back silently to eager
            compile_note = f"torch.compile unavailable: {type(exc).__name__}: {exc}"[:300]

    # each path's maths and memory traffic, counted on separate copies (a training step updates
    # weights); the reference path's FLOPs are the model's own maths, the roofline's work
    native_bf16 = bf16_is_native(device)
    with_floor = {path for path in fns_train if native_bf16 or "bf16" not in path}
    work = collect_work(fns_train, state, head_state, x, time_, event, device, args.floor_calls, with_floor)
    train_gflop, infer_gflop = work["train"][0]["reference_fp32"], work["infer"][0]["reference_fp32"]
    # without native bfloat16 a bf16 GEMM "peak" is an emulation's rate, no bound on anything
    dtypes = {"fp32": torch.float32, "bf16": torch.bfloat16} if native_bf16 else {"fp32": torch.float32}
    peaks = {p: gemm_peak_gflop_s(device, dtype, clock=clock) for p, dtype in dtypes.items()}
    bandwidth = stream_gb_s(device, clock=clock)

    train_times, infer_times, train_s, infer_s, speedups_per_repeat = repeated(
        fns_train, fns_infer, (fast, ref), args, device, clock
    )

    def ecg_s(seconds):
        return {name: round(n / s, 1) for name, s in seconds.items()}

    train, infer = ecg_s(train_s), ecg_s(infer_s)
    result = {
        "machine": {
            **machine_info(),
            # other processes share the cores: the 1, 5 and 15-minute load averages before and after
            "load_average_at_start": load_at_start,
            "clock": args.clock,
            # glibc's allocator settings change the figures (first-touch page faults of fresh
            # activation-sized tensors; see docs/model.md), so they are recorded with them
            "allocator_env": {k: v for k, v in os.environ.items() if k.startswith("MALLOC_") or k == "LD_PRELOAD"},
            "device": device,
            "cpu": cpu_model(),
            "onednn": onednn_isa(),
            "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "bf16_native": native_bf16,
        },
        "batch_size": n,
        "n_timesteps": args.n_timesteps,
        "steps": args.steps,
        "repeats": args.repeats,
        "speedup_vs_reference_per_repeat": speedups_per_repeat,
        "step_ms_min_median_max": {"train": spread_ms(train_times), "infer": spread_ms(infer_times)},
        "train_ecg_per_s": train,
        "infer_ecg_per_s": infer,
        "train_speedup_vs_reference": {k: round(v / train["reference_fp32"], 2) for k, v in train.items()},
        "infer_speedup_vs_reference": {k: round(v / infer["reference_fp32"], 2) for k, v in infer.items()},
        "seed_figures_ecg_per_s": {"train": SEED_TRAIN_ECG_S, "infer": SEED_INFER_ECG_S},
        "train_speedup_vs_seed_figure": {k: round(v / SEED_TRAIN_ECG_S, 2) for k, v in train.items()},
        "infer_speedup_vs_seed_figure": {k: round(v / SEED_INFER_ECG_S, 2) for k, v in infer.items()},
        "roofline": roofline(
            train_gflop,
            infer_gflop,
            peaks,
            {"train": train_s, "infer": infer_s},
        ),
        "eager_floor": eager_floor(
            _with_peak(work, 0, peaks),
            _with_peak(work, 1, peaks),
            peaks,
            bandwidth,
            {"train": train_s, "infer": infer_s},
        ),
        "kernel_floor": kernel_floor(
            *(_with_peak(work, i, peaks) for i in (3, 0, 2, 1)),
            peaks,
            bandwidth,
            {"train": train_s, "infer": infer_s},
        ),
        "parity_fp32": result_parity,
        "bf16_check": precision_check,
        "compile": compile_note,
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
