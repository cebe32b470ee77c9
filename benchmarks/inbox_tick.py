"""One tick of the real ``inbox`` sensor at a simulated time, and the runs it asks for (soak.py --via sensor).

What the Dagster daemon does, in one process: evaluate the sensor with the stored cursor, store the new cursor
(before the run, as the daemon does), run ``ingest_job`` with the sensor's run config, then — as the
``after_ingest`` sensor does — one run of everything downstream over the days the ingest covered, which
publishes the database. Prints one JSON line.

    python benchmarks/inbox_tick.py --inbox DIR --db FILE --cursor FILE --clock SECONDS [--settle S]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def tick(inbox: str, db: str, cursor: str, clock: float, settle: float = 60.0, text_column: str = "title") -> dict:
    """One sensor tick at ``clock`` and the runs it starts; returns what happened (``rc`` 0 or 1)."""
    os.environ.update(NARRATIVES_INBOX=inbox, NARRATIVES_DB=db, NARRATIVES_INBOX_SETTLE_SECONDS=str(settle))
    import warnings

    warnings.filterwarnings("ignore")
    import dagster as dg

    from narrative_tracker.ingest import inbox as watcher
    from pipelines.definitions import defs
    from pipelines.definitions import inbox as sensor
    from pipelines.definitions import range_tags

    watcher.clock = lambda: clock
    cursor_file = Path(cursor)
    context = dg.build_sensor_context(cursor=cursor_file.read_text() if cursor_file.exists() else None)
    result = sensor(context)
    tmp = cursor_file.with_suffix(".tmp")
    tmp.write_text(context.cursor or "")
    os.replace(tmp, cursor_file)  # stored before the run, as the daemon stores a tick's cursor
    out = {"clock": clock, "taken": 0, "rc": 0}
    if not isinstance(result, dg.RunRequest):
        out["skip"] = result.skip_message if result else None
        return out
    out["taken"] = len(result.run_config["ops"]["ingest"]["config"]["paths"])
    resources = {"db": {"config": {"path": db}}}
    config = result.run_config
    config["ops"]["ingest"]["config"]["text_column"] = text_column
    loggers = {"console": {"config": {"log_level": "WARNING"}}}
    ingest = defs.resolve_job_def("ingest_job").execute_in_process(
        run_config=config | {"resources": resources, "loggers": loggers}, raise_on_error=False)
    if not ingest.success:
        return out | {"rc": 1, "failed": "ingest"}
    meta = {e.asset_key.path[-1]: e.materialization.metadata for e in ingest.get_asset_materialization_events()}["articles"]
    out["new_articles"] = meta["new_articles"].value
    out["accounted"] = all(c.passed for c in ingest.get_asset_check_evaluations())
    if (meta["new_articles"].value or meta["unprocessed_articles"].value) and meta["first_partition"].value:  # as after_ingest
        start, end = dt.date.fromisoformat(meta["first_partition"].value), dt.date.fromisoformat(meta["last_partition"].value)
        daily = defs.resolve_job_def("daily_job").execute_in_process(
            run_config={"resources": resources, "loggers": loggers}, tags=range_tags(start, end), raise_on_error=False)
        if not daily.success:
            return out | {"rc": 1, "failed": "daily"}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inbox", required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--cursor", required=True, help="file holding the sensor's cursor between ticks")
    parser.add_argument("--clock", type=float, required=True, help="the simulated time of this tick (epoch seconds)")
    parser.add_argument("--settle", type=float, default=60.0)
    parser.add_argument("--text-column", default="title")
    args = parser.parse_args()
    out = tick(args.inbox, args.db, args.cursor, args.clock, args.settle, args.text_column)
    print(json.dumps(out))
    return out["rc"]


if __name__ == "__main__":
    sys.exit(main())
