"""Daily partitions by publication day.

Partition keys are UTC days from ``MIN_PLAUSIBLE`` (2000-01-01; earlier dates are treated as
unusable) up to and including today (``end_offset=1``), so undated articles — filed under the
day they were ingested, see ``narrative_tracker.ingest.files`` — always have a partition.
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

daily_partitions = dg.DailyPartitionsDefinition(start_date=MIN_PLAUSIBLE.isoformat(), end_offset=1, timezone="UTC")

# DuckDB has one writer at a time: every asset that writes runs in this pool (limit 1 in dagster.yaml),
# and a range of days is processed in one run (one query, one transaction) rather than one run per day.
DUCKDB_POOL = "duckdb_writer"
# The daily (partitioned) assets on DuckLake with a PostgreSQL catalog: their own pool, whose limit sets how many
# ranges of days are written at once (dagster.yaml of the deployment, docs/deploy.md); every cross-partition asset
# stays in DUCKDB_POOL (limit 1), so discovery, lineage, alerts and publishing never overlap.
LAKE_PARTITION_POOL = "lake_partitions"


def daily_pool(settings: Settings) -> str:
    """The pool of the daily assets for ``settings``' warehouse: ``lake_partitions`` on a PostgreSQL DuckLake,
    else the single-writer pool."""
    return LAKE_PARTITION_POOL if warehouse.parse(settings.db, settings.lake_data_path).parallel else DUCKDB_POOL


single_run = dg.BackfillPolicy.single_run()


@dataclasses.dataclass(frozen=True)
class DailyAsset:
    """A daily (partitioned) asset before its pool is known: ``build(pool)`` makes the Dagster asset.

    The pool depends on the warehouse, which comes from the ``Settings`` given to
    ``pipelines.definitions.build_definitions``: a Dagster pool is fixed when the asset is defined, so these
    assets are defined there, not at import. Their checks refer to them by name (``asset="paragraphs"``)."""

    compute: Callable
    options: Mapping[str, Any]

    def build(self, pool: str) -> dg.AssetsDefinition:
        return dg.asset(partitions_def=daily_partitions, backfill_policy=single_run, pool=pool, **self.options)(self.compute)


def daily_asset(**options: Any) -> Callable[[Callable], DailyAsset]:
    """``@daily_asset(...)``: like ``@dg.asset(...)`` for a daily asset (daily partitions, one run per range of
    days); the pool is given later, see ``DailyAsset``."""
    return lambda compute: DailyAsset(compute, options)


def window_days(context: dg.AssetExecutionContext) -> tuple[dt.date, dt.date]:
    """The first and last day (inclusive) of the partition range this run materialises."""
    window = context.partition_time_window
    return window.start.date(), (window.end - dt.timedelta(days=1)).date()
