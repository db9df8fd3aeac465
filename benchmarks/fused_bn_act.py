"""The fused BatchNorm + LeakyReLU kernel against its pure-torch version and ATen, on the model's shapes.

Call like this::

    python benchmarks/fused_bn_act.py --threads 2

For each activation shape of the paper network's residual stacks at batch 128 (channels-last
``(N, L, T, C)``), one training-mode forward and backward pass of: the C++ kernel
(``sksurv_ecg.nn._fused``), the pure-torch autograd function the package falls back to, and (float32)
``F.batch_norm`` + ``F.leaky_relu`` on the NCHW view as ``nn.BatchNorm2d`` runs it. Arms interleaved
step by step in one process; the median of ``--steps`` steps per arm is printed as JSON with the
CPU model.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info  # noqa: E402
from throughput import cpu_model  # noqa: E402

from sksurv_ecg.nn._fused import batch_norm_leaky_relu, fused_extension  # noqa: E402

SHAPES = [(128, 12, 608, 4), (128, 12, 608, 1), (128, 12, 304, 8), (128, 12, 76, 16)]


def aten(h, w, b):
    C = h.shape[-1]
    y = F.batch_norm(h.permute(0, 3, 1, 2), torch.zeros(C), torch.ones(C), w, b, True, 0.1, 1e-5)
    return F.leaky_relu(y).permute(0, 2, 3, 1)


def time_arms(shape, dtype, steps):
    """Median milliseconds of a forward + backward pass per arm, arms interleaved step by step."""
    gen = torch.Generator().manual_seed(0)
    h = torch.randn(shape, generator=gen).to(dtype).requires_grad_()
    w = torch.randn(shape[-1], generator=gen).requires_grad_()
    b = torch.randn(shape[-1], generator=gen).requires_grad_()
    gy = torch.randn(shape, generator=gen).to(dtype)
    arms = {
        "kernel": lambda: batch_norm_leaky_relu(h, w, b, 1e-5, fused=True)[0].backward(gy),
        "torch": lambda: batch_norm_leaky_relu(h, w, b, 1e-5, fused=False)[0].backward(gy),
    }
    if dtype == torch.float32:
        arms["aten"] = lambda: aten(h, w, b).backward(gy)
    for fn in arms.values():
        fn()
    times = {k: [] for k in arms}
    for _ in range(steps):
        for k, fn in arms.items():
            start = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - start)
    return {k: round(1000 * statistics.median(v), 2) for k, v in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=7)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if fused_extension() is None:
        raise SystemExit("the fused extension is not available (no compiler, or SKSURV_ECG_FUSED=0)")
    rows = []
    for shape in SHAPES:
        for dtype in (torch.float32, torch.bfloat16):
            ms = time_arms(shape, dtype, args.steps)
            rows.append({"shape": shape, "dtype": str(dtype).split(".")[-1], "forward_backward_ms": ms})
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print(json.dumps({"machine": {**machine_info(), "cpu": cpu_model()}, "steps": args.steps, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
