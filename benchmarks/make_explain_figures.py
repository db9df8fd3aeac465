"""Regenerate the figures of ``docs/explain.md``.

A deep Cox model (:class:`sksurv_ecg.ECGSurvivalAnalysis`, paper configuration) is fitted on a
synthetic cohort of 500 Hz median beats ``(n, 12, 608)`` from :func:`make_ecg_survival`, then
explained on

- the 14 real PTB-XL records bundled with the package, reduced to median beats with
  :class:`sksurv_ecg.preprocessing.MedianBeat` (same shape): projected temporal attention on one
  record, its cross-lead attention, and SHAP attributions per lead;
- the held-out synthetic ECGs (real records have no outcomes): Kaplan-Meier curves of the
  predicted risk groups and the lead attention of high- versus low-risk ECGs.

Call like this (about 3 minutes on 2 CPU cores)::

    python benchmarks/make_explain_figures.py --out docs/_static/explain

It writes the PNGs into ``--out`` and prints a JSON summary (held-out C-index, timings, files).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from sksurv_ecg import ECGSurvivalAnalysis
from sksurv_ecg.datasets import load_ptbxl, make_ecg_survival
from sksurv_ecg.explain import attention_maps, shap_values
from sksurv_ecg.plotting import plot_ecg_attention, plot_lead_attention, plot_risk_groups, plot_shap_leads
from sksurv_ecg.preprocessing import MedianBeat

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ptbxl_root  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/_static/explain"), help="folder for the PNGs")
    parser.add_argument("--n-samples", type=int, default=600, help="synthetic cohort size (train + test)")
    parser.add_argument("--max-epochs", type=int, default=20)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--percentile", type=float, default=90.0, help="risk percentile of the high-risk group")
    parser.add_argument("--ecg-id", type=int, default=8, help="bundled PTB-XL record to draw")
    parser.add_argument("--shap-samples", type=int, default=100, help="gradient evaluations per explained ECG")
    parser.add_argument("--dpi", type=int, default=80)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    timings, files = {}, []

    def save(fig, name):
        path = args.out / name
        fig.savefig(path, dpi=args.dpi)
        files.append(str(path))

    X, y, _ = make_ecg_survival(args.n_samples, fs=500, event_rate=0.3, random_state=args.seed)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, stratify=y["event"], random_state=args.seed)
    start = time.perf_counter()
    model = ECGSurvivalAnalysis(
        max_epochs=args.max_epochs, batch_size=64, lr=args.lr, device=args.device, random_state=args.seed
    ).fit(X_tr, y_tr)
    timings["fit_s"] = time.perf_counter() - start
    c_index = model.score(X_te, y_te)

    # Real records: median beats in the layout the model was trained on.
    signals, frame = load_ptbxl(ptbxl_root())  # the 14 real records beside the repository
    beats = MedianBeat(fs=500).fit_transform(signals)
    ids = frame.index.to_list()
    i = ids.index(args.ecg_id)
    report = str(frame.loc[args.ecg_id, "report"]).strip().rstrip(".")
    report = report if len(report) <= 60 else report[:57] + "..."
    classes = ", ".join(frame.loc[args.ecg_id, "diagnostic_superclass"]) or "none"

    start = time.perf_counter()
    maps = attention_maps(model, beats)
    timings["attention_s"] = time.perf_counter() - start
    save(
        plot_ecg_attention(
            beats[i], maps.time[i], fs=500, ncols=2, title=f"PTB-XL ecg_id {args.ecg_id} ({classes}): {report}"
        ),
        "ecg_attention.png",
    )
    save(plot_lead_attention(maps.lead[i]), "lead_attention_record.png")

    start = time.perf_counter()
    background = X_tr[np.random.default_rng(args.seed).choice(len(X_tr), 32, replace=False)]
    shap = shap_values(model, beats, background, nsamples=args.shap_samples, random_state=args.seed)
    timings["shap_s"] = time.perf_counter() - start
    save(plot_shap_leads(shap, title="SHAP importance per lead, PTB-XL median beats"), "shap_leads.png")
    save(
        plot_ecg_attention(
            beats[i],
            shap.attributions[i],
            fs=500,
            ncols=2,
            cmap="coolwarm",
            symmetric=True,
            colorbar_label="SHAP value (log-risk)",
            title=f"PTB-XL ecg_id {args.ecg_id}: SHAP attributions of the log-risk",
        ),
        "ecg_shap.png",
    )

    # Held-out synthetic ECGs, which have outcomes.
    risk_te = model.predict(X_te)
    save(plot_risk_groups(risk_te, y_te, percentile=args.percentile, time_label="Time (years)"), "risk_groups.png")
    save(plot_lead_attention(attention_maps(model, X_te).lead, risk_te, percentile=args.percentile), "lead_groups.png")

    summary = {
        "c_index_test": round(float(c_index), 4),
        "n_train": len(X_tr),
        "n_test": len(X_te),
        "ecg_id": args.ecg_id,
        "risk_real": dict(zip(map(str, ids), np.round(model.predict(beats), 3).tolist(), strict=True)),
        "top_shap_lead_real": [shap.lead_names[k] for k in shap.lead_importance.mean(axis=0).argsort()[::-1][:3]],
        "timings_s": {k: round(v, 1) for k, v in timings.items()},
        "files": files,
        "args": {k: str(v) for k, v in vars(args).items()},
    }
    print(json.dumps(summary, indent=2))
    return summary


if __name__ == "__main__":
    main()
