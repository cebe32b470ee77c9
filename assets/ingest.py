"""Stage 1 asset: read the input files into ``articles`` (and ``quarantine``)."""


import dagster as dg
from pydantic import Field

from assets.partitions import DUCKDB_POOL
from assets.publish import run_publishes
from assets.resources import EmbeddingModel, IngestInputs, NarrativeDB
from narrative_tracker import db as dbq
from narrative_tracker.ingest.files import OUTCOMES, ingest_paths
from narrative_tracker.db import publish
from narrative_tracker.ingest.formats import IngestOptions
from narrative_tracker.surfaces.preview import markdown

NO_INPUT = (
    "no input configured: set NARRATIVES_INPUT to the files or folders to ingest (separated by ':'), or give "
    "`paths` in the run config (`narratives run --input PATH`). The bundled sample corpus (data/sample) is "
    "read only when named: `make demo` and the tests do."
)


class IngestConfig(dg.Config):
    """Which files to read and how to map their columns (CSV / JSON)."""

    paths: list[str] = Field(default_factory=list, description="Files and directories to ingest; empty: the `inputs` resource (NARRATIVES_INPUT; none: the run fails).")
    text_column: str | None = Field(default=None, description="Column holding the article text (else: text/body/content...).")
    title_column: str | None = Field(default=None, description="Column holding the headline.")
    date_column: str | None = Field(default=None, description="Column holding the publication date.")
    outlet_column: str | None = Field(default=None, description="Column holding the outlet(s).")
    url_column: str | None = Field(default=None, description="Column holding the article URL.")
    author_column: str | None = None
    language_column: str | None = None
    id_column: str | None = None
    tags_column: str | None = None
    list_separator: str = Field(default="+", description="Separator of multi-valued cells (outlets, tags).")
    format: str | None = Field(default=None, description="Force one format: text, html, csv, jsonl, feed.")
    force: bool = Field(default=False, description="Re-parse files already ingested with the same options.")
    root: str | None = Field(default=None, description="Folder every input must stay inside (default: each folder given, "
                                                       "or a given file's folder); the inbox sensor sets the inbox.")
    max_file_mb: float | None = Field(default=None, description="Files larger than this are quarantined unread; "
                                      "empty: the `inputs` resource (NARRATIVES_MAX_FILE_MB, default 50).")

    def options(self) -> IngestOptions:
        fields = {k: v for k, v in self.model_dump().items() if k not in ("paths", "force", "root", "max_file_mb")}
        return IngestOptions(**fields)


@dg.multi_asset(
    specs=[
        dg.AssetSpec("articles", group_name="ingest",
                     description="One row per article read from the input files (text, HTML, CSV, JSON Lines, RSS), keyed "
                                 "by its content, with outlet, date and language (`articles`, DDL: sql/schema/20_articles.sql). "
                                 "Unpartitioned: an ingest reads whatever the inputs hold and reports the days they cover "
                                 "(first_partition .. last_partition), which the after_ingest sensor then processes."),
        dg.AssetSpec("quarantine", group_name="ingest",
                     description="Every input that could not become an article, with the reason and where it was in its "
                                 "file (`quarantine`, DDL: sql/schema/50_quarantine.sql): nothing read is ever lost silently."),
    ],
    check_specs=[dg.AssetCheckSpec(
        "every_input_accounted_for", asset="articles",
        description="Every path this ingest met is in input_files as ingested, quarantined or skipped "
                    "(seen = ingested + quarantined + skipped), and every record read is an article or in quarantine.",
    )],
    pool=DUCKDB_POOL,
)
def ingest(context: dg.AssetExecutionContext, config: IngestConfig, db: NarrativeDB, embedding_model: EmbeddingModel,
           inputs: IngestInputs):
    """Parse every input file (format detected per file); unchanged files are skipped.

    On DuckLake this is also the setup step (tables created / migrated once, before the daily assets that may
    run side by side): see ``NarrativeDB.setup``."""
    if not (config.paths or inputs.paths):
        raise dg.Failure(description=NO_INPUT)
    db.setup(embedding_model)
    with db.connect() as con:
        report = ingest_paths(con, config.paths or inputs.paths, config.options(), force=config.force, root=config.root,
                              max_file_mb=config.max_file_mb or inputs.max_file_mb, progress_bar=inputs.progress)
        recorded = dict(con.execute(dbq.query("input_outcomes"), {"ingest_id": report.ingest_id}).fetchall())
        unprocessed = con.execute(dbq.query("articles_without_paragraphs"), {"shas": report.source_shas}).fetchone()[0]
        articles_total = con.execute("SELECT count(*) FROM articles").fetchone()[0]
        quarantine_total = con.execute("SELECT count(*) FROM quarantine").fetchone()[0]
        shas = report.source_shas
        preview = con.execute(
            "SELECT published_date, outlet, title, date_source, language FROM articles "
            "WHERE source_sha256 IN (SELECT unnest($s::VARCHAR[])) ORDER BY published_date NULLS LAST LIMIT 10",
            {"s": shas},
        ).pl()
        quarantine_preview = con.execute(
            "SELECT source_path, locator, reason, detail FROM quarantine "
            "WHERE source_sha256 IN (SELECT unnest($s::VARCHAR[])) LIMIT 10",
            {"s": shas},
        ).pl()
    context.log.info(f"ingest: {report.as_metadata()}")
    meta = report.as_metadata()
    yield dg.MaterializeResult(
        asset_key="articles",
        metadata={
            "dagster/row_count": articles_total,
            "new_articles": report.articles_new,
            "unprocessed_articles": unprocessed,
            "articles_parsed": report.articles_parsed,
            "records_seen": report.records_seen,
            "ingest_id": report.ingest_id,
            "files_seen": report.files_seen,
            "files_ingested": report.files_ingested,
            "files_quarantined": report.files_quarantined,
            "files_skipped": report.files_skipped,
            "skip_reasons": meta["skip_reasons"],
            "files_unchanged": report.files_unchanged,
            "files_repaired": report.files_repaired,
            "formats": meta["formats"],
            "first_partition": meta["first_partition"] or "",
            "last_partition": meta["last_partition"] or "",
            "preview": dg.MetadataValue.md(markdown(preview)),
        },
    )
    yield dg.MaterializeResult(
        asset_key="quarantine",
        metadata={
            "dagster/row_count": quarantine_total,
            "quarantined_this_run": report.quarantined,
            "new_records": report.quarantined_new,
            "reasons": meta["quarantine_reasons"],
            "preview": dg.MetadataValue.md(markdown(quarantine_preview)),
        },
    )
    counts = {o: recorded.get(o, 0) for o in OUTCOMES}
    expected = {"ingested": report.files_ingested, "quarantined": report.files_quarantined, "skipped": report.files_skipped}
    yield dg.AssetCheckResult(
        check_name="every_input_accounted_for",
        asset_key="articles",
        passed=bool(sum(counts.values()) == report.files_seen and counts == expected
                    and report.records_seen == report.articles_parsed + report.quarantined),
        metadata={"seen": report.files_seen, **{f"recorded_{k}": v for k, v in counts.items()}},
    )
    if not run_publishes(context):
        # readers, the inbox sensor and `narratives summary` see this ingest now; the days it covers are processed by
        # the after_ingest sensor's run (or a backfill), which publishes again
        publish(db.path)
