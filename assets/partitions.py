"""Daily partitions by publication day.

Partition keys are UTC days from ``MIN_PLAUSIBLE`` (2000-01-01; earlier dates are treated as
unusable) up to and including today (``end_offset=1``), so undated articles — filed under the
day they were ingested, see ``narrative_tracker.ingest.files`` — always have a partition.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from narrative_tracker.ingest.dates import MIN_PLAUSIBLE

daily_partitions = dg.DailyPartitionsDefinition(start_date=MIN_PLAUSIBLE.isoformat(), end_offset=1, timezone="UTC")

# DuckDB has one writer at a time: every asset that writes runs in this pool (limit 1 in dagster.yaml),
# and a range of days is processed in one run (one query, one transaction) rather than one run per day.
DUCKDB_POOL = "duckdb_writer"
# The daily (partitioned) assets on DuckLake with a PostgreSQL catalog: their own pool, whose limit sets how many
# ranges of days are written at once (dagster.yaml of the deployment, docs/deploy.md); every cross-partition asset
# stays in DUCKDB_POOL (limit 1), so discovery, lineage, alerts and publishing never overlap.
LAKE_PARTITION_POOL = "lake_partitions"


def partition_pool() -> str:
    """The pool of the daily assets: the single-writer pool, or ``lake_partitions`` on a PostgreSQL DuckLake."""
    from narrative_tracker import warehouse
    from narrative_tracker.settings import load_settings

    # decided when the assets are defined (import): the warehouse the environment configures
    return LAKE_PARTITION_POOL if warehouse.from_setting(load_settings().db).parallel else DUCKDB_POOL
single_run = dg.BackfillPolicy.single_run()


def window_days(context: dg.AssetExecutionContext) -> tuple[dt.date, dt.date]:
    """The first and last day (inclusive) of the partition range this run materialises."""
    window = context.partition_time_window
    return window.start.date(), (window.end - dt.timedelta(days=1)).date()
