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
        "max_epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "random_state": args.seed,
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
    from .datasets._ptbxl import _DATABASE, _read_database, _read_statements, _select

    frame = _read_database(root / _DATABASE, _read_statements(root / "scp_statements.csv"))
    return _select(frame, args.folds, args.ecg_ids)


def fit(args):
    """Fit ECGSurvivalAnalysis on arrays saved as .npy files; saves the model."""
    from sksurv.util import Surv

    from .survival import ECGSurvivalAnalysis

    X = np.load(args.X, mmap_mode="r")
    y = Surv.from_arrays(np.load(args.event).astype(bool), np.load(args.time))
    model = ECGSurvivalAnalysis(
        encoder=args.encoder,
        max_epochs=args.epochs,
        batch_size=args.batch_size,
        random_state=args.seed,
        verbose=1,
        device=args.device,
        precision=args.precision,
        checkpoint_dir=args.checkpoint_dir,
    ).fit(X, y)
    print(f"training Harrell's C = {model.score(X, y):.3f}; saved to {model.save(args.out)}")
    return 0


def _parser():
    parser = argparse.ArgumentParser(prog="sksurv-ecg", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="the main job on the bundled data")
    p.add_argument("--out", default="demo-output", help="output folder (default: %(default)s)")
    p.add_argument("--n-samples", type=int, default=500, help="synthetic cohort size")
    p.add_argument("--folds", type=int, default=2)
    p.add_argument("--epochs", type=int, default=15, help="survival training epochs")
    p.add_argument("--pretrain-epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--verbose", type=int, default=0)

    p = sub.add_parser("pretrain", help="the paper's text-aligned pretraining on PTB-XL (see docs/pretraining.md)")
    p.add_argument("--ptbxl", default=None, help="PTB-XL root folder (a PhysioNet download)")
    p.add_argument("--fetch", action="store_true", help="download PTB-XL (and PTB-XL+ if needed) first")
    p.add_argument("--base-url", default=None, help="PTB-XL release URL for --fetch (default: PhysioNet 1.0.3)")
    p.add_argument("--plus-base-url", default=None, help="PTB-XL+ release URL for --fetch (default: PhysioNet 1.0.1)")
    p.add_argument("--plus-root", default=None, help="PTB-XL+ folder for --input 12sl/unig without --fetch")
    p.add_argument("--data-home", default=None, help="download folder for --fetch (default: SKSURV_ECG_DOWNLOADS)")
    p.add_argument("--download-jobs", type=int, default=8)
    p.add_argument(
        "--input",
        choices=["12sl", "unig", "median-beats"],
        default="12sl",
        help="PTB-XL+ 12SL beats (the paper's), Uni-G beats, or beats extracted here with MedianBeat",
    )
    p.add_argument("--folds", type=int, nargs="*", default=None, help="strat_fold values to use")
    p.add_argument("--ecg-ids", type=int, nargs="*", default=None, help="only these records")
    p.add_argument("--text", choices=["scp", "report", "none"], default="scp")
    p.add_argument("--text-model", default=None, help="any sentence-transformers model (paper: Bio_ClinicalBERT)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--module", action="append", metavar="KEY=VALUE", help="architecture option, e.g. latent_dim=512")
    p.add_argument("--cache", default=None, help="memory-mapped cache folder (default: OUT-cache)")
    p.add_argument("--out", required=True, help="directory to save the fitted encoder to")
    p2 = sub.add_parser("fit", help="fit the deep Cox model on .npy arrays")
    p2.add_argument("--X", required=True, help="(n, 12, T) float32 .npy (memory-mapped)")
    p2.add_argument("--time", required=True)
    p2.add_argument("--event", required=True)
    p2.add_argument("--encoder", default=None, help="directory of a saved pretrained encoder")
    p2.add_argument("--out", required=True)
    for q in (p, p2):
        q.add_argument("--epochs", type=int, default=100)
        q.add_argument("--batch-size", type=int, default=128)
        q.add_argument("--seed", type=int, default=0)
        q.add_argument("--device", default="auto")
        q.add_argument("--precision", choices=["float32", "bf16"], default="float32")
        q.add_argument("--checkpoint-dir", default=None, help="save every epoch here; rerun to resume")

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
    return {"demo": demo, "pretrain": pretrain, "fit": fit}[args.command](args)
