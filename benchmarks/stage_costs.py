"""What each daily stage costs without Dagster: the library calls of one `narratives run`, timed one by one.

Set beside the per-step seconds of a real run (``benchmarks/lake_scaling.py``), the difference is what the
orchestration adds — chiefly one recorded materialisation per asset and partition. The corpus is ingested into a
fresh DuckDB file in a temporary folder; every day it holds is processed as one range, as one run would.

    python benchmarks/stage_costs.py [--corpus posts.csv] [--text-column title] [--out benchmarks/results/stage_costs.json]
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


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_option(parser, EUVSDISINFO)
    parser.add_argument("--text-column", default="title", help="the column holding the text (EUvsDisinfo: title)")
    parser.add_argument("--out", default=str(REPO / "benchmarks" / "results" / "stage_costs.json"))
    args = parser.parse_args(argv)
    require(EUVSDISINFO, args.corpus)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from narrative_tracker import db, run_state
    from narrative_tracker.embeddings.embed import embed_partitions, make_embedder
    from narrative_tracker.ingest.files import ingest_paths
    from narrative_tracker.ingest.formats import IngestOptions
    from narrative_tracker.narratives.assign import apply_codebook, assign_codebook
    from narrative_tracker.narratives.codebook import load_codebook
    from narrative_tracker.paragraphs.split import build_paragraphs
    from narrative_tracker.settings import DEFAULT_CODEBOOK

    seconds: dict[str, float] = {}

    def timed(name, call):
        began = time.perf_counter()
        result = call()
        seconds[name] = round(time.perf_counter() - began, 2)
        print(f"{name}: {seconds[name]} s", flush=True)
        return result

    with tempfile.TemporaryDirectory(prefix="stage-costs-") as tmp:
        con = db.connect(Path(tmp) / "stages.duckdb")
        timed("ingest", lambda: ingest_paths(con, [args.corpus], IngestOptions(text_column=args.text_column)))
        first, last = run_state.days_held(con)
        paragraphs = timed("paragraphs", lambda: build_paragraphs(con, first, last))
        embedder = make_embedder("")
        timed("model_load", lambda: embedder.dim)
        embedded = timed("embeddings", lambda: embed_partitions(con, embedder, first, last))
        codebook = load_codebook(DEFAULT_CODEBOOK)
        timed("codebook", lambda: apply_codebook(con, codebook, embedder))
        timed("detection", lambda: assign_codebook(con, codebook, embedder.name, first, last))
        days_with_articles = len(run_state.articles_per_day(con, first, last))
        con.close()
    report = {
        "benchmark": "stage_costs", "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}",
        "corpus": Path(args.corpus).name, "days": (last - first).days + 1, "days_with_articles": days_with_articles,
        "paragraphs": paragraphs.paragraphs, "texts_embedded": embedded.texts_embedded, "seconds": seconds,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
