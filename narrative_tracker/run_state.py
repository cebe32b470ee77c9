"""Run state: what the last complete run of a database was built from, so an unchanged night does nothing.

A run is complete when every daily asset of every day it covered materialised. Its fingerprint is the articles
present (count, latest ingest time), the codebook (``Codebook.fingerprint``), the embedding model and the trained
narrative heads in use (``Heads.key``, or none) and the pair model (``pair:<version>``, or none): when all equal the stored one, ``narratives run`` skips the daily stages (``--force`` redoes them anyway).
The fingerprint lives in ``pipeline_meta['last_complete_run']``, inside the database it describes.
"""

from __future__ import annotations

import datetime as dt
import os

import duckdb

from narrative_tracker import db
from narrative_tracker.models import stable_hash

KEY = "last_complete_run"


def fingerprint(con: duckdb.DuckDBPyConnection, codebook: str | os.PathLike | None, model: str, heads: str = "",
                stance_model: str = "") -> str:
    """The fingerprint of a run over what ``con`` holds now with this codebook, model, heads and pair-model setting."""
    from narrative_tracker.narratives.codebook import load_codebook
    from narrative_tracker.narratives.heads import heads_key
    from narrative_tracker.narratives.pair_model import pair_model_key

    count, latest = con.execute(db.query("run_state_inputs")).fetchone()
    parts = [str(count), str(latest), load_codebook(codebook, model=model or None).fingerprint, model or "default"]
    keys = [k for k in (heads_key(heads, model), pair_model_key(stance_model)) if k]
    return stable_hash(*parts, *keys)  # no heads, no pair model: the fingerprint of before them


def last_complete(con: duckdb.DuckDBPyConnection) -> str | None:
    """The fingerprint of the last complete run, or ``None``."""
    row = con.execute(db.query("get_meta"), {"key": KEY}).fetchone()
    return row[0] if row else None


def mark_complete(con: duckdb.DuckDBPyConnection, state: str) -> None:
    db.set_meta(con, KEY, state)


def days_held(con: duckdb.DuckDBPyConnection) -> tuple[dt.date | None, dt.date | None]:
    """First and last publication day in ``articles`` (``None, None`` when empty)."""
    return tuple(con.execute(db.query("days_held")).fetchone())


def articles_per_day(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> dict[dt.date, int]:
    return dict(con.execute(db.query("articles_per_day"), {"start": start, "end": end}).fetchall())


def first_day_held(db_setting: str | os.PathLike) -> dt.date | None:
    """The earliest publication day the *published* database holds, read without blocking a writer (a DuckDB file's
    published copy is never written in place; a DuckLake is read at its last snapshot). ``None`` when there is no
    database yet, it holds no articles, or it cannot be read now (locked by an analyst's read-write session, lake
    unreachable): callers fall back to a fixed day then."""
    from pathlib import Path

    from narrative_tracker import warehouse

    if not warehouse.is_lake_url(db_setting) and not Path(db_setting).exists():
        return None
    try:
        with db.connection(db_setting, read_only=True) as con:
            if not db.table_exists(con, "articles"):
                return None
            return days_held(con)[0]
    except (duckdb.Error, db.DatabaseLockedError, warehouse.WarehouseError):
        return None
