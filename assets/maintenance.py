"""Upkeep of a DuckLake warehouse (weekly schedule ``lake_maintenance_weekly``; not part of the daily runs)."""

import dagster as dg
from pydantic import Field

from assets.partitions import DUCKDB_POOL
from assets.resources import NarrativeDB
from narrative_tracker import warehouse
from narrative_tracker.maintenance import maintain


class MaintenanceConfig(dg.Config):
    retention_days: int | None = Field(default=None,
                                       description="Keep snapshots (time travel) this many days; older ones expire and "
                                                   "their unreferenced files are deleted. Unset: the db resource's "
                                                   "lake_retention_days (NARRATIVES_LAKE_RETENTION_DAYS, default 7).")


@dg.asset(
    pool=DUCKDB_POOL,
    group_name="maintenance",
    description="DuckLake only: flush inlined rows to Parquet, merge small files, expire old snapshots, delete "
                "unreferenced files (sql/queries/lake_maintenance.sql). Nothing to do on a DuckDB file.",
)
def lake_maintenance(context: dg.AssetExecutionContext, config: MaintenanceConfig, db: NarrativeDB) -> dg.MaterializeResult:
    if not warehouse.is_lake_url(db.path):
        return dg.MaterializeResult(metadata={"skipped": "a DuckDB file needs no lake maintenance"})
    retention = db.lake_retention_days if config.retention_days is None else config.retention_days
    with db.connect() as con:
        report = maintain(con, retention)
    return dg.MaterializeResult(metadata={"retention_days": retention, **report.as_metadata()})
