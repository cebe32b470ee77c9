"""Stage 4 assets: the codebook, codebook detection per day, discovery of new narratives."""

import dagster as dg

from assets.partitions import DUCKDB_POOL, daily_asset, record_days, run_range, window_days
from assets.resources import CodebookFile, EmbeddingModel, NarrativeDB
from narrative_tracker import db as dbq
from narrative_tracker.narratives.assign import apply_codebook, assign_codebook
from narrative_tracker.narratives.discovery_store import discover_narratives
from narrative_tracker.surfaces.preview import markdown, short


@dg.asset(
    pool=DUCKDB_POOL,
    group_name="narratives",
    description="The narratives the desk tracks by name, from the codebook YAML (the codebook_file resource, default "
                "codebook/narratives.yaml), with their example statements embedded (`narratives` rows with origin = "
                "'codebook', `codebook_examples`). Shows the codebook as a table; its data version is the file's fingerprint.",
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
    description="The codebook narratives found in each paragraph of the day, with a score, the closest example and "
                "the paragraph's stance (asserts / reports / refutes): `paragraph_narratives` rows with method = "
                "'codebook'. Each day shows its assignments per narrative, how many assert it, and its strongest evidence.",
)
def codebook_assignments(context: dg.AssetExecutionContext, db: NarrativeDB, embedding_model: EmbeddingModel,
                         codebook_file: CodebookFile) -> dg.MaterializeResult:
    start, end = window_days(context)
    model = embedding_model.get_embedder().name
    book = codebook_file.load(model=model)
    pair_model = codebook_file.load_pair_model(embedding_model)
    with db.connect() as con:
        report = assign_codebook(con, book, model, start, end, heads=codebook_file.load_heads(model),
                                 pair_model=pair_model)
        rows = con.execute(dbq.query("day_assignments"), {"start": start, "end": end}).fetchall()
    per_day: dict = {}
    for day, narrative, paragraphs, asserting, evidence in rows:
        entry = per_day.setdefault(day, {"assignments": {}, "asserting": {}, "evidence": []})
        entry["assignments"][narrative] = paragraphs
        entry["asserting"][narrative] = asserting
        entry["evidence"].append(f"- **{narrative}** ({paragraphs}, {asserting} asserting): {short(evidence) if evidence else 'no paragraph asserts it'}")
    record_days(context, {day: {"dagster/row_count": sum(e["assignments"].values()), "assignments": e["assignments"],
                                "asserting": e["asserting"], "evidence": dg.MetadataValue.md("\n".join(e["evidence"]))}
                          for day, e in per_day.items()},
                {"dagster/row_count": 0, "assignments": {}, "asserting": {}},
                {**run_range(start, end), "run_assignments": report.assignments, "run_paragraphs_scored": report.paragraphs,
                 "detectors": report.detectors, "pair_model": report.pair_model or "none (the detector decided)",
                 "candidate_pairs": report.candidates, "pair_model_calls": report.pair_calls,
                 "left_to_detector_language": report.fallback})
    return dg.MaterializeResult()


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
