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


def summary_text(path: str | os.PathLike, ingest_meta: dict | None = None) -> str:
    """What ``narratives run`` and ``narratives summary`` print: this run's input accounting (from the ingest
    asset's materialisation metadata, when given), table counts, articles, narratives with their strongest
    evidence, quarantine, and how to open the database for analysis."""
    import polars as pl

    summary = database_summary(path)
    lines: list[str] = []
    with pl.Config(tbl_hide_column_data_types=True, tbl_hide_dataframe_shape=True, fmt_str_lengths=70, tbl_rows=20, tbl_width_chars=160):
        if ingest_meta:
            a, q = ingest_meta["articles"], ingest_meta["quarantine"]
            other_skips = "".join(f", {n} {r}" for r, n in a["skip_reasons"].value.items() if not r.startswith("unchanged"))
            lines.append(
                f"\nThis run: {a['files_seen'].value} paths seen = {a['files_ingested'].value} ingested + "
                f"{a['files_quarantined'].value} quarantined + {a['files_skipped'].value} skipped "
                f"({a['files_unchanged'].value} unchanged{other_skips}); "
                f"{a['records_seen'].value} records = {a['articles_parsed'].value} articles "
                f"({a['new_articles'].value} new, {a['articles_parsed'].value - a['new_articles'].value} already present) "
                f"+ {q['quarantined_this_run'].value} quarantined ({q['new_records'].value} new)."
            )
            repaired = a["files_repaired"].value if "files_repaired" in a else 0
            if repaired:
                lines.append(f"{repaired} file{'s' if repaired > 1 else ''} read with repairs (bad bytes, NULs, control "
                             "characters): what was repaired is in input_files.reason.")
        lines.append(f"\nDatabase {path}: " + ", ".join(f"{v} {k}" for k, v in summary["counts"].items()))
        lines.append("\nArticles:")
        lines.append(str(summary["articles"]))
        if summary["narratives"].height:
            lines.append("\nNarratives (paragraphs, articles, outlets; the strongest evidence paragraph):")
            for row in summary["narratives"].iter_rows(named=True):
                frame = f" (inside {row['parent_narrative_id']})" if row["parent_narrative_id"] else ""
                lines.append(f"  [{row['origin']}] {row['narrative_id']}{frame} — {row['label']}: "
                             f"{row['paragraphs']} paragraphs, {row['articles']} articles, {row['outlets']} outlets"
                             + (" + unnamed" if row.get("unknown_outlet") else ""))
                if row["evidence"]:
                    text = row["evidence"]
                    lines.append(f"      “{text[:220]}{'…' if len(text) > 220 else ''}” "
                                 f"({row['evidence_outlet'] or 'unknown outlet'}, {row['evidence_day']})")
                elif row["paragraphs"]:
                    lines.append("      (no paragraph asserts it: they report, question or refute it)")
        if summary["quarantine"].height:
            lines.append("\nQuarantine (reason, records):")
            lines.append(str(summary["quarantine"]))
    lines.append(f"\nAnalyse it (runs never wait for it): {_analyse_hint(path)}    (tables: articles, paragraphs, narratives, "
                 "paragraph_narratives; views: narrative_daily, narrative_levels, narrative_outlets, narrative_first_seen)")
    return "\n".join(lines)


def _analyse_hint(path: str | os.PathLike) -> str:
    from narrative_tracker.warehouse import is_lake_url

    if is_lake_url(path):
        return f"narratives sql --db '{path}'  (the lake attached read-only)"
    return f"duckdb -readonly {path}  (the published copy)"
