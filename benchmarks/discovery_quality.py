"""Discovery quality on EUvsDisinfo claims dated 2019-01-01 on: narrative-tracker vs BERTopic 0.17.4 defaults.

Both systems cluster the same claims (the report titles) with the same MiniLM vectors, in the same run:

* ``bertopic``: ``BERTopic()`` with its defaults (UMAP 15 neighbours / 5 dimensions, HDBSCAN min_cluster_size 10,
  eom), fitted with the precomputed vectors;
* ``narrative-tracker``: ``narrative_tracker.narratives.discover.discover`` with its defaults (settings chosen on claims dated
  before 2019 only, see docs/discovery.md);
* ``narrative-tracker, previous defaults``: the same code with the settings before this change (HDBSCAN eom,
  ``auto_min_cluster_size``, no merging, no outlier reassignment), for the ablation.

Scores against the fact-checkers' tags: NMI against the first keyword tag with outliers as one class;
purity = share of a narrative's claims that carry its most common tag (any of their tags; outliers excluded);
``purity_first_tag`` = the same with the first tag only; outlier share; number of clusters. Writes
``benchmarks/results/discovery.json`` with five example clusters (the largest of narrative-tracker) next to the
BERTopic topic that shares most of their claims. Needs ``pip install -e .[bench]`` and the EUvsDisinfo posts.csv
(``--corpus``, default ../shared).

    nice python benchmarks/discovery_quality.py [--vectors-cache /tmp/euvs.npy]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _data import EUVSDISINFO, add_option, require  # noqa: E402

RESULTS = REPO / "benchmarks" / "results" / "discovery.json"
TEST_FROM = "2019-01-01"


def load_claims(path: Path):
    import polars as pl

    frame = pl.read_csv(path).with_columns(tags=pl.col("keywords").fill_null("").str.split("+"))
    return frame.with_row_index("row")


def score(labels, tags) -> dict:
    import numpy as np

    from narrative_tracker.evaluation.evaluate import discovery_agreement, purity_any_tag

    labels = np.asarray(labels)
    first = [t[0] for t in tags]
    agreement = discovery_agreement(labels, first)
    return {
        "nmi": agreement["nmi_all"],
        "purity": round(purity_any_tag(labels.tolist(), tags), 3),
        "purity_first_tag": agreement["purity"],
        "outlier_share": agreement["noise_share"],
        "clusters": agreement["clusters"],
    }


def _overlap_topic(members, topics) -> tuple[int, float]:
    counts = Counter(int(topics[i]) for i in members)
    topic, n = max(counts.items(), key=lambda kv: (kv[0] >= 0, kv[1], -kv[0]))
    return topic, n / len(members)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_option(parser, EUVSDISINFO)
    parser.add_argument("--vectors-cache", default="", help=".npy file for the claim vectors (written once, reused)")
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--skip-previous", action="store_true", help="do not run the previous defaults (ablation)")
    args = parser.parse_args(argv)
    corpus = require(EUVSDISINFO, args.corpus)

    import numpy as np

    from narrative_tracker.narratives.discover import HdbscanClusterer, auto_min_cluster_size, discover
    from narrative_tracker.embeddings.embed import SentenceTransformerEmbedder

    frame = load_claims(corpus)
    embedder = SentenceTransformerEmbedder()
    texts_all = frame["title"].fill_null("").to_list()
    t0 = time.perf_counter()
    if args.vectors_cache and Path(args.vectors_cache).exists():
        vectors_all = np.load(args.vectors_cache, allow_pickle=False)
        if vectors_all.shape[0] != len(texts_all):
            raise SystemExit(f"{args.vectors_cache} does not match the corpus")
        embed_s = None
    else:
        vectors_all = embedder.encode(texts_all)
        embed_s = round(time.perf_counter() - t0, 1)
        if args.vectors_cache:
            np.save(args.vectors_cache, vectors_all)
    test = frame.filter(frame["date"] >= TEST_FROM)
    rows = test["row"].to_numpy()
    texts, tags, vectors = test["title"].fill_null("").to_list(), test["tags"].to_list(), vectors_all[rows]
    out: dict = {
        "date": dt.date.today().isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "claims": len(texts),
        "claims_from": TEST_FROM,
        "embedding_model": embedder.name,
        "embed_seconds_all_claims": embed_s,
        "reproduce": "pip install -e .[bench] && nice python benchmarks/discovery_quality.py",
        "systems": {},
    }

    from bertopic import BERTopic

    t = time.perf_counter()
    topic_model = BERTopic()
    topics, _ = topic_model.fit_transform(texts, embeddings=vectors)
    topics = np.asarray(topics)
    out["systems"]["bertopic-0.17.4-defaults"] = score(topics, tags) | {"seconds": round(time.perf_counter() - t, 1)}
    print("bertopic", out["systems"]["bertopic-0.17.4-defaults"], flush=True)

    t = time.perf_counter()
    result = discover(vectors, texts, embed=embedder.encode)
    out["systems"]["narrative-tracker"] = score(result.labels, tags) | {"seconds": round(time.perf_counter() - t, 1)}
    print("narrative-tracker", out["systems"]["narrative-tracker"], flush=True)

    if not args.skip_previous:
        t = time.perf_counter()
        previous = discover(
            vectors, texts, clusterer=HdbscanClusterer(min_cluster_size=auto_min_cluster_size(len(texts)), min_samples=5, selection="eom"),
            reassign_floor=None, merge_cosine=None,
        )
        out["systems"]["narrative-tracker-previous-defaults"] = score(previous.labels, tags) | {"seconds": round(time.perf_counter() - t, 1)}
        print("previous", out["systems"]["narrative-tracker-previous-defaults"], flush=True)

    info = {int(r["Topic"]): r for r in topic_model.get_topic_info().to_dict("records")}
    examples = []
    for cluster in result.clusters[:5]:
        topic, share = _overlap_topic(cluster.members.tolist(), topics)
        examples.append({
            "claims": int(cluster.members.size),
            "claim_label": cluster.claim,
            "terms": cluster.terms,
            "top_tag": Counter(t for i in cluster.members.tolist() for t in tags[i]).most_common(1)[0][0],
            "bertopic_topic": topic,
            "bertopic_label": info[topic]["Name"] if topic in info else None,
            "bertopic_words": [w for w, _ in (topic_model.get_topic(topic) or [])][:5] if topic >= 0 else [],
            "share_of_claims_in_that_topic": round(share, 3),
        })
    out["examples"] = examples
    nt, bt = out["systems"]["narrative-tracker"], out["systems"]["bertopic-0.17.4-defaults"]
    out["targets"] = {
        "nmi>=0.50": nt["nmi"] >= 0.50, "purity>=0.78": nt["purity"] >= 0.78, "outliers<=0.15": nt["outlier_share"] <= 0.15,
        "ahead_of_bertopic_on_all_three": nt["nmi"] > bt["nmi"] and nt["purity"] > bt["purity"] and nt["outlier_share"] < bt["outlier_share"],
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps(out["targets"]), "->", args.out)
    return out


if __name__ == "__main__":
    main()
