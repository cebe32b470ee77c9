"""Search over paragraphs: keyword (BM25, DuckDB's ``fts`` extension from the ``duckdb-extension-fts``
package — never downloaded) and semantic (cosine to the query's embedding).

The full-text index is a snapshot: ``build_index`` rebuilds it after every run (the ``search_index``
asset). It also creates the SQL macros ``search_paragraphs(query, n)`` and ``similar_paragraphs(id, n)``.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass

import duckdb
import polars as pl

from narrative_tracker import db


def load_fts(con: duckdb.DuckDBPyConnection) -> None:
    """Install the packaged fts extension (from the wheel on disk) and load it."""
    from duckdb_extensions import import_extension

    import_extension("fts", con=con)
    con.execute("LOAD fts")


def _index_in_memory(con: duckdb.DuckDBPyConnection) -> None:
    """DuckLake cannot hold the fts index (its tables use types DuckLake does not store): on a lake the reader
    builds it in its own in-memory catalog over a copy of ``paragraphs`` (views for the other tables) and runs
    the same query there. About 0.4 s for the sample corpus; at tens of millions of paragraphs a persisted
    side index would be the next step (docs/deploy.md)."""
    load_fts(con)
    con.execute("CREATE OR REPLACE TABLE memory.main.paragraphs AS FROM lake.main.paragraphs")
    for name in ("articles", "paragraph_narratives"):
        con.execute(db.query(f"search_view_{name}"))
    con.execute("USE memory")
    con.execute("PRAGMA create_fts_index('paragraphs', 'paragraph_id', 'text', stemmer = 'porter', stopwords = 'english', overwrite = 1)")


def build_index(con: duckdb.DuckDBPyConnection) -> int:
    """(Re)build the BM25 index over ``paragraphs.text`` and the search macros; returns indexed paragraphs.

    On DuckLake nothing is stored (see ``_index_in_memory``): each keyword search indexes in memory."""
    if db.is_lake(con):
        return con.execute("SELECT count(*) FROM paragraphs").fetchone()[0]
    load_fts(con)
    con.execute("PRAGMA create_fts_index('paragraphs', 'paragraph_id', 'text', stemmer = 'porter', stopwords = 'english', overwrite = 1)")
    db.run_script(con, "search_macros")
    return con.execute("SELECT count(*) FROM paragraphs").fetchone()[0]


def has_index(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'fts_main_paragraphs'").fetchone()[0])


@dataclass
class SearchFilters:
    outlet: str | None = None  # ILIKE pattern, e.g. '%sputnik%'
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    limit: int = 10

    def params(self) -> dict:
        return {"outlet": self.outlet, "date_from": self.date_from, "date_to": self.date_to, "limit": self.limit}


def keyword_search(con: duckdb.DuckDBPyConnection, query: str, filters: SearchFilters | None = None) -> pl.DataFrame:
    """BM25 keyword search. Needs the index (``build_index``; every ``narratives run`` builds it)."""
    params = {"query": query} | (filters or SearchFilters()).params()
    if db.is_lake(con):
        _index_in_memory(con)
        try:
            return con.execute(db.query("search_keyword"), params).pl()
        finally:
            con.execute("USE lake")
    if not has_index(con):
        raise RuntimeError("no keyword index in this database yet: run `narratives run` (it builds one)")
    load_fts(con)
    return con.execute(db.query("search_keyword"), params).pl()


def semantic_search(con: duckdb.DuckDBPyConnection, embedder, query: str, filters: SearchFilters | None = None) -> pl.DataFrame:
    """Paragraphs closest in meaning to ``query`` (embedded with ``embedder``, the model used for the paragraphs)."""
    vector = embedder.encode([query])[0].tolist()
    params = {"vector": vector, "model": embedder.name} | (filters or SearchFilters()).params()
    return con.execute(db.query("search_semantic"), params).pl()


def run_search(path: str | os.PathLike, query: str, filters: SearchFilters, mode: str = "both", model: str = "",
               precision: str = "auto", warn=lambda message: None) -> list[tuple[str, pl.DataFrame]]:
    """``narratives search``: ``[(title, results)]`` for keyword (BM25) and/or semantic search of a database.
    With ``mode="both"`` a missing keyword index is reported through ``warn`` and semantic search still runs;
    with ``mode="keyword"`` it raises ``RuntimeError``."""
    from narrative_tracker.db import connection

    results = []
    with connection(path, read_only=True) as con:
        if mode in ("both", "keyword"):
            try:
                results.append(("keyword (BM25)", keyword_search(con, query, filters)))
            except RuntimeError as exc:
                if mode == "keyword":
                    raise
                warn(str(exc))
        if mode in ("both", "semantic"):
            from narrative_tracker.embeddings.embed import make_embedder

            results.append(("semantic (cosine)", semantic_search(con, make_embedder(model, precision=precision), query, filters)))
    return results
