"""Stage 7 asset: publish the working database onto the file analysts open (checkpoint, copy, atomic rename).

``published_database`` depends on every asset that writes the working database, and follows them by itself: its
automation condition (``PUBLISH_AFTER_CHANGES``, evaluated by the ``publish_after_changes`` sensor, on by default)
requests a publish once any of them was materialised by a run that did not publish, and nothing upstream is still
running or queued. So whatever the UI was asked to materialise — one asset, one day, a range, an asset with its
downstream assets, the whole graph, a job — the published copy ends up updated. Runs that include
``published_database`` (the jobs, "materialize all", lineage selections) publish themselves and normally trigger
nothing more (a tick in the middle of a range run may add one more publish: harmless). Ingest publishes its own result (``assets/ingest.py``), so the condition ignores ``articles`` / ``quarantine``.
"""

import dagster as dg

from assets.partitions import DUCKDB_POOL
from assets.resources import NarrativeDB
from narrative_tracker import warehouse
from narrative_tracker.db import publish

WRITERS = ["articles", "quarantine", "codebook", "paragraphs", "paragraph_embeddings", "codebook_assignments",
           "discovered_narratives", "narrative_trends", "alerts", "search_index", "paragraph_copies", "outlet_influence"]
INGEST = dg.AssetSelection.assets("articles", "quarantine")

PUBLISH_AFTER_CHANGES = (
    dg.AutomationCondition.any_deps_updated().ignore(INGEST).since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("an upstream asset changed and nothing upstream is running")


@dg.asset(
    deps=WRITERS,
    pool=DUCKDB_POOL,
    group_name="publish",
    automation_condition=PUBLISH_AFTER_CHANGES,
    description="The file analysts, notebooks and `narratives report/search/sql` open: the working database "
                "checkpointed, copied and atomically renamed onto it (a reader's open session keeps its snapshot; a "
                "crash never leaves half a file). Runs after every other asset in the jobs; after a run that did not "
                "include it (one asset, one day), the publish_after_changes sensor materialises it once nothing "
                "upstream is running. On DuckLake every commit is already visible: nothing to copy.",
)
def published_database(context: dg.AssetExecutionContext, db: NarrativeDB) -> dg.MaterializeResult:
    path = publish(db.path)
    if path is None:  # DuckLake: every commit is already a snapshot readers see whole
        return dg.MaterializeResult(metadata={"warehouse": warehouse.from_setting(db.path).describe(),
                                              "published": "nothing to copy: readers attach the lake (docs/deploy.md)"})
    return dg.MaterializeResult(metadata={"path": dg.MetadataValue.path(str(path.resolve())), "bytes": path.stat().st_size})


def run_publishes(context: dg.AssetExecutionContext) -> bool:
    """Whether this run materialises ``published_database`` later (then an earlier step need not publish)."""
    key = dg.AssetKey("published_database")
    selected = context.run.asset_selection
    return key in (selected if selected is not None else context.job_def.asset_layer.executable_asset_keys)
