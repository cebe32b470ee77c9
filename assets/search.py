"""Stage 6 asset: the BM25 keyword index and the search macros over paragraphs."""

import dagster as dg

from assets.partitions import DUCKDB_POOL
from assets.resources import NarrativeDB
from narrative_tracker.surfaces.search import build_index


@dg.asset(
    deps=["discovered_narratives", "codebook_assignments"],
    pool=DUCKDB_POOL,
    group_name="search",
    description="BM25 keyword index over paragraphs and the search_paragraphs / similar_paragraphs SQL macros.",
)
def search_index(context: dg.AssetExecutionContext, db: NarrativeDB) -> dg.MaterializeResult:
    with db.connect() as con:
        indexed = build_index(con)
    return dg.MaterializeResult(metadata={"dagster/row_count": indexed, "usage": dg.MetadataValue.md(
        "`LOAD fts; SELECT * FROM search_paragraphs('colour revolution', 10);`")})
