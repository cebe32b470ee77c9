"""Stage 5b assets: copies across outlets (syndication) and the outlet influence network (who leads whom)."""

import dagster as dg
from pydantic import Field

from assets.partitions import DUCKDB_POOL
from assets.resources import NarrativeDB
from narrative_tracker.network.influence import update_influence
from narrative_tracker.network.syndication import update_copies
from narrative_tracker.surfaces import charts
from narrative_tracker.surfaces.network import top_edges
from narrative_tracker.surfaces.preview import markdown


@dg.asset(
    deps=["paragraph_embeddings"],
    pool=DUCKDB_POOL,
    group_name="network",
    description="Near-duplicate paragraphs across outlets (MinHash LSH over word 3-shingles, verified): the copy groups behind "
                "paragraph_copies / paragraph_syndication. Only texts not indexed yet are hashed.",
)
def paragraph_copies(context: dg.AssetExecutionContext, db: NarrativeDB) -> dg.MaterializeResult:
    with db.connect() as con:
        report = update_copies(con)
        groups = con.execute(
            "SELECT first_outlet, outlets, copies, edited_copies, first_day, text FROM paragraph_syndication "
            "ORDER BY outlets DESC, copies DESC, first_day LIMIT 10"
        ).pl()
    return dg.MaterializeResult(metadata={
        "texts_indexed": report.indexed,
        "candidate_pairs": report.candidates,
        "verified_copies": report.verified,
        "grouped_texts": report.grouped_texts,
        "rebuilt": report.rebuilt,
        "seconds": round(report.seconds, 3),
        "largest_groups": dg.MetadataValue.md(markdown(groups, max_rows=10, max_chars=120)),
    })


class InfluenceConfig(dg.Config):
    full: bool = Field(default=False, description="Rebuild the network from every cascade instead of updating the changed ones.")


@dg.asset(
    deps=["discovered_narratives", "codebook_assignments", "paragraph_copies"],
    pool=DUCKDB_POOL,
    group_name="network",
    description="Who leads whom: the outlet -> outlet influence network inferred by NETINF from the order outlets take "
                "narratives up (outlet_influence, outlet_roles, narrative_cascades). Nightly: only changed narratives.",
)
def outlet_influence(context: dg.AssetExecutionContext, config: InfluenceConfig, db: NarrativeDB) -> dg.MaterializeResult:
    with db.connect() as con:
        report = update_influence(con, full=config.full)
        edges = top_edges(con, 15)
        plot = charts.markdown_image(charts.influence_network(con), "influence network") if edges.height else "_no edges yet_"
    return dg.MaterializeResult(metadata={
        "dagster/row_count": report.edges,
        "mode": report.mode,
        "reason": report.reason or "-",
        "narratives": report.narratives,
        "changed_narratives": report.changed,
        "new_edges": report.new_edges,
        "seconds": round(report.seconds, 3),
        "top_edges": dg.MetadataValue.md(markdown(edges, max_rows=15)),
        "network": dg.MetadataValue.md(plot),
    })
