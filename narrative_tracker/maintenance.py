"""DuckLake upkeep: flush inlined rows, merge small files, expire old snapshots, delete unreferenced files.

Every daily write on a lake adds a snapshot and a few small Parquet files (tiny writes are *inlined* into the
catalog instead). Left alone the catalog and the file count grow with every run; ``maintain`` (the
``lake_maintenance`` asset, weekly schedule) compacts them. ``retention_days`` (``NARRATIVES_LAKE_RETENTION_DAYS``,
default 7) is how far back time travel (``AT (VERSION => ...)``) keeps working; files only older snapshots need
are deleted. A DuckDB file needs none of this (each run publishes a checkpointed copy).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from narrative_tracker import db, warehouse

DEFAULT_RETENTION_DAYS = 7


@dataclass
class MaintenanceReport:
    snapshots_before: int
    snapshots_after: int
    files_before: int
    files_after: int

    def as_metadata(self) -> dict:
        return {"snapshots_before": self.snapshots_before, "snapshots_after": self.snapshots_after,
                "data_files_before": self.files_before, "data_files_after": self.files_after}


def _counts(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    snapshots = con.execute("SELECT count(*) FROM ducklake_snapshots('lake')").fetchone()[0]
    files = con.execute("SELECT coalesce(sum(file_count), 0)::BIGINT FROM ducklake_table_info('lake')").fetchone()[0]
    return snapshots, files


def maintain(con: duckdb.DuckDBPyConnection, retention_days: int = DEFAULT_RETENTION_DAYS) -> MaintenanceReport:
    """Compact the lake attached as ``lake`` (see the module docstring); retried on a conflict with a writer."""
    if not db.is_lake(con):
        raise ValueError("maintenance is for a DuckLake warehouse")
    if not isinstance(retention_days, int) or retention_days < 0:
        raise ValueError(f"retention_days must be a non-negative int, got {retention_days!r}")
    before = _counts(con)
    for statement in db.statements(db.query("lake_maintenance")):
        params = {"retention_days": retention_days} if "$retention_days" in statement else {}
        warehouse.retrying(lambda s=statement, p=params: con.execute(s, p))
    after = _counts(con)
    return MaintenanceReport(before[0], after[0], before[1], after[1])
