"""Discovery clustering time at 10k / 100k / 1M paragraphs (synthetic vectors, real clustering code).

Synthetic corpus: ``--narratives`` narrative directions in the 384-d embedding space with paragraphs spread
around them (cosine to their centre about 0.6-0.8, like paraphrases), plus 30% unrelated paragraphs spread
over the sphere; texts are drawn from a per-narrative vocabulary so c-TF-IDF has words to rank. Times
``narrative_tracker.narratives.discover.discover`` with its defaults (UMAP + HDBSCAN on at most 50,000 points, centroid
assignment above that) and reports clusters found, noise share and NMI against the generating narratives.

    python benchmarks/discovery_scale.py --sizes 10000 100000 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DIM = 384


def synthetic(n: int, narratives: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((narratives, DIM)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    weights = rng.zipf(1.6, narratives).astype(np.float64)  # a few big narratives, many small ones
    weights /= weights.sum()
    truth = np.where(rng.random(n) < 0.3, -1, rng.choice(narratives, n, p=weights))
    vectors = np.empty((n, DIM), np.float32)
    for start in range(0, n, 200_000):
        t = truth[start : start + 200_000]
        noise = rng.standard_normal((t.size, DIM)).astype(np.float32)
        noise /= np.linalg.norm(noise, axis=1, keepdims=True)
        mix = rng.uniform(0.6, 0.8, (t.size, 1)).astype(np.float32)
        v = np.where(t[:, None] >= 0, mix * centres[np.maximum(t, 0)] + np.sqrt(1 - mix**2) * noise, noise)
        vectors[start : start + t.size] = v / np.linalg.norm(v, axis=1, keepdims=True)
    words = [f"topic{k}word" for k in range(narratives)]
    texts = [f"{words[t]} claim {i % 97} shared news" if t >= 0 else f"unrelated item {i % 89}" for i, t in enumerate(truth.tolist())]
    return vectors, texts, truth


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--narratives", type=int, default=100)
    args = parser.parse_args(argv)
    from sklearn.metrics import normalized_mutual_info_score

    from narrative_tracker.narratives.discover import discover

    discover(*synthetic(2_000, 10)[:2])  # numba's first compilation is not part of any size
    rows = []
    for n in args.sizes:
        vectors, texts, truth = synthetic(n, args.narratives)
        began = time.perf_counter()
        result = discover(vectors, texts)
        seconds = time.perf_counter() - began
        clustered = result.labels >= 0
        both = clustered & (truth >= 0)
        rows.append({
            "paragraphs": n,
            "seconds": round(seconds, 1),
            "clusters": len(result.clusters),
            "noise_share": round(result.noise_share, 3),
            "nmi_on_narrative_paragraphs": round(float(normalized_mutual_info_score(truth[both], result.labels[both])), 3),
            "narrative_paragraphs_clustered": round(float(clustered[truth >= 0].mean()), 3),
            "background_paragraphs_clustered": round(float(clustered[truth < 0].mean()), 3),
        })
        print(json.dumps(rows[-1]), flush=True)
    for prev, row in zip(rows, rows[1:]):
        row["growth_vs_previous"] = round(row["seconds"] / max(prev["seconds"], 1e-9), 2)
    return {"sizes": rows}


if __name__ == "__main__":
    print(json.dumps(main(), indent=2))
