"""Upkeep of a DuckLake warehouse (weekly schedule ``lake_maintenance_weekly``; not part of the daily runs)."""

import dagster as dg
from pydantic import Field

from assets.partitions import DUCKDB_POOL
from assets.resources import NarrativeDB
from narrative_tracker import warehouse
from narrative_tracker.maintenance import maintain
from narrative_tracker.settings import load_settings


def _default_retention() -> int:
    return load_settings().lake_retention_days


class MaintenanceConfig(dg.Config):
    retention_days: int = Field(default_factory=_default_retention,
                                description="Keep snapshots (time travel) this many days; older ones expire and their "
                                            "unreferenced files are deleted (NARRATIVES_LAKE_RETENTION_DAYS, default 7).")


@dg.asset(
    pool=DUCKDB_POOL,
    group_name="maintenance",
    description="DuckLake only: flush inlined rows to Parquet, merge small files, expire old snapshots, delete "
                "unreferenced files (sql/queries/lake_maintenance.sql). Nothing to do on a DuckDB file.",
)
def lake_maintenance(context: dg.AssetExecutionContext, config: MaintenanceConfig, db: NarrativeDB) -> dg.MaterializeResult:
    if not warehouse.is_lake_url(db.path):
        return dg.MaterializeResult(metadata={"skipped": "a DuckDB file needs no lake maintenance"})
    with db.connect() as con:
        report = maintain(con, config.retention_days)
    return dg.MaterializeResult(metadata={"retention_days": config.retention_days, **report.as_metadata()})
