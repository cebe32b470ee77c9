"""Stage 2 — paragraphs: article bodies of a range of daily partitions -> cleaned ``paragraphs``.

The whole range is rebuilt in one transaction (delete the range, insert it again), so a
re-materialised partition never holds duplicates and a crash leaves the old rows intact.
Cleaning rules live in ``narrative_tracker.paragraphs.clean``; the article's detected language selects them,
and each paragraph gets its own language (``narrative_tracker.ingest.language.paragraph_language``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

import duckdb
import polars as pl

from narrative_tracker import db, schema
from narrative_tracker.paragraphs.clean import paragraphs_of
from narrative_tracker.ingest.language import paragraph_language

_SCHEMA = {
    "paragraph_id": pl.String,
    "article_id": pl.String,
    "partition_date": pl.Date,
    "position": pl.Int32,
    "block_index": pl.Int32,
    "kind": pl.String,
    "text": pl.String,
    "text_hash": pl.String,
    "word_count": pl.Int32,
    "language": pl.String,
}


@dataclass
class ParagraphReport:
    articles: int = 0
    paragraphs: int = 0
    distinct_texts: int = 0
    articles_without_paragraphs: int = 0
    long_blocks_split: int = 0  # blocks over textsafe.MAX_PARAGRAPH_CHARS, split at sentence ends
    dropped_blocks: Counter = field(default_factory=Counter)  # kind -> count
    per_day: Counter = field(default_factory=Counter)  # day -> paragraphs

    def as_metadata(self) -> dict:
        return {
            "articles": self.articles,
            "paragraphs": self.paragraphs,
            "distinct_texts": self.distinct_texts,
            "articles_without_paragraphs": self.articles_without_paragraphs,
            "long_blocks_split": self.long_blocks_split,
            "dropped_blocks": dict(self.dropped_blocks),
        }


def paragraph_id(article_id: str, position: int) -> str:
    return f"{article_id}-{position:04d}"


def build_paragraphs(con: duckdb.DuckDBPyConnection, start: dt.date, end: dt.date) -> ParagraphReport:
    """Rebuild ``paragraphs`` for partitions ``start``..``end`` (inclusive)."""
    report = ParagraphReport()
    rows: list[dict] = []
    for article_id, day, body, article_language in con.execute(db.query("articles_in_partitions"), {"start": start, "end": end}).fetchall():
        report.articles += 1
        kept, dropped = paragraphs_of(body, article_language)
        report.long_blocks_split += dropped.pop("split_long", 0)
        report.dropped_blocks.update(dropped)
        if not kept:
            report.articles_without_paragraphs += 1
        report.per_day[day] += len(kept)
        for p in kept:
            rows.append(
                {
                    "paragraph_id": paragraph_id(article_id, p.position),
                    "article_id": article_id,
                    "partition_date": day,
                    "position": p.position,
                    "block_index": p.block_index,
                    "kind": p.kind,
                    "text": p.text,
                    "text_hash": p.text_hash,
                    "word_count": p.word_count,
                    "language": paragraph_language(p.text, article_language),
                }
            )
    frame = pl.DataFrame(rows, schema=_SCHEMA)
    report.paragraphs = frame.height
    report.distinct_texts = frame["text_hash"].n_unique() if frame.height else 0

    def write() -> None:  # the range replaced whole; retried on a DuckLake conflict (idempotent)
        con.execute(db.query("delete_paragraphs"), {"start": start, "end": end})
        con.execute(db.query("insert_paragraphs"))
        schema.refresh_daily_counts(con, start, end)

    with db.staged(con, staged_paragraphs=frame):
        db.overwrite(con, write)
    return report
