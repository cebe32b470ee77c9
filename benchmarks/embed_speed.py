"""Embedding throughput: the project's path vs plain ``SentenceTransformer.encode``, same paragraphs, same run.

Paragraphs: the 200 English news articles of the SemEval 2025 task 10 benchmark (``--semeval``, default
../shared), split and cleaned by the project's own paragraph splitter — real news paragraphs, not short claims.
The baseline is ``SentenceTransformer(path).encode(texts)`` with default settings (fp32, batch 32). Timings alternate
baseline / fast for ``--repeats`` rounds and report the median of each. Quality: the mean and minimum
cosine between the fast and the fp32 vectors, and the codebook macro-F1 on the labelled set with each.

    python benchmarks/embed_speed.py --paragraphs 2000
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _data import SEMEVAL, add_option, require  # noqa: E402


def news_paragraphs(semeval: Path, limit: int) -> list[str]:
    from narrative_tracker.paragraphs.clean import paragraphs_of

    texts: list[str] = []
    for path in sorted((semeval / "documents").glob("*.txt")):
        body = path.read_text(encoding="utf-8", errors="replace").split("\n", 1)[-1]  # first line: the headline
        texts += [p.text for p in paragraphs_of(body)[0]]
    seen: dict[str, None] = dict.fromkeys(texts)  # the pipeline embeds each distinct text once
    return list(seen)[:limit]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_option(parser, SEMEVAL)
    parser.add_argument("--paragraphs", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    semeval = require(SEMEVAL, args.semeval)

    import numpy as np
    import torch
    from sentence_transformers import SentenceTransformer

    from narrative_tracker.narratives.codebook import load_codebook
    from narrative_tracker.embeddings.embed import SentenceTransformerEmbedder, default_model_path
    from narrative_tracker.evaluation.evaluate import LabelledScorer, evaluate_paragraphs
    from narrative_tracker.material import DEFAULT_LABELLED, load_labelled

    texts = news_paragraphs(semeval, args.paragraphs)
    tokens = [len(t) for t in SentenceTransformer(default_model_path(), device="cpu").tokenizer(texts, truncation=True, max_length=256)["input_ids"]]
    plain = SentenceTransformer(default_model_path(), device="cpu")  # the baseline, default settings
    fast = SentenceTransformerEmbedder()  # the project's default path
    fp32 = SentenceTransformerEmbedder(precision="fp32")
    runs = {"baseline": lambda: plain.encode(texts), "project": lambda: fast.encode(texts), "project_fp32": lambda: fp32.encode(texts)}
    for run in runs.values():  # load and warm up
        run()
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    vectors = {}
    for _ in range(args.repeats):
        for name, run in runs.items():
            began = time.perf_counter()
            vectors[name] = run()
            seconds[name].append(time.perf_counter() - began)
    rate = {name: len(texts) / statistics.median(s) for name, s in seconds.items()}
    base = vectors["baseline"] / np.linalg.norm(vectors["baseline"], axis=1, keepdims=True)
    cos = (base * vectors["project"]).sum(axis=1)
    codebook = load_codebook()
    f1_fast = evaluate_paragraphs(codebook, fast)["test"]["macro_f1"]
    f1_fp32 = evaluate_paragraphs(codebook, fp32)["test"]["macro_f1"]
    labelled = load_labelled(DEFAULT_LABELLED)
    changed = sum(a != b for a, b in zip(LabelledScorer(labelled, codebook, fast).predict(codebook),
                                         LabelledScorer(labelled, codebook, fp32).predict(codebook)))
    result = {
        "paragraphs": len(texts),
        "mean_tokens": round(float(np.mean(tokens)), 1),
        "torch_threads": torch.get_num_threads(),
        "project_precision": fast.precision,
        "project_batch_size": fast.batch_size,
        "baseline_per_second": round(rate["baseline"], 1),
        "project_per_second": round(rate["project"], 1),
        "project_fp32_per_second": round(rate["project_fp32"], 1),
        "embed_speedup": round(rate["project"] / rate["baseline"], 2),
        "cosine_to_fp32_mean": round(float(cos.mean()), 5),
        "cosine_to_fp32_min": round(float(cos.min()), 5),
        "test_macro_f1_project": f1_fast,
        "test_macro_f1_fp32": f1_fp32,
        "labelled_paragraphs": len(labelled),
        "labelled_paragraphs_with_other_labels": int(changed),
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
