"""The ``sksurv-ecg`` command: ``demo``, ``pretrain`` and ``fit``.

``demo`` is the package's main job on data that ship with it, so it runs on a fresh machine: real
clinical ECG files (DICOM, GE CardioSoft XML, Philips Sierra XML) -> median beats -> embeddings of
the devices' statements -> text-aligned pretraining -> deep Cox model on a synthetic cohort of the
same shape -> the same folds for Cox baselines -> a comparison table and figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["main"]


class _Stage:
    """Print a numbered stage header and, on exit, how long it took."""

    def __init__(self, number, total, title):
        self.header = f"[{number}/{total}] {title}"

    def __enter__(self):
        print(f"\n{self.header}", flush=True)
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            print(f"      done in {time.perf_counter() - self.start:.1f} s", flush=True)
        return False


def _print_records(frame, beats):
    print(f"      {'file':<28}  {'format':<10}  {'Hz':>4}  {'age':>3}  {'sex':<6}  {'beat':<7}  device statements")
    for (_, row), beat in zip(frame.iterrows(), beats, strict=True):
        age = "-" if pd.isna(row["age"]) else f"{row['age']:.0f}"
        shape = "x".join(map(str, beat.shape))
        text = row["interpretation"] or "-"
        print(
            f"      {Path(row['path']).name:<28}  {row['format']:<10}  {row['fs']:>4.0f}  {age:>3}  "
            f"{'-' if pd.isna(row['sex']) else row['sex']:<6}  {shape:<7}  {text[:50]}"
        )


def _report_embeddings(texts):
    from .text import ReportEmbedder

    texts = [text or "no statement" for text in texts]
    try:
        embedder = ReportEmbedder(source="report")
        return embedder.fit_transform(texts), embedder.model_id_
    except ImportError as err:  # the text extra is missing: say so and fall back to a bag of words
        print(f"      {err}\n      falling back to a bag of the statements' words as 'text' embeddings")
        words = [set(text.lower().replace(";", " ").split()) for text in texts]
        vocabulary = sorted(set().union(*words))
        return np.array([[w in ws for w in vocabulary] for ws in words], dtype=np.float32), "bag of words"


def _comparison(X, y, frame, encoder, *, n_folds, max_epochs, seed):
    """Cross-validate Cox baselines and the deep model on the same stratified folds.

    Returns the table rows and the text-aligned deep model's out-of-fold risks (each patient scored
    by the fold model that did not train on them), for the risk-group figure.
    """
    from sklearn.model_selection import StratifiedKFold, cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sksurv.linear_model import CoxnetSurvivalAnalysis, CoxPHSurvivalAnalysis

    from .biomarkers import ECGBiomarkers
    from .survival import ECGSurvivalAnalysis

    # The seed's classical baseline: a penalised Cox model on biomarkers measured from the signal.
    biomarker_cox = make_pipeline(ECGBiomarkers(), StandardScaler(), CoxnetSurvivalAnalysis(l1_ratio=0.5))
    folds = list(StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(X, y["event"]))
    truth = ["age", "sex", "heart_rate", "qrs_duration", "qtc", "st_deviation", "t_amplitude"]
    n_train = min(len(train) for train, _ in folds)
    deep = {"max_epochs": max_epochs, "batch_size": min(64, n_train), "lr": 1e-3, "random_state": seed}
    methods = [
        ("Cox PH, age + sex (floor)", make_pipeline(StandardScaler(), CoxPHSurvivalAnalysis()), frame[["age", "sex"]]),
        ("Coxnet on measured ECG biomarkers", biomarker_cox, X),
        ("ECGSurvivalAnalysis, from scratch", ECGSurvivalAnalysis(**deep), X),
        ("ECGSurvivalAnalysis, text-aligned encoder", ECGSurvivalAnalysis(encoder=encoder, **deep), X),
        (
            "Cox PH, true hazard features (ceiling)",
            make_pipeline(StandardScaler(), CoxPHSurvivalAnalysis()),
            frame[truth],
        ),
    ]
    rows, oof_risk = [], np.empty(len(X))
    for name, estimator, data in methods:
        start = time.perf_counter()
        result = cross_validate(estimator, data, y, cv=folds, error_score="raise", return_estimator=True)
        scores = result["test_score"]
        if getattr(estimator, "encoder", None) is encoder:
            for fitted, (_, test) in zip(result["estimator"], folds, strict=True):
                oof_risk[test] = fitted.predict(data[test])
        rows.append(
            {
                "method": name,
                "c_index_mean": float(scores.mean()),
                "c_index_std": float(scores.std()),
                "folds": scores.tolist(),
                "seconds": time.perf_counter() - start,
            }
        )
        print(
            f"      {name:<45} C = {scores.mean():.3f} +/- {scores.std():.3f}  ({rows[-1]['seconds']:.0f} s)",
            flush=True,
        )
    return rows, oof_risk


def _table(rows):
    lines = ["| method | Harrell's C (mean +/- std over folds) | time (s) |", "|---|---|---|"]
    lines += [
        f"| {r['method']} | {r['c_index_mean']:.3f} +/- {r['c_index_std']:.3f} | {r['seconds']:.0f} |" for r in rows
    ]
    return "\n".join(lines)


def _figures(model, beats, X_cohort, y_cohort, oof_risk, out):
    """Attention over a real record, lead attention by risk group, Kaplan-Meier by out-of-fold risk group.

    The Kaplan-Meier groups are split on out-of-fold risks: split on the risks of the model fitted to
    the same patients, they would overstate the separation.
    """
    from .explain import attention_maps
    from .plotting import plot_ecg_attention, plot_lead_attention, plot_risk_groups

    record = attention_maps(model, beats[:1])
    # A group of 10 % at the top: the seed's 96th percentile leaves too few ECGs in a demo cohort.
    figures = {
        "attention_real_record.png": plot_ecg_attention(
            beats[0], record["time"][0], title="Projected temporal attention, pydicom's example ECG"
        ),
        "lead_attention_risk_groups.png": plot_lead_attention(
            attention_maps(model, X_cohort)["lead"], oof_risk, percentile=90
        ),
        "kaplan_meier_risk_groups.png": plot_risk_groups(
            oof_risk, y_cohort, percentile=90, time_label="Time (years)", n_at_risk_times=5
        ),
    }
    figures["kaplan_meier_risk_groups.png"].axes[0].set_title("Kaplan-Meier by out-of-fold risk (top 10 % vs rest)")
    written = []
    for name, fig in figures.items():
        fig.savefig(out / name, dpi=110)
        written.append(out / name)
    return written


def _held_out_calibration(model, X_test, y_test, out, seed):
    """Held-out C and calibration slope with their intervals, the ICI and the calibration figure."""
    from .calibration import MIN_CALIBRATION_EVENTS
    from .metrics import bootstrap_ci, calibration_slope
    from .plotting import plot_calibration

    n_events = int(y_test["event"].sum())
    if n_events < MIN_CALIBRATION_EVENTS:
        print(
            f"      only {n_events} events among the {len(y_test)} held-out ECGs (< {MIN_CALIBRATION_EVENTS}): too few "
            "to estimate calibration; run with a larger --n-samples (the default 500 gives about 45)."
        )
        return
    horizon = float(np.median(y_test["time"][y_test["event"]]))
    risk = model.predict(X_test)
    c_index = bootstrap_ci(y_test, risk, n_resamples=1000, random_state=seed)
    slope = calibration_slope(y_test, risk, n_resamples=500, random_state=seed)
    predicted = model.predict_event_probability(X_test, [horizon])[:, 0]
    title = f"Held-out calibration at t = {horizon:.2f} y"
    fig = plot_calibration(y_test, predicted, horizon, log_risk=risk, random_state=seed, title=title)
    calibration = fig.calibration
    fig.savefig(out / "calibration.png", dpi=110)
    print(
        f"      {len(y_test)} held-out ECGs ({n_events} events); risk_scale_ {model.risk_scale_:.2f} fitted on "
        f"{model.n_calibration_events_} events the network did not train on ({model.calibration_source_})"
    )
    print(f"      Harrell's C        {c_index.estimate:.3f}  (95% CI {c_index.low:.3f}-{c_index.high:.3f})")
    print(f"      calibration slope  {slope.estimate:.2f}   (95% CI {slope.low:.2f}-{slope.high:.2f}; 1 is ideal)")
    print(
        f"      ICI at t = {horizon:.2f} y   {calibration.ici:.3f}  (mean predicted risk "
        f"{calibration.mean_predicted_risk:.3f}, Kaplan-Meier {calibration.observed_risk:.3f})"
    )
    print(f"      wrote {out / 'calibration.png'}")
    summary = {
        "horizon": horizon,
        "n_test": len(y_test),
        "n_test_events": n_events,
        "c_index": [c_index.estimate, c_index.low, c_index.high],
        "calibration_slope": [slope.estimate, slope.low, slope.high],
        "ici": calibration.ici,
        "mean_predicted_risk": calibration.mean_predicted_risk,
        "kaplan_meier_risk": calibration.observed_risk,
        "risk_scale": model.risk_scale_,
    }
    (out / "calibration.json").write_text(json.dumps(summary, indent=2))


def demo(args):
    """Run the main job on the bundled data and write everything to ``args.out``."""
    from .datasets import load_ecg_examples, make_ecg_survival
    from .embedding import TextAlignedPretrainer
    from .io import read_ecg
    from .preprocessing import MedianBeat
    from .survival import ECGSurvivalAnalysis

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    total = 7
    print(f"sksurv-ecg demo: bundled clinical ECG files + a synthetic cohort; output in {out.resolve()}")
    with _Stage(1, total, "Real clinical ECG files (bundled, see PROVENANCE.md) -> 500 Hz -> median beats"):
        # The 10-s strips: Philips' 11-s strip ends with a calibration pulse, cut by length=5000.
        signals, frame = read_ecg(load_ecg_examples(), fs=500, length=5000)
        beats = MedianBeat(fs=500).fit_transform(signals)
        _print_records(frame, beats)
    with _Stage(2, total, "Embeddings of the devices' own statements (LLM-informed text side)"):
        text, model_id = _report_embeddings(frame["interpretation"].tolist())
        print(f"      {text.shape[0]} records -> {text.shape[1]}-d embeddings with {model_id}")
    with _Stage(3, total, "Text-aligned pretraining of the dual-attention encoder on the real median beats"):
        pretrainer = TextAlignedPretrainer(
            max_epochs=args.pretrain_epochs, batch_size=len(beats), random_state=args.seed, verbose=args.verbose
        ).fit(beats, text)
        losses = pretrainer.history_[:, "train_loss"]
        print(f"      loss {losses[0]:.3f} -> {losses[-1]:.3f} over {len(losses)} epochs")
    with _Stage(4, total, f"Synthetic cohort of {args.n_samples} 12-lead median beats with a known hazard"):
        X, y, truth = make_ecg_survival(args.n_samples, event_rate=0.3, random_state=args.seed)
        print(f"      X {X.shape}, {int(y['event'].sum())} events ({y['event'].mean():.0%})")
    with _Stage(5, total, f"Same {args.folds} stratified folds for every method (Harrell's C on held-out folds)"):
        rows, oof_risk = _comparison(
            X, y, truth, pretrainer, n_folds=args.folds, max_epochs=args.epochs, seed=args.seed
        )
        table = _table(rows)
        (out / "comparison.md").write_text(table + "\n")
        (out / "comparison.json").write_text(json.dumps(rows, indent=2))
        print("\n" + table)
    with _Stage(6, total, "Absolute risks on held-out ECGs: the calibrated model on 70 %, tested on 30 %"):
        from sklearn.model_selection import train_test_split

        train, test = train_test_split(np.arange(len(X)), test_size=0.3, stratify=y["event"], random_state=args.seed)
        # the default calibration holds a quarter of the training ECGs out of the network's training
        model = ECGSurvivalAnalysis(
            encoder=pretrainer, max_epochs=args.epochs, batch_size=min(64, len(train)), lr=1e-3, random_state=args.seed
        ).fit(X[train], y[train])
        model.save(out / "model")
        _held_out_calibration(model, X[test], y[test], out, args.seed)
    with _Stage(7, total, "Figures: attention over a real record; lead attention and survival by risk group"):
        written = _figures(model, beats, X, y, oof_risk, out)
        for path in written:
            print(f"      wrote {path}")
    print(f"\nAll outputs are in {out.resolve()}")
    return 0


def _pretrain_root(args):
    from .datasets import fetch_ptbxl, fetch_ptbxl_plus

    ids = args.ecg_ids
    if args.fetch:
        kwargs = {"data_home": args.data_home, "ecg_ids": ids, "n_jobs": args.download_jobs, "verbose": True}
        root = fetch_ptbxl(base_url=args.base_url, **kwargs) if args.base_url else fetch_ptbxl(**kwargs)
        plus = None
        if args.input in ("12sl", "unig"):
            kwargs["median_beats"] = (args.input,)
            if args.plus_base_url:
                kwargs["base_url"] = args.plus_base_url
            plus = fetch_ptbxl_plus(**kwargs)[0]
        return root, plus
    if args.ptbxl is None:
        raise SystemExit("pass --ptbxl ROOT (a PTB-XL download) or --fetch to download it")
    return Path(args.ptbxl), Path(args.plus_root) if args.plus_root else None


def _cached_beats(args, root, plus, frame, cache):
    """(n, 12, 608) beats as a read-only memmap in ``cache``, built once (resumable for the 10-s records)."""
    from numpy.lib.format import open_memmap

    from .datasets import load_ptbxl
    from .io import to_memmap
    from .preprocessing import MedianBeat

    beats_path = cache / f"beats-{args.input}.npy"
    done = cache / f"beats-{args.input}.done"
    if not done.is_file():
        if args.input == "median-beats":
            records = frame["filename_hr"].tolist()
            signals = to_memmap(records, cache / "signals500.npy", root=root, fs=500, verbose=True)
            beats = open_memmap(beats_path, mode="w+", dtype=np.float32, shape=(len(frame), 12, 608))
            extractor = MedianBeat(fs=500)
            for start in range(0, len(frame), 256):  # chunks keep memory flat whatever the cohort size
                beats[start : start + 256] = extractor.fit_transform(np.asarray(signals[start : start + 256]))
            beats.flush()
        else:
            X, _ = load_ptbxl(root, ecg_ids=frame.index.tolist(), median_beats=args.input, plus_root=plus or root)
            np.save(beats_path, X)
        done.write_text("complete\n")
    return np.load(beats_path, mmap_mode="r")


def _text_embeddings(args, frame, cache):
    from .text import ReportEmbedder

    texts = frame["scp_codes"].tolist() if args.text == "scp" else frame["report"].tolist()
    kwargs = {"source": args.text, "verbose": 1}
    if args.text_model:
        kwargs["model"] = args.text_model
    return ReportEmbedder(**kwargs).fit_transform(texts).astype(np.float32)


def _module_options(pairs):
    options = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"--module {pair!r}: expected KEY=VALUE, e.g. --module latent_dim=256")
        try:
            options[f"module__{key}"] = json.loads(value)
        except json.JSONDecodeError:
            options[f"module__{key}"] = value
    return options


def pretrain(args):
    """The paper's pretraining on PTB-XL from the command line; saves a directory ``encoder=`` accepts."""
    from .embedding import ECGEmbedder, TextAlignedPretrainer

    module_options = _module_options(args.module)  # refuse a malformed option before any download
    root, plus = _pretrain_root(args)
    frame = _frame_only(root, args)
    out = Path(args.out)
    cache = Path(args.cache) if args.cache else out.with_name(out.name + "-cache")
    cache.mkdir(parents=True, exist_ok=True)
    beats = _cached_beats(args, root, plus, frame, cache)
    keep = np.flatnonzero(np.isfinite(beats[:, 0, 0]))  # PTB-XL+ has no beat for some records
    if len(keep) < len(frame):
        print(f"      {len(frame) - len(keep)} of {len(frame)} records have no {args.input} median beat; left out")
    params = {
        "max_epochs": args.max_epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "random_state": args.random_state,
        "verbose": 1,
        "device": args.device,
        "precision": args.precision,
        "checkpoint_dir": args.checkpoint_dir or str(out.with_name(out.name + "-checkpoints")),
        **module_options,
    }
    X = beats if len(keep) == len(frame) else beats[keep]
    if args.text == "none":
        model = ECGEmbedder(**params).fit(X)
    else:
        text = _text_embeddings(args, frame.iloc[keep], cache)
        model = TextAlignedPretrainer(**params).fit(X, text)
    print(f"saved to {model.save(out)}")
    return 0


def _frame_only(root, args):
    from .datasets import read_ptbxl_database

    return read_ptbxl_database(root, folds=args.folds, ecg_ids=args.ecg_ids)


def _calibration_value(text):
    """``--calibration``: "none" -> None, an integer -> int, any other word as given (the estimator checks it)."""
    if text.lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        return text


def _fit_data(args):
    """X, y and where they came from: .npy files, or the synthetic cohort."""
    from sksurv.util import Surv

    if args.synthetic is not None:
        from .datasets import make_ecg_survival

        X, y, _ = make_ecg_survival(
            args.synthetic, fs=args.fs, event_rate=args.event_rate, random_state=args.random_state
        )
        return X, y, f"synthetic cohort (make_ecg_survival, n={args.synthetic}, event_rate={args.event_rate})"
    X = np.load(args.X, mmap_mode="r")
    # Surv.from_arrays refuses an event indicator other than 0/1 or bool (an event coded 2, say).
    y = Surv.from_arrays(np.load(args.event), np.load(args.time))
    return X, y, ".npy files"


def _fit_model(args):
    """An unfitted ECGSurvivalAnalysis with the command line's settings; a bad value stops here."""
    from sklearn.utils._param_validation import InvalidParameterError

    from .survival import ECGSurvivalAnalysis

    # Options left out (None) fall back to the preset, then to the estimator's own defaults.
    given = {
        "lr": args.lr,
        "max_epochs": args.max_epochs,
        "batch_size": args.batch_size,
    }
    params = {
        **{k: v for k, v in given.items() if v is not None},
        "fs": args.fs,
        "encoder": args.encoder,
        "calibration": args.calibration,
        "validation_fraction": args.validation_fraction,
        "random_state": args.random_state,
        "verbose": args.verbose,
        "device": args.device,
        "precision": args.precision,
        "checkpoint_dir": args.checkpoint_dir,
        **_module_options(args.module),
    }
    if args.preset is not None:
        model = ECGSurvivalAnalysis.from_preset(args.preset, **params)
    else:
        model = ECGSurvivalAnalysis(**params)
    try:
        model._validate_params()  # the estimator's own constraints, before any data is read
    except InvalidParameterError as err:
        raise SystemExit(f"sksurv-ecg fit: {err}") from None
    return model


def _survival_at(model, X, horizon):
    """``S(horizon | x)`` for each ECG of ``X``, or the reason it cannot be had (a horizon past the training times)."""
    functions = model.predict_survival_function(X)
    first, last = functions[0].domain
    if not first <= horizon <= last:
        return None, f"the horizon {horizon:g} is outside the times the model was fitted on ({first:g} to {last:g})"
    return np.array([fn(horizon) for fn in functions]), None


def _fold_model(model, name):
    """An unfitted copy; out of fold, each fit checkpoints to its own subfolder so none resumes another."""
    from sklearn.base import clone

    copy = clone(model)
    if name is not None and model.checkpoint_dir is not None:
        copy.set_params(checkpoint_dir=str(Path(model.checkpoint_dir) / name))
    return copy


def _evaluate(model, X, y, args):
    """Fit and score on a held-out part, or out of fold; returns the fitted model and the report's numbers."""
    from sklearn.model_selection import StratifiedKFold, train_test_split

    from .metrics import check_horizon

    event, time = y["event"], y["time"]
    if args.cv is None:
        train, test = train_test_split(
            np.arange(len(y)), test_size=args.test_fraction, stratify=event, random_state=args.random_state
        )
        folds = [(np.sort(train), np.sort(test))]
    else:
        splitter = StratifiedKFold(args.cv, shuffle=True, random_state=args.random_state)
        folds = list(splitter.split(np.zeros(len(y)), event))
    evaluated = np.sort(np.concatenate([test for _, test in folds]))
    # The horizon is chosen on the evaluation outcomes only, before any prediction is looked at.
    horizon = args.horizon if args.horizon is not None else float(np.median(time[evaluated][event[evaluated]]))
    try:  # a horizon past the follow-up is refused before hours of training, not after
        check_horizon(y[evaluated], horizon, name="--horizon")
    except ValueError as err:
        raise SystemExit(f"sksurv-ecg fit: {err}") from None
    risk, survival = np.empty(len(y)), np.empty(len(y))
    fold_c, problem = [], None
    for number, (train, test) in enumerate(folds, start=1):
        if args.cv is not None:
            print(f"fold {number}/{len(folds)}: training on {len(train)} ECGs", flush=True)
        fitted = _fold_model(model, f"fold-{number}" if args.cv else None).fit(X[train], y[train])
        risk[test] = fitted.predict(X[test])
        survival[test], why = _survival_at(fitted, X[test], horizon)
        problem = problem or why
        fold_c.append(float(fitted.score(X[test], y[test])))
    if args.cv is not None:
        print(f"refitting on all {len(y)} ECGs for the saved model", flush=True)
        fitted = _fold_model(model, "final").fit(X, y)
    predicted_risk = None if problem else 1.0 - survival[evaluated]
    scores = _scores(y[evaluated], risk[evaluated], predicted_risk, horizon, fold_c, args)
    scores["calibration_error"] = problem or scores["calibration_error"]
    return fitted, scores


def _scores(y, risk, predicted_risk, horizon, fold_c, args):
    from .metrics import bootstrap_ci, calibration_at

    ci = bootstrap_ci(
        y, risk, confidence_level=args.confidence_level, n_resamples=args.n_resamples, random_state=args.random_state
    )
    scores = {
        "n": len(y),
        "events": int(y["event"].sum()),
        "c_index": ci.estimate,
        "c_index_low": ci.low,
        "c_index_high": ci.high,
        "confidence_level": ci.confidence_level,
        "n_resamples": ci.n_resamples,
        "n_invalid_resamples": ci.n_invalid,
        "fold_c_index": fold_c,
        "horizon": horizon,
        "calibration_slope": None,
        "ici": None,
        "calibration_in_the_large": None,
        "calibration_error": None,
    }
    # Out of fold, each fold's model has its own baseline: the slope is then taken on log(-log S(t0|x)),
    # which includes it, rather than on log-risks of different models.
    log_risk = risk if args.cv is None else None
    if predicted_risk is None:
        return scores
    try:
        cal = calibration_at(y, predicted_risk, horizon, log_risk=log_risk)
    except ValueError as err:  # e.g. a horizon past the follow-up, or near-constant predictions
        scores["calibration_error"] = str(err)
    else:
        scores["calibration_slope"] = cal.slope
        scores["ici"] = cal.ici
        scores["calibration_in_the_large"] = cal.calibration_in_the_large
    return scores


def _report_path(args):
    out = Path(args.out)
    return Path(args.report) if args.report else out.with_name(out.name + "-report.json")


def fit(args):
    """Fit ECGSurvivalAnalysis, score it on data it did not train on, save it and a JSON report."""
    from ._version import __version__

    model = _fit_model(args)
    X, y, source = _fit_data(args)
    n, events = len(y), int(y["event"].sum())
    scheme = f"{args.cv}-fold cross-validation (out-of-fold)" if args.cv else f"held-out {args.test_fraction:g}"
    print(f"{source}: {n} ECGs of shape {tuple(X.shape[1:])}, {events} events; evaluation: {scheme}", flush=True)
    fitted, scores = _evaluate(model, X, y, args)
    saved = fitted.save(args.out)
    params = fitted.get_params(deep=False)
    report = {
        "command": "sksurv-ecg fit",
        "sksurv_ecg_version": __version__,
        "data": source,
        "n": n,
        "events": events,
        "n_leads": int(X.shape[1]),
        "n_timesteps": int(X.shape[2]),
        "evaluation": {
            "scheme": "cv" if args.cv else "holdout",
            "cv": args.cv,
            "test_fraction": None if args.cv else args.test_fraction,
            # the ECGs scored (the held-out part, or all of them out of fold) and their events
            "n": scores.pop("n"),
            "events": scores.pop("events"),
            "saved_model": "refit on all ECGs" if args.cv else "the model scored on the held-out part",
        },
        **scores,
        "settings": {
            "preset": args.preset,
            **{k: v for k, v in params.items() if k != "encoder"},
            "encoder": None if args.encoder is None else str(args.encoder),
        },
        "model": str(saved),
    }
    report_path = _report_path(args)
    report_path.parent.mkdir(parents=True, exist_ok=True)
    report_path.write_text(json.dumps(report, indent=2, default=str) + "\n")
    low, high, scored = scores["c_index_low"], scores["c_index_high"], report["evaluation"]
    print(
        f"Harrell's C = {scores['c_index']:.3f} ({scores['confidence_level']:.0%} CI {low:.3f}-{high:.3f}) on "
        f"{scored['n']} ECGs ({scored['events']} events) the model did not train on"
    )
    if scores["calibration_error"] is None:
        print(
            f"calibration at t = {scores['horizon']:g}: slope {scores['calibration_slope']:.2f}, "
            f"ICI {scores['ici']:.3f}"
        )
    else:
        print(f"calibration at t = {scores['horizon']:g} not computed: {scores['calibration_error']}")
    print(f"model saved to {saved}; report written to {report_path}")
    return 0


_PRESETS = ("paper", "cpu-small")  # ECGSurvivalAnalysis.PRESETS, named here so that --help imports no torch

_DESCRIPTION = (
    "sksurv-ecg: a deep dual-attention ECG survival model. Commands: demo runs the whole job on the data that "
    "ship with the package; pretrain runs the text-aligned pretraining on PTB-XL; fit trains the deep Cox model "
    "on your ECGs (or a synthetic cohort), scores it on data it did not train on and writes a report."
)


def _add_training_options(p, *, epochs_default):
    """Options that pretrain and fit share (the old names --epochs and --seed still work)."""
    p.add_argument(
        "--max-epochs",
        "--epochs",
        dest="max_epochs",
        type=int,
        default=epochs_default,
        help="training epochs (--epochs is the old name and still works) "
        + ("(default: the preset's)" if epochs_default is None else "(default: %(default)s)"),
    )
    p.add_argument(
        "--random-state",
        "--seed",
        dest="random_state",
        type=int,
        default=0,
        help="seed of the initialisation, batches and splits (--seed is the old name and still works) "
        "(default: %(default)s)",
    )
    p.add_argument(
        "--device", default="auto", help="cpu, cuda, cuda:N, or auto (CUDA when present) (default: %(default)s)"
    )
    p.add_argument(
        "--precision",
        choices=["float32", "bf16"],
        default="float32",
        help="arithmetic of training and prediction (default: %(default)s)",
    )
    p.add_argument("--checkpoint-dir", default=None, help="save every epoch here; rerun the same command to resume")
    p.add_argument(
        "--module",
        action="append",
        metavar="KEY=VALUE",
        help="architecture option of the network, repeatable, e.g. --module latent_dim=512",
    )


def _add_fit_parser(sub):
    p = sub.add_parser(
        "fit",
        help="fit the deep Cox model, score it on held-out data, save it and a JSON report",
        description="Fit ECGSurvivalAnalysis on ECGs saved as .npy files (or on a synthetic cohort), report "
        "Harrell's C with a bootstrap interval and the calibration at a horizon on data the model did not "
        "train on (a held-out part, or out of fold with --cv), save the model and write a JSON report.",
    )
    data = p.add_argument_group("data (either --X, --time and --event, or --synthetic)")
    data.add_argument("--X", default=None, help="(n, 12, T) float32 .npy file of ECGs (read memory-mapped)")
    data.add_argument("--time", default=None, help=".npy file of follow-up times, one per ECG")
    data.add_argument("--event", default=None, help=".npy file of event indicators (1/True: event, 0: censored)")
    data.add_argument(
        "--synthetic", type=int, default=None, metavar="N", help="use a synthetic cohort of N ECGs with a known hazard"
    )
    data.add_argument(
        "--event-rate", type=float, default=0.3, help="event fraction of the --synthetic cohort (default: %(default)s)"
    )
    data.add_argument("--fs", type=float, default=500.0, help="sampling rate of the ECGs in Hz (default: %(default)s)")

    model = p.add_argument_group("model")
    model.add_argument(
        "--preset",
        choices=_PRESETS,
        default=None,
        help="named settings: paper (the GPU settings of the paper, also the defaults: lr 1e-4, 100 epochs, "
        "batch 128) or cpu-small (lr 1e-3, 20 epochs, batch 64, for a few hundred ECGs on a CPU); "
        "--lr, --max-epochs and --batch-size override it",
    )
    model.add_argument("--lr", type=float, default=None, help="AdamW learning rate (default: the preset's)")
    model.add_argument("--batch-size", type=int, default=None, help="target batch size (default: the preset's)")
    model.add_argument(
        "--calibration",
        type=_calibration_value,
        default="auto",
        help="where the log-risk scale is fitted, as ECGSurvivalAnalysis(calibration=...) accepts: one of its "
        "named values, an integer k (k-fold out-of-fold), or none (default: %(default)s)",
    )
    model.add_argument(
        "--validation-fraction",
        type=float,
        default=None,
        help="fraction of the training part held out for model selection and calibration (default: none)",
    )
    model.add_argument("--encoder", default=None, help="directory of a saved pretrained encoder, or the seed's .ckpt")
    model.add_argument("--verbose", type=int, default=1, help="print the training progress when 1 (default: 1)")
    _add_training_options(model, epochs_default=None)

    evaluation = p.add_argument_group("evaluation")
    evaluation.add_argument(
        "--test-fraction",
        type=float,
        default=None,
        help="fraction held out for scoring, stratified on the event and seeded (default: 0.2 without --cv)",
    )
    evaluation.add_argument(
        "--cv",
        type=int,
        default=None,
        metavar="K",
        help="score out of fold over K stratified folds instead, then refit on all ECGs for the saved model",
    )
    evaluation.add_argument(
        "--horizon",
        type=float,
        default=None,
        help="time at which the calibration is measured (default: the median event time of the scored ECGs)",
    )
    evaluation.add_argument(
        "--n-resamples", type=int, default=1000, help="bootstrap resamples for the interval (default: %(default)s)"
    )
    evaluation.add_argument(
        "--confidence-level", type=float, default=0.95, help="coverage of the interval (default: %(default)s)"
    )

    output = p.add_argument_group("output")
    output.add_argument("--out", required=True, help="directory to save the fitted model to")
    output.add_argument(
        "--report", default=None, help="path of the JSON report (default: OUT-report.json, next to the model)"
    )
    return p


def _check_fit_args(parser, args):
    """Refuse contradictory or out-of-range evaluation and data options before anything is imported."""
    files = [args.X, args.time, args.event]
    if args.synthetic is None and None in files:
        parser.error("fit needs its data: --X, --time and --event (.npy files), or --synthetic N")
    if args.synthetic is not None and any(f is not None for f in files):
        parser.error("give either --synthetic or --X/--time/--event, not both")
    if args.synthetic is not None and args.synthetic < 4:
        parser.error(f"--synthetic {args.synthetic}: the cohort needs at least 4 ECGs")
    if args.cv is not None:
        if args.test_fraction is not None:
            parser.error("give either --cv (out-of-fold scoring) or --test-fraction (a held-out part), not both")
        if args.cv < 2:
            parser.error(f"--cv {args.cv}: use at least 2 folds")
    else:
        args.test_fraction = 0.2 if args.test_fraction is None else args.test_fraction
        if not 0 < args.test_fraction < 1:
            parser.error(f"--test-fraction {args.test_fraction}: use a fraction between 0 and 1, e.g. 0.2")
    if not 0 < args.confidence_level < 1:
        parser.error(f"--confidence-level {args.confidence_level}: use a level between 0 and 1, e.g. 0.95")
    if args.n_resamples < 1:
        parser.error(f"--n-resamples {args.n_resamples}: use a positive number, e.g. 1000")


def _parser():
    parser = argparse.ArgumentParser(prog="sksurv-ecg", description=_DESCRIPTION)
    sub = parser.add_subparsers(
        dest="command",
        required=True,
        metavar="{demo,pretrain,fit}",
        help="the command to run; COMMAND --help lists its options",
    )

    p = sub.add_parser("demo", help="the main job on the bundled data")
    p.add_argument("--out", default="demo-output", help="output folder (default: %(default)s)")
    p.add_argument("--n-samples", type=int, default=500, help="synthetic cohort size")
    p.add_argument("--folds", type=int, default=2, help="cross-validation folds (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=15, help="survival training epochs")
    p.add_argument("--pretrain-epochs", type=int, default=30, help="pretraining epochs (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of everything random (default: %(default)s)")
    p.add_argument("--verbose", type=int, default=0, help="training progress: 0 silent, 1 per epoch")

    p = sub.add_parser(
        "pretrain",
        help="the paper's text-aligned pretraining on PTB-XL (see docs/pretraining.md)",
        description="Pretrain the dual-attention encoder on PTB-XL (text-aligned, or as a denoising "
        "autoencoder with --text none) and save it as a directory that fit --encoder accepts.",
    )
    p.add_argument("--ptbxl", default=None, help="PTB-XL root folder (a PhysioNet download)")
    p.add_argument("--fetch", action="store_true", help="download PTB-XL (and PTB-XL+ if needed) first")
    p.add_argument("--base-url", default=None, help="PTB-XL release URL for --fetch (default: PhysioNet 1.0.3)")
    p.add_argument("--plus-base-url", default=None, help="PTB-XL+ release URL for --fetch (default: PhysioNet 1.0.1)")
    p.add_argument("--plus-root", default=None, help="PTB-XL+ folder for --input 12sl/unig without --fetch")
    p.add_argument("--data-home", default=None, help="download folder for --fetch (default: SKSURV_ECG_DOWNLOADS)")
    p.add_argument("--download-jobs", type=int, default=8, help="parallel downloads for --fetch (default: %(default)s)")
    p.add_argument(
        "--input",
        choices=["12sl", "unig", "median-beats"],
        default="12sl",
        help="PTB-XL+ 12SL beats (the paper's), Uni-G beats, or beats extracted here with MedianBeat",
    )
    p.add_argument("--folds", type=int, nargs="*", default=None, help="strat_fold values to use")
    p.add_argument("--ecg-ids", type=int, nargs="*", default=None, help="only these records")
    p.add_argument(
        "--text",
        choices=["scp", "report", "none"],
        default="scp",
        help="align with embeddings of the SCP statements, of the free-text reports, or train without text "
        "(default: %(default)s)",
    )
    p.add_argument("--text-model", default=None, help="any sentence-transformers model (paper: Bio_ClinicalBERT)")
    p.add_argument("--lr", type=float, default=1e-3, help="AdamW learning rate (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=128, help="batch size (default: %(default)s)")
    p.add_argument("--cache", default=None, help="memory-mapped cache folder (default: OUT-cache)")
    p.add_argument("--out", required=True, help="directory to save the fitted encoder to")
    _add_training_options(p, epochs_default=100)

    _add_fit_parser(sub)
    return parser


def main(argv=None):
    """Entry point of the ``sksurv-ecg`` command.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments; ``sys.argv[1:]`` when None.

    Returns
    -------
    int
        Exit status.
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "fit":
        _check_fit_args(parser, args)
    return {"demo": demo, "pretrain": pretrain, "fit": fit}[args.command](args)
