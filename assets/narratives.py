"""Stage 4 assets: the codebook, codebook detection per day, discovery of new narratives."""

import dagster as dg

from assets.partitions import DUCKDB_POOL, daily_asset, window_days
from assets.resources import CodebookFile, EmbeddingModel, NarrativeDB
from narrative_tracker.narratives.assign import apply_codebook, assign_codebook
from narrative_tracker.narratives.discovery_store import discover_narratives
from narrative_tracker.surfaces.preview import markdown


@dg.asset(
    pool=DUCKDB_POOL,
    group_name="narratives",
    description="Codebook narratives and their embedded example statements (the codebook_file resource, default codebook/narratives.yaml).",
)
def codebook(context: dg.AssetExecutionContext, db: NarrativeDB, embedding_model: EmbeddingModel, codebook_file: CodebookFile) -> dg.MaterializeResult:
    embedder = embedding_model.get_embedder()
    book = codebook_file.load(model=embedder.name)
    with db.connect() as con:
        report = apply_codebook(con, book, embedder)
        table = con.execute(
            "SELECT n.narrative_id, n.label, n.threshold, count(e.position) AS examples FROM narratives n "
            "LEFT JOIN codebook_examples e ON e.narrative_id = n.narrative_id AND e.model = $m "
            "WHERE n.origin = 'codebook' GROUP BY ALL ORDER BY 1",
            {"m": embedder.name},
        ).pl()
    return dg.MaterializeResult(
        metadata={
            "path": book.path,
            "fingerprint": book.fingerprint,
            "narratives": report.narratives,
            "examples_embedded": report.examples_embedded,
            "removed": ", ".join(report.removed) or "none",
            "codebook": dg.MetadataValue.md(markdown(table)),
        },
        data_version=dg.DataVersion(book.fingerprint),
    )


@daily_asset(
    deps=["paragraph_embeddings", "codebook"],
    group_name="narratives",
    description="Codebook narratives detected in each paragraph (paragraph_narratives, method = 'codebook').",
)
def codebook_assignments(context: dg.AssetExecutionContext, db: NarrativeDB, embedding_model: EmbeddingModel, codebook_file: CodebookFile) -> dg.MaterializeResult:
    start, end = window_days(context)
    model = embedding_model.get_embedder().name
    book = codebook_file.load(model=model)
    with db.connect() as con:
        report = assign_codebook(con, book, model, start, end, heads=codebook_file.load_heads(model))
        evidence = con.execute(
            "SELECT pn.narrative_id, round(pn.score, 3) AS score, a.outlet, pn.partition_date AS day, p.text "
            "FROM paragraph_narratives pn JOIN paragraphs p USING (paragraph_id) JOIN articles a USING (article_id) "
            "WHERE pn.method = 'codebook' AND pn.partition_date BETWEEN $s AND $e "
            "QUALIFY row_number() OVER (PARTITION BY pn.narrative_id ORDER BY pn.score DESC) <= 2 ORDER BY 1, 2 DESC",
            {"s": start, "e": end},
        ).pl()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": report.assignments,
            "first_day": str(start),
            "last_day": str(end),
            "paragraphs_scored": report.paragraphs,
            "detectors": report.detectors,
            "assignments": report.per_narrative,
            "top_evidence": dg.MetadataValue.md(markdown(evidence, max_rows=12, max_chars=160)),
        }
    )


@dg.asset(
    deps=["codebook_assignments"],
    pool=DUCKDB_POOL,
    group_name="narratives",
    description="Discovered narratives: clusters of every paragraph (UMAP + HDBSCAN), each labelled by its most central member sentence (the claim) and distinctive terms; a cluster whose members mostly carry a codebook narrative is a specific claim inside that frame (its parent).",
)
def discovered_narratives(context: dg.AssetExecutionContext, db: NarrativeDB, embedding_model: EmbeddingModel) -> dg.MaterializeResult:
    embedder = embedding_model.get_embedder()
    with db.connect() as con:
        report = discover_narratives(con, embedder.name, embedder=embedder)
        table = con.execute(
            "SELECT n.label AS claim, coalesce(f.label, '—') AS inside, array_to_string(n.terms, ', ') AS terms, n.paragraphs, "
            "n.narrative_id FROM narratives n LEFT JOIN narratives f ON f.narrative_id = n.parent_narrative_id "
            "WHERE n.origin = 'discovered' ORDER BY n.paragraphs DESC, n.narrative_id LIMIT 15"
        ).pl()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": report.narratives,
            "candidate_texts": report.candidates,
            "skipped": report.skipped,
            "lineage_events": report.events,
            "assigned_paragraphs": report.assigned_paragraphs,
            "noise_share": round(report.noise_share, 3),
            "inside_codebook_narratives": report.under_codebook,
            "outside_codebook_narratives": report.narratives_outside,
            "narratives": dg.MetadataValue.md(markdown(table, max_rows=15, max_chars=120)),
        }
    )
