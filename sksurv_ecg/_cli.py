"""The ``sksurv-ecg`` command: ``demo``, ``pretrain`` and ``fit``.

``demo`` is the package's main job on the bundled data: real PTB-XL records -> median beats ->
report embeddings -> text-aligned pretraining -> deep Cox model on a synthetic cohort of the same
shape -> the same folds for Cox baselines -> a comparison table and figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

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
    print(f"      {'ecg_id':>6}  {'age':>3}  {'sex':>3}  {'superclass':<10}  {'beat':<10}  report")
    for (ecg_id, row), beat in zip(frame.iterrows(), beats, strict=True):
        superclass = ",".join(row["diagnostic_superclass"]) or "-"
        sex = "F" if row["sex"] == 1 else "M"
        shape = "x".join(map(str, beat.shape))
        print(f"      {ecg_id:>6}  {row['age']:>3.0f}  {sex:>3}  {superclass:<10}  {shape:<10}  {row['report'][:60]}")


def _report_embeddings(frame):
    from .text import ReportEmbedder

    try:
        embedder = ReportEmbedder(source="scp")
        return embedder.fit_transform(frame["scp_codes"].tolist()), embedder.model_id_
    except ImportError as err:  # the text extra is missing: say so and fall back to a hashed bag of codes
        print(f"      {err}\n      falling back to one-hot SCP codes as 'text' embeddings")
        codes = sorted({code for codes in frame["scp_codes"] for code in codes})
        onehot = np.array([[codes_.get(c, 0.0) / 100 for c in codes] for codes_ in frame["scp_codes"]])
        return onehot.astype(np.float32), "one-hot SCP codes"


def _comparison(X, y, frame, encoder, *, n_folds, max_epochs, seed):
    """Cross-validate Cox baselines and the deep model on the same stratified folds."""
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
    rows = []
    for name, estimator, data in methods:
        start = time.perf_counter()
        scores = cross_validate(estimator, data, y, cv=folds, error_score="raise")["test_score"]
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
    return rows


def _table(rows):
    lines = ["| method | Harrell's C (mean +/- std over folds) | time (s) |", "|---|---|---|"]
    lines += [
        f"| {r['method']} | {r['c_index_mean']:.3f} +/- {r['c_index_std']:.3f} | {r['seconds']:.0f} |" for r in rows
    ]
    return "\n".join(lines)


def _figures(model, beats, X_cohort, y_cohort, out):
    """Attention over a real record, lead attention by risk group, Kaplan-Meier by risk group."""
    from .explain import attention_maps
    from .plotting import plot_ecg_attention, plot_lead_attention, plot_risk_groups

    record = attention_maps(model, beats[:1])
    cohort_risk = model.predict(X_cohort)
    # A group of 10 % at the top: the seed's 96th percentile leaves too few ECGs in a demo cohort.
    figures = {
        "attention_real_record.png": plot_ecg_attention(
            beats[0], record["time"][0], title="Projected temporal attention, PTB-XL record 1"
        ),
        "lead_attention_risk_groups.png": plot_lead_attention(
            attention_maps(model, X_cohort)["lead"], cohort_risk, percentile=90
        ),
        "kaplan_meier_risk_groups.png": plot_risk_groups(cohort_risk, y_cohort, percentile=90),
    }
    written = []
    for name, fig in figures.items():
        fig.savefig(out / name, dpi=110)
        written.append(out / name)
    return written


def demo(args):
    """Run the main job on the bundled data and write everything to ``args.out``."""
    from .datasets import load_ptbxl_sample, make_ecg_survival
    from .embedding import TextAlignedPretrainer
    from .preprocessing import MedianBeat
    from .survival import ECGSurvivalAnalysis

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    total = 6
    print(f"sksurv-ecg demo: bundled PTB-XL records + a synthetic cohort; output in {out.resolve()}")
    with _Stage(1, total, "Real PTB-XL records (bundled, CC BY 4.0) -> median beats (wfdb R peaks)"):
        signals, frame = load_ptbxl_sample()
        beats = MedianBeat(fs=500).fit_transform(signals)
        _print_records(frame, beats)
    with _Stage(2, total, "Report embeddings of the records' SCP statements (LLM-informed text side)"):
        text, model_id = _report_embeddings(frame)
        print(f"      {text.shape[0]} records -> {text.shape[1]}-d embeddings with {model_id}")
    with _Stage(3, total, "Text-aligned pretraining of the dual-attention encoder on the real median beats"):
        pretrainer = TextAlignedPretrainer(
            max_epochs=args.pretrain_epochs, batch_size=7, random_state=args.seed, verbose=args.verbose
        ).fit(beats, text)
        losses = pretrainer.history_[:, "train_loss"]
        print(f"      loss {losses[0]:.3f} -> {losses[-1]:.3f} over {len(losses)} epochs")
    with _Stage(4, total, f"Synthetic cohort of {args.n_samples} 12-lead median beats with a known hazard"):
        X, y, truth = make_ecg_survival(args.n_samples, event_rate=0.3, random_state=args.seed)
        print(f"      X {X.shape}, {int(y['event'].sum())} events ({y['event'].mean():.0%})")
    with _Stage(5, total, f"Same {args.folds} stratified folds for every method (Harrell's C on held-out folds)"):
        rows = _comparison(X, y, truth, pretrainer, n_folds=args.folds, max_epochs=args.epochs, seed=args.seed)
        table = _table(rows)
        (out / "comparison.md").write_text(table + "\n")
        (out / "comparison.json").write_text(json.dumps(rows, indent=2))
        print("\n" + table)
    with _Stage(6, total, "Figures: attention over a real record; lead attention and survival by risk group"):
        model = ECGSurvivalAnalysis(
            encoder=pretrainer, max_epochs=args.epochs, batch_size=min(64, len(X)), lr=1e-3, random_state=args.seed
        ).fit(X, y)
        model.save(out / "model")
        written = _figures(model, beats, X, y, out)
        for path in written:
            print(f"      wrote {path}")
    print(f"\nAll outputs are in {out.resolve()}")
    return 0


def pretrain(args):
    """Text-aligned pretraining on a PTB-XL download (or the bundled sample); saves the encoder."""
    from .datasets import load_ptbxl, load_ptbxl_sample
    from .embedding import ECGEmbedder, TextAlignedPretrainer
    from .preprocessing import MedianBeat

    signals, frame = load_ptbxl_sample() if args.ptbxl == "sample" else load_ptbxl(args.ptbxl, folds=args.folds)
    beats = MedianBeat(fs=500).fit_transform(signals)
    params = {
        "max_epochs": args.epochs,
        "batch_size": args.batch_size,
        "random_state": args.seed,
        "verbose": 1,
        "device": args.device,
        "precision": args.precision,
        "checkpoint_dir": args.checkpoint_dir,
    }
    if args.text == "none":
        model = ECGEmbedder(**params).fit(beats)
    else:
        from .text import ReportEmbedder

        texts = frame["scp_codes"].tolist() if args.text == "scp" else frame["report"].tolist()
        embeddings = ReportEmbedder(source=args.text, verbose=1).fit_transform(texts)
        model = TextAlignedPretrainer(**params).fit(beats, embeddings)
    print(f"saved to {model.save(args.out)}")
    return 0


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

    p = sub.add_parser("pretrain", help="text-aligned pretraining on PTB-XL")
    p.add_argument("--ptbxl", default="sample", help="PTB-XL root folder, or 'sample' for the bundled records")
    p.add_argument("--folds", type=int, nargs="*", default=None, help="strat_fold values to use")
    p.add_argument("--text", choices=["scp", "report", "none"], default="scp")
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
