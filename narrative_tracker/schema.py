"""The tables: applying the DDL in ``sql/schema`` (create missing tables, add missing columns, migrate, views),
the embedding tables sized for the model, the one setup step of a DuckLake, and the daily count tables.

``db.connect`` applies the schema whenever it opens a DuckDB file for writing; a DuckLake is set up once by
:func:`setup` (``narratives setup`` / ``narratives run``), never by stages that may run side by side.
"""

from __future__ import annotations

import os
import re

import duckdb

from narrative_tracker import warehouse
from narrative_tracker.db import connection, is_lake, overwrite, query, run_script, set_meta, sql_dir, statements, table_exists
from narrative_tracker.settings import DEFAULT_DB

SCHEMA_VERSION = "6"  # 5: paragraph_narratives.detection_model; 6: paragraph_narratives.related / pair_model,
# narratives.parent_narrative_id / parent_share and alerts.parent_narrative_id (two levels of narrative); all added to
# older files on open (see _two_levels and the paragraph_narratives columns)




def schema_statements() -> list[tuple[str, str]]:
    """``(file name, DDL)`` for every schema file, in file-name order."""
    return [(p.name, p.read_text(encoding="utf-8")) for p in sorted((sql_dir() / "schema").glob("*.sql"))]


_PK_CLAUSE = re.compile(r",\s*PRIMARY KEY\s*\([^)]*\)")
_PK_INLINE = re.compile(r"\s+PRIMARY KEY\b")


def lake_ddl(ddl: str) -> str:
    """The DDL as DuckLake takes it: no PRIMARY KEY / UNIQUE, ``FLOAT[{dim}]`` stored as a list ``FLOAT[]``.

    Uniqueness is kept by the writes themselves (content ids + anti-joins, delete-then-insert per range)."""
    if re.search(r"\bUNIQUE\b", ddl):
        raise ValueError("UNIQUE constraints are not supported on DuckLake; keep uniqueness in the writes")
    return _PK_INLINE.sub("", _PK_CLAUSE.sub("", ddl)).replace("FLOAT[{dim}]", "FLOAT[]")


def setup(path: str | os.PathLike = DEFAULT_DB, dim: int | None = None) -> None:
    """Create or migrate the tables (and, given the model's ``dim``, the embedding tables): the one setup step.

    Runs before any stage (``narratives run``, ``narratives setup``, the ingest asset), never inside the daily
    assets that run side by side on a shared DuckLake. Idempotent; concurrent setups retry on conflict."""
    if not warehouse.is_lake_url(path):
        with connection(path) as con:  # a DuckDB file applies its schema on every open for writing
            if dim is not None:
                ensure_embedding_table(con, dim)
        return
    con = warehouse.open_lake(warehouse.from_setting(path))
    try:
        overwrite(con, lambda: apply_schema(con))
        if dim is not None:
            overwrite(con, lambda: ensure_embedding_table(con, dim))
    finally:
        con.close()


def _add_missing_columns(con: duckdb.DuckDBPyConnection, ddl: str) -> list[tuple[str, str]]:
    """Migration for tables created by an older version: add the columns the DDL has and the table lacks.

    The expected columns are read by running the DDL in a scratch in-memory database; added columns are
    nullable (rows written before the upgrade have NULL there until their stage rewrites them).
    """
    scratch = duckdb.connect(":memory:")
    try:
        scratch.execute(ddl)
        expected = scratch.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns ORDER BY table_name, ordinal_position"
        ).fetchall()
    finally:
        scratch.close()
    added: list[tuple[str, str]] = []
    for table, column, data_type in expected:
        present = con.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_catalog = current_database() AND table_schema = 'main' "
            "AND table_name = $t AND column_name = $c",
            {"t": table, "c": column},
        ).fetchone()[0]
        if not present and _IDENT.match(table) and _IDENT.match(column) and _TYPE.match(data_type):
            con.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {data_type}')  # names checked above
            added.append((table, column))
    return added


_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_TYPE = re.compile(r"^[A-Z][A-Z0-9_\[\] (),]*$")


def refresh_daily_counts(con: duckdb.DuckDBPyConnection, start=None, end=None) -> None:
    """Rebuild ``narrative_daily_counts`` and ``daily_paragraph_counts`` (what ``narrative_daily`` reads) for
    the days ``start``..``end`` (default: every day).

    Called in the transaction of every write to ``paragraphs`` or ``paragraph_narratives``: the daily stages
    refresh their own days, discovery and analyst decisions (which touch every day) refresh all. ``make bench``
    times a full rebuild at 10 million assignment rows.
    """
    if (start is None) != (end is None):
        raise ValueError("give both start and end, or neither")
    run_script(con, "refresh_daily_counts", {"start": start, "end": end})


def _backfill_daily_counts(con: duckdb.DuckDBPyConnection) -> None:
    """A database from before the count tables existed gets them filled once, on first open for writing."""
    empty = con.execute("SELECT NOT EXISTS (SELECT 1 FROM daily_paragraph_counts)").fetchone()[0]
    if empty and con.execute("SELECT EXISTS (SELECT 1 FROM paragraphs)").fetchone()[0]:
        refresh_daily_counts(con)


def apply_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create missing tables and add missing columns; then (re)create the views.

    ``paragraph_embeddings`` and ``codebook_examples`` wait until the embedding size is known.
    """
    lake = is_lake(con)
    for name, ddl in schema_statements():
        if "{dim}" in ddl:
            continue
        if lake:
            ddl = lake_ddl(ddl)
        if "CREATE TABLE" in ddl.upper():
            if lake:  # DuckLake runs one statement per execute
                for statement in statements(ddl):
                    con.execute(statement)
            else:
                con.execute(ddl)
            added = _add_missing_columns(con, ddl)
            if ("paragraphs", "language") in added:
                # schema 3 -> 4: paragraphs written before they had a language get their article's
                run_script(con, "backfill_paragraph_language", {})
            if ("narratives", "parent_narrative_id") in added:
                _two_levels(con)
        else:
            con.execute(ddl)
    _migrate(con)
    _backfill_daily_counts(con)
    set_meta(con, "schema_version", SCHEMA_VERSION)


def _two_levels(con: duckdb.DuckDBPyConnection) -> None:
    """Schema 5 -> 6. Before, discovery clustered only the paragraphs no codebook narrative claimed; now it clusters
    every paragraph and a discovered narrative records its codebook parent. The old clusters hold no claimed text, so
    the stored discovery fingerprint is dropped: the next run re-clusters every paragraph (and sets the parents) even
    when no new text arrived."""
    con.execute("DELETE FROM pipeline_meta WHERE key = 'discovery_fingerprint'")


_DROP_NOT_NULL = re.compile(r"^ALTER TABLE (\w+) ALTER COLUMN (\w+) DROP NOT NULL$", re.I)


def _migrate(con: duckdb.DuckDBPyConnection) -> None:
    """Run ``sql/queries/migrate_schema.sql``. A ``DROP NOT NULL`` runs only where the column still has the
    constraint: DuckDB files take it again harmlessly, DuckLake refuses it (and an error aborts the setup
    transaction)."""
    for statement in statements(query("migrate_schema")):
        match = _DROP_NOT_NULL.match(" ".join(statement.split()))
        if match:
            nullable = con.execute(
                "SELECT is_nullable FROM information_schema.columns WHERE table_catalog = current_database() "
                "AND table_schema = 'main' AND table_name = $t AND column_name = $c",
                {"t": match.group(1), "c": match.group(2)},
            ).fetchone()
            if nullable is None or nullable[0] == "YES":
                continue
        con.execute(statement)


def ensure_embedding_table(con: duckdb.DuckDBPyConnection, dim: int) -> None:
    """Create ``paragraph_embeddings`` as ``FLOAT[dim]``; refuse a model of another size on an existing table."""
    if not isinstance(dim, int) or isinstance(dim, bool) or not 1 <= dim <= 16384:
        raise ValueError(f"embedding dimension must be an int in 1..16384, got {dim!r}")
    row = con.execute("SELECT value FROM pipeline_meta WHERE key = 'embedding_dim'").fetchone()
    if row is not None and int(row[0]) != dim:
        raise ValueError(
            f"this database stores {row[0]}-dimensional embeddings; the configured model gives {dim}. "
            "Use another --db for a model of another size."
        )
    lake = is_lake(con)
    if lake and row is not None and table_exists(con, "paragraph_embeddings") and table_exists(con, "codebook_examples"):
        return  # created by setup(); no DDL where daily stages may run side by side
    for name, ddl in schema_statements():
        if "{dim}" in ddl:
            ddl = lake_ddl(ddl) if lake else ddl.replace("{dim}", str(dim))
            con.execute(ddl)
            _add_missing_columns(con, ddl)
    set_meta(con, "embedding_dim", str(dim), replace=False)


