"""Accuracy benchmark: the deep ECG survival model against Cox baselines on the same folds.

Call like this::

    python benchmarks/cox_baselines.py --quick --out bench-quick          # ~1-2 min on 2 CPU cores
    python benchmarks/cox_baselines.py --out bench-default                 # the real run (~20-40 min here)
    python benchmarks/cox_baselines.py --X beats.npy --time t.npy --event e.npy --fs 500 --out mine

Cohort: :func:`sksurv_ecg.datasets.make_ecg_survival` median beats (default 250 Hz, 304 samples,
10 % events like the seed's UK Biobank cohorts), or a user cohort of median beats. Every method is
cross-validated with :func:`sklearn.model_selection.cross_validate` on the **same**
``StratifiedKFold`` splits on the event indicator, for several seeds:

1. ``CoxPHSurvivalAnalysis`` on age and sex (the floor);
2. ``CoxnetSurvivalAnalysis`` on :class:`sksurv_ecg.biomarkers.ECGBiomarkers` (scaled);
3. ``RandomSurvivalForest`` on the same biomarkers;
4. ``make_pipeline(ECGEmbedder(encoder=pretrained), StandardScaler(), CoxnetSurvivalAnalysis())``;
5. ``ECGSurvivalAnalysis`` from scratch;
6. ``ECGSurvivalAnalysis`` warm-started from an ``ECGEmbedder`` (reconstruction pretraining);
7. ``ECGSurvivalAnalysis`` warm-started from a ``TextAlignedPretrainer`` (reconstruction + alignment
   with report embeddings);
8. ``CoxPHSurvivalAnalysis`` on the true hazard terms (the ceiling), and 8b on the true terms a
   median beat can show (QRS, QT, ST, |ST|, T amplitude: no age, sex or heart rate).

Pretraining never sees a test fold: the reconstruction encoder (4, 6) is fitted once on a separate
unlabelled synthetic pool drawn with another seed, the text-aligned encoder (7) on the 14 real
PTB-XL median beats bundled with the package and their SCP-statement embeddings
(:class:`sksurv_ecg.ReportEmbedder`), the only real ECG text available offline. The deep models and
the biomarkers see only the ECG; age and sex enter only methods 1 and 8.

Metrics per fold: Harrell's C, Uno's C (``concordance_index_ipcw`` with the fold's training
outcomes and ``tau`` inside every fold's training range: what ``as_concordance_index_ipcw_scorer``
computes) and the integrated Brier score (``as_integrated_brier_score_scorer`` on a time grid
inside every fold's test range); mean and std over all folds of all seeds, and the
wall time per method. Outputs in ``--out``: ``cox_baselines.json``, ``cox_baselines.md`` and
``cox_baselines.png``.
"""

from __future__ import annotations

import argparse
import os
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    ARCHITECTURES,
    add_cohort_arguments,
    load_cohort,
    machine_info,
    ptbxl_root,
    set_threads,
    write_json,
)

__all__ = ["main"]

PRESETS = {
    # n_samples, folds, seeds, max_epochs, pretrain_epochs, n_trees
    "quick": {"n_samples": 300, "folds": 2, "seeds": [0], "max_epochs": 8, "pretrain_epochs": 5, "n_trees": 50},
    "default": {"n_samples": 800, "folds": 3, "seeds": [0, 1], "max_epochs": 30, "pretrain_epochs": 30, "n_trees": 200},
}

FLOOR, ORACLE = "clinical", "oracle"
METHOD_LABELS = {
    "clinical": "1. Cox PH, age + sex (floor)",
    "biomarkers_coxnet": "2. Coxnet on ECGBiomarkers",
    "biomarkers_rsf": "3. Random survival forest on ECGBiomarkers",
    "untrained_coxnet": "4a. Untrained (random-weight) encoder + Coxnet",
    "embedder_coxnet": "4. ECGEmbedder (pretrained) + Coxnet",
    "deep_scratch": "5. ECGSurvivalAnalysis, from scratch",
    "deep_recon": "6. ECGSurvivalAnalysis, reconstruction-pretrained",
    "deep_text": "7. ECGSurvivalAnalysis, text-aligned pretrained",
    "oracle": "8. Cox PH, true hazard terms (ceiling)",
    "oracle_ecg": "8b. Cox PH, true median-beat terms",
}
ECG_METHODS = [m for m in METHOD_LABELS if m not in ("clinical", "oracle", "oracle_ecg")]
# the baselines a deep model must beat: the best of these (pooled out-of-fold Harrell's C) is the reference
SIMPLE_METHODS = ("clinical", "biomarkers_coxnet", "biomarkers_rsf", "untrained_coxnet")


def _parser():
    doc = __doc__.splitlines()[0]
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_cohort_arguments(parser, n_samples=None, event_rate=0.1)
    parser.add_argument("--quick", action="store_true", help="small cohort, few epochs (~1-2 min on 2 cores)")
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="CV seeds (default: preset)")
    parser.add_argument("--folds", type=int, default=None, help="StratifiedKFold splits (default: preset)")
    parser.add_argument("--max-epochs", type=int, default=None, help="survival training epochs (default: preset)")
    parser.add_argument("--pretrain-epochs", type=int, default=None, help="pretraining epochs (default: preset)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default="tiny", help="network size")
    parser.add_argument("--methods", nargs="+", choices=list(METHOD_LABELS), default=None, help="subset to run")
    parser.add_argument(
        "--text",
        choices=["report-embedder", "onehot"],
        default="report-embedder",
        help="text side of method 7: ReportEmbedder (default model, offline) or one-hot SCP codes",
    )
    parser.add_argument("--verbose", type=int, default=1)
    parser.add_argument("--n-resamples", type=int, default=1000, help="bootstrap resamples for the intervals")
    return parser


def _settings(args):
    preset = PRESETS["quick" if args.quick else "default"]
    out = dict(preset)
    for key in ("n_samples", "folds", "seeds", "max_epochs", "pretrain_epochs"):
        value = getattr(args, key)
        if value is not None:
            out[key] = value
    args.n_samples = out["n_samples"]
    return out


# --- data for the non-ECG methods ------------------------------------------------------------------
def _truth(frame):
    """The true hazard terms of make_ecg_survival, and the subset a median beat shows."""
    import pandas as pd

    z_qtc = (frame["qtc"] - 415.0) / 25.0
    full = pd.DataFrame(
        {
            "age": frame["age"],
            "sex": frame["sex"],
            "heart_rate": frame["heart_rate"],
            "qrs_duration": frame["qrs_duration"],
            "qtc": frame["qtc"],
            "qtc_hinge": np.maximum(z_qtc - 1.0, 0.0),
            "st_deviation": frame["st_deviation"],
            "abs_st_deviation": frame["st_deviation"].abs(),
            "t_amplitude": frame["t_amplitude"],
        }
    )
    ecg = full[["qrs_duration", "st_deviation", "abs_st_deviation", "t_amplitude"]].assign(
        qt_interval=frame["qt_interval"]
    )
    return full, ecg


# --- text for method 7 -----------------------------------------------------------------------------
def _real_beats_and_text(fs, n_timesteps, how):
    """The real PTB-XL records (``ptbxl_root()``) as median beats at ``fs`` and one embedding per report."""
    from sksurv_ecg.datasets import load_ptbxl
    from sksurv_ecg.preprocessing import MedianBeat, Resample

    signals, frame = load_ptbxl(ptbxl_root())
    beats = MedianBeat(fs=500).fit_transform(signals)
    if fs != 500:
        beats = Resample(fs_in=500, fs_out=fs).fit_transform(beats)
    if beats.shape[2] != n_timesteps:
        raise SystemExit(
            f"the real median beats have {beats.shape[2]} samples at fs={fs:g}, the cohort {n_timesteps}; "
            "use --fs 250 or 500, or drop deep_text from --methods."
        )
    if how == "onehot":
        codes = sorted({c for d in frame["scp_codes"] for c in d})
        text = np.array([[d.get(c, 0.0) / 100.0 for c in codes] for d in frame["scp_codes"]], dtype=np.float32)
        return beats, text, "one-hot SCP codes (likelihood / 100)"
    from sksurv_ecg import ReportEmbedder

    embedder = ReportEmbedder(source="scp")
    text = embedder.fit_transform(frame["scp_codes"].tolist())
    return beats, text, f"ReportEmbedder(source='scp'), model {embedder.model_id_}"


# --- estimators ------------------------------------------------------------------------------------
def _coxnet():
    from sksurv.linear_model import CoxnetSurvivalAnalysis

    # predictions use the last (smallest) penalty of the path: 0.1 x the smallest alpha that zeroes all
    return CoxnetSurvivalAnalysis(l1_ratio=0.5, alpha_min_ratio=0.1, fit_baseline_model=True)


def _estimators(settings, args, fs, encoders, seed):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sksurv.ensemble import RandomSurvivalForest
    from sksurv.linear_model import CoxPHSurvivalAnalysis

    from sksurv_ecg import ECGEmbedder, ECGSurvivalAnalysis
    from sksurv_ecg.biomarkers import ECGBiomarkers

    deep = {
        "max_epochs": settings["max_epochs"],
        "batch_size": args.batch_size,
        "lr": args.lr,
        "device": args.device,
        "random_state": seed,
        **ARCHITECTURES[args.arch],
    }
    return {
        "clinical": lambda: make_pipeline(StandardScaler(), CoxPHSurvivalAnalysis()),
        "biomarkers_coxnet": lambda: make_pipeline(ECGBiomarkers(fs=fs), StandardScaler(), _coxnet()),
        "biomarkers_rsf": lambda: make_pipeline(
            ECGBiomarkers(fs=fs),
            RandomSurvivalForest(
                n_estimators=settings["n_trees"], min_samples_leaf=10, max_features="sqrt", n_jobs=1, random_state=seed
            ),
        ),
        "embedder_coxnet": lambda: make_pipeline(
            ECGEmbedder(encoder=encoders["recon"], device=args.device), StandardScaler(), _coxnet()
        ),
        "untrained_coxnet": lambda: make_pipeline(
            ECGEmbedder(encoder=encoders["untrained"], device=args.device), StandardScaler(), _coxnet()
        ),
        "deep_scratch": lambda: ECGSurvivalAnalysis(**deep),
        "deep_recon": lambda: ECGSurvivalAnalysis(encoder=encoders["recon"], **deep),
        "deep_text": lambda: ECGSurvivalAnalysis(encoder=encoders["text"], **deep),
        "oracle": lambda: make_pipeline(StandardScaler(), CoxPHSurvivalAnalysis()),
        "oracle_ecg": lambda: make_pipeline(StandardScaler(), CoxPHSurvivalAnalysis()),
    }


def _pretrain(methods, settings, args, X, fs, log):
    """Fit the encoders outside the CV, on data that holds no test fold."""
    from sksurv_ecg import ECGEmbedder, TextAlignedPretrainer
    from sksurv_ecg.datasets import make_ecg_survival

    encoders, info = {}, {}
    common = {
        "max_epochs": settings["pretrain_epochs"],
        "device": args.device,
        "random_state": 0,
        **ARCHITECTURES[args.arch],
    }
    if {"embedder_coxnet", "deep_recon"} & set(methods):
        start = time.perf_counter()
        if args.X is None:  # an unlabelled pool from the same generator, another seed: no cohort member
            pool, _, _ = make_ecg_survival(
                settings["n_samples"], fs=fs, n_timesteps=X.shape[2], event_rate=args.event_rate, random_state=10_000
            )
            source = f"separate unlabelled synthetic pool (make_ecg_survival, {len(pool)} ECGs, random_state=10000)"
        else:  # no separate pool for a user cohort: pretrain on the real PTB-XL sample
            pool = _real_beats_and_text(fs, X.shape[2], "onehot")[0]
            source = "the 14 bundled PTB-XL median beats (no user ECG, so no test fold, is seen)"
        encoders["recon"] = ECGEmbedder(batch_size=min(args.batch_size, len(pool)), **common).fit(pool)
        info["recon"] = {"data": source, "seconds": time.perf_counter() - start}
        log(f"  reconstruction pretraining on {source}: {info['recon']['seconds']:.0f} s")
    if "untrained_coxnet" in methods:
        # one step at lr=1e-12 builds and "fits" the embedder while leaving its random initial weights in place
        untrained = {**common, "max_epochs": 1, "lr": 1e-12}
        encoders["untrained"] = ECGEmbedder(batch_size=min(args.batch_size, len(X)), **untrained).fit(X[:64])
        info["untrained"] = {"data": "random initial weights (1 step at lr=1e-12)", "seconds": 0.0}
    if "deep_text" in methods:
        start = time.perf_counter()
        beats, text, how = _real_beats_and_text(fs, X.shape[2], args.text)
        encoders["text"] = TextAlignedPretrainer(batch_size=7, **common).fit(beats, text)
        info["text"] = {
            "data": f"14 real PTB-XL median beats at {fs:g} Hz + {how} ({text.shape[1]}-d)",
            "seconds": time.perf_counter() - start,
        }
        log(f"  text-aligned pretraining on {info['text']['data']}: {info['text']['seconds']:.0f} s")
    return encoders, info


# --- metrics ---------------------------------------------------------------------------------------
def _metric_grid(y, splits):
    """``tau`` inside every training range and IBS times inside every test range (all seeds' folds)."""
    event_times = np.sort(y["time"][y["event"]])
    lo = max(y["time"][test].min() for _, test in splits)
    hi = min(y["time"][test].max() for _, test in splits)
    train_hi = min(y["time"][train].max() for train, _ in splits)
    grid = np.quantile(event_times, np.linspace(0.1, 0.8, 15))
    grid = np.unique(grid[(grid > lo) & (grid < hi)])
    if grid.size < 2:
        raise SystemExit("the folds share too short a follow-up range for the integrated Brier score; use fewer folds.")
    tau = float(min(np.quantile(event_times, 0.8), 0.999 * train_hi))
    return tau, grid


def _scorers():
    from sksurv.metrics import concordance_index_censored

    def harrell(est, X, y):
        return concordance_index_censored(y["event"], y["time"], est.predict(X))[0]

    def ibs(est, X, y):
        return -est.score(X, y)  # as_integrated_brier_score_scorer returns -IBS (greater is better)

    return {"harrell": harrell, "ibs": ibs}


def _evaluate(make, data, y, folds, tau, grid, t0):
    """Cross-validate one method; Uno's C is computed from the returned fold estimators.

    ``as_concordance_index_ipcw_scorer`` and ``as_integrated_brier_score_scorer`` cannot be nested
    before ``fit`` (each exposes ``predict*`` only once fitted), so the estimator is wrapped for the
    integrated Brier score and Uno's C is computed as ``as_concordance_index_ipcw_scorer.score``
    does: ``concordance_index_ipcw(y_train, y_test, predict(X_test), tau=tau)``.
    """
    from sklearn.model_selection import cross_validate
    from sksurv.metrics import as_integrated_brier_score_scorer, concordance_index_ipcw

    wrapped = as_integrated_brier_score_scorer(make(), times=grid)
    start = time.perf_counter()
    res = cross_validate(
        wrapped, data, y, cv=folds, scoring=_scorers(), error_score="raise", return_estimator=True, return_indices=True
    )
    seconds = time.perf_counter() - start
    rows = data.iloc if hasattr(data, "iloc") else data
    uno = [
        concordance_index_ipcw(y[train], y[test], est.predict(rows[test]), tau=tau)[0]
        for est, train, test in zip(res["estimator"], res["indices"]["train"], res["indices"]["test"], strict=True)
    ]
    oof_risk, oof_surv = np.empty(len(y)), np.empty(len(y))
    for est, test in zip(res["estimator"], res["indices"]["test"], strict=True):
        oof_risk[test] = est.predict(rows[test])
        oof_surv[test] = [fn(t0) for fn in est.predict_survival_function(rows[test])]
    scores = {"harrell": res["test_harrell"].tolist(), "uno": uno, "ibs": res["test_ibs"].tolist()}
    return scores, seconds, {"risk": oof_risk, "surv_t0": oof_surv}


def _evidence(oof, y, t0, n_resamples, seed):
    """Per method, on pooled out-of-fold predictions of the first seed: C with its 95 % interval, the
    paired difference to the best simple baseline, and calibration at ``t0``."""
    from sksurv_ecg.metrics import bootstrap_ci, calibration_at, compare_models

    ci = {m: bootstrap_ci(y, o["risk"], n_resamples=n_resamples, random_state=seed) for m, o in oof.items()}
    simple = [m for m in SIMPLE_METHODS if m in oof]
    best = max(simple, key=lambda m: ci[m].estimate) if simple else None
    out = {}
    for method, o in oof.items():
        cal = calibration_at(y, np.clip(1.0 - o["surv_t0"], 0.0, 1.0), t0)
        entry = {
            "c_pooled": ci[method].estimate,
            "c_low": ci[method].low,
            "c_high": ci[method].high,
            "n_invalid": ci[method].n_invalid,
            "ici": cal.ici,
            "slope": cal.slope,
            "calibration_in_the_large": cal.calibration_in_the_large,
        }
        if best is not None and method != best:
            cmp = compare_models(y, o["risk"], oof[best]["risk"], n_resamples=n_resamples, random_state=seed)
            entry.update(vs=best, diff=cmp.difference, diff_low=cmp.low, diff_high=cmp.high, p_value=cmp.p_value)
        out[method] = entry
    return out, best


def _summary(rows):
    """Mean and std over all folds of all seeds, per method and metric."""
    out = {}
    for method, per_seed in rows.items():
        entry = {"label": METHOD_LABELS[method], "seconds": sum(s["seconds"] for s in per_seed.values())}
        for metric in ("harrell", "uno", "ibs"):
            values = np.concatenate([s[metric] for s in per_seed.values()])
            entry[metric] = {"mean": float(values.mean()), "std": float(values.std()), "n": int(values.size)}
        out[method] = entry
    return out


def _markdown(summary, header, evidence=None, best=None, t0=None):
    lines = [
        header,
        "",
        "| method | Harrell's C | Uno's C | integrated Brier | wall time (s) |",
        "|---|---|---|---|---|",
    ]
    for entry in summary.values():
        h, u, b = entry["harrell"], entry["uno"], entry["ibs"]
        lines.append(
            f"| {entry['label']} | {h['mean']:.3f} +/- {h['std']:.3f} | {u['mean']:.3f} +/- {u['std']:.3f} "
            f"| {b['mean']:.3f} +/- {b['std']:.3f} | {entry['seconds']:.0f} |"
        )
    if evidence:
        ref = METHOD_LABELS[best] if best else "-"
        lines += [
            "",
            f"Pooled out-of-fold predictions (first seed): Harrell's C with its 95 % bootstrap interval, the paired "
            f"difference to the best simple baseline ({ref}) with its interval and p-value, calibration at "
            f"t0 = {t0:.3g}.",
            "",
            "| method | C [95 % CI] | difference to best simple [95 % CI], p | ICI | slope | CITL |",
            "|---|---|---|---|---|---|",
        ]
        for method, e in evidence.items():
            diff = (
                f"{e['diff']:+.3f} [{e['diff_low']:+.3f}, {e['diff_high']:+.3f}], p = {e['p_value']:.2g}"
                if "diff" in e
                else "(reference)"
            )
            lines.append(
                f"| {METHOD_LABELS[method]} | {e['c_pooled']:.3f} [{e['c_low']:.3f}, {e['c_high']:.3f}] | {diff} "
                f"| {e['ici']:.3f} | {e['slope']:.2f} | {e['calibration_in_the_large']:+.3f} |"
            )
    return "\n".join(lines) + "\n"


def _figure(summary, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [e["label"] for e in summary.values()][::-1]
    fig, ax = plt.subplots(figsize=(10, 0.45 * len(labels) + 2.0))
    pos = np.arange(len(labels))
    for offset, metric, color, name in ((-0.17, "harrell", "C0", "Harrell's C"), (0.17, "uno", "C1", "Uno's C")):
        means = [e[metric]["mean"] for e in summary.values()][::-1]
        stds = [e[metric]["std"] for e in summary.values()][::-1]
        ax.errorbar(means, pos + offset, xerr=stds, fmt="o", color=color, capsize=3, label=name)
    for key, style in ((FLOOR, ":"), (ORACLE, "--")):
        if key in summary:
            ax.axvline(summary[key]["harrell"]["mean"], color="grey", linestyle=style, linewidth=1)
    ax.set_yticks(pos, labels)
    ax.set_xlabel("concordance on held-out folds\n(mean +/- std over folds and seeds; dotted: floor, dashed: ceiling)")
    ax.axvline(0.5, color="black", linewidth=0.5)
    ax.set_title(textwrap.fill(title, 90), fontsize=8)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None):
    """Run the benchmark and write JSON, Markdown and a figure; return the result dictionary.

    Parameters
    ----------
    argv : list of str or None, default=None
        Command-line arguments; ``sys.argv[1:]`` when None.

    Returns
    -------
    result : dict
        What ``cox_baselines.json`` holds.
    """
    from sklearn.model_selection import StratifiedKFold

    args = _parser().parse_args(argv)
    settings = _settings(args)
    with set_threads(args.threads):
        os.environ.setdefault("MPLBACKEND", "Agg")
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)

        def log(msg):
            if args.verbose:
                print(msg, flush=True)

        X, y, frame, description = load_cohort(args)
        fs = float(args.fs)
        methods = list(args.methods or METHOD_LABELS)
        if frame is None:
            methods = [m for m in methods if m in ECG_METHODS]
        log(f"cohort: {description}; X {X.shape}")
        total_start = time.perf_counter()
        encoders, pretraining = _pretrain(methods, settings, args, X, fs, log)
        if frame is not None:
            truth, truth_ecg = _truth(frame)
            inputs = {"clinical": frame[["age", "sex"]], "oracle": truth, "oracle_ecg": truth_ecg}
        else:
            inputs = {}
        folds = {
            seed: list(StratifiedKFold(settings["folds"], shuffle=True, random_state=seed).split(X, y["event"]))
            for seed in settings["seeds"]
        }
        tau, grid = _metric_grid(y, [s for f in folds.values() for s in f])
        log(f"Uno's C: tau = {tau:.3f}; integrated Brier score on {grid.size} times in [{grid[0]:.3f}, {grid[-1]:.3f}]")
        rows = {m: {} for m in methods}
        t0 = float(grid[grid.size // 2])  # calibration horizon: inside every fold's test range
        oof = {}
        for seed in settings["seeds"]:
            makers = _estimators(settings, args, fs, encoders, seed)
            for method in methods:
                with warnings.catch_warnings():
                    # Coxnet's path may stop early at its smallest penalty; the benchmark reports what it gets.
                    warnings.filterwarnings("ignore", message=".*[Cc]onverge.*")
                    scores, seconds, predictions = _evaluate(
                        makers[method], inputs.get(method, X), y, folds[seed], tau, grid, t0
                    )
                rows[method][str(seed)] = {**scores, "seconds": seconds}
                if seed == settings["seeds"][0]:
                    oof[method] = predictions
                log(
                    f"  seed {seed} {METHOD_LABELS[method]:<52} Harrell {np.mean(scores['harrell']):.3f}  "
                    f"Uno {np.mean(scores['uno']):.3f}  IBS {np.mean(scores['ibs']):.3f}  ({seconds:.0f} s)"
                )
        summary = _summary(rows)
        evidence, best = _evidence(oof, y, t0, args.n_resamples, settings["seeds"][0])
        result = {
            "benchmark": "cox_baselines",
            "command": "python benchmarks/cox_baselines.py " + " ".join(sys.argv[1:] if argv is None else argv),
            "preset": "quick" if args.quick else "default",
            "cohort": description,
            "n_samples": int(X.shape[0]),
            "n_events": int(y["event"].sum()),
            "settings": {**settings, "batch_size": args.batch_size, "lr": args.lr, "arch": args.arch, "fs": fs},
            "tau": tau,
            "ibs_times": grid,
            "pretraining": pretraining,
            "methods": summary,
            "calibration_horizon": t0,
            "best_simple_baseline": best,
            "evidence": evidence,
            "per_seed": rows,
            "total_seconds": time.perf_counter() - total_start,
            "machine": machine_info(),
        }
        write_json(out / "cox_baselines.json", result)
        header = (
            f"{description}; {settings['folds']}-fold StratifiedKFold x seeds {settings['seeds']}; "
            f"deep: arch={args.arch}, {settings['max_epochs']} epochs"
        )
        (out / "cox_baselines.md").write_text(_markdown(summary, header, evidence, best, t0))
        _figure(summary, out / "cox_baselines.png", header)
        log("\n" + _markdown(summary, header, evidence, best, t0))
        log(f"total {result['total_seconds']:.0f} s; wrote {out / 'cox_baselines.json'}, .md, .png")
        return result


if __name__ == "__main__":
    main()
