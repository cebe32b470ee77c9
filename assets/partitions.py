"""Daily partitions by publication day, the pools, and ``@daily_asset``.

Partition keys are UTC days from the **partitions start** up to and including today (``end_offset=1``), so
undated articles — filed under the day they were ingested, see ``narrative_tracker.ingest.files`` — always have a
partition. The start is ``NARRATIVES_PARTITIONS_START`` when set, else the earliest publication day the database
holds (read from its published copy when the code location loads), else ``MIN_PLAUSIBLE`` (2000-01-01) for a
database that holds nothing yet: :func:`partitions_start`. So the UI's launch dialog offers the desk's own days.

A daily asset covers a *range* of days in one run (``BackfillPolicy.single_run()``: one query, one transaction),
yet every day keeps its own metadata: :func:`record_days` attaches each day's figures to that day's
materialization (``context.add_asset_metadata(..., partition_key=day)``), followed by the facts of the whole run,
named ``run_*``; the result itself carries no metadata (it would apply to every day of the range).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import dagster as dg

from narrative_tracker import warehouse
from narrative_tracker.ingest.dates import MIN_PLAUSIBLE
from narrative_tracker.settings import Settings

# DuckDB has one writer at a time: every asset that writes runs in this pool (limit 1 in dagster.yaml),
# and a range of days is processed in one run (one query, one transaction) rather than one run per day.
DUCKDB_POOL = "duckdb_writer"
# The daily (partitioned) assets on DuckLake with a PostgreSQL catalog: their own pool, whose limit sets how many
# ranges of days are written at once (dagster.yaml of the deployment, docs/deploy.md); every cross-partition asset
# stays in DUCKDB_POOL (limit 1), so discovery, lineage, alerts and publishing never overlap.
LAKE_PARTITION_POOL = "lake_partitions"


def partitions_start(settings: Settings) -> dt.date:
    """The first daily partition for ``settings``: the configured day, else the earliest day the published database
    holds, else ``MIN_PLAUSIBLE`` (no database or no articles yet)."""
    from narrative_tracker.run_state import first_day_held

    return settings.partitions_start or first_day_held(settings.db) or MIN_PLAUSIBLE


def daily_partitions(start: dt.date) -> dg.DailyPartitionsDefinition:
    """UTC days from ``start`` to today inclusive."""
    return dg.DailyPartitionsDefinition(start_date=start.isoformat(), end_offset=1, timezone="UTC")


def daily_pool(settings: Settings) -> str:
    """The pool of the daily assets for ``settings``' warehouse: ``lake_partitions`` on a PostgreSQL DuckLake,
    else the single-writer pool."""
    return LAKE_PARTITION_POOL if warehouse.parse(settings.db, settings.lake_data_path).parallel else DUCKDB_POOL


single_run = dg.BackfillPolicy.single_run()


@dataclasses.dataclass(frozen=True)
class DailyAsset:
    """A daily (partitioned) asset before its pool and partitions are known: ``build(pool, partitions)`` makes it.

    Both depend on the ``Settings`` given to ``pipelines.definitions.build_definitions`` (the warehouse; the
    partitions start), and Dagster fixes them when an asset is defined, so these assets are defined there, not at
    import. Their checks are ``check_specs`` evaluated inside the asset's own step (one connection, no second op
    opening the file)."""

    compute: Callable
    options: Mapping[str, Any]

    def build(self, pool: str, partitions: dg.PartitionsDefinition) -> dg.AssetsDefinition:
        return dg.asset(partitions_def=partitions, backfill_policy=single_run, pool=pool, **self.options)(self.compute)


def daily_asset(**options: Any) -> Callable[[Callable], DailyAsset]:
    """``@daily_asset(...)``: like ``@dg.asset(...)`` for a daily asset (daily partitions, one run per range of
    days); the pool and the partitions are given later, see ``DailyAsset``."""
    return lambda compute: DailyAsset(compute, options)


def window_days(context: dg.AssetExecutionContext) -> tuple[dt.date, dt.date]:
    """The first and last day (inclusive) of the partition range this run materialises."""
    window = context.partition_time_window
    return window.start.date(), (window.end - dt.timedelta(days=1)).date()


def record_days(context: dg.AssetExecutionContext, per_day: Mapping[dt.date, Mapping[str, Any]],
                empty: Mapping[str, Any], run: Mapping[str, Any]) -> int:
    """Attach each day's metadata to that day's materialization: ``per_day[day]`` (or ``empty`` for a day of the
    range without rows), then the facts of the whole run (``run``, keys ``run_*``), so a day's page lists its own
    figures first. Returns the number of days of the range."""
    keys = context.partition_keys
    for key in keys:
        context.add_asset_metadata({**per_day.get(dt.date.fromisoformat(key), empty), **run}, partition_key=key)
    return len(keys)


def run_range(start: dt.date, end: dt.date) -> dict[str, str]:
    """Run-level metadata every day of the range shares: which range the run covered."""
    return {"run_days": f"{start} .. {end}" if start != end else str(start)}
