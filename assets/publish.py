"""Stage 7 asset: publish the working database onto the file analysts open (checkpoint, copy, atomic rename)."""

import dagster as dg

from assets.partitions import DUCKDB_POOL
from assets.resources import NarrativeDB
from narrative_tracker import warehouse
from narrative_tracker.db import publish


@dg.asset(
    deps=["alerts", "search_index", "narrative_trends", "outlet_influence"],
    pool=DUCKDB_POOL,
    group_name="publish",
    description="Publishes the working database: checkpoint, copy, atomic rename onto the file analysts open.",
)
def published_database(context: dg.AssetExecutionContext, db: NarrativeDB) -> dg.MaterializeResult:
    path = publish(db.path)
    if path is None:  # DuckLake: every commit is already a snapshot readers see whole
        return dg.MaterializeResult(metadata={"warehouse": warehouse.from_setting(db.path).describe(),
                                              "published": "nothing to copy: readers attach the lake (docs/deploy.md)"})
    return dg.MaterializeResult(metadata={"path": str(path.resolve()), "bytes": path.stat().st_size})
