"""What a database holds, for the CLI and ``make demo`` (read-only)."""

from __future__ import annotations

import os

from narrative_tracker import db

_TABLES = ("articles", "paragraphs", "paragraph_embeddings", "narratives", "paragraph_narratives", "quarantine", "source_files")


def database_summary(path: str | os.PathLike, article_limit: int = 15, narrative_limit: int = 13) -> dict:
    """``{"counts": {table: rows}, "articles": DataFrame, "quarantine": DataFrame, "narratives": DataFrame}``."""
    with db.connection(path, read_only=True) as con:
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in _TABLES if db.table_exists(con, t)}  # noqa: S608 - fixed names
        articles = con.execute(db.query("summary_articles"), {"limit": article_limit}).pl()
        quarantine = con.execute(db.query("summary_quarantine")).pl()
        narratives = con.execute(db.query("summary_narratives"), {"limit": narrative_limit}).pl()
    return {"counts": counts, "articles": articles, "quarantine": quarantine, "narratives": narratives}
