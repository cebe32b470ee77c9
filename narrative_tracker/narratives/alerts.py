"""Alerts: spikes and emerging narratives, recomputed from ``narrative_daily`` (``sql/queries/compute_alerts.sql``)."""

from __future__ import annotations

import datetime as dt

import duckdb

from narrative_tracker import db
from narrative_tracker.narratives.frames import now as _now

ALERT_MIN_VOLUME = 3  # paragraphs in one day before anything can alert
ALERT_Z = 3.0  # spike threshold on the z-score of the day's share against the 28 days before


def compute_alerts(con: duckdb.DuckDBPyConnection, min_volume: int = ALERT_MIN_VOLUME, z: float = ALERT_Z) -> int:
    """Recompute ``alerts`` from ``narrative_daily`` (method in ``sql/queries/compute_alerts.sql``); returns the count."""
    with db.transaction(con):
        db.run_script(con, "compute_alerts", {"min_volume": min_volume, "z": z, "now": _now()})
    return con.execute(db.query("count_alerts")).fetchone()[0]


def recent_alerts(con: duckdb.DuckDBPyConnection, since: dt.date | str | None = None, limit: int = 50) -> list[tuple]:
    """``(day, kind, narrative_id, message)`` newest first, from ``since`` (a day, or an ISO day) on."""
    return con.execute(db.query("list_alerts"), {"since": since, "limit": limit}).fetchall()
