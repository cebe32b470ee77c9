"""Reading the influence network for people: top edges, each narrative's leaders and amplifiers, quick followers.

Shared by the daily report, the notebook and the ``outlet_influence`` asset's metadata; every query is in
``sql/queries/network_*.sql`` with bound parameters.
"""

from __future__ import annotations

import duckdb
import polars as pl

from narrative_tracker import db

QUICK_DAYS = 1  # "within a day": the same day or the next
QUICK_MIN_NARRATIVES = 2  # "more than N narratives"


def top_edges(con: duckdb.DuckDBPyConnection, limit: int = 15) -> pl.DataFrame:
    """The edges that explain the most narratives: source, target, support, weight, median lag, copied paragraphs."""
    return con.execute(db.query("network_top_edges"), {"limit": limit}).pl()


def top_leaders(con: duckdb.DuckDBPyConnection, limit: int = 10) -> pl.DataFrame:
    """The outlets that led the most narratives (``outlet_roles``)."""
    return con.execute(db.query("network_top_leaders"), {"limit": limit}).pl()


def narrative_roles(con: duckdb.DuckDBPyConnection, narrative_ids: list[str], per: int = 3) -> dict[str, dict[str, list[dict]]]:
    """``{narrative_id: {"leader": [...], "amplifier": [...]}}``: up to ``per`` outlets each, most followed first."""
    out: dict[str, dict[str, list[dict]]] = {}
    rows = con.execute(db.query("network_narrative_roles"), {"ids": list(narrative_ids), "per": per}).pl().to_dicts()
    for row in rows:
        out.setdefault(row["narrative_id"], {"leader": [], "amplifier": []})[row["role"]].append(row)
    return out


def quick_followers(con: duckdb.DuckDBPyConnection, outlet: str, days: int = QUICK_DAYS,
                    min_narratives: int = QUICK_MIN_NARRATIVES) -> pl.DataFrame:
    """Outlets that took up more than ``min_narratives`` narratives within ``days`` day(s) after ``outlet``."""
    return con.execute(db.query("network_quick_followers"),
                       {"outlet": outlet, "days": days, "min_narratives": min_narratives}).pl()
