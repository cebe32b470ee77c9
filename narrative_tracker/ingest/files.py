"""Stage 1 — ingest: input files -> ``articles``, ``quarantine``, ``source_files``.

Files are read with ``narrative_tracker.ingest.formats`` (format detected per file) and written in
batches, one transaction per batch. A file whose bytes were already ingested with the same
options is skipped without parsing; an article already present (same content-based id) is
not inserted again; a quarantine record already present is not repeated. Running the same
input twice therefore adds no rows.

**Partition rule for undated articles**: ``partition_date`` is the ``published_date`` when
one was found, otherwise the UTC day on which the article was first ingested (so an undated
article dropped into tonight's inbox is processed with tonight's partition). ``date_source``
says which: ``text`` / ``metadata`` / ``file`` / ``none``.

Length (~370 lines): the whole write path of one stage — batching, the skip / quarantine / ingest decision per
file and its accounting — kept together so that "every input is ingested, quarantined or skipped with a reason"
can be read in one place; the input walk is ``inputs.py``, the formats ``formats/``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import polars as pl

from narrative_tracker import db, textsafe
from narrative_tracker.ingest.formats import FileResult, IngestOptions, read_file
from narrative_tracker.ingest.inputs import Refused, max_file_bytes, read_input, walk_inputs
from narrative_tracker.ingest.language import detect_language
from narrative_tracker.models import QuarantineRecord

BATCH_ARTICLES = 20_000
BATCH_FILES = 500

_ARTICLE_SCHEMA = {
    "article_id": pl.String,
    "outlet": pl.String,
    "outlets": pl.List(pl.String),
    "title": pl.String,
    "author": pl.String,
    "url": pl.String,
    "external_id": pl.String,
    "published_date": pl.Date,
    "date_source": pl.String,
    "date_raw": pl.String,
    "partition_date": pl.Date,
    "language": pl.String,
    "language_score": pl.Float64,
    "declared_language": pl.String,
    "tags": pl.List(pl.String),
    "body": pl.String,
    "source_path": pl.String,
    "source_sha256": pl.String,
    "source_format": pl.String,
    "source_locator": pl.String,
    "metadata": pl.String,
    "ingested_at": pl.Datetime("us"),
}
_QUARANTINE_SCHEMA = {
    "quarantine_id": pl.String,
    "source_path": pl.String,
    "source_sha256": pl.String,
    "locator": pl.String,
    "reason": pl.String,
    "detail": pl.String,
    "excerpt": pl.String,
    "first_seen_at": pl.Datetime("us"),
}
_SOURCE_FILE_SCHEMA = {
    "source_sha256": pl.String,
    "options_fingerprint": pl.String,
    "path": pl.String,
    "format": pl.String,
    "encoding": pl.String,
    "size_bytes": pl.Int64,
    "articles": pl.Int32,
    "new_articles": pl.Int32,
    "quarantined": pl.Int32,
    "ingested_at": pl.Datetime("us"),
}
_INPUT_FILE_SCHEMA = {
    "path": pl.String,
    "outcome": pl.String,
    "reason": pl.String,
    "source_sha256": pl.String,
    "articles": pl.Int32,
    "quarantined": pl.Int32,
    "ingest_id": pl.String,
    "seen_at": pl.Datetime("us"),
}
OUTCOMES = ("ingested", "quarantined", "skipped")


@dataclass
class IngestReport:
    """What one ingest did.

    Paths: ``files_seen = files_ingested + files_quarantined + files_skipped``, each path with its outcome
    in ``input_files`` (``ingest_id`` names this ingest there). Records of the files parsed:
    ``records_seen = articles_parsed + quarantined``.
    """

    ingest_id: str = ""
    files_seen: int = 0
    files_ingested: int = 0  # read, at least one article
    files_quarantined: int = 0  # read (or refused) and no article: every record of it is in quarantine
    files_skipped: int = 0  # not read, with a reason in skip_reasons (unchanged files among them)
    files_unchanged: int = 0  # skipped: same bytes and options as an earlier ingest
    files_repaired: int = 0  # read with repairs (bad bytes, NULs, controls, ...), noted in their input_files row
    files_parsed: int = 0
    articles_parsed: int = 0
    articles_new: int = 0
    quarantined: int = 0  # records sent to quarantine by this ingest (new or seen before)
    quarantined_new: int = 0
    formats: Counter = field(default_factory=Counter)
    quarantine_reasons: Counter = field(default_factory=Counter)
    skip_reasons: Counter = field(default_factory=Counter)
    outcomes: list[dict] = field(default_factory=list)  # one row of input_files per path
    source_shas: list[str] = field(default_factory=list)
    partition_dates: list[dt.date] = field(default_factory=list)

    @property
    def records_seen(self) -> int:
        """Everything the parsed files held: each becomes an article or a quarantine record."""
        return self.articles_parsed + self.quarantined

    @property
    def articles_duplicate(self) -> int:
        return self.articles_parsed - self.articles_new

    def as_metadata(self) -> dict:
        return {
            "ingest_id": self.ingest_id,
            "files_seen": self.files_seen,
            "files_ingested": self.files_ingested,
            "files_quarantined": self.files_quarantined,
            "files_skipped": self.files_skipped,
            "skip_reasons": dict(self.skip_reasons),
            "files_unchanged": self.files_unchanged,
            "files_repaired": self.files_repaired,
            "files_parsed": self.files_parsed,
            "records_seen": self.records_seen,
            "articles_parsed": self.articles_parsed,
            "articles_new": self.articles_new,
            "quarantined": self.quarantined,
            "quarantined_new": self.quarantined_new,
            "formats": dict(self.formats),
            "quarantine_reasons": dict(self.quarantine_reasons),
            "partitions": len(self.partition_dates),
            "first_partition": str(self.partition_dates[0]) if self.partition_dates else None,
            "last_partition": str(self.partition_dates[-1]) if self.partition_dates else None,
        }


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def _article_rows(result: FileResult, now: dt.datetime) -> list[dict]:
    rows = []
    for art in result.articles:
        language, score = detect_language(f"{art.title or ''}\n{art.body}")
        rows.append(
            {
                "article_id": art.article_id,
                "outlet": art.outlet,
                "outlets": art.outlets or None,
                "title": art.title,
                "author": art.author,
                "url": art.url,
                "external_id": art.external_id,
                "published_date": art.published_date,
                "date_source": art.date_source,
                "date_raw": art.date_raw,
                "partition_date": art.published_date or now.date(),
                "language": language,
                "language_score": score,
                "declared_language": art.declared_language,
                "tags": art.tags or None,
                "body": art.body,
                "source_path": result.source,
                "source_sha256": result.sha256,
                "source_format": result.format,
                "source_locator": art.locator,
                "metadata": json.dumps(art.metadata, ensure_ascii=False, default=str) if art.metadata else None,
                "ingested_at": now,
            }
        )
    return rows


def _quarantine_rows(result: FileResult, now: dt.datetime) -> list[dict]:
    return [
        {
            "quarantine_id": q.quarantine_id(result.sha256),
            "source_path": q.source,
            "source_sha256": result.sha256,
            "locator": q.locator,
            "reason": q.reason,
            "detail": q.detail,
            "excerpt": q.excerpt,
            "first_seen_at": now,
        }
        for q in result.quarantined
    ]


class _Batch:
    def __init__(self) -> None:
        self.results: list[FileResult] = []
        self.articles: dict[str, dict] = {}
        self.article_ids_per_file: list[list[str]] = []
        self.quarantine: dict[str, dict] = {}

    def add(self, result: FileResult, now: dt.datetime) -> None:
        self.results.append(result)
        ids = []
        for row in _article_rows(result, now):
            ids.append(row["article_id"])
            self.articles.setdefault(row["article_id"], row)
        self.article_ids_per_file.append(ids)
        for row in _quarantine_rows(result, now):
            self.quarantine.setdefault(row["quarantine_id"], row)

    def __len__(self) -> int:
        return len(self.articles)


def _flush(con: duckdb.DuckDBPyConnection, batch: _Batch, options: IngestOptions, now: dt.datetime, report: IngestReport) -> None:
    if not batch.results:
        return
    articles = pl.DataFrame(list(batch.articles.values()), schema=_ARTICLE_SCHEMA)
    quarantine = pl.DataFrame(list(batch.quarantine.values()), schema=_QUARANTINE_SCHEMA)
    with db.staged(con, staged_articles=articles, staged_quarantine=quarantine):
        new_ids = {r[0] for r in con.execute(db.query("new_article_ids")).fetchall()}
        new_quarantine = con.execute(
            "SELECT count(*) FROM staged_quarantine ANTI JOIN quarantine USING (quarantine_id)"
        ).fetchone()[0]
        counted: set[str] = set()
        files = []
        for result, ids in zip(batch.results, batch.article_ids_per_file):
            fresh = [i for i in ids if i in new_ids and i not in counted]
            counted.update(fresh)
            files.append(
                {
                    "source_sha256": result.sha256,
                    "options_fingerprint": options.fingerprint(),
                    "path": result.source,
                    "format": result.format,
                    "encoding": result.encoding,
                    "size_bytes": result.size,
                    "articles": len(ids),
                    "new_articles": len(fresh),
                    "quarantined": len(result.quarantined),
                    "ingested_at": now,
                }
            )
        # one row per (content, options): the first file wins, as ON CONFLICT DO NOTHING did (an anti-join
        # alone would insert a same-content copy in the same batch twice)
        firsts = {}
        for row in files:
            firsts.setdefault((row["source_sha256"], row["options_fingerprint"]), row)
        source_files = pl.DataFrame(list(firsts.values()), schema=_SOURCE_FILE_SCHEMA)
        with db.staged(con, staged_source_files=source_files), db.transaction(con):
            con.execute(db.query("insert_articles"))
            con.execute(db.query("insert_quarantine"))
            con.execute(db.query("upsert_source_file"))
    report.articles_new += len(new_ids)
    report.quarantined_new += new_quarantine


def _account(report: IngestReport, path: Path, outcome: str, reason: str | None, now: dt.datetime,
             sha: str | None = None, articles: int = 0, quarantined: int = 0) -> None:
    """Record what happened to one input path (``input_files`` row and the report's counters)."""
    report.files_seen += 1
    if outcome == "ingested":
        report.files_ingested += 1
    elif outcome == "quarantined":
        report.files_quarantined += 1
    else:
        report.files_skipped += 1
        report.skip_reasons[reason] += 1
    report.outcomes.append({"path": textsafe.path_text(path), "outcome": outcome, "reason": reason, "source_sha256": sha,
                            "articles": articles, "quarantined": quarantined, "ingest_id": report.ingest_id,
                            "seen_at": now})


def _refused_result(path: Path, refused: Refused) -> FileResult:
    """A whole-file quarantine record for a path that was not read (its id rests on the path, not on bytes)."""
    source = textsafe.path_text(path)
    return FileResult(source, hashlib.sha256(source.encode()).hexdigest(), 0, None, None,
                      quarantined=[QuarantineRecord(source, refused.reason, refused.detail)])


def _write_outcomes(con: duckdb.DuckDBPyConnection, report: IngestReport) -> None:
    frame = pl.DataFrame(report.outcomes, schema=_INPUT_FILE_SCHEMA)
    with db.staged(con, staged_input_files=frame), db.transaction(con):
        db.run_script(con, "upsert_input_files")


def ingest_paths(
    con: duckdb.DuckDBPyConnection,
    paths: Iterable[str | os.PathLike],
    options: IngestOptions | None = None,
    now: dt.datetime | None = None,
    progress: Callable[[Path], None] | None = None,
    force: bool = False,
    root: str | os.PathLike | None = None,
    max_file_mb: float | None = None,
    progress_bar: bool = False,
) -> IngestReport:
    """Ingest every file under ``paths`` into the database behind ``con``.

    ``force`` re-parses files already ingested with the same options (articles and quarantine records
    already present are still not duplicated). ``root``: the folder every path must stay inside (default:
    each folder given, or a given file's folder). Files over ``max_file_mb`` (default 50) are quarantined
    unread, as are links out of the root and special files (see ``narrative_tracker.ingest.inputs``).
    ``progress_bar`` shows files done of N on stderr.
    """
    import uuid

    options = options or IngestOptions()
    now = now or _utcnow()
    cap = max_file_bytes(max_file_mb)
    report = IngestReport(ingest_id=f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}")
    batch = _Batch()
    fingerprint = options.fingerprint()
    entries = walk_inputs(paths, root)
    if progress_bar:
        from tqdm import tqdm

        entries = tqdm(list(entries), desc="ingest", unit="file", leave=False)
    for entry in entries:
        path = entry.path
        if progress:
            progress(path)
        if entry.skip:
            _account(report, path, "skipped", entry.skip, now)
            continue
        data = read_input(entry, cap)
        if isinstance(data, Refused):
            result = _refused_result(path, data)
        else:
            sha = hashlib.sha256(data).hexdigest()
            report.source_shas.append(sha)
            seen = con.execute(db.query("seen_source_file"), {"sha256": sha, "fingerprint": fingerprint}).fetchone()[0]
            if seen and not force:
                report.files_unchanged += 1
                _account(report, path, "skipped", "unchanged since an earlier ingest (same bytes and options)", now, sha)
                continue
            result = read_file(path, options, data=data)
            report.files_parsed += 1
            report.formats[result.format or "undecodable"] += 1
        report.articles_parsed += len(result.articles)
        report.quarantined += len(result.quarantined)
        report.quarantine_reasons.update(q.reason for q in result.quarantined)
        if result.note:
            report.files_repaired += 1
        if result.articles:  # a repaired file's row says what was repaired
            _account(report, path, "ingested", result.note, now, result.sha256, len(result.articles), len(result.quarantined))
        else:
            reason = result.quarantined[0].reason if result.quarantined else "no articles"
            _account(report, path, "quarantined", reason, now, result.sha256, 0, len(result.quarantined))
        batch.add(result, now)
        if len(batch) >= BATCH_ARTICLES or len(batch.results) >= BATCH_FILES:
            _flush(con, batch, options, now, report)
            batch = _Batch()
    _flush(con, batch, options, now, report)
    _write_outcomes(con, report)
    report.partition_dates = [
        r[0] for r in con.execute(db.query("partition_dates_of_files"), {"shas": report.source_shas}).fetchall()
    ]
    return report
