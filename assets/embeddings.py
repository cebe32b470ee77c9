"""Stage 3 asset: embed every paragraph text not yet embedded with the configured model."""


import dagster as dg

from assets.partitions import daily_asset, window_days
from assets.resources import EmbeddingModel, NarrativeDB
from narrative_tracker.embeddings.embed import embed_partitions


@daily_asset(
    deps=["paragraphs"],
    group_name="embeddings",
    description="L2-normalised paragraph vectors keyed by (text_hash, model). DDL: sql/schema/40_paragraph_embeddings.sql",
)
def paragraph_embeddings(context: dg.AssetExecutionContext, db: NarrativeDB, embedding_model: EmbeddingModel) -> dg.MaterializeResult:
    start, end = window_days(context)
    embedder = embedding_model.get_embedder()
    with db.connect() as con:

        def progress(done: int, total: int) -> None:
            context.log.info(f"embedded {done}/{total} texts")

        report = embed_partitions(con, embedder, start, end, progress=progress)
        total = con.execute("SELECT count(*) FROM paragraph_embeddings WHERE model = $m", {"m": embedder.name}).fetchone()[0]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": total,
            "first_day": str(start),
            "last_day": str(end),
            **report.as_metadata(),
        }
    )


@dg.asset_check(
    asset="paragraph_embeddings",
    blocking=True,
    description="Every paragraph of the materialised days has a unit-length embedding for the configured model.",
)
def every_paragraph_embedded(context: dg.AssetCheckExecutionContext, db: NarrativeDB, embedding_model: EmbeddingModel) -> dg.AssetCheckResult:
    model = embedding_model.get_embedder().name
    tags = context.run.tags
    start = tags.get("dagster/asset_partition_range_start") or tags.get("dagster/partition")
    end = tags.get("dagster/asset_partition_range_end") or start
    with db.connect() as con:
        missing, bad_norm = con.execute(
            """
            SELECT count(*) FILTER (WHERE e.text_hash IS NULL),
                   count(*) FILTER (WHERE e.text_hash IS NOT NULL
                                    AND abs(list_dot_product(e.embedding::FLOAT[], e.embedding::FLOAT[]) - 1) > 1e-3)
            FROM paragraphs p
            LEFT JOIN paragraph_embeddings e ON e.text_hash = p.text_hash AND e.model = $model
            WHERE $start IS NULL OR p.partition_date BETWEEN $start::DATE AND $end::DATE
            """,
            {"model": model, "start": start, "end": end},
        ).fetchone()
    return dg.AssetCheckResult(passed=missing == 0 and bad_norm == 0, metadata={"missing": missing, "not_unit_length": bad_norm})
