"""The paper protocol on a real outcome cohort: CODE-15%, SaMi-Trop or MIMIC-IV-ECG.

Call like this::

    python benchmarks/real_cohorts.py --cohort code15 --root ~/sksurv_ecg_data/code15 --parts 0 \\
        --max-patients 5000 --out real-code15                             # part 0, a 5000-patient subset
    python benchmarks/real_cohorts.py --cohort samitrop --root samitrop/ --device cuda --arch paper --out real-sami
    python benchmarks/real_cohorts.py --cohort mimic --root mimic-iv-ecg/ \\
        --outcomes mimiciv/3.1/hosp/patients.csv.gz --admissions mimiciv/3.1/hosp/admissions.csv.gz --out real-mimic

Protocol (``docs/real_cohorts.md``):

1. the cohort is loaded by ``load_code15`` / ``load_samitrop`` / ``load_mimic_iv_ecg`` (one exam per
   patient, blank follow-up left out), optionally cut to ``--max-patients`` patients drawn at
   random (``--seed``);
2. median beats by :class:`sksurv_ecg.preprocessing.MedianBeat` (500 Hz, 608 samples);
   records without a median beat are dropped and counted;
3. every method is fitted on the **same** patient-grouped folds: ``StratifiedGroupKFold`` (groups =
   patient id, stratified on the event so that no test fold is eventless), for each seed;
4. methods: Cox PH on age + sex (the floor); Coxnet on :class:`~sksurv_ecg.biomarkers.ECGBiomarkers`;
   ``ECGSurvivalAnalysis`` from scratch; an ``ECGEmbedder`` pretrained on the training fold's own
   median beats (no reports exist for these cohorts), then Coxnet on its codes and
   ``ECGSurvivalAnalysis`` warm-started from it. Pretraining sees only the training fold;
5. per fold Harrell's C; pooled out-of-fold predictions of the first seed: Harrell's C with a
   bootstrap interval (:func:`sksurv_ecg.metrics.bootstrap_ci`) and calibration at the median
   event time (:func:`sksurv_ecg.metrics.calibration_at`).

Outputs in ``--out``: ``real_cohorts.json`` (also printed), ``real_cohorts_cindex.png`` (C with
intervals per method) and ``real_cohorts_calibration.png`` (observed against predicted risk at the
horizon, per method). Published reference: Lukyanenko et al. (arXiv 2406.17002) report a median
C-index of 0.83 for mortality on CODE-15%.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ARCHITECTURES, machine_info, report, set_threads  # noqa: E402

__all__ = ["main"]

METHOD_LABELS = {
    "clinical": "Cox PH, age + sex (floor)",
    "biomarkers_coxnet": "Coxnet on ECGBiomarkers",
    "deep_scratch": "ECGSurvivalAnalysis, from scratch",
    "embedder_coxnet": "ECGEmbedder (pretrained on the fold) + Coxnet",
    "deep_pretrained": "ECGSurvivalAnalysis, pretrained on the fold",
}
PUBLISHED = {"code15": {"c_index": 0.83, "source": "Lukyanenko et al., arXiv 2406.17002 (median C, mortality)"}}
FS = 500  # MedianBeat's default layout: 600-sample beats at 500 Hz, centre padded to 608


def _parser():
    doc = __doc__.splitlines()[0]
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cohort", choices=["code15", "samitrop", "mimic"], required=True)
    parser.add_argument("--root", required=True, help="release folder (as fetch_* returns it)")
    parser.add_argument("--parts", type=int, nargs="+", default=None, help="CODE-15%% parts (default: all present)")
    parser.add_argument("--outcomes", default=None, help="MIMIC-IV patients.csv(.gz) (mimic)")
    parser.add_argument("--admissions", default=None, help="MIMIC-IV admissions.csv(.gz) (mimic)")
    parser.add_argument("--max-patients", type=int, default=None, help="random subset of this many patients")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--max-epochs", type=int, default=30, help="survival training epochs")
    parser.add_argument("--pretrain-epochs", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default="tiny")
    parser.add_argument("--methods", nargs="+", choices=list(METHOD_LABELS), default=list(METHOD_LABELS))
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--n-jobs", type=int, default=None, help="processes for MedianBeat / threads for loading")
    parser.add_argument("--n-resamples", type=int, default=1000, help="bootstrap resamples for the interval")
    parser.add_argument("--seed", type=int, default=0, help="seed of the patient subset")
    parser.add_argument("--out", default="real-cohorts-output")
    parser.add_argument("--verbose", type=int, default=1)
    return parser


def _load(args):
    """``X`` (10-s strips), ``y``, patient ids, clinical covariates and a description."""
    import pandas as pd

    from sksurv_ecg.datasets import load_code15, load_mimic_iv_ecg, load_samitrop

    common = {"fs": FS, "length": 10 * FS, "n_jobs": args.n_jobs, "verbose": args.verbose}
    if args.cohort == "code15":
        X, y, frame = load_code15(args.root, parts=args.parts, **common)
        clinical = pd.DataFrame({"age": frame["age"], "male": frame["is_male"].astype(float)})
        groups = frame["patient_id"]
    elif args.cohort == "samitrop":
        X, y, frame = load_samitrop(args.root, **common)
        clinical = pd.DataFrame({"age": frame["age"], "male": frame["is_male"].astype(float)})
        groups = frame["patient_id"]
    else:
        if args.outcomes is None:
            raise SystemExit("--cohort mimic needs --outcomes (MIMIC-IV patients.csv) and, ideally, --admissions.")
        X, y, frame = load_mimic_iv_ecg(args.root, args.outcomes, admissions=args.admissions, **common)
        clinical = pd.DataFrame({"age": frame["anchor_age"], "male": (frame["gender"] == "M").astype(float)})
        groups = frame["subject_id"]
    return X, y, groups.to_numpy(), clinical.to_numpy(float), frame


def _subset(X, y, groups, clinical, max_patients, seed):
    patients = np.unique(groups)
    if max_patients is None or max_patients >= len(patients):
        return X, y, groups, clinical
    chosen = np.random.default_rng(seed).choice(patients, size=max_patients, replace=False)
    keep = np.flatnonzero(np.isin(groups, chosen))
    return X[keep], y[keep], groups[keep], clinical[keep]


def _coxnet():
    from sksurv.linear_model import CoxnetSurvivalAnalysis

    return CoxnetSurvivalAnalysis(l1_ratio=0.5, alpha_min_ratio=0.1, fit_baseline_model=True)


def _fit_fold(method, data, y, train, args, seed, pretrained):
    """Fit ``method`` on the rows ``train``; return the fitted estimator."""
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sksurv.linear_model import CoxPHSurvivalAnalysis

    from sksurv_ecg import ECGEmbedder, ECGSurvivalAnalysis
    from sksurv_ecg.biomarkers import ECGBiomarkers

    deep = {
        "max_epochs": args.max_epochs,
        "batch_size": min(args.batch_size, len(train)),
        "lr": args.lr,
        "device": args.device,
        "random_state": seed,
        **ARCHITECTURES[args.arch],
    }
    makers = {
        "clinical": lambda: make_pipeline(StandardScaler(), CoxPHSurvivalAnalysis()),
        "biomarkers_coxnet": lambda: make_pipeline(ECGBiomarkers(fs=FS), StandardScaler(), _coxnet()),
        "deep_scratch": lambda: ECGSurvivalAnalysis(**deep),
        "embedder_coxnet": lambda: make_pipeline(
            ECGEmbedder(encoder=pretrained(), device=args.device), StandardScaler(), _coxnet()
        ),
        "deep_pretrained": lambda: ECGSurvivalAnalysis(encoder=pretrained(), **deep),
    }
    return makers[method]().fit(data[train], y[train])


def _cross_validate(methods, beats, clinical, y, groups, args, log):
    """Out-of-fold risk and survival at ``t0`` per method, on identical patient-grouped folds."""
    from sklearn.model_selection import StratifiedGroupKFold
    from sksurv.metrics import concordance_index_censored

    from sksurv_ecg import ECGEmbedder

    t0 = float(np.quantile(y["time"][y["event"]], 0.5))
    per_seed = {m: {} for m in methods}
    oof = {}
    seconds = dict.fromkeys(methods, 0.0)
    for seed in args.seeds:
        cv = StratifiedGroupKFold(args.folds, shuffle=True, random_state=seed)
        folds = list(cv.split(beats, y["event"], groups))
        preds = {m: {"risk": np.full(len(y), np.nan), "surv_t0": np.full(len(y), np.nan)} for m in methods}
        for k, (train, test) in enumerate(folds):
            cache = {}

            def pretrained(train=train, cache=cache, seed=seed):
                if "encoder" not in cache:  # once per fold, on the training fold's beats only
                    start = time.perf_counter()
                    cache["encoder"] = ECGEmbedder(
                        max_epochs=args.pretrain_epochs,
                        batch_size=min(args.batch_size, len(train)),
                        device=args.device,
                        random_state=seed,
                        **ARCHITECTURES[args.arch],
                    ).fit(beats[train])
                    cache["seconds"] = time.perf_counter() - start
                return cache["encoder"]

            for method in methods:
                data = clinical if method == "clinical" else beats
                start = time.perf_counter()
                est = _fit_fold(method, data, y, train, args, seed, pretrained)
                preds[method]["risk"][test] = est.predict(data[test])
                preds[method]["surv_t0"][test] = [fn(t0) for fn in est.predict_survival_function(data[test])]
                seconds[method] += time.perf_counter() - start
                c = concordance_index_censored(y["event"][test], y["time"][test], preds[method]["risk"][test])[0]
                per_seed[method].setdefault(str(seed), []).append(float(c))
            log(f"  seed {seed} fold {k + 1}/{len(folds)} done")
        if seed == args.seeds[0]:
            oof = preds
    return per_seed, oof, t0, seconds


def _evidence(oof, y, t0, n_resamples, seed):
    """Pooled out-of-fold C with its bootstrap interval and calibration at ``t0``, per method.

    Calibration needs varied predictions (a spline of the predicted risk); a method whose
    predictions are (nearly) constant, e.g. a Coxnet that kept no feature, gets NaN and the reason.
    """
    from sksurv_ecg.metrics import bootstrap_ci, calibration_at

    out = {}
    for method, p in oof.items():
        ci = bootstrap_ci(y, p["risk"], n_resamples=n_resamples, random_state=seed)
        entry = {"c_pooled": ci.estimate, "c_low": ci.low, "c_high": ci.high, "n_invalid": ci.n_invalid}
        try:
            cal = calibration_at(y, np.clip(1.0 - p["surv_t0"], 0.0, 1.0), t0, log_risk=p["risk"])
        except ValueError as exc:
            entry.update(ici=np.nan, slope=np.nan, calibration_in_the_large=np.nan, calibration_error=str(exc))
            entry["groups"] = None
        else:
            entry.update(ici=cal.ici, slope=cal.slope, calibration_in_the_large=cal.calibration_in_the_large)
            entry["groups"] = {"predicted": np.asarray(cal.group_predicted), "observed": np.asarray(cal.group_observed)}
        out[method] = entry
    return out


def _figures(evidence, out, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = list(evidence)
    fig, ax = plt.subplots(figsize=(7, 0.5 + 0.5 * len(methods)))
    c = np.array([evidence[m]["c_pooled"] for m in methods])
    lo = np.array([evidence[m]["c_low"] for m in methods])
    hi = np.array([evidence[m]["c_high"] for m in methods])
    ax.errorbar(c, range(len(methods)), xerr=[c - lo, hi - c], fmt="o", capsize=3)
    ax.set_yticks(range(len(methods)), [METHOD_LABELS[m] for m in methods])
    ax.axvline(0.5, color="grey", lw=0.5)
    ax.set_xlabel("Harrell's C (pooled out-of-fold, 95% bootstrap interval)")
    ax.set_title(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "real_cohorts_cindex.png", dpi=120, bbox_inches="tight")
    plt.close(fig)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for m in methods:
        groups = evidence[m]["groups"]
        if groups is not None:
            ax.plot(groups["predicted"], groups["observed"], "o-", label=METHOD_LABELS[m], ms=3)
    ax.plot([0, 1], [0, 1], color="grey", lw=0.5)
    ax.set_xlabel("predicted risk at the horizon")
    ax.set_ylabel("observed risk (Kaplan-Meier)")
    ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(out / "real_cohorts_calibration.png", dpi=120, bbox_inches="tight")
    plt.close(fig)


def main(argv=None):
    """Run the protocol on a cohort; write JSON and figures; return the result dictionary.

    Parameters
    ----------
    argv : list of str or None, default=None
        Command-line arguments; ``sys.argv[1:]`` when None.

    Returns
    -------
    result : dict
        What ``real_cohorts.json`` holds.
    """
    from sksurv_ecg.preprocessing import MedianBeat

    args = _parser().parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def log(msg):
        if args.verbose:
            print(msg, file=sys.stderr, flush=True)

    start_all = time.perf_counter()
    with set_threads(args.threads), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        start = time.perf_counter()
        X, y, groups, clinical, _ = _load(args)
        X, y, groups, clinical = _subset(X, y, groups, clinical, args.max_patients, args.seed)
        load_seconds = time.perf_counter() - start
        log(f"loaded {len(y)} patients ({int(y['event'].sum())} events) in {load_seconds:.0f} s")
        start = time.perf_counter()
        median_beat = MedianBeat(fs=FS, errors="warn", n_jobs=args.n_jobs)
        beats = median_beat.fit_transform(X)
        ok = ~median_beat.failed_
        beats, y, groups, clinical = beats[ok], y[ok], groups[ok], clinical[ok]
        beat_seconds = time.perf_counter() - start
        del X
        log(f"median beats: {int(ok.sum())} kept, {int((~ok).sum())} without a beat ({beat_seconds:.0f} s)")
        per_seed, oof, t0, seconds = _cross_validate(args.methods, beats, clinical, y, groups, args, log)
        evidence = _evidence(oof, y, t0, args.n_resamples, args.seeds[0])
    methods = {
        m: {
            "label": METHOD_LABELS[m],
            "harrell_folds": per_seed[m],
            "harrell_mean": float(np.mean([c for v in per_seed[m].values() for c in v])),
            "harrell_std": float(np.std([c for v in per_seed[m].values() for c in v])),
            "seconds": seconds[m],
            **{k: v for k, v in evidence[m].items() if k != "groups"},
        }
        for m in args.methods
    }
    result = {
        "benchmark": "real_cohorts",
        "command": "python benchmarks/real_cohorts.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "cohort": args.cohort,
        "root": str(args.root),
        "n_patients": int(len(y)),
        "n_events": int(y["event"].sum()),
        "n_without_median_beat": int((~ok).sum()),
        "median_follow_up_years": float(np.median(y["time"])),
        "settings": {
            k: getattr(args, k)
            for k in ("parts", "max_patients", "folds", "seeds", "max_epochs", "pretrain_epochs", "batch_size", "lr")
        }
        | {"arch": args.arch, "device": args.device, "cv": "StratifiedGroupKFold(groups=patient, y=event)"},
        "calibration_horizon_years": t0,
        "methods": methods,
        "published": PUBLISHED.get(args.cohort),
        "warnings": sorted({f"{w.category.__name__}: {w.message}" for w in caught}),
        "seconds": {"load": load_seconds, "median_beats": beat_seconds, "total": time.perf_counter() - start_all},
        "machine": machine_info(),
    }
    _figures(evidence, out, f"{args.cohort}: {len(y)} patients, {int(y['event'].sum())} events")
    report(result, out, "real_cohorts.json")
    return result


if __name__ == "__main__":
    main()
