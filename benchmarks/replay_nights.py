"""Replay a dated corpus night by night through the Dagster jobs, as the nightly schedule would.

Each night: that day's rows are dropped into an inbox as a CSV file, `ingest_job` reads it, and
`daily_job` processes the range the nightly schedule covers (the night's day and the three before). At the
end the same night is run again over unchanged input. Reports per-night timings, identity events
(continued / new / split / merged / retired), alerts, and the unchanged-rerun ratio.

    python benchmarks/replay_nights.py --from 2020-07-01 --to 2020-09-30 --out benchmarks/results/replay.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from _data import EUVSDISINFO, add_option, require  # noqa: E402
from corpus_days import DailyCorpus  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_option(parser, EUVSDISINFO)
    parser.add_argument("--text-column", default="title")
    parser.add_argument("--from", dest="start", default="2020-07-01")
    parser.add_argument("--to", dest="end", default="2020-09-30")
    parser.add_argument("--out", default=str(REPO / "benchmarks/results/replay.json"))
    args = parser.parse_args()
    require(EUVSDISINFO, args.corpus)

    import dagster as dg

    from narrative_tracker.db import connection
    from pipelines.definitions import defs, range_tags

    start, end = dt.date.fromisoformat(args.start), dt.date.fromisoformat(args.end)
    corpus = DailyCorpus(args.corpus)

    work = Path(tempfile.mkdtemp(prefix="replay-"))
    inbox, db_path = work / "inbox", work / "replay.duckdb"
    inbox.mkdir()
    resources = {"db": {"config": {"path": str(db_path)}}}
    quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
    instance = dg.DagsterInstance.ephemeral()
    ingest_job, daily_job = defs.resolve_job_def("ingest_job"), defs.resolve_job_def("daily_job")

    def night(day: dt.date) -> dict:
        if not (inbox / f"{day}.csv").exists():
            corpus.write_day(inbox, day, skip_empty=True)
        began = time.perf_counter()
        ingest = ingest_job.execute_in_process(
            run_config={"ops": {"ingest": {"config": {"paths": [str(inbox)], "text_column": args.text_column}}}, "resources": resources} | quiet,
            instance=instance,
        )
        daily = daily_job.execute_in_process(
            run_config={"resources": resources | {"embedding_model": {"config": {}}}} | quiet,
            instance=instance,
            tags=range_tags(day - dt.timedelta(days=3), day),
        )
        seconds = time.perf_counter() - began
        meta = {e.asset_key.path[-1]: e.materialization.metadata for e in daily.get_asset_materialization_events()}
        new = {e.asset_key.path[-1]: e.materialization.metadata for e in ingest.get_asset_materialization_events()}["articles"]
        with connection(db_path, read_only=True) as con:
            run_events = dict(con.execute(
                "SELECT event, count(*) FROM narrative_lineage WHERE run_at = (SELECT max(run_at) FROM narrative_lineage) GROUP BY ALL"
            ).fetchall())
            active = con.execute("SELECT count(*) FROM narratives WHERE origin = 'discovered' AND status = 'active'").fetchone()[0]
            alerts = [r[0] for r in con.execute("SELECT message FROM alerts WHERE day = $d", {"d": day}).fetchall()]
        return {
            "day": day.isoformat(), "seconds": round(seconds, 2), "new_articles": new["new_articles"].value,
            "embedded": meta["paragraph_embeddings"]["texts_embedded"].value,
            "discovery_skipped": bool(meta["discovered_narratives"]["skipped"].value),
            "lineage": run_events, "discovered_active": active, "alerts": alerts,
        }

    nights = []
    day = start
    while day <= end:
        nights.append(night(day))
        n = nights[-1]
        print(f"{n['day']}: {n['seconds']:6.1f}s  +{n['new_articles']:3d} articles  embedded {n['embedded']:3d}  "
              f"narratives {n['discovered_active']:3d}  {n['lineage']}  alerts {len(n['alerts'])}", flush=True)
        day += dt.timedelta(days=1)
    rerun = night(end)  # the same night again, unchanged input

    with connection(db_path, read_only=True) as con:
        lineage = dict(con.execute("SELECT event, count(*) FROM narrative_lineage GROUP BY ALL").fetchall())
        lifetimes = con.execute(
            "SELECT count(*) FILTER (WHERE nights >= 30), count(*) FROM ("
            "SELECT narrative_id, count(DISTINCT run_at) AS nights FROM narrative_lineage "
            "WHERE event IN ('new', 'continued', 'split') GROUP BY ALL)"
        ).fetchone()
        all_alerts = con.execute("SELECT day, kind, message FROM alerts ORDER BY day").fetchall()
    first_runs = [n["seconds"] for n in nights if n["new_articles"]]
    summary = {
        "measured": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} cores",
        "corpus": args.corpus, "from": args.start, "to": args.end, "nights": len(nights),
        "articles": sum(n["new_articles"] for n in nights),
        "seconds_per_night_median": sorted(first_runs)[len(first_runs) // 2] if first_runs else None,
        "seconds_total": round(sum(n["seconds"] for n in nights), 1),
        "lineage_events": lineage,
        "narratives_alive_30_nights_or_more": lifetimes[0], "narratives_ever": lifetimes[1],
        "alerts": [{"day": str(d), "kind": k, "message": m} for d, k, m in all_alerts],
        "unchanged_rerun": {"seconds": rerun["seconds"], "embedded": rerun["embedded"],
                            "ratio_to_last_night": round(rerun["seconds"] / nights[-1]["seconds"], 3)},
        "per_night": nights,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=2, default=str))
    print(json.dumps({k: v for k, v in summary.items() if k not in ("per_night", "alerts")}, indent=2, default=str))
    print(f"{len(all_alerts)} alerts; written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
