"""Stage 3 asset: embed every paragraph text not yet embedded with the configured model."""

import dagster as dg

from assets.partitions import daily_asset, record_days, run_range, window_days
from assets.resources import EmbeddingModel, NarrativeDB
from narrative_tracker import db as dbq
from narrative_tracker.embeddings.embed import embed_partitions


@daily_asset(
    deps=["paragraphs"],
    group_name="embeddings",
    description="One L2-normalised vector per distinct paragraph text and model (`paragraph_embeddings`, keyed by "
                "text_hash and model; DDL: sql/schema/40_paragraph_embeddings.sql). A text already embedded is never "
                "embedded again. Each day shows its paragraphs and how many have a vector.",
    check_specs=[dg.AssetCheckSpec(
        "every_paragraph_embedded", asset="paragraph_embeddings", blocking=True,
        description="Every paragraph of the materialised days has a unit-length vector of the configured model. "
                    "Blocking: detection does not run on days with missing vectors.",
    )],
)
def paragraph_embeddings(context: dg.AssetExecutionContext, db: NarrativeDB, embedding_model: EmbeddingModel):
    start, end = window_days(context)
    embedder = embedding_model.get_embedder()
    span = {"start": start, "end": end, "model": embedder.name}
    with db.connect() as con:

        def progress(done: int, total: int) -> None:
            context.log.info(f"embedded {done}/{total} texts")

        report = embed_partitions(con, embedder, start, end, progress=progress)
        days = con.execute(dbq.query("day_embeddings"), span).fetchall()
        missing, bad_norm = con.execute(
            """
            SELECT count(*) FILTER (WHERE e.text_hash IS NULL),
                   count(*) FILTER (WHERE e.text_hash IS NOT NULL
                                    AND abs(list_dot_product(e.embedding::FLOAT[], e.embedding::FLOAT[]) - 1) > 1e-3)
            FROM paragraphs p
            LEFT JOIN paragraph_embeddings e ON e.text_hash = p.text_hash AND e.model = $model
            WHERE p.partition_date BETWEEN $start AND $end
            """,
            span,
        ).fetchone()
    record_days(context, {day: {"dagster/row_count": embedded, "paragraphs": paragraphs, "missing": paragraphs - embedded}
                          for day, paragraphs, embedded in days},
                {"dagster/row_count": 0, "paragraphs": 0, "missing": 0},
                {**run_range(start, end), **{f"run_{k}": v for k, v in report.as_metadata().items()}})
    yield dg.MaterializeResult()
    yield dg.AssetCheckResult(check_name="every_paragraph_embedded", passed=missing == 0 and bad_norm == 0,
                              metadata={"missing": missing, "not_unit_length": bad_norm})
