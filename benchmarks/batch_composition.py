"""How much a paragraph's vector depends on the texts embedded with it (bf16 vs fp32).

Two workers embed different subsets of a corpus, so the batches a text lands in differ from those of one process,
and so may its vector's last bits. This embeds the corpus's distinct texts once in one call and once in two
halves split at a day (as two workers would), per precision, and reports how many vectors differ and by how much.

    python benchmarks/batch_composition.py [--corpus posts.csv] [--text-column title] [--split-day 2019-05-15]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _data import EUVSDISINFO, add_option, require  # noqa: E402


def compare(whole, parts) -> dict:
    import numpy as np

    diff = np.abs(whole - parts).max(axis=1)
    return {"vectors": int(len(whole)), "differing_share": round(float((diff > 0).mean()), 4),
            "max_abs_diff": float(f"{diff.max():.3g}"), "min_cosine": round(float((whole * parts).sum(axis=1).min()), 7)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_option(parser, EUVSDISINFO)
    parser.add_argument("--text-column", default="title")
    parser.add_argument("--split-day", default="2019-05-15", help="texts first seen before this day form the first half")
    parser.add_argument("--precisions", default="bf16,fp32")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "batch_composition.json"))
    args = parser.parse_args(argv)
    require(EUVSDISINFO, args.corpus)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import numpy as np

    from narrative_tracker import db, run_state
    from narrative_tracker.embeddings.embed import make_embedder
    from narrative_tracker.ingest.files import ingest_paths
    from narrative_tracker.ingest.formats import IngestOptions
    from narrative_tracker.paragraphs.split import build_paragraphs

    with tempfile.TemporaryDirectory(prefix="batch-composition-") as tmp:
        con = db.connect(Path(tmp) / "texts.duckdb")
        ingest_paths(con, [args.corpus], IngestOptions(text_column=args.text_column))
        build_paragraphs(con, *run_state.days_held(con))
        rows = con.execute("SELECT text, min(partition_date) FROM paragraphs GROUP BY text ORDER BY text").fetchall()
        con.close()
    texts = [t for t, _ in rows]
    cut = dt.date.fromisoformat(args.split_day)
    first = [i for i, (_, day) in enumerate(rows) if day < cut]
    second = [i for i, (_, day) in enumerate(rows) if day >= cut]
    results = {}
    for precision in args.precisions.split(","):
        embedder = make_embedder("", precision=precision)
        began = time.perf_counter()
        whole = embedder.encode(texts)
        seconds = time.perf_counter() - began
        parts = np.zeros_like(whole)
        parts[first] = embedder.encode([texts[i] for i in first])
        parts[second] = embedder.encode([texts[i] for i in second])
        results[precision] = compare(whole, parts) | {"seconds_one_call": round(seconds, 1)}
        print(precision, results[precision], flush=True)
    report = {
        "benchmark": "batch_composition", "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}",
        "corpus": Path(args.corpus).name, "split_day": args.split_day, "halves": [len(first), len(second)], "results": results,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
