"""Held-out calibration of ECGSurvivalAnalysis: before (raw scale), the calibrated default, true-hazard Cox.

The grid of issue 23: ``make_ecg_survival`` cohorts (event rate 0.3) with 35 % held out (stratified
on the event), several seeds; on each, three models side by side:

- ``raw``: the network with ``calibration=None`` (the default before 0.2: its own log-risk scale and
  a Breslow baseline on its training predictions), trained on the whole training part;
- ``calibrated``: the new default (``calibration="auto"``: a quarter of the training part held out
  from the network; the scale of the log-risk and the Breslow baseline fitted on it); the same
  network with the baseline only (scale 1) is reported as ``baseline_only``;
- ``true_cox``: Cox PH on the features of the true hazard (the ceiling).

Each gets, on the held-out set: the calibration slope (Cox coefficient of the outcome on the
predicted log-risk), the ICI at ``t0`` (the held-out median event time), the mean predicted
``S(t0)`` against Kaplan-Meier, and Harrell's C. Run the grid in parts and merge::

    python benchmarks/calibration_check.py --preset cpu-small --sizes 300 --seeds 11 12 13 14 15
    python benchmarks/calibration_check.py --merge docs/_static/benchmarks/calibration_check_*.json

``--d-calibration-power`` instead measures how often :func:`sksurv_ecg.metrics.d_calibration`
rejects (p < 0.05) a calibrated model (slope 1) and one whose log-risk is twice too large
(slope 0.5), on ``n`` = 100, 300 and 1000 patients (seconds).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from _common import machine_info, report, set_threads, write_json
from sklearn.model_selection import train_test_split
from sksurv.linear_model import CoxPHSurvivalAnalysis
from sksurv.metrics import concordance_index_censored
from sksurv.nonparametric import kaplan_meier_estimator

from sksurv_ecg import ECGSurvivalAnalysis
from sksurv_ecg.calibration import fit_scale_and_baseline, holdout_split
from sksurv_ecg.datasets import make_ecg_survival
from sksurv_ecg.metrics import calibration_at

TRUE_FEATURES = ["age", "sex", "heart_rate", "qrs_duration", "t_amplitude", "st_deviation", "qtc"]
MODELS = ("raw", "calibrated", "baseline_only", "true_cox")


def _true_features(frame):
    """The covariates of the simulated log-hazard, its two non-linear terms included."""
    f = frame[TRUE_FEATURES].to_numpy(dtype=float)
    return np.column_stack([f, np.abs(frame.st_deviation), np.maximum((frame.qtc - 415) / 25 - 1, 0)])


def _metrics(y_test, log_risk, event_probability, t0, km):
    try:
        cal = calibration_at(y_test, event_probability, t0, log_risk=log_risk)
        slope, ici, error = cal.slope, cal.ici, None
    except ValueError as exc:  # e.g. a network whose scale was clipped to 0 predicts one risk for all
        slope, ici, error = None, None, str(exc)
    return {
        "slope": slope,
        "ici": ici,
        "calibration_error": error,
        "mean_survival_t0": float(1.0 - event_probability.mean()),
        "km_survival_t0": km,
        "survival_diff": float(1.0 - event_probability.mean() - km),
        "c_index": float(concordance_index_censored(y_test["event"], y_test["time"], log_risk)[0]),
    }


def _estimator(preset, **params):
    if preset == "defaults":
        return ECGSurvivalAnalysis(**params)
    return ECGSurvivalAnalysis.from_preset(preset, **params)


def run_cell(preset, n, seed):
    """One cohort, one split: the four models' held-out calibration."""
    X, y, frame = make_ecg_survival(n, event_rate=0.3, random_state=seed)
    train, test = train_test_split(np.arange(n), test_size=0.35, stratify=y["event"], random_state=seed)
    y_test = y[test]
    t0 = float(np.median(y_test["time"][y_test["event"]]))
    times, surv = kaplan_meier_estimator(y_test["event"], y_test["time"])
    km = float(surv[np.searchsorted(times, t0, side="right") - 1])
    cell = {"preset": preset, "n": n, "seed": seed, "n_test_events": int(y_test["event"].sum()), "t0": t0}

    start = time.perf_counter()
    raw = _estimator(preset, calibration=None, random_state=seed).fit(X[train], y[train])
    seconds = time.perf_counter() - start
    cell["raw"] = _metrics(y_test, raw.predict(X[test]), raw.predict_event_probability(X[test], t0)[:, 0], t0, km)
    cell["raw"]["fit_seconds"] = seconds

    start = time.perf_counter()
    new = _estimator(preset, random_state=seed).fit(X[train], y[train])
    seconds = time.perf_counter() - start
    risk = new.predict(X[test])
    cell["calibrated"] = _metrics(y_test, risk, new.predict_event_probability(X[test], t0)[:, 0], t0, km)
    cell["calibrated"].update(
        fit_seconds=seconds,
        risk_scale=new.risk_scale_,
        calibration_source=new.calibration_source_,
        n_calibration_events=new.n_calibration_events_,
    )
    # the same network, baseline only: the held-out split's Breslow baseline of the raw log-risk
    if new.calibration_source_ == "holdout":  # the split fit() held out, drawn again with the same seed
        _, held = holdout_split(y["event"][train], new.calibration_fraction_, new._seed())
    else:
        held = new._held_out_indices(X[train], np.column_stack([y["time"][train], y["event"][train]]))
    y_held = y[train][held]
    raw_held = new.net_.predict_risk(X[train][held])
    _, offset, baseline = fit_scale_and_baseline(raw_held, y_held["event"], y_held["time"], fit_scale=False)
    raw_test = new.net_.predict_risk(X[test])
    hazard = baseline.cum_baseline_hazard_(t0) * np.exp(raw_test - offset)
    cell["baseline_only"] = _metrics(y_test, raw_test, -np.expm1(-hazard), t0, km)

    features = _true_features(frame)
    cox = CoxPHSurvivalAnalysis().fit(features[train], y[train])
    s_cox = np.array([fn(t0) for fn in cox.predict_survival_function(features[test])])
    cell["true_cox"] = _metrics(y_test, cox.predict(features[test]), 1.0 - s_cox, t0, km)
    return cell


def summarise(cells):
    """Per (preset, n): medians over seeds, the worst |S(t0) - KM| and the paired C difference."""
    groups = {}
    for cell in cells:
        groups.setdefault((cell["preset"], cell["n"]), []).append(cell)
    summary = []
    for (preset, n), group in sorted(groups.items()):
        row = {"preset": preset, "n": n, "seeds": sorted(c["seed"] for c in group)}
        for model in MODELS:
            # a slope or ICI that could not be computed (constant predictions) is None in the cell: left out here
            values = {
                k: np.array([np.nan if c[model][k] is None else c[model][k] for c in group], dtype=float)
                for k in ("slope", "ici", "survival_diff", "c_index")
            }
            row[model] = {
                "median_slope": float(np.nanmedian(values["slope"])) if np.isfinite(values["slope"]).any() else None,
                "median_ici": float(np.nanmedian(values["ici"])) if np.isfinite(values["ici"]).any() else None,
                "median_abs_survival_diff": float(np.median(np.abs(values["survival_diff"]))),
                "max_abs_survival_diff": float(np.max(np.abs(values["survival_diff"]))),
                "mean_c_index": float(values["c_index"].mean()),
            }
        paired = np.array([c["calibrated"]["c_index"] - c["raw"]["c_index"] for c in group])
        row["mean_c_difference_calibrated_minus_raw"] = float(paired.mean())
        row["c_difference_std"] = float(paired.std(ddof=1)) if paired.size > 1 else None
        summary.append(row)
    return summary


def markdown(summary):
    """The table of docs/results.md."""
    lines = [
        "| preset | n | seeds | model | median slope | median ICI | median (max) abs S(t0) - KM | mean C |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in summary:
        for model in MODELS:
            m = row[model]
            lines.append(
                f"| {row['preset']} | {row['n']} | {len(row['seeds'])} | {model} | {m['median_slope']:.2f} | "
                f"{m['median_ici']:.3f} | {m['median_abs_survival_diff']:.3f} ({m['max_abs_survival_diff']:.3f}) | "
                f"{m['mean_c_index']:.3f} |"
            )
    lines.append("")
    lines.append("| preset | n | mean paired C difference, calibrated - raw (sd) |")
    lines.append("|---|---|---|")
    for row in summary:
        sd = row["c_difference_std"]
        lines.append(
            f"| {row['preset']} | {row['n']} | {row['mean_c_difference_calibrated_minus_raw']:+.3f}"
            + (f" ({sd:.3f}) |" if sd is not None else " |")
        )
    return "\n".join(lines)


def d_calibration_power(sizes=(100, 300, 1000), n_repeats=200, seed=0):
    """Rejection rate of D-calibration (p < 0.05) for a calibrated and a miscalibrated survival model.

    Times are exponential with log-hazard ``eta ~ N(0, 1)`` (C about 0.75), censored by an
    independent exponential (about 35 % censored). The calibrated model predicts
    ``S(t | x) = exp(-t * exp(eta))``; the miscalibrated one ``exp(-t * exp(2 * eta))``, whose
    calibration slope is 0.5 (the baseline is the true one, so only the spread is wrong); a third
    model has that log-risk with a Breslow baseline fitted on an independent training sample of the
    same size, as a deep model's would be (the mean risk is then nearly right).
    """
    from sksurv.linear_model.coxph import BreslowEstimator
    from sksurv.util import Surv

    from sksurv_ecg.metrics import d_calibration

    rng = np.random.default_rng(seed)
    rows = []
    for n in sizes:
        rejected = {"slope_1": 0, "slope_0.5": 0, "slope_0.5_breslow": 0}

        def cohort(n=n):
            eta = rng.normal(size=n)
            t = rng.exponential(np.exp(-eta))
            c = rng.exponential(2.0, size=n)
            return eta, Surv.from_arrays(t <= c, np.minimum(t, c))

        for _ in range(n_repeats):
            eta_train, y_train = cohort()
            eta, y = cohort()
            for name, factor in (("slope_1", 1.0), ("slope_0.5", 2.0)):
                s_own = np.exp(-y["time"] * np.exp(factor * eta))
                rejected[name] += d_calibration(y, s_own).p_value < 0.05
            baseline = BreslowEstimator().fit(2.0 * eta_train, y_train["event"], y_train["time"])
            grid, h0 = baseline.cum_baseline_hazard_.x, baseline.cum_baseline_hazard_.y
            at = np.concatenate([[0.0], h0])[np.searchsorted(grid, y["time"], side="right")]
            rejected["slope_0.5_breslow"] += d_calibration(y, np.exp(-at * np.exp(2.0 * eta))).p_value < 0.05
        rows.append({"n": n, "n_repeats": n_repeats, **{k: v / n_repeats for k, v in rejected.items()}})
        print(f"n={n}: rejection rates {', '.join(f'{k} {v:.3f}' for k, v in rows[-1].items() if k.startswith('s'))}")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="cpu-small", choices=["cpu-small", "paper", "defaults"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[300, 700, 2000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12, 13, 14, 15])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 on a busy 2-core box)")
    parser.add_argument("--out", default="docs/_static/benchmarks", help="folder of the JSON (default: %(default)s)")
    parser.add_argument("--merge", nargs="+", default=None, help="merge these JSON files and print the table")
    parser.add_argument("--d-calibration-power", action="store_true", help="D-calibration's power at small n")
    args = parser.parse_args(argv)
    if args.d_calibration_power:
        start = time.perf_counter()
        rows = d_calibration_power()
        result = {"d_calibration_power": rows, "seconds": time.perf_counter() - start, "machine": machine_info()}
        report(result, args.out, "d_calibration_power.json")
        return
    if args.merge:
        cells = [cell for path in args.merge for cell in json.loads(Path(path).read_text())["cells"]]
        summary = summarise(cells)
        result = {"summary": summary, "files": args.merge, "table": markdown(summary)}
        report(result, args.out, "calibration_check_summary.json")
        print(result["table"])
        return
    name = f"calibration_check_{args.preset}_n{'-'.join(map(str, args.sizes))}_s{'-'.join(map(str, args.seeds))}.json"
    result = {"args": vars(args), "cells": []}
    with set_threads(args.threads):
        for n in args.sizes:
            for seed in args.seeds:
                start = time.perf_counter()
                result["cells"].append(run_cell(args.preset, n, seed))
                print(f"{args.preset} n={n} seed={seed}: {time.perf_counter() - start:.0f} s", flush=True)
                result["machine"] = machine_info()
                Path(args.out).mkdir(parents=True, exist_ok=True)
                write_json(Path(args.out) / name, result)  # after every cell: a stopped run keeps what finished
    result["summary"] = summarise(result["cells"])
    report(result, args.out, name)
    print(markdown(result["summary"]))


if __name__ == "__main__":
    main()
