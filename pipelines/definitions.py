"""The Dagster code location: the assets and checks of ``assets/``, the jobs, the nightly schedule, the sensors.

Load it with ``dagster dev -w workspace.yaml`` (or ``make dev``). ``defs`` is built from the environment
(``narrative_tracker.settings``) at import; ``build_definitions(settings)`` builds the same location for given
settings (the CLI uses it, so its options and the environment meet in one ``Settings``). ``defs`` stays a plain
``Definitions`` rather than a lazy ``@dg.definitions`` function because scripts and tests call
``defs.resolve_job_def(...)`` on it directly.

Why not ``dg.load_from_defs_folder``: it finds the folder through the ``dg`` project file (``[tool.dg]`` in
pyproject.toml), which an installed wheel does not carry; ``load_assets_from_package_module`` (and its
asset-check twin) load every module of the same ``assets/`` package by import, so the installed package and the
checkout behave alike, and a new stage module is picked up without editing this file.
(``load_definitions_from_package_module`` would also do it but is a preview API in dagster 1.13.)
The daily assets (``@daily_asset`` in ``assets/``) are the exception: a Dagster pool is fixed when an asset is
defined, and theirs follows the warehouse of the given settings, so ``daily_assets(settings)`` defines them here.
Nothing in ``assets/`` reads the settings itself.
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil

import dagster as dg

import assets
from assets.partitions import DailyAsset, daily_partitions, daily_pool
from assets.resources import default_resources
from narrative_tracker import warehouse
from narrative_tracker.settings import Settings, load_settings
from pipelines.progress import progress_logger

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
NIGHTLY_LOOKBACK_DAYS = 2  # the nightly run also redoes the two days before yesterday (late arrivals)

PIPELINE = dg.AssetSelection.all() - dg.AssetSelection.assets("lake_maintenance")


def daily_executor(settings: Settings) -> dg.ExecutorDefinition:
    """The executor of the jobs that write: in process (one writer) on a DuckDB file or a file-catalog DuckLake;
    on DuckLake with a PostgreSQL catalog Dagster's multiprocess executor, ``NARRATIVES_MAX_CONCURRENT`` steps at
    a time (default 2). Parallel *days* come from several runs over ranges of days at once (a backfill with
    ``BackfillPolicy.multi_run``, or ``narratives run --workers N``); discovery, lineage, alerts and publishing
    cover every day and stay one step each, serialised in the ``duckdb_writer`` pool (limit 1)."""
    if warehouse.parse(settings.db, settings.lake_data_path).parallel:
        return dg.multiprocess_executor.configured({"max_concurrent": settings.max_concurrent})
    return dg.in_process_executor


def jobs(settings: Settings) -> list:
    """The jobs; the executor of the writing ones follows the configured warehouse."""
    executor = daily_executor(settings)
    return [
        # Everything in one run. On a DuckDB file steps run one after the other in one process (one writer).
        dg.define_asset_job(
            "narratives_job",
            selection=PIPELINE,
            partitions_def=daily_partitions,
            executor_def=executor,
            description="Ingest the configured inputs; rebuild paragraphs, embeddings and codebook detections for a range of days; rediscover narratives.",
        ),
        dg.define_asset_job(
            "ingest_job",
            selection=dg.AssetSelection.assets("articles", "quarantine"),
            executor_def=dg.in_process_executor,
            description="Only read the input files into articles / quarantine.",
        ),
        dg.define_asset_job(
            "daily_job",
            selection=PIPELINE - dg.AssetSelection.assets("articles", "quarantine"),
            partitions_def=daily_partitions,
            executor_def=executor,
            description="Everything after ingest, for a range of days (started by the articles sensor).",
        ),
        dg.define_asset_job(
            "lake_maintenance_job",
            selection=dg.AssetSelection.assets("lake_maintenance"),
            executor_def=dg.in_process_executor,
            description="DuckLake upkeep: flush inlined data, merge small files, expire snapshots older than the retention.",
        ),
    ]


lake_maintenance_weekly = dg.ScheduleDefinition(
    job_name="lake_maintenance_job", cron_schedule="0 5 * * 0", execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Sundays 05:00 UTC, after the nightly run: compact the lake (no-op on a DuckDB file).",
)


def range_tags(start: dt.date, end: dt.date) -> dict[str, str]:
    """Run tags that make one run cover the partitions ``start``..``end``."""
    return {RANGE_START_TAG: start.isoformat(), RANGE_END_TAG: end.isoformat()}


@dg.schedule(job_name="narratives_job", cron_schedule="0 2 * * *", execution_timezone="UTC", default_status=dg.DefaultScheduleStatus.STOPPED)
def nightly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """02:00 UTC: ingest what arrived, then process today, yesterday and the two days before in one run."""
    today = context.scheduled_execution_time.date()
    start = today - dt.timedelta(days=1 + NIGHTLY_LOOKBACK_DAYS)
    return dg.RunRequest(run_key=f"nightly-{today.isoformat()}", tags=range_tags(start, today))


@dg.sensor(job_name="ingest_job", minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def inbox(context: dg.SensorEvaluationContext):
    """Watches NARRATIVES_INBOX: a file whose content is not yet ingested starts an ingest run once it has been
    stable for NARRATIVES_INBOX_SETTLE_SECONDS (default 60), whatever its modification time
    (see ``narrative_tracker.ingest.inbox``)."""
    from narrative_tracker.ingest import inbox as watcher
    from narrative_tracker.ingest.inputs import max_file_bytes

    settings = load_settings()  # read per tick: the daemon's environment
    if settings.inbox is None or not settings.inbox.is_dir():
        return dg.SkipReason("set NARRATIVES_INBOX to a folder to watch")
    folder, settle = str(settings.inbox), settings.inbox_settle_seconds
    db_path, cap = str(settings.db), max_file_bytes(settings.max_file_mb)
    scan = watcher.scan_inbox(folder, context.cursor, watcher.clock(), watcher.published_source_shas(db_path), settle, cap)
    context.update_cursor(scan.cursor)
    if not scan.take:
        waiting = f"; {len(scan.waiting)} waiting to settle ({settle:g} s)" if scan.waiting else ""
        return dg.SkipReason(f"no new files in {folder} ({scan.known} already ingested{waiting})")
    return dg.RunRequest(
        run_key=scan.run_key,
        run_config={"ops": {"ingest": {"config": {"paths": scan.take, "root": folder}}}},
        tags={"narratives/files": str(len(scan.take))},
    )


@dg.asset_sensor(asset_key=dg.AssetKey("articles"), job_name="daily_job", default_status=dg.DefaultSensorStatus.STOPPED)
def after_ingest(context: dg.SensorEvaluationContext, asset_event: dg.EventLogEntry):
    """After every ingest that added articles (or met articles a killed run left without paragraphs): one run
    of everything downstream over the days the ingested files cover."""
    meta = asset_event.asset_materialization.metadata if asset_event.asset_materialization else {}
    first, last = meta.get("first_partition"), meta.get("last_partition")
    new, unprocessed = meta.get("new_articles"), meta.get("unprocessed_articles")
    if not first or not first.value or not ((new and new.value) or (unprocessed and unprocessed.value)):
        return dg.SkipReason("the ingest added no articles, and left none unprocessed")
    return dg.RunRequest(
        run_key=f"after-ingest-{asset_event.run_id}",
        tags=range_tags(dt.date.fromisoformat(first.value), dt.date.fromisoformat(last.value)),
    )


def daily_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    """The daily assets of every ``assets/`` module (``@daily_asset``), defined now in the pool ``settings``'
    warehouse calls for: ``lake_partitions`` on DuckLake with a PostgreSQL catalog, ``duckdb_writer`` elsewhere."""
    found: dict[int, DailyAsset] = {}
    for module in pkgutil.iter_modules(assets.__path__):
        for value in vars(importlib.import_module(f"{assets.__name__}.{module.name}")).values():
            if isinstance(value, DailyAsset):
                found[id(value)] = value
    pool = daily_pool(settings)
    return [daily.build(pool) for daily in found.values()]


def build_definitions(settings: Settings) -> dg.Definitions:
    """The code location configured by ``settings``: its resources, the executor of its jobs, the pool of its daily assets."""
    return dg.Definitions(
        assets=[*dg.load_assets_from_package_module(assets), *daily_assets(settings)],
        asset_checks=dg.load_asset_checks_from_package_module(assets),
        jobs=jobs(settings),
        schedules=[nightly, lake_maintenance_weekly],
        sensors=[inbox, after_ingest],
        resources=default_resources(settings),
        # Dagster's console logger plus `progress` (pipelines/progress.py), which `narratives run` turns on
        loggers={"console": dg.colored_console_logger, "progress": progress_logger},
    )


# The code location Dagster loads: resources configured by the environment when this module is imported.
defs = build_definitions(load_settings())
