"""Stage 4 assets: the codebook, codebook detection per day, discovery, and the trend views."""

import dagster as dg
from pydantic import Field

from assets.partitions import DUCKDB_POOL, daily_partitions, partition_pool, single_run, window_days
from assets.resources import EmbeddingModel, NarrativeDB
from narrative_tracker.codebook import load_codebook
from narrative_tracker.narratives import apply_codebook, assign_codebook, discover_narratives
from narrative_tracker import warehouse
from narrative_tracker.preview import markdown


class CodebookConfig(dg.Config):
    path: str = Field(default="", description="Codebook YAML; empty: NARRATIVES_CODEBOOK or codebook/narratives.yaml.")


@dg.asset(
    pool=DUCKDB_POOL,
    group_name="narratives",
    description="Codebook narratives and their embedded example statements (codebook/narratives.yaml).",
)
def codebook(context: dg.AssetExecutionContext, config: CodebookConfig, db: NarrativeDB, embedding_model: EmbeddingModel) -> dg.MaterializeResult:
    book = load_codebook(config.path or None)
    embedder = embedding_model.get_embedder()
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


@dg.asset(
    deps=["paragraph_embeddings", "codebook"],
    partitions_def=daily_partitions,
    backfill_policy=single_run,
    pool=partition_pool(),
    group_name="narratives",
    description="Codebook narratives detected in each paragraph (paragraph_narratives, method = 'codebook').",
)
def codebook_assignments(context: dg.AssetExecutionContext, config: CodebookConfig, db: NarrativeDB, embedding_model: EmbeddingModel) -> dg.MaterializeResult:
    start, end = window_days(context)
    book = load_codebook(config.path or None)
    model = embedding_model.get_embedder().name
    with db.connect() as con:
        report = assign_codebook(con, book, model, start, end)
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
            "assignments": report.per_narrative,
            "top_evidence": dg.MetadataValue.md(markdown(evidence, max_rows=12, max_chars=160)),
        }
    )


@dg.asset(
    deps=["codebook_assignments"],
    pool=DUCKDB_POOL,
    group_name="narratives",
    description="New narratives: clusters of the paragraphs no codebook narrative claimed (UMAP + HDBSCAN), each labelled by its most central member sentence (the claim) and distinctive terms.",
)
def discovered_narratives(context: dg.AssetExecutionContext, db: NarrativeDB, embedding_model: EmbeddingModel) -> dg.MaterializeResult:
    embedder = embedding_model.get_embedder()
    with db.connect() as con:
        report = discover_narratives(con, embedder.name, embedder=embedder)
        table = con.execute(
            "SELECT n.label AS claim, array_to_string(n.terms, ', ') AS terms, n.paragraphs, n.narrative_id FROM narratives n "
            "WHERE origin = 'discovered' ORDER BY paragraphs DESC, narrative_id LIMIT 15"
        ).pl()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": report.narratives,
            "candidate_texts": report.candidates,
            "skipped": report.skipped,
            "lineage_events": report.events,
            "assigned_paragraphs": report.assigned_paragraphs,
            "noise_share": round(report.noise_share, 3),
            "narratives": dg.MetadataValue.md(markdown(table, max_rows=15, max_chars=120)),
        }
    )


@dg.asset(
    deps=["discovered_narratives", "codebook_assignments"],
    pool=DUCKDB_POOL,
    group_name="narratives",
    description="The trend views (narrative_daily, narrative_outlets, narrative_first_seen; DDL in sql/schema/90_views.sql).",
)
def narrative_trends(context: dg.AssetExecutionContext, db: NarrativeDB) -> dg.MaterializeResult:
    from narrative_tracker import charts

    with db.connect() as con:
        share_chart = charts.markdown_image(charts.share_over_time(con), "narrative share over time")
        outlet_chart = charts.markdown_image(charts.outlet_heatmap(con), "outlets x narratives")
        first_seen = con.execute(
            "SELECT narrative_id, label, origin, first_seen, first_outlet, paragraphs, articles, outlets "
            "FROM narrative_first_seen ORDER BY paragraphs DESC LIMIT 15"
        ).pl()
        busiest = con.execute(
            "SELECT day, narrative_id, paragraphs, round(share, 3) AS share, round(share_7d, 3) AS share_7d "
            "FROM narrative_daily WHERE paragraphs > 0 ORDER BY paragraphs DESC, day LIMIT 10"
        ).pl()
    return dg.MaterializeResult(
        metadata={
            "narratives_seen": first_seen.height,
            "first_seen": dg.MetadataValue.md(markdown(first_seen, max_rows=15)),
            "busiest_days": dg.MetadataValue.md(markdown(busiest)),
            "share_over_time": dg.MetadataValue.md(share_chart),
            "outlet_heatmap": dg.MetadataValue.md(outlet_chart),
        }
    )


@dg.asset(
    deps=["narrative_trends"],
    pool=DUCKDB_POOL,
    group_name="narratives",
    description="Spikes and emerging narratives (alerts table; method in sql/queries/compute_alerts.sql).",
)
def alerts(context: dg.AssetExecutionContext, db: NarrativeDB) -> dg.MaterializeResult:
    from narrative_tracker.narratives import compute_alerts

    from narrative_tracker import charts

    with db.connect() as con:
        total = compute_alerts(con)
        timeline = charts.markdown_image(charts.alerts_timeline(con), "alerts")
        recent = con.execute(
            "SELECT day, kind, narrative_id, paragraphs, round(share, 2) AS share, message FROM alerts ORDER BY day DESC, kind LIMIT 10"
        ).pl()
    return dg.MaterializeResult(
        metadata={"dagster/row_count": total, "latest": dg.MetadataValue.md(markdown(recent, max_rows=10, max_chars=140)),
                  "timeline": dg.MetadataValue.md(timeline)}
    )


@dg.asset_check(asset=alerts, description="Warns in the UI when the last three days raised spike or emerging-narrative alerts.")
def no_recent_alerts(db: NarrativeDB) -> dg.AssetCheckResult:
    with db.connect() as con:
        last = con.execute("SELECT max(partition_date) FROM paragraphs").fetchone()[0]
        rows = con.execute(
            "SELECT message FROM alerts WHERE day >= $d - INTERVAL 2 DAY ORDER BY day DESC, kind LIMIT 20", {"d": last}
        ).fetchall() if last else []
    return dg.AssetCheckResult(
        passed=not rows,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"recent_alerts": len(rows), "alerts": dg.MetadataValue.md("\n".join(f"- {r[0]}" for r in rows) or "_none_")},
    )


@dg.asset(
    deps=["discovered_narratives", "codebook_assignments"],
    pool=DUCKDB_POOL,
    group_name="search",
    description="BM25 keyword index over paragraphs and the search_paragraphs / similar_paragraphs SQL macros.",
)
def search_index(context: dg.AssetExecutionContext, db: NarrativeDB) -> dg.MaterializeResult:
    from narrative_tracker.search import build_index

    with db.connect() as con:
        indexed = build_index(con)
    return dg.MaterializeResult(metadata={"dagster/row_count": indexed, "usage": dg.MetadataValue.md(
        "`LOAD fts; SELECT * FROM search_paragraphs('colour revolution', 10);`")})


@dg.asset(
    deps=["alerts", "search_index", "narrative_trends"],
    pool=DUCKDB_POOL,
    group_name="publish",
    description="Publishes the working database: checkpoint, copy, atomic rename onto the file analysts open.",
)
def published_database(context: dg.AssetExecutionContext, db: NarrativeDB) -> dg.MaterializeResult:
    from narrative_tracker.db import publish

    path = publish(db.path)
    if path is None:  # DuckLake: every commit is already a snapshot readers see whole
        return dg.MaterializeResult(metadata={"warehouse": warehouse.from_setting(db.path).describe(),
                                              "published": "nothing to copy: readers attach the lake (docs/deploy.md)"})
    return dg.MaterializeResult(metadata={"path": str(path.resolve()), "bytes": path.stat().st_size})
