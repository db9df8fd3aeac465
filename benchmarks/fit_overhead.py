"""Where the time of ``ECGSurvivalAnalysis.fit`` goes on a small cohort, outside the training steps.

Call like this::

    python benchmarks/fit_overhead.py --n-samples 200 --batch-size 64 --max-epochs 3 --out bench-overhead

A fit is split into its parts, each timed with the wall clock:

- ``import_s``: ``import sksurv_ecg`` in a fresh interpreter (torch, scikit-learn, scikit-survival, skorch);
- ``torch_dynamo_import_s``: ``import torch._dynamo`` in a fresh interpreter after ``import torch``.
  torch imports it lazily on the first optimizer of a process (``torch.optim.Optimizer.__init__`` is
  wrapped in ``torch._disable_dynamo``), so the first ``fit`` of a process pays it, whatever the
  estimator; later fits do not;
- per fit: ``total_s``, the epochs (skorch's ``history[:, "dur"]``: batches, validation, callbacks),
  the baseline pass (the eval-mode risks of the training set that the Breslow estimator needs,
  timed again after the fit on the same data) and ``setup_s``, the rest: input checks, building the
  network and the skorch net, initialisation.

The fits run twice: ``cold`` is the first fit of a fresh process (a subprocess of this script),
``warm`` a second fit in that process with another seed. The difference between the first epoch
and the next ones is the warm-up of the first batches (oneDNN primitive creation, the allocator's
first touch of each activation size).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info, report  # noqa: E402


def _seconds_in_fresh_interpreter(setup, statement, repeat):
    """Median wall time of ``statement`` in fresh interpreters that ran ``setup`` first."""
    code = f"import time\n{setup}\nt = time.perf_counter()\n{statement}\nprint(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
            for _ in range(repeat)]  # fmt: skip
    return round(statistics.median(runs), 3)


def _timed_fit(X, y, args, random_state):
    from sksurv_ecg import ECGSurvivalAnalysis

    model = ECGSurvivalAnalysis(
        max_epochs=args.max_epochs, batch_size=args.batch_size, random_state=random_state, device=args.device
    )
    start = time.perf_counter()
    model.fit(X, y)
    total = time.perf_counter() - start
    start = time.perf_counter()
    model.net_.predict_risk(X)  # the baseline pass, once more: the same data, the same eval-mode net
    baseline = time.perf_counter() - start
    epochs = [float(d) for d in model.history_[:, "dur"]]
    return {
        "total_s": round(total, 3),
        "epoch_s": [round(d, 3) for d in epochs],
        "first_epoch_extra_s": round(epochs[0] - statistics.median(epochs[1:]), 3) if len(epochs) > 1 else None,
        "baseline_pass_s": round(baseline, 3),
        "setup_s": round(total - sum(epochs) - baseline, 3),
    }


def _fits(args):
    """The cold and the warm fit, in this process (run by ``main`` in a fresh subprocess)."""
    import warnings

    import torch

    from sksurv_ecg.datasets import make_ecg_survival

    torch.set_num_threads(args.threads)
    X, y, _ = make_ecg_survival(args.n_samples, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. a batch size clipped to a small cohort
        cold = _timed_fit(X, y, args, random_state=0)
        warm = _timed_fit(X, y, args, random_state=1)
    return {"cold": cold, "warm": warm}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-samples", type=int, default=200, help="synthetic cohort (12 x 608 median beats)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--max-epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="torch threads")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeat", type=int, default=3, help="fresh interpreters per import timing (median)")
    parser.add_argument("--out", default=None, help="output folder for fit_overhead.json (default: print only)")
    parser.add_argument("--_fits-only", dest="fits_only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fits_only:
        print(json.dumps(_fits(args)))
        return

    argv = ["--n-samples", str(args.n_samples), "--batch-size", str(args.batch_size)]
    argv += ["--max-epochs", str(args.max_epochs), "--threads", str(args.threads), "--device", args.device]
    # stderr passes through: a failing fit shows its own error
    done = subprocess.run(
        [sys.executable, __file__, *argv, "--_fits-only"], stdout=subprocess.PIPE, text=True, check=True
    )
    fits = json.loads(done.stdout.strip().splitlines()[-1])
    result = {
        "machine": machine_info(),
        "cohort": {"n_samples": args.n_samples, "shape": [12, 608], "batch_size": args.batch_size},
        "max_epochs": args.max_epochs,
        "threads": args.threads,
        "import_s": _seconds_in_fresh_interpreter("", "import sksurv_ecg", args.repeat),
        "torch_dynamo_import_s": _seconds_in_fresh_interpreter("import torch", "import torch._dynamo", args.repeat),
        **fits,
    }
    report(result, args.out, "fit_overhead.json")


if __name__ == "__main__":
    main()
