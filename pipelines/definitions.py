"""The Dagster code location: assets, checks, resources, the job and the nightly schedule.

Load it with ``dagster dev -w workspace.yaml`` (or ``make dev``).
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from assets import embeddings, ingest, narratives, paragraphs
from assets.partitions import daily_partitions
from assets.resources import default_resources

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
NIGHTLY_LOOKBACK_DAYS = 2  # the nightly run also redoes the two days before yesterday (late arrivals)

all_assets = dg.load_assets_from_modules([ingest, paragraphs, embeddings, narratives])
all_checks = dg.load_asset_checks_from_modules([paragraphs, embeddings, narratives])

# Everything, in process: DuckDB has one writer, so steps run one after the other in one process.
narratives_job = dg.define_asset_job(
    "narratives_job",
    selection=dg.AssetSelection.all(),
    partitions_def=daily_partitions,
    executor_def=dg.in_process_executor,
    description="Ingest the configured inputs; rebuild paragraphs, embeddings and codebook detections for a range of days; rediscover narratives.",
)
ingest_job = dg.define_asset_job(
    "ingest_job",
    selection=dg.AssetSelection.assets("articles", "quarantine"),
    executor_def=dg.in_process_executor,
    description="Only read the input files into articles / quarantine.",
)


def range_tags(start: dt.date, end: dt.date) -> dict[str, str]:
    """Run tags that make one run cover the partitions ``start``..``end``."""
    return {RANGE_START_TAG: start.isoformat(), RANGE_END_TAG: end.isoformat()}


@dg.schedule(job=narratives_job, cron_schedule="0 2 * * *", execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.STOPPED)
def nightly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """02:00 UTC: ingest what arrived, then process today, yesterday and the two days before in one run."""
    today = context.scheduled_execution_time.date()
    start = today - dt.timedelta(days=1 + NIGHTLY_LOOKBACK_DAYS)
    return dg.RunRequest(run_key=f"nightly-{today.isoformat()}", tags=range_tags(start, today))


defs = dg.Definitions(
    assets=all_assets,
    asset_checks=all_checks,
    jobs=[narratives_job, ingest_job],
    schedules=[nightly],
    resources=default_resources(),
)
